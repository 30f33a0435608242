/* The extension directory of new-format caches (cache_extension_load, dl-cache.h): tag 1 is
 * the sorted array of glibc-hwcaps subdirectory names that hwcaps entries index. */
#include "ldcache_impl.h"

#include <stdbool.h>

enum { LDCACHE_EXT_HEADER = 8, LDCACHE_EXT_SECTION = 16 };

static int ldcache_check_hwcaps(struct ldcache *c, uint32_t off, uint32_t size, size_t str_end,
                                const char *name, bf_err *err)
{
    if (off % 4 || size % 4)
        return ldcache_corrupt(err, name,
                               "the glibc-hwcaps section (offset 0x%x, %u bytes) is not an "
                               "aligned array of 4-byte string offsets",
                               off, size);
    const uint8_t *arr = c->file + off;
    uint32_t n = size / 4;
    if (n > LDCACHE_HWCAPS_MAX)
        return err_set(err,
                       "%s: the glibc-hwcaps section lists %u subdirectory names, more than the "
                       "%d bundlefs accepts; the cache is probably corrupt, run ldconfig to "
                       "rebuild it",
                       name, n, LDCACHE_HWCAPS_MAX);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t s = ldcache_u32(arr + 4 * (size_t)i);
        if (s >= c->size)
            return ldcache_corrupt(err, name,
                                   "glibc-hwcaps name %u points to string offset 0x%x beyond "
                                   "the end of the file (%zu bytes)",
                                   i, s, c->size);
        if (s >= str_end)
            return ldcache_corrupt(err, name,
                                   "glibc-hwcaps name %u at offset 0x%x runs to the end of the "
                                   "file without a terminating NUL",
                                   i, s);
    }
    c->hwcaps = arr;
    c->nhwcaps = n;
    return BF_OK;
}

int ldcache_parse_extension(struct ldcache *c, uint32_t ext_off, size_t str_end,
                            const char *name, bf_err *err)
{
    if (ext_off % 4)
        return ldcache_corrupt(err, name,
                               "the extension directory offset 0x%x is not a multiple of 4",
                               ext_off);
    if ((uint64_t)ext_off + LDCACHE_EXT_HEADER > c->size)
        return ldcache_corrupt(err, name,
                               "the extension directory offset 0x%x lies beyond the end of the "
                               "file (%zu bytes)",
                               ext_off, c->size);
    const uint8_t *dir = c->file + ext_off;
    uint32_t magic = ldcache_u32(dir);
    if (magic != LDCACHE_EXT_MAGIC)
        return ldcache_corrupt(err, name,
                               "the extension directory at offset 0x%x has magic 0x%08x instead "
                               "of 0x%08x",
                               ext_off, magic, LDCACHE_EXT_MAGIC);
    uint32_t count = ldcache_u32(dir + 4);
    if ((uint64_t)ext_off + LDCACHE_EXT_HEADER + (uint64_t)count * LDCACHE_EXT_SECTION > c->size)
        return ldcache_corrupt(err, name,
                               "the extension directory at offset 0x%x lists %u sections, more "
                               "than the file (%zu bytes) holds",
                               ext_off, count, c->size);

    bool have_hwcaps = false;
    uint32_t hw_off = 0, hw_size = 0;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *s = dir + LDCACHE_EXT_HEADER + (size_t)i * LDCACHE_EXT_SECTION;
        uint32_t tag = ldcache_u32(s), off = ldcache_u32(s + 8), size = ldcache_u32(s + 12);
        if ((uint64_t)off + size > c->size)
            return ldcache_corrupt(err, name,
                                   "extension section %u (tag %u, offset 0x%x, %u bytes) runs "
                                   "past the end of the file (%zu bytes)",
                                   i, tag, off, size, c->size);
        if (tag == LDCACHE_EXT_HWCAPS) { /* ld.so keeps the last one */
            have_hwcaps = true;
            hw_off = off;
            hw_size = size;
        }
    }
    /* ld.so drops an empty section; its hwcaps entries then never match. */
    if (!have_hwcaps || hw_size == 0)
        return BF_OK;
    return ldcache_check_hwcaps(c, hw_off, hw_size, str_end, name, err);
}

/* Recognizes the three ld.so.cache layouts ld.so reads (_dl_load_cache_lookup, elf/dl-cache.c)
 * and checks every count and string offset, so lookups never leave the buffer. */
#include "ldcache_impl.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

/* cache_file_new_flags_endian_*: 0 unknown (accepted), 2 little, 3 big, 1 invalid. */
enum {
    LDCACHE_ENDIAN_MASK = 3,
    LDCACHE_ENDIAN_NATIVE = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? 2 : 3,
};

int ldcache_corrupt(bf_err *err, const char *name, const char *fmt, ...)
{
    char what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return err_set(err, "%s: %s; the cache is corrupt, run ldconfig to rebuild it", name, what);
}

/* Every key and value must be a NUL-terminated string inside the file: ld.so trusts them
 * once the offset is below the table size. Keys are library names; holding them to
 * LDCACHE_KEY_MAX bytes bounds the work of every comparison a lookup makes. strings_at is
 * the file offset of the string base. */
static int ldcache_check_entries(const struct ldcache *c, uint64_t strings_at, size_t str_end,
                                 const char *name, bf_err *err)
{
    static const char *const what[2] = {"key", "value"};
    for (uint32_t i = 0; i < c->nlibs; i++) {
        const uint8_t *e = c->entries + (size_t)i * c->entry_size;
        for (int k = 0; k < 2; k++) {
            uint32_t off = ldcache_u32(e + 4 + 4 * k);
            uint64_t at = strings_at + off;
            if (at >= c->size)
                return ldcache_corrupt(err, name,
                                       "entry %u's %s points to string offset 0x%x beyond the "
                                       "end of the file (%zu bytes)",
                                       i, what[k], off, c->size);
            if (at >= str_end)
                return ldcache_corrupt(err, name,
                                       "entry %u's %s string at offset 0x%x runs to the end of "
                                       "the file without a terminating NUL",
                                       i, what[k], off);
            size_t room = c->size - (size_t)at;
            if (room > LDCACHE_KEY_MAX)
                room = LDCACHE_KEY_MAX;
            if (k == 0 && !memchr(c->file + at, 0, room))
                return ldcache_corrupt(err, name,
                                       "entry %u's key at string offset 0x%x is longer than %d "
                                       "bytes, too long for a library name",
                                       i, off, LDCACHE_KEY_MAX - 1);
        }
    }
    return BF_OK;
}

/* The new format at file offset base: standalone (base 0) or inside a compat file. */
static int ldcache_parse_new(struct ldcache *c, size_t base, bool embedded, size_t str_end,
                             const char *name, bf_err *err)
{
    size_t avail = c->size - base;
    /* A standalone file must be longer than its header; an embedded one just has to hold it. */
    if (avail < LDCACHE_NEW_HEADER || (!embedded && avail == LDCACHE_NEW_HEADER))
        return ldcache_corrupt(err, name, "the file ends within its %d-byte header (%zu bytes)",
                               LDCACHE_NEW_HEADER, c->size);
    const uint8_t *h = c->file + base;
    uint32_t nlibs = ldcache_u32(h + 20);
    uint32_t len_strings = ldcache_u32(h + 24);
    uint8_t flags = h[28];
    uint32_t ext_off = ldcache_u32(h + 32);

    if ((avail - LDCACHE_NEW_HEADER) / LDCACHE_NEW_ENTRY < nlibs)
        return ldcache_corrupt(err, name,
                               "the header announces %u entries (%llu bytes) but only %zu bytes "
                               "follow it",
                               nlibs, (unsigned long long)nlibs * LDCACHE_NEW_ENTRY,
                               avail - LDCACHE_NEW_HEADER);
    if (flags != 0 && (flags & LDCACHE_ENDIAN_MASK) != LDCACHE_ENDIAN_NATIVE)
        return err_set(err,
                       "%s: the header's byte-order flag is %u (%s), which does not match this "
                       "machine; ld.so ignores such a cache, run ldconfig to rebuild it",
                       name, flags,
                       (flags & LDCACHE_ENDIAN_MASK) == 1   ? "marked invalid"
                       : (flags & LDCACHE_ENDIAN_MASK) == 2 ? "little-endian"
                                                            : "big-endian");
    uint64_t strings_end =
        (uint64_t)LDCACHE_NEW_HEADER + (uint64_t)nlibs * LDCACHE_NEW_ENTRY + len_strings;
    if (strings_end > avail)
        return ldcache_corrupt(err, name,
                               "the string table of %u bytes ends at offset 0x%llx, beyond the "
                               "end of the file (%zu bytes)",
                               len_strings, (unsigned long long)(base + strings_end), c->size);

    c->entries = h + LDCACHE_NEW_HEADER;
    c->entry_size = LDCACHE_NEW_ENTRY;
    c->nlibs = nlibs;
    c->strings = (const char *)h;
    if (ldcache_check_entries(c, base, str_end, name, err))
        return BF_FAIL;
    /* The extension directory offset counts from the start of the file, even in compat files. */
    return ext_off ? ldcache_parse_extension(c, ext_off, str_end, name, err) : BF_OK;
}

/* "ld.so-1.7.0": old entries, possibly followed by a new-format block that ld.so prefers. */
static int ldcache_parse_old(struct ldcache *c, size_t str_end, const char *name, bf_err *err)
{
    if (c->size <= LDCACHE_OLD_HEADER)
        return ldcache_corrupt(err, name, "the file ends within its %d-byte header (%zu bytes)",
                               LDCACHE_OLD_HEADER, c->size);
    uint32_t nlibs = ldcache_u32(c->file + 12);
    if ((c->size - LDCACHE_OLD_HEADER) / LDCACHE_OLD_ENTRY < nlibs)
        return ldcache_corrupt(err, name,
                               "the header announces %u entries (%llu bytes) but only %zu bytes "
                               "follow it",
                               nlibs, (unsigned long long)nlibs * LDCACHE_OLD_ENTRY,
                               c->size - LDCACHE_OLD_HEADER);
    uint64_t table_end = LDCACHE_OLD_HEADER + (uint64_t)nlibs * LDCACHE_OLD_ENTRY;
    uint64_t new_at = (table_end + 7) & ~(uint64_t)7; /* ALIGN_CACHE: 8 on x86_64 */
    if (new_at + LDCACHE_NEW_HEADER <= c->size
        && !memcmp(c->file + new_at, LDCACHE_NEW_MAGIC, sizeof LDCACHE_NEW_MAGIC - 1))
        return ldcache_parse_new(c, (size_t)new_at, true, str_end, name, err);

    c->entries = c->file + LDCACHE_OLD_HEADER;
    c->entry_size = LDCACHE_OLD_ENTRY;
    c->nlibs = nlibs;
    c->strings = (const char *)c->file + table_end;
    return ldcache_check_entries(c, table_end, str_end, name, err);
}

int ldcache_parse(const uint8_t *buf, size_t len, const char *name, arena *a, ldcache **out,
                  bf_err *err)
{
    *out = NULL;
    if (len > UINT32_MAX)
        return err_set(err,
                       "%s: %zu bytes is more than an ld.so.cache can address with its 32-bit "
                       "offsets; this is not an ld.so.cache file",
                       name, len);
    struct ldcache c = {.file = buf, .size = len};
    /* A string starting before the last NUL of the file is terminated inside it. */
    const uint8_t *last_nul = len ? memrchr(buf, 0, len) : NULL;
    size_t str_end = last_nul ? (size_t)(last_nul - buf) + 1 : 0;

    int rc;
    if (len >= sizeof LDCACHE_NEW_MAGIC - 1
        && !memcmp(buf, LDCACHE_NEW_MAGIC, sizeof LDCACHE_NEW_MAGIC - 1))
        rc = ldcache_parse_new(&c, 0, false, str_end, name, err);
    else if (len >= sizeof LDCACHE_OLD_MAGIC - 1
             && !memcmp(buf, LDCACHE_OLD_MAGIC, sizeof LDCACHE_OLD_MAGIC - 1))
        rc = ldcache_parse_old(&c, str_end, name, err);
    else
        rc = err_set(err,
                     "%s: not an ld.so.cache file (it starts with neither \"" LDCACHE_NEW_MAGIC
                     "\" nor \"" LDCACHE_OLD_MAGIC "\"); run ldconfig to rebuild it",
                     name);
    if (rc)
        return rc;
    ldcache *r = arena_alloc(a, sizeof *r);
    *r = c;
    *out = r;
    return BF_OK;
}

int ldcache_from_bytes(const uint8_t *buf, size_t len, const char *name, arena *a, ldcache **out,
                       bf_err *err)
{
    *out = NULL;
    if (len > UINT32_MAX) /* refused before any byte is read: no point copying */
        return ldcache_parse(buf, len, name, a, out, err);
    uint8_t *copy = arena_alloc(a, len ? len : 1);
    if (len)
        memcpy(copy, buf, len);
    return ldcache_parse(copy, len, name, a, out, err);
}

size_t ldcache_count(const ldcache *c)
{
    return c ? c->nlibs : 0;
}

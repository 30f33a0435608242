/* Private to the ldcache_*.c files: the validated view of an ld.so.cache file
 * (sysdeps/generic/dl-cache.h describes the layout; values are in the machine's byte order). */
#ifndef BUNDLEFS_LDCACHE_IMPL_H
#define BUNDLEFS_LDCACHE_IMPL_H

#include <stdint.h>
#include <string.h>

#include "bundlefs/ldcache.h"

#define LDCACHE_OLD_MAGIC "ld.so-1.7.0"
#define LDCACHE_NEW_MAGIC "glibc-ld.so.cache1.1"

enum {
    LDCACHE_OLD_HEADER = 16, /* magic[11], padding, uint32 nlibs */
    LDCACHE_OLD_ENTRY = 12,  /* int32 flags, uint32 key, uint32 value */
    LDCACHE_NEW_HEADER = 48,
    LDCACHE_NEW_ENTRY = 24, /* ... uint32 osversion, uint64 hwcap */
    LDCACHE_EXT_MAGIC = 0xeaa42174u,
    LDCACHE_EXT_HWCAPS = 1, /* tag of the glibc-hwcaps name array */
    LDCACHE_KEY_MAX = 4096, /* bytes of a key, its NUL included */
    /* glibc-hwcaps names accepted; ldconfig writes one per distinct subdirectory name. The
     * bound keeps the per-entry priority computation of a lookup small. */
    LDCACHE_HWCAPS_MAX = 256,
};

/* Everything here has been checked when the cache was read: every entry's key and value, and
 * every glibc-hwcaps name, is a NUL-terminated string inside the file. */
struct ldcache {
    const uint8_t *file;
    size_t size;
    const uint8_t *entries; /* nlibs entries of entry_size bytes */
    size_t entry_size;      /* LDCACHE_OLD_ENTRY or LDCACHE_NEW_ENTRY */
    uint32_t nlibs;
    const char *strings;    /* base of key and value offsets */
    const uint8_t *hwcaps;  /* nhwcaps uint32 offsets; ld.so reads them from the file start */
    uint32_t nhwcaps;
};

static inline uint32_t ldcache_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline uint64_t ldcache_u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Validates buf[0..len) (which must stay alive as long as the result) and builds the view. */
int ldcache_parse(const uint8_t *buf, size_t len, const char *name, arena *a, ldcache **out,
                  bf_err *err);

/* Reads the extension directory at ext_off into c->hwcaps/nhwcaps. str_end: strings must start
 * before it (one past the last NUL byte of the file). */
int ldcache_parse_extension(struct ldcache *c, uint32_t ext_off, size_t str_end,
                            const char *name, bf_err *err);

/* Formats "<name>: <what>; the cache is corrupt, run ldconfig to rebuild it" into err. */
int ldcache_corrupt(bf_err *err, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif

/* Reader for /etc/ld.so.cache in the old, new and compat formats, with the glibc-hwcaps
 * extension; lookups follow glibc 2.36's search_cache (docs/LDSO.md §5). */
#ifndef BUNDLEFS_LDCACHE_H
#define BUNDLEFS_LDCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "bundlefs/arena.h"
#include "bundlefs/err.h"
#include "bundlefs/host.h"

typedef struct ldcache ldcache;

/* Reads the cache file at path into memory owned by a.
 * - A missing file: returns BF_OK with *out = NULL (the loader then runs without a cache).
 * - An unreadable or malformed file: returns BF_FAIL with a message naming the file and the
 *   problem, and *out = NULL. glibc ignores such a cache; callers warn and go on without it.
 * Everything a lookup touches is checked here. Stricter than ld.so, which would still use
 * the rest of the file: a damaged extension directory, a key longer than 4095 bytes or more
 * than 256 glibc-hwcaps names make the whole file malformed. */
int ldcache_open(const char *path, arena *a, ldcache **out, bf_err *err);

/* Same, from bytes in memory (for tests and fuzzing); the bytes are copied. */
int ldcache_from_bytes(const uint8_t *buf, size_t len, const char *name, arena *a, ldcache **out,
                       bf_err *err);

/* The path glibc's loader would take from the cache for name on host h, or NULL. Keys compare
 * as _dl_cache_libcmp does (digit runs numerically); ineligible flags are skipped; glibc-hwcaps
 * entries are ranked by h->hwcaps priority and h->isa_levels; legacy hwcap entries need their
 * bits in h->legacy_hwcap. The entries' osversion is ignored, as in glibc 2.36. In compat files
 * ld.so reads the glibc-hwcaps names from the file start although ldconfig stores them
 * relative to the new block, so hwcaps entries there never match; this follows ld.so.
 * No allocation; the result points into the cache's memory. */
const char *ldcache_lookup(const ldcache *c, const char *name, const host_info *h);

/* Number of entries (all formats), for diagnostics and tests. */
size_t ldcache_count(const ldcache *c);

/* glibc's _dl_cache_libcmp: <0, 0, >0 like strcmp, except that runs of digits compare as
 * numbers ("libx.so.01" equals "libx.so.1", "libx.so.10" sorts after "libx.so.9"). */
int ldcache_libcmp(const char *a, const char *b);

#endif

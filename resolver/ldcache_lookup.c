/* glibc 2.36's search_cache (elf/dl-cache.c) over a validated cache: binary search with
 * _dl_cache_libcmp, back up to the first equal key, then pick among the equal keys. */
#include "ldcache_impl.h"

#include <stdbool.h>

enum {
    LDCACHE_ISA_LEVEL_MASK = 0x3ff, /* bits 32-41 of hwcap: required x86 ISA level */
};
#define LDCACHE_HWCAP_EXTENSION (UINT64_C(1) << 62)
#define LDCACHE_HWCAP_TLS (UINT64_C(1) << 63)

static bool ldcache_digit(signed char ch)
{
    return ch >= '0' && ch <= '9';
}

/* Characters compare as the loader's plain (signed on x86) char; numbers wrap like its int. */
int ldcache_libcmp(const char *a, const char *b)
{
    const signed char *p1 = (const signed char *)a, *p2 = (const signed char *)b;
    while (*p1 != '\0') {
        if (ldcache_digit(*p1)) {
            if (!ldcache_digit(*p2))
                return 1;
            uint32_t v1 = 0, v2 = 0;
            while (ldcache_digit(*p1))
                v1 = v1 * 10 + (uint32_t)(*p1++ - '0');
            while (ldcache_digit(*p2))
                v2 = v2 * 10 + (uint32_t)(*p2++ - '0');
            if (v1 != v2)
                return (int32_t)(v1 - v2);
        } else if (ldcache_digit(*p2)) {
            return -1;
        } else if (*p1 != *p2) {
            return *p1 - *p2;
        } else {
            p1++;
            p2++;
        }
    }
    return *p1 - *p2;
}

static const uint8_t *ldcache_entry(const ldcache *c, int i)
{
    return c->entries + (size_t)i * c->entry_size;
}

static const char *ldcache_key(const ldcache *c, int i)
{
    return c->strings + ldcache_u32(ldcache_entry(c, i) + 4);
}

/* The host's hwcaps names sorted as ld.so sorts its priority list (by name, stably): the
 * element after 'prev' (-1 for the first), or -1 at the end. */
static long ldcache_next_by_name(const host_info *h, long prev)
{
    long best = -1;
    for (size_t j = 0; j < h->nhwcaps; j++) {
        long jl = (long)j;
        if (prev >= 0) {
            int d = strcmp(h->hwcaps[j], h->hwcaps[prev]);
            if (d < 0 || (d == 0 && jl <= prev))
                continue;
        }
        if (best < 0) {
            best = jl;
            continue;
        }
        int d = strcmp(h->hwcaps[j], h->hwcaps[best]);
        if (d < 0)
            best = jl;
    }
    return best;
}

/* glibc_hwcaps_priorities_init for one index: ld.so merges the cache's name array (assumed
 * sorted) with its own sorted list, so the result for an unsorted array is what that merge
 * yields. The names are read from the file start, as ld.so does. 0 means inactive; lower is
 * better. */
static uint32_t ldcache_hwcaps_priority(const ldcache *c, uint32_t index, const host_info *h)
{
    if (index >= c->nhwcaps)
        return 0;
    uint32_t l = 0;
    long r = ldcache_next_by_name(h, -1);
    while (l < c->nhwcaps && r >= 0) {
        const char *left = (const char *)c->file + ldcache_u32(c->hwcaps + 4 * (size_t)l);
        int cmp = strcmp(left, h->hwcaps[r]);
        if (cmp > 0) {
            r = ldcache_next_by_name(h, r);
            continue;
        }
        if (l == index)
            return cmp == 0 ? (uint32_t)r + 1 : 0;
        l++;
        if (cmp == 0)
            r = ldcache_next_by_name(h, r);
    }
    return 0;
}

/* dl_cache_hwcap_isa_level_compatible; the shift count is reduced as the x86 shl does. */
static bool ldcache_isa_ok(uint64_t hwcap, const host_info *h)
{
    uint32_t level = (uint32_t)(hwcap >> 32) & LDCACHE_ISA_LEVEL_MASK;
    uint32_t need = UINT32_C(1) << (level & 31);
    return (h->isa_levels & need) == need;
}

static bool ldcache_is_hwcaps_entry(uint64_t hwcap)
{
    return ((hwcap >> 32) & ~(uint64_t)LDCACHE_ISA_LEVEL_MASK) == (LDCACHE_HWCAP_EXTENSION >> 32);
}

typedef struct ldcache_pick {
    const char *best;
    uint32_t best_priority;
} ldcache_pick;

typedef enum { PICK_NEXT, PICK_STOP } ldcache_step;

/* One entry of the scan over equal keys. */
static ldcache_step ldcache_consider(const ldcache *c, int i, const host_info *h,
                                     ldcache_pick *p)
{
    const uint8_t *e = ldcache_entry(c, i);
    int32_t flags = (int32_t)ldcache_u32(e);
    if (flags != h->cache_flags)
        return PICK_NEXT;
    bool named = false;
    if (c->entry_size == LDCACHE_NEW_ENTRY) {
        uint64_t hwcap = ldcache_u64(e + 16);
        named = ldcache_is_hwcaps_entry(hwcap);
        if (named && !ldcache_isa_ok(hwcap, h))
            return PICK_NEXT;
        /* hwcaps entries sort first; past them, the best one found wins. */
        if (!named && p->best)
            return PICK_STOP;
        uint64_t exclude = ~(h->legacy_hwcap | h->legacy_platform_mask | LDCACHE_HWCAP_TLS);
        if (!named && (hwcap & exclude))
            return PICK_NEXT;
        uint64_t entry_platform = hwcap & h->legacy_platform_mask;
        uint64_t host_platform = h->legacy_hwcap & h->legacy_platform_mask;
        if (entry_platform && entry_platform != (host_platform ? host_platform : UINT64_MAX))
            return PICK_NEXT;
        if (named) {
            uint32_t prio = ldcache_hwcaps_priority(c, (uint32_t)hwcap, h);
            if (prio == 0 || (p->best && prio >= p->best_priority))
                return PICK_NEXT;
            p->best_priority = prio;
        }
    }
    p->best = c->strings + ldcache_u32(e + 8);
    return named ? PICK_NEXT : PICK_STOP;
}

const char *ldcache_lookup(const ldcache *c, const char *name, const host_info *h)
{
    if (!c || !name || !h || c->nlibs == 0)
        return NULL;
    /* nlibs entries fit in a file below 4 GiB, so int indexes them as ld.so's do. */
    int left = 0, right = (int)c->nlibs - 1;
    while (left <= right) {
        int middle = left + (right - left) / 2;
        int cmp = ldcache_libcmp(name, ldcache_key(c, middle));
        if (cmp == 0) {
            int hit = middle;
            while (middle > 0 && ldcache_libcmp(name, ldcache_key(c, middle - 1)) == 0)
                middle--;
            ldcache_pick p = {NULL, 0};
            /* Entries up to the hit are known equal; later ones are checked as ld.so does,
             * up to the current right bound. */
            for (int i = middle; i <= right; i++) {
                if (i > hit && ldcache_libcmp(name, ldcache_key(c, i)) != 0)
                    break;
                if (ldcache_consider(c, i, h, &p) == PICK_STOP)
                    break;
            }
            return p.best;
        }
        if (cmp < 0)
            left = middle + 1;
        else
            right = middle - 1;
    }
    return NULL;
}

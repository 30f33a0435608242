/* The legacy hwcap subdirectories of glibc <= 2.36 (_dl_important_hwcaps, elf/dl-hwcaps.c). */
#include "host_impl.h"

#include <string.h>

const char **host_legacy_subdirs(const char *const *t, size_t n, arena *a, size_t *count)
{
    /* Subset m holds name i when bit i is set; ld.so walks m downwards, so the most specific
     * directory comes first, and it spells each path from the highest index (tls) down. The
     * empty subset is the directory itself, which callers add on their own. */
    size_t total = ((size_t)1 << n) - 1;
    const char **out = arena_alloc(a, (total ? total : 1) * sizeof *out);
    for (size_t m = total, k = 0; m > 0; m--, k++) {
        size_t len = 0;
        for (size_t i = 0; i < n; i++)
            if (m & ((size_t)1 << i))
                len += strlen(t[i]) + 1;
        char *s = arena_alloc(a, len + 1), *p = s;
        for (size_t i = n; i-- > 0;) {
            if (m & ((size_t)1 << i)) {
                size_t l = strlen(t[i]);
                memcpy(p, t[i], l);
                p[l] = '/';
                p += l + 1;
            }
        }
        out[k] = s;
    }
    *count = total;
    return out;
}

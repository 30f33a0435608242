/* Content identity: XXH3-128 of a file, and the content-addressed name of a real. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "plan_internal.h"

int plan_hash_fd(int fd, const char *name, char hex[33], void (*step)(void *, uint64_t),
                 void *ctx, bf_err *err)
{
    static _Thread_local unsigned char buf[1 << 20];
    XXH3_state_t *st = XXH3_createState();
    if (!st)
        return err_set(err, "out of memory hashing %s", name);
    XXH3_128bits_reset(st);
    uint64_t off = 0;
    for (;;) {
        ssize_t n = pread(fd, buf, sizeof buf, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            XXH3_freeState(st);
            return err_set(err, "cannot read %s: %s", name, strerror(e));
        }
        if (n == 0)
            break;
        XXH3_128bits_update(st, buf, (size_t)n);
        off += (uint64_t)n;
        if (step)
            step(ctx, (uint64_t)n);
    }
    XXH128_hash_t h = XXH3_128bits_digest(st);
    XXH3_freeState(st);
    snprintf(hex, 33, "%016llx%016llx", (unsigned long long)h.high64,
             (unsigned long long)h.low64);
    return BF_OK;
}

/* Where the hash goes: before the first binary suffix that ends the name or is followed by a
 * version ("libz.so.1" -> "libz" + ".so.1"), else at the end. */
static size_t plan_suffix_at(const char *name)
{
    static const char *const suffixes[] = {".so", ".dylib", ".node", ".bundle"};
    size_t best = strlen(name);
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        size_t n = strlen(suffixes[i]);
        for (const char *s = strstr(name, suffixes[i]); s; s = strstr(s + 1, suffixes[i]))
            if ((s[n] == '\0' || s[n] == '.') && s > name) {
                if ((size_t)(s - name) < best)
                    best = (size_t)(s - name);
                break;
            }
    }
    return best;
}

const char *plan_real_name(arena *a, const char *file_name, const char *hash)
{
    size_t at = plan_suffix_at(file_name);
    return arena_printf(a, "%.*s-%.16s%s", (int)at, file_name, hash, file_name + at);
}

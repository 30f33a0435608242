/* Parses arbitrary bytes as an ld.so.cache; when they are accepted, looks up fixed names and
 * names taken from the input's own strings, for this host and for two made-up ones. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bundlefs/host.h"
#include "bundlefs/ldcache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static arena *fuzz_arena;
static host_info fuzz_hosts[3];

static void fuzz_init(void)
{
    /* Unsorted, duplicated and empty names exercise the priority merge; all ISA levels and
     * legacy bits exercise the other branches. */
    static const char *odd_hwcaps[] = {"x86-64-v2", "x86-64-v2", "zz", "", "x86-64-v4"};
    fuzz_arena = arena_new();
    host_detect(&fuzz_hosts[0], fuzz_arena);
    fuzz_hosts[1] = fuzz_hosts[0];
    fuzz_hosts[1].hwcaps = odd_hwcaps;
    fuzz_hosts[1].nhwcaps = sizeof odd_hwcaps / sizeof *odd_hwcaps;
    fuzz_hosts[1].isa_levels = 0xffffffffu;
    fuzz_hosts[1].legacy_hwcap = 0x6 | (UINT64_C(1) << 50);
    fuzz_hosts[2] = fuzz_hosts[0];
    fuzz_hosts[2].nhwcaps = 0;
    fuzz_hosts[2].isa_levels = 0;
    fuzz_hosts[2].legacy_hwcap = 0;
    fuzz_hosts[2].legacy_platform_mask = 0;
    fuzz_hosts[2].cache_flags = 1;
}

static size_t fuzz_sink;

static void fuzz_lookup(const ldcache *c, const char *name)
{
    for (size_t i = 0; i < sizeof fuzz_hosts / sizeof *fuzz_hosts; i++) {
        const char *r = ldcache_lookup(c, name, &fuzz_hosts[i]);
        if (r)
            fuzz_sink += strlen(r); /* the result must be a terminated string in the buffer */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const fixed[] = {"libc.so.6", "libc.so.06", "", "lib", "libz.so.1",
                                        "99999999999999999999", "\xff\xfe"};
    if (!fuzz_arena)
        fuzz_init();
    arena *a = arena_new();
    ldcache *c = NULL;
    bf_err err;
    if (ldcache_from_bytes(data, size, "fuzz-input", a, &c, &err) == BF_OK) {
        fuzz_sink += ldcache_count(c);
        for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
            fuzz_lookup(c, fixed[i]);
        /* Strings of the input itself: every run that follows a NUL, up to 64 of them. */
        size_t found = 0;
        for (size_t at = 0; at < size && found < 64; at++) {
            if (at > 0 && data[at - 1] != 0)
                continue;
            const uint8_t *end = memchr(data + at, 0, size - at);
            if (!end || end == data + at)
                continue;
            fuzz_lookup(c, arena_strndup(a, (const char *)data + at, (size_t)(end - (data + at))));
            found++;
        }
    }
    arena_free(a);
    return 0;
}

/* host_info for glibc 2.36's x86_64 ld.so as built by Debian 12 (docs/LDSO.md §4, §7, §8). */
#include "host_impl.h"

#include <elf.h>
#include <string.h>
#include <sys/auxv.h>

/* Debian's multiarch slibdir and libdir first, then the plain ones (trusted-dirs.h). */
static const char *const host_default_dirs[] = {
    "/lib/x86_64-linux-gnu/", "/usr/lib/x86_64-linux-gnu/", "/lib/", "/usr/lib/",
};

/* _dl_hwcaps_subdirs with the ISA level each one needs, in priority order. */
static const struct {
    const char *name;
    unsigned isa;
} host_hwcaps_subdirs[] = {
    {"x86-64-v4", HOST_ISA_V4},
    {"x86-64-v3", HOST_ISA_V3},
    {"x86-64-v2", HOST_ISA_V2},
};

/* _dl_string_platform on x86_64: only the 64-bit platform names get a bit. */
static uint64_t host_platform_bit(const char *platform)
{
    static const char *const names[] = {"haswell", "xeon_phi"};
    for (unsigned i = 0; platform && i < 2; i++)
        if (!strcmp(platform, names[i]))
            return UINT64_C(1) << (HOST_FIRST_PLATFORM_BIT + 2 + i);
    return 0;
}

static void host_fill_legacy(host_info *h, uint64_t dl_hwcap, arena *a)
{
    /* HWCAP_IMPORTANT masks dl_hwcap; names come in bit order, then the platform, then tls. */
    static const char *const hwcap_names[] = {"sse2", "x86_64", "avx512_1"};
    uint64_t masked = dl_hwcap & (HOST_HWCAP_X86_64 | HOST_HWCAP_AVX512_1);
    const char *t[5];
    size_t n = 0;
    for (unsigned bit = 0; bit < 3; bit++)
        if (masked & (UINT64_C(1) << bit))
            t[n++] = hwcap_names[bit];
    if (h->platform)
        t[n++] = h->platform;
    t[n++] = "tls";
    h->legacy_subdirs = host_legacy_subdirs(t, n, a, &h->nlegacy_subdirs);
    h->legacy_hwcap = masked | host_platform_bit(h->platform);
    h->legacy_platform_mask = UINT64_C(0xf) << HOST_FIRST_PLATFORM_BIT;
}

void host_from_cpuid(host_info *h, const host_cpuid *cpu, const char *at_platform, arena *a)
{
    memset(h, 0, sizeof *h);
    h->elf = (elf_host){.elf_class = ELFCLASS64, .data = ELFDATA2LSB, .machine = EM_X86_64};
    h->cache_flags = 0x0303; /* FLAG_X8664_LIB64 | FLAG_ELF_LIBC6 */
    h->lib = "lib/x86_64-linux-gnu";

    host_x86 x;
    host_x86_eval(cpu, &x);
    const char *platform = x.platform ? x.platform : at_platform;
    h->platform = platform ? arena_strdup(a, platform) : NULL;

    size_t ndirs = sizeof host_default_dirs / sizeof *host_default_dirs;
    h->system_dirs = arena_alloc(a, ndirs * sizeof *h->system_dirs);
    for (size_t i = 0; i < ndirs; i++)
        h->system_dirs[i] = host_default_dirs[i];
    h->nsystem_dirs = ndirs;

    size_t nsub = sizeof host_hwcaps_subdirs / sizeof *host_hwcaps_subdirs;
    h->hwcaps = arena_alloc(a, nsub * sizeof *h->hwcaps);
    for (size_t i = 0; i < nsub; i++)
        if (x.isa_subdirs & host_hwcaps_subdirs[i].isa)
            h->hwcaps[h->nhwcaps++] = host_hwcaps_subdirs[i].name;
    h->isa_levels = x.isa_1;

    host_fill_legacy(h, x.dl_hwcap, a);
}

void host_detect(host_info *h, arena *a)
{
    host_cpuid cpu;
    host_read_cpuid(&cpu);
    host_from_cpuid(h, &cpu, (const char *)getauxval(AT_PLATFORM), a);
}

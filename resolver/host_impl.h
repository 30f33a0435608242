/* Private to the host_*.c files: the steps host_from_cpuid is made of. */
#ifndef BUNDLEFS_HOST_IMPL_H
#define BUNDLEFS_HOST_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "bundlefs/arena.h"
#include "bundlefs/host.h"

/* ISA level bits as glibc keeps them in cpu_features->isa_1 (GNU_PROPERTY_X86_ISA_1_*). */
enum {
    HOST_ISA_BASELINE = 1u << 0,
    HOST_ISA_V2 = 1u << 1,
    HOST_ISA_V3 = 1u << 2,
    HOST_ISA_V4 = 1u << 3,
};

/* Legacy hwcap bits of x86_64 (sysdeps/x86/dl-hwcap.h) and where platforms start (dl-procinfo.h). */
enum {
    HOST_HWCAP_X86_64 = 1u << 1,
    HOST_HWCAP_AVX512_1 = 1u << 2,
    HOST_FIRST_PLATFORM_BIT = 48,
};

/* What glibc 2.36's init_cpu_features concludes from the cpuid values. */
typedef struct host_x86 {
    /* cpu_features->isa_1, computed before the vendor quirks; cache entries are checked against it. */
    unsigned isa_1;
    /* The ISA level recomputed afterwards, as _dl_hwcaps_subdirs_active does; it differs from
     * isa_1 only on the Zhaoxin models whose AVX glibc turns off. */
    unsigned isa_subdirs;
    uint64_t dl_hwcap;    /* HOST_HWCAP_* bits */
    const char *platform; /* "haswell" or "xeon_phi" replacing AT_PLATFORM, else NULL */
} host_x86;

void host_x86_eval(const host_cpuid *cpu, host_x86 *out);

/* The legacy subdirectories of _dl_important_hwcaps for the names t[0..n) (hwcap names, then
 * the platform, then "tls"): one per non-empty subset, largest bitmask first, components from
 * the highest index down, each ending in '/'. n is at most 8. */
const char **host_legacy_subdirs(const char *const *t, size_t n, arena *a, size_t *count);

#endif

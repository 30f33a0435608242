/* What the running machine's glibc ld.so would use: its ELF identity, platform strings, system
 * directories and hardware-capability subdirectories (docs/LDSO.md §4, §7, §8). Detected once;
 * tests and tools can override any field. */
#ifndef BUNDLEFS_HOST_H
#define BUNDLEFS_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "bundlefs/arena.h"
#include "bundlefs/elf.h"

typedef struct host_info {
    elf_host elf;             /* class, byte order and machine a candidate must have */
    int32_t cache_flags;      /* ld.so.cache entry flags the loader accepts (0x0303 on x86_64) */
    const char *platform;     /* $PLATFORM: AT_PLATFORM, or "haswell"/"xeon_phi" on Intel */
    const char *lib;          /* $LIB: "lib/x86_64-linux-gnu" on Debian amd64 */
    const char **system_dirs; /* default dirs with a trailing '/', in search order */
    size_t nsystem_dirs;
    /* Active glibc-hwcaps subdirectory names, highest priority first
     * (e.g. "x86-64-v4", "x86-64-v3", "x86-64-v2"). */
    const char **hwcaps;
    size_t nhwcaps;
    uint32_t isa_levels; /* bit n set: x86 ISA level n is supported (cache entries need it) */
    /* glibc 2.36 legacy hwcap subdirectories, in search order, each with a trailing '/'
     * ("tls/x86_64/x86_64/", ..., "x86_64/"); the plain directory is not in the list. */
    const char **legacy_subdirs;
    size_t nlegacy_subdirs;
    /* Legacy hwcap bits of the running CPU plus the platform bit (for old cache entries). */
    uint64_t legacy_hwcap;
    /* The bits of a cache entry's hwcap that name a platform (x86_64: bits 48-51). An entry
     * naming a platform other than the one in legacy_hwcap is skipped; 0 disables the check. */
    uint64_t legacy_platform_mask;
} host_info;

/* Fills h for this machine (cpuid, AT_PLATFORM). Cannot fail on x86_64 Linux. */
void host_detect(host_info *h, arena *a);

/* The CPU identification glibc's init_cpu_features works from. Kept apart from host_detect so
 * tests can describe CPUs other than the one they run on. */
typedef struct host_cpuid {
    uint32_t max_leaf;                           /* cpuid leaf 0: eax */
    uint32_t vendor_ebx, vendor_ecx, vendor_edx; /* leaf 0: "GenuineIntel", "AuthenticAMD", ... */
    uint32_t leaf1_eax, leaf1_ecx, leaf1_edx;    /* leaf 1 (family/model, feature bits) */
    uint32_t leaf7_ebx;                          /* leaf 7 subleaf 0 (0 if max_leaf < 7) */
    uint32_t ext1_ecx;                           /* leaf 0x80000001 (0 if absent) */
    uint64_t xcr0; /* XGETBV(0): state components the OS enables (0 without OSXSAVE) */
} host_cpuid;

/* Executes cpuid/xgetbv on this CPU (all zero on a non-x86 build). */
void host_read_cpuid(host_cpuid *out);

/* Fills h as glibc 2.36's x86_64 ld.so would on the CPU described by cpu, given the kernel's
 * AT_PLATFORM string (NULL if the kernel passed none). host_detect is this with the real
 * cpuid and getauxval(AT_PLATFORM). */
void host_from_cpuid(host_info *h, const host_cpuid *cpu, const char *at_platform, arena *a);

#endif

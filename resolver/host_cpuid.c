#include "bundlefs/host.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

/* XGETBV is only legal once the OS has set CR4.OSXSAVE, which CPUID.1:ECX bit 27 reports. */
static uint64_t host_xgetbv0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

void host_read_cpuid(host_cpuid *out)
{
    memset(out, 0, sizeof *out);
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d))
        return;
    out->max_leaf = a;
    out->vendor_ebx = b;
    out->vendor_ecx = c;
    out->vendor_edx = d;
    if (out->max_leaf >= 1) {
        __cpuid(1, a, b, c, d);
        out->leaf1_eax = a;
        out->leaf1_ecx = c;
        out->leaf1_edx = d;
    }
    if (out->max_leaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        out->leaf7_ebx = b;
    }
    __cpuid(0x80000000u, a, b, c, d);
    if (a >= 0x80000001u) {
        __cpuid(0x80000001u, a, b, c, d);
        out->ext1_ecx = c;
    }
    if (out->leaf1_ecx & (1u << 27))
        out->xcr0 = host_xgetbv0();
}

#else

void host_read_cpuid(host_cpuid *out)
{
    memset(out, 0, sizeof *out);
}

#endif

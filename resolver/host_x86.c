/* glibc 2.36's view of an x86_64 CPU (sysdeps/x86/cpu-features.c, get-isa-level.h): which
 * features are usable, the ISA level, the legacy hwcap bits and the Intel platform names. */
#include "host_impl.h"

#include <stdbool.h>

enum host_feature {
    HF_FPU, HF_CX8, HF_CMOV, HF_MMX, HF_FXSR, HF_SSE, HF_SSE2,
    HF_SSE3, HF_SSSE3, HF_CMPXCHG16B, HF_SSE4_1, HF_SSE4_2, HF_MOVBE, HF_POPCNT,
    HF_BMI1, HF_BMI2, HF_LAHF64, HF_LZCNT,
    HF_AVX, HF_AVX2, HF_FMA, HF_F16C,
    HF_AVX512F, HF_AVX512CD, HF_AVX512ER, HF_AVX512PF, HF_AVX512VL, HF_AVX512DQ, HF_AVX512BW,
};

#define HF(f) (UINT64_C(1) << (f))

enum host_reg { R_ECX1, R_EDX1, R_EBX7, R_EXT_ECX };

typedef struct host_bit {
    uint8_t feature, reg, bit;
} host_bit;

/* Features usable as soon as cpuid reports them (update_active copies them directly). */
static const host_bit host_plain_bits[] = {
    {HF_FPU, R_EDX1, 0},       {HF_CX8, R_EDX1, 8},        {HF_CMOV, R_EDX1, 15},
    {HF_MMX, R_EDX1, 23},      {HF_FXSR, R_EDX1, 24},      {HF_SSE, R_EDX1, 25},
    {HF_SSE2, R_EDX1, 26},     {HF_SSE3, R_ECX1, 0},       {HF_SSSE3, R_ECX1, 9},
    {HF_CMPXCHG16B, R_ECX1, 13}, {HF_SSE4_1, R_ECX1, 19},  {HF_SSE4_2, R_ECX1, 20},
    {HF_MOVBE, R_ECX1, 22},    {HF_POPCNT, R_ECX1, 23},    {HF_BMI1, R_EBX7, 3},
    {HF_BMI2, R_EBX7, 8},      {HF_LAHF64, R_EXT_ECX, 0},  {HF_LZCNT, R_EXT_ECX, 5},
};

/* AVX512 features beyond AVX512F, usable when AVX512F is. */
static const host_bit host_avx512_bits[] = {
    {HF_AVX512CD, R_EBX7, 28}, {HF_AVX512ER, R_EBX7, 27}, {HF_AVX512PF, R_EBX7, 26},
    {HF_AVX512VL, R_EBX7, 31}, {HF_AVX512DQ, R_EBX7, 17}, {HF_AVX512BW, R_EBX7, 30},
};

enum {
    ECX1_FMA = 1u << 12,
    ECX1_OSXSAVE = 1u << 27,
    ECX1_AVX = 1u << 28,
    ECX1_F16C = 1u << 29,
    EBX7_AVX2 = 1u << 5,
    EBX7_AVX512F = 1u << 16,
    XCR0_XMM_YMM = 0x6,        /* SSE and AVX state */
    XCR0_AVX512 = 0xe0,        /* opmask, ZMM0-15 upper halves, ZMM16-31 */
};

typedef enum host_vendor { V_INTEL, V_AMD, V_ZHAOXIN, V_OTHER } host_vendor;

static host_vendor host_vendor_of(const host_cpuid *c)
{
    if (c->vendor_ebx == 0x756e6547 && c->vendor_ecx == 0x6c65746e && c->vendor_edx == 0x49656e69)
        return V_INTEL; /* GenuineIntel */
    if ((c->vendor_ebx == 0x68747541 && c->vendor_ecx == 0x444d4163 && c->vendor_edx == 0x69746e65)
        || (c->vendor_ebx == 0x6f677948 && c->vendor_ecx == 0x656e6975
            && c->vendor_edx == 0x6e65476e))
        return V_AMD; /* AuthenticAMD, HygonGenuine */
    if ((c->vendor_ebx == 0x746e6543 && c->vendor_ecx == 0x736c7561 && c->vendor_edx == 0x48727561)
        || (c->vendor_ebx == 0x68532020 && c->vendor_ecx == 0x20206961
            && c->vendor_edx == 0x68676e61))
        return V_ZHAOXIN; /* CentaurHauls, "  Shanghai  " */
    return V_OTHER;
}

static uint32_t host_reg_value(uint8_t reg, uint32_t ecx1, uint32_t edx1, uint32_t ebx7,
                               uint32_t ext_ecx)
{
    switch (reg) {
    case R_ECX1: return ecx1;
    case R_EDX1: return edx1;
    case R_EBX7: return ebx7;
    default: return ext_ecx;
    }
}

static uint64_t host_bits(const host_bit *t, size_t n, uint32_t ecx1, uint32_t edx1,
                          uint32_t ebx7, uint32_t ext_ecx)
{
    uint64_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (host_reg_value(t[i].reg, ecx1, edx1, ebx7, ext_ecx) & (1u << t[i].bit))
            u |= HF(t[i].feature);
    return u;
}

/* update_active: AVX and AVX512 need the OS to save their registers, which XCR0 tells. */
static uint64_t host_usable(uint32_t ecx1, uint32_t edx1, uint32_t ebx7, uint32_t ext_ecx,
                            uint64_t xcr0)
{
    uint64_t u = host_bits(host_plain_bits, sizeof host_plain_bits / sizeof *host_plain_bits,
                           ecx1, edx1, ebx7, ext_ecx);
    if (!(ecx1 & ECX1_OSXSAVE) || (xcr0 & XCR0_XMM_YMM) != XCR0_XMM_YMM)
        return u;
    if (ecx1 & ECX1_AVX) {
        u |= HF(HF_AVX);
        if (ebx7 & EBX7_AVX2)
            u |= HF(HF_AVX2);
        if (ecx1 & ECX1_FMA)
            u |= HF(HF_FMA);
        if (ecx1 & ECX1_F16C)
            u |= HF(HF_F16C);
    }
    if ((xcr0 & XCR0_AVX512) == XCR0_AVX512 && (ebx7 & EBX7_AVX512F))
        u |= HF(HF_AVX512F)
             | host_bits(host_avx512_bits, sizeof host_avx512_bits / sizeof *host_avx512_bits,
                         ecx1, edx1, ebx7, ext_ecx);
    return u;
}

static bool host_all(uint64_t usable, uint64_t want)
{
    return (usable & want) == want;
}

/* get_isa_level: each level requires the previous one. */
static unsigned host_isa_level(uint64_t u)
{
    unsigned isa = 0;
    if (!host_all(u, HF(HF_CMOV) | HF(HF_CX8) | HF(HF_FPU) | HF(HF_FXSR) | HF(HF_MMX) | HF(HF_SSE)
                         | HF(HF_SSE2)))
        return isa;
    isa |= HOST_ISA_BASELINE;
    if (!host_all(u, HF(HF_CMPXCHG16B) | HF(HF_LAHF64) | HF(HF_POPCNT) | HF(HF_SSE3)
                         | HF(HF_SSSE3) | HF(HF_SSE4_1) | HF(HF_SSE4_2)))
        return isa;
    isa |= HOST_ISA_V2;
    if (!host_all(u, HF(HF_AVX) | HF(HF_AVX2) | HF(HF_BMI1) | HF(HF_BMI2) | HF(HF_F16C)
                         | HF(HF_FMA) | HF(HF_LZCNT) | HF(HF_MOVBE)))
        return isa;
    isa |= HOST_ISA_V3;
    if (host_all(u, HF(HF_AVX512F) | HF(HF_AVX512BW) | HF(HF_AVX512CD) | HF(HF_AVX512DQ)
                        | HF(HF_AVX512VL)))
        isa |= HOST_ISA_V4;
    return isa;
}

/* Some Zhaoxin models have AVX turned off after the ISA level has been stored. */
static bool host_zhaoxin_drops_avx(uint32_t eax1)
{
    unsigned family = (eax1 >> 8) & 0x0f;
    unsigned model = (eax1 >> 4) & 0x0f;
    unsigned extended_model = (eax1 >> 12) & 0xf0;
    if (family == 0x0f) {
        family += (eax1 >> 20) & 0xff;
        model += extended_model;
    }
    model += extended_model; /* the Zhaoxin branch adds it once more */
    return (family == 6 && (model == 0x0f || model == 0x19))
           || (family == 7 && (model == 0x1b || model == 0x3b));
}

/* The end of init_cpu_features: dl_hwcap and the Intel platform names. */
static void host_intel_platform(uint64_t u, host_x86 *out)
{
    if (host_all(u, HF(HF_AVX512CD))) {
        if (host_all(u, HF(HF_AVX512ER))) {
            if (host_all(u, HF(HF_AVX512PF)))
                out->platform = "xeon_phi";
        } else if (host_all(u, HF(HF_AVX512BW) | HF(HF_AVX512DQ) | HF(HF_AVX512VL))) {
            out->dl_hwcap |= HOST_HWCAP_AVX512_1;
        }
    }
    if (!out->platform
        && host_all(u, HF(HF_AVX2) | HF(HF_FMA) | HF(HF_BMI1) | HF(HF_BMI2) | HF(HF_LZCNT)
                           | HF(HF_MOVBE) | HF(HF_POPCNT)))
        out->platform = "haswell";
}

void host_x86_eval(const host_cpuid *cpu, host_x86 *out)
{
    host_vendor v = host_vendor_of(cpu);
    /* For an unknown vendor glibc reads neither leaf 1 nor the extended leaves. */
    uint32_t ecx1 = v == V_OTHER ? 0 : cpu->leaf1_ecx;
    uint32_t edx1 = v == V_OTHER ? 0 : cpu->leaf1_edx;
    uint32_t ext_ecx = v == V_OTHER ? 0 : cpu->ext1_ecx;
    uint32_t ebx7 = cpu->max_leaf >= 7 ? cpu->leaf7_ebx : 0;

    uint64_t u = host_usable(ecx1, edx1, ebx7, ext_ecx, cpu->xcr0);
    out->isa_1 = host_isa_level(u);
    if (v == V_ZHAOXIN && host_zhaoxin_drops_avx(cpu->leaf1_eax))
        u &= ~(HF(HF_AVX) | HF(HF_AVX2));
    out->isa_subdirs = host_isa_level(u);
    out->dl_hwcap = HOST_HWCAP_X86_64;
    out->platform = NULL;
    if (v == V_INTEL)
        host_intel_platform(u, out);
}

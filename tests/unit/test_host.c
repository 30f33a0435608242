/* host_detect against the real ld.so of this machine (its --list-diagnostics, --help and the
 * search path LD_DEBUG prints), plus host_from_cpuid on CPUs described by hand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundlefs/host.h"
#include "test_util.h"

#define LDSO "/lib64/ld-linux-x86-64.so.2"

static arena *ta;
static host_info host;

static int setup(void **state)
{
    ta = arena_new();
    host_detect(&host, ta);
    return 0;
}

static int teardown(void **state)
{
    arena_free(ta);
    return 0;
}

/* The value of "key=value" in ld.so --list-diagnostics output, without quotes, or NULL. */
static const char *diag(const char *text, const char *key)
{
    size_t kl = strlen(key);
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (!strncmp(line, key, kl) && line[kl] == '=') {
            const char *v = line + kl + 1;
            size_t vl = strcspn(v, "\n");
            if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"')
                return arena_strndup(ta, v + 1, vl - 2);
            return arena_strndup(ta, v, vl);
        }
    }
    return NULL;
}

static void test_identity_and_system_dirs(void **state)
{
    assert_int_equal(host.elf.elf_class, 2);   /* ELFCLASS64 */
    assert_int_equal(host.elf.data, 1);        /* ELFDATA2LSB */
    assert_int_equal(host.elf.machine, 62);    /* EM_X86_64 */
    assert_int_equal(host.cache_flags, 0x0303);

    char *d = test_output(ta, LDSO " --list-diagnostics");
    assert_string_equal(host.lib, diag(d, "dl_dst_lib"));
    size_t n = 0;
    for (;; n++) {
        char key[64];
        snprintf(key, sizeof key, "path.system_dirs[0x%zx]", n);
        const char *v = diag(d, key);
        if (!v)
            break;
        assert_true(n < host.nsystem_dirs);
        assert_string_equal(host.system_dirs[n], v);
    }
    assert_int_equal(n, host.nsystem_dirs);
}

static void test_cpu_facts_match_ldso_diagnostics(void **state)
{
    char *d = test_output(ta, LDSO " --list-diagnostics");
    const char *platform = diag(d, "dl_platform");
    assert_non_null(platform);
    if (!strcmp(platform, "0x0"))
        assert_null(host.platform);
    else
        assert_string_equal(host.platform, platform);

    assert_int_equal(host.isa_levels, strtoul(diag(d, "x86.cpu_features.isa_1"), NULL, 16));

    uint64_t hwcap = strtoull(diag(d, "dl_hwcap"), NULL, 16);
    uint64_t important = strtoull(diag(d, "dl_hwcap_important"), NULL, 16);
    uint64_t sp = strtoull(diag(d, "dl_string_platform"), NULL, 16);
    uint64_t want = (hwcap & important) | (sp != UINT64_MAX ? UINT64_C(1) << sp : 0);
    assert_int_equal(host.legacy_hwcap, want);

    /* dl_hwcaps_subdirs lists every built-in name; bit i of the mask marks name i active. */
    char *names = arena_strdup(ta, diag(d, "dl_hwcaps_subdirs"));
    unsigned long active = strtoul(diag(d, "dl_hwcaps_subdirs_active"), NULL, 16);
    size_t k = 0, i = 0;
    for (char *save, *tok = strtok_r(names, ":", &save); tok; tok = strtok_r(NULL, ":", &save), i++) {
        if (!(active & (1ul << i)))
            continue;
        assert_true(k < host.nhwcaps);
        assert_string_equal(host.hwcaps[k], tok);
        k++;
    }
    assert_int_equal(k, host.nhwcaps);
}

/* "Subdirectories of glibc-hwcaps directories" and the legacy list of ld.so --help. */
static void test_matches_ldso_help(void **state)
{
    char *help = test_output(ta, LDSO " --help");
    const char *sec = strstr(help, "Subdirectories of glibc-hwcaps directories, in priority order:\n");
    assert_non_null(sec);
    sec = strchr(sec, '\n') + 1;
    size_t k = 0;
    while (!strncmp(sec, "  ", 2)) {
        size_t len = strcspn(sec + 2, " \n");
        if (strstr(arena_strndup(ta, sec, strcspn(sec, "\n")), "(supported, searched)")) {
            assert_true(k < host.nhwcaps);
            assert_string_equal(arena_strndup(ta, sec + 2, len), host.hwcaps[k]);
            k++;
        }
        sec += strcspn(sec, "\n") + 1;
    }
    assert_int_equal(k, host.nhwcaps);

    /* Each searched legacy name is one path component of the longest legacy subdirectory. */
    sec = strstr(help, "Legacy HWCAP subdirectories under library search path directories:\n");
    assert_non_null(sec);
    sec = strchr(sec, '\n') + 1;
    assert_true(host.nlegacy_subdirs > 0);
    const char *longest = host.legacy_subdirs[0];
    size_t searched = 0, components = 0;
    for (const char *p = longest; *p; p++)
        components += *p == '/';
    while (!strncmp(sec, "  ", 2)) {
        char *line = arena_strndup(ta, sec, strcspn(sec, "\n"));
        if (strstr(line, "searched)")) {
            char want[64];
            snprintf(want, sizeof want, "%.*s/", (int)strcspn(line + 2, " "), line + 2);
            assert_non_null(strstr(longest, want));
            searched++;
            if (strstr(line, "AT_PLATFORM"))
                assert_string_equal(arena_strndup(ta, line + 2, strcspn(line + 2, " ")),
                                    host.platform);
        }
        sec += strcspn(sec, "\n") + 1;
    }
    assert_int_equal(searched, components);
    assert_int_equal(host.nlegacy_subdirs, ((size_t)1 << components) - 1);
}

/* The search path ld.so prints for a RUNPATH directory that does not exist: the glibc-hwcaps
 * subdirectories, the legacy ones (duplicates included), then the directory itself. */
static void test_matches_ld_debug_search_path(void **state)
{
    char *tmp = test_tmpdir("host");
    char dir[128];
    snprintf(dir, sizeof dir, "/nonexist-%ld-%d", (long)getpid(), rand());
    char *out = test_output(ta, "cd %s && printf 'int main(void){return 0;}\\n' > p.c && "
                            "cc -o p p.c -Wl,--enable-new-dtags,-rpath,%s 2>&1 && "
                            "LD_DEBUG=libs ./p 2>&1",
                            tmp, dir);
    test_rmdir(tmp);
    char needle[160];
    snprintf(needle, sizeof needle, "search path=%s/", dir);
    const char *line = strstr(out, needle);
    assert_non_null(line);
    line += strlen("search path=");
    char *path = arena_strndup(ta, line, strcspn(line, "\t\n"));

    size_t want_n = host.nhwcaps + host.nlegacy_subdirs + 1, got_n = 0;
    const char **want = arena_alloc(ta, want_n * sizeof *want);
    for (size_t i = 0; i < host.nhwcaps; i++)
        want[i] = arena_printf(ta, "%s/glibc-hwcaps/%s", dir, host.hwcaps[i]);
    for (size_t i = 0; i < host.nlegacy_subdirs; i++) {
        const char *s = host.legacy_subdirs[i];
        assert_int_equal(s[strlen(s) - 1], '/');
        want[host.nhwcaps + i] = arena_printf(ta, "%s/%.*s", dir, (int)strlen(s) - 1, s);
    }
    want[want_n - 1] = dir;
    for (char *save, *tok = strtok_r(path, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
        assert_true(got_n < want_n);
        assert_string_equal(tok, want[got_n]);
        got_n++;
    }
    assert_int_equal(got_n, want_n);
}

/* Feature bits for hand-made CPUs. */
enum {
    EDX1_BASE = 1u << 0 | 1u << 8 | 1u << 15 | 1u << 23 | 1u << 24 | 1u << 25 | 1u << 26,
    ECX1_V2 = 1u << 0 | 1u << 9 | 1u << 13 | 1u << 19 | 1u << 20 | 1u << 23,
    ECX1_V3 = 1u << 12 | 1u << 22 | 1u << 29 | 1u << 28, /* FMA MOVBE F16C AVX */
    ECX1_OSXSAVE = 1u << 27,
    EBX7_V3 = 1u << 3 | 1u << 5 | 1u << 8,                  /* BMI1 AVX2 BMI2 */
    EBX7_V4 = 1u << 16 | 1u << 17 | 1u << 28 | 1u << 30 | 1u << 31, /* F DQ CD BW VL */
    EBX7_PHI = 1u << 16 | 1u << 26 | 1u << 27 | 1u << 28,   /* F PF ER CD */
    EXT_V2 = 1u << 0 | 1u << 5,                             /* LAHF64 LZCNT */
};

static host_cpuid cpu_with(const char vendor[13], uint32_t ecx1, uint32_t ebx7, uint64_t xcr0)
{
    host_cpuid c = {0};
    c.max_leaf = 0xd;
    memcpy(&c.vendor_ebx, vendor, 4);
    memcpy(&c.vendor_edx, vendor + 4, 4);
    memcpy(&c.vendor_ecx, vendor + 8, 4);
    c.leaf1_eax = 0x50654; /* family 6 */
    c.leaf1_ecx = ecx1;
    c.leaf1_edx = EDX1_BASE;
    c.leaf7_ebx = ebx7;
    c.ext1_ecx = EXT_V2;
    c.xcr0 = xcr0;
    return c;
}

/* What host_from_cpuid makes of a hand-made CPU under an x86_64 kernel. */
static host_info cpu_host(const char vendor[13], uint32_t ecx1, uint32_t ebx7, uint64_t xcr0)
{
    host_cpuid c = cpu_with(vendor, ecx1, ebx7, xcr0);
    host_info h;
    host_from_cpuid(&h, &c, "x86_64", ta);
    return h;
}

static void assert_list(const char **got, size_t n, const char *const *want, size_t wn)
{
    assert_int_equal(n, wn);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(got[i], want[i]);
}

static void test_intel_avx512_cpu(void **state)
{
    host_info h = cpu_host("GenuineIntel", ECX1_V2 | ECX1_V3 | ECX1_OSXSAVE, EBX7_V3 | EBX7_V4, 0xe7);
    assert_string_equal(h.platform, "haswell");
    assert_int_equal(h.isa_levels, 0xf);
    static const char *const hw[] = {"x86-64-v4", "x86-64-v3", "x86-64-v2"};
    assert_list(h.hwcaps, h.nhwcaps, hw, 3);
    assert_int_equal(h.legacy_hwcap, 0x6 | UINT64_C(1) << 50);
    assert_int_equal(h.legacy_platform_mask, UINT64_C(0xf) << 48);
    /* names: x86_64 (bit 1), avx512_1 (bit 2), haswell, tls */
    static const char *const leg[] = {
        "tls/haswell/avx512_1/x86_64/", "tls/haswell/avx512_1/", "tls/haswell/x86_64/",
        "tls/haswell/", "tls/avx512_1/x86_64/", "tls/avx512_1/", "tls/x86_64/", "tls/",
        "haswell/avx512_1/x86_64/", "haswell/avx512_1/", "haswell/x86_64/", "haswell/",
        "avx512_1/x86_64/", "avx512_1/", "x86_64/",
    };
    assert_list(h.legacy_subdirs, h.nlegacy_subdirs, leg, 15);
}

/* AVX512 in cpuid but the OS does not save ZMM state: no v4, no avx512_1. */
static void test_avx512_without_os_support(void **state)
{
    host_info h = cpu_host("GenuineIntel", ECX1_V2 | ECX1_V3 | ECX1_OSXSAVE, EBX7_V3 | EBX7_V4, 0x7);
    static const char *const hw[] = {"x86-64-v3", "x86-64-v2"};
    assert_list(h.hwcaps, h.nhwcaps, hw, 2);
    assert_int_equal(h.isa_levels, 0x7);
    assert_string_equal(h.platform, "haswell");
    static const char *const leg[] = {"tls/haswell/x86_64/", "tls/haswell/", "tls/x86_64/", "tls/",
                                      "haswell/x86_64/", "haswell/", "x86_64/"};
    assert_list(h.legacy_subdirs, h.nlegacy_subdirs, leg, 7);
}

/* Without OSXSAVE nothing needing XCR0 is usable: v2 at most, and no haswell platform. */
static void test_no_osxsave(void **state)
{
    host_info h = cpu_host("GenuineIntel", ECX1_V2 | ECX1_V3, EBX7_V3 | EBX7_V4, 0);
    static const char *const hw[] = {"x86-64-v2"};
    assert_list(h.hwcaps, h.nhwcaps, hw, 1);
    assert_int_equal(h.isa_levels, 0x3);
    assert_string_equal(h.platform, "x86_64");
    assert_int_equal(h.legacy_hwcap, 0x2);
}

static void test_xeon_phi(void **state)
{
    host_info h = cpu_host("GenuineIntel", ECX1_V2 | ECX1_V3 | ECX1_OSXSAVE, EBX7_V3 | EBX7_PHI, 0xe7);
    assert_string_equal(h.platform, "xeon_phi");
    assert_int_equal(h.legacy_hwcap, 0x2 | UINT64_C(1) << 51);
    assert_int_equal(h.isa_levels, 0x7); /* no BW/DQ/VL: not v4 */
    assert_string_equal(h.legacy_subdirs[0], "tls/xeon_phi/x86_64/");
}

/* The platform names are Intel-only; AMD keeps the kernel's AT_PLATFORM. */
static void test_amd_keeps_at_platform(void **state)
{
    host_cpuid c = cpu_with("AuthenticAMD", ECX1_V2 | ECX1_V3 | ECX1_OSXSAVE, EBX7_V3 | EBX7_V4, 0xe7);
    host_info h;
    host_from_cpuid(&h, &c, "x86_64", ta);
    assert_string_equal(h.platform, "x86_64");
    assert_int_equal(h.isa_levels, 0xf);
    assert_int_equal(h.nhwcaps, 3);
    assert_int_equal(h.legacy_hwcap, 0x2);
    static const char *const leg[] = {"tls/x86_64/x86_64/", "tls/x86_64/", "tls/x86_64/", "tls/",
                                      "x86_64/x86_64/", "x86_64/", "x86_64/"};
    assert_list(h.legacy_subdirs, h.nlegacy_subdirs, leg, 7);

    host_from_cpuid(&h, &c, NULL, ta);
    assert_null(h.platform);
    static const char *const noplat[] = {"tls/x86_64/", "tls/", "x86_64/"};
    assert_list(h.legacy_subdirs, h.nlegacy_subdirs, noplat, 3);
}

/* Zhaoxin family 7 model 0x1b: glibc turns AVX off after storing the ISA level, so cache
 * entries may still need v3 but the v3 subdirectory is not searched. */
static void test_zhaoxin_avx_quirk(void **state)
{
    host_cpuid c = cpu_with("CentaurHauls", ECX1_V2 | ECX1_V3 | ECX1_OSXSAVE, EBX7_V3, 0x7);
    c.leaf1_eax = (7u << 8) | (0x1u << 16) | (0xbu << 4); /* family 7, model 0x1b */
    host_info h;
    host_from_cpuid(&h, &c, "x86_64", ta);
    assert_int_equal(h.isa_levels, 0x7);
    static const char *const hw[] = {"x86-64-v2"};
    assert_list(h.hwcaps, h.nhwcaps, hw, 1);
}

/* An unknown vendor: glibc does not read cpuid leaf 1, so no ISA level at all. */
static void test_unknown_vendor(void **state)
{
    host_info h = cpu_host("SomeNewVendr", ECX1_V2 | ECX1_V3 | ECX1_OSXSAVE, EBX7_V3 | EBX7_V4, 0xe7);
    assert_int_equal(h.isa_levels, 0);
    assert_int_equal(h.nhwcaps, 0);
    assert_int_equal(h.nlegacy_subdirs, 7);
}

static void test_detect_is_from_cpuid(void **state)
{
    host_cpuid c;
    host_read_cpuid(&c);
    host_info h;
    host_from_cpuid(&h, &c, host.platform, ta);
    assert_int_equal(h.isa_levels, host.isa_levels);
    assert_int_equal(h.legacy_hwcap, host.legacy_hwcap);
    assert_int_equal(h.nhwcaps, host.nhwcaps);
    assert_int_equal(h.nlegacy_subdirs, host.nlegacy_subdirs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity_and_system_dirs),
        cmocka_unit_test(test_cpu_facts_match_ldso_diagnostics),
        cmocka_unit_test(test_matches_ldso_help),
        cmocka_unit_test(test_matches_ld_debug_search_path),
        cmocka_unit_test(test_intel_avx512_cpu),
        cmocka_unit_test(test_avx512_without_os_support),
        cmocka_unit_test(test_no_osxsave),
        cmocka_unit_test(test_xeon_phi),
        cmocka_unit_test(test_amd_keeps_at_platform),
        cmocka_unit_test(test_zhaoxin_avx_quirk),
        cmocka_unit_test(test_unknown_vendor),
        cmocka_unit_test(test_detect_is_from_cpuid),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* ldcache_lookup on caches assembled byte by byte, for the cases ldconfig on this machine
 * cannot produce: foreign flags, legacy hwcap bits, ISA levels, odd hwcaps name arrays, and the
 * choice of block in compat files. Layouts follow sysdeps/generic/dl-cache.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bundlefs/host.h"
#include "bundlefs/ldcache.h"

static arena *ta;

static int setup(void **state)
{
    ta = arena_new();
    return 0;
}

static int teardown(void **state)
{
    arena_free(ta);
    return 0;
}

/* ---- a small cache writer ---- */

typedef struct tentry {
    int32_t flags;
    const char *key, *value;
    uint64_t hwcap;
} tentry;

typedef struct tbuf {
    uint8_t *p;
    size_t n, cap;
} tbuf;

static size_t put(tbuf *b, const void *data, size_t n)
{
    while (b->n + n > b->cap)
        b->p = realloc(b->p, b->cap = b->cap ? b->cap * 2 : 256);
    if (data)
        memcpy(b->p + b->n, data, n);
    else
        memset(b->p + b->n, 0, n);
    b->n += n;
    return b->n - n;
}

static void put32_at(tbuf *b, size_t at, uint32_t v)
{
    memcpy(b->p + at, &v, 4);
}

static void put64_at(tbuf *b, size_t at, uint64_t v)
{
    memcpy(b->p + at, &v, 8);
}

static void align(tbuf *b, size_t a)
{
    while (b->n % a)
        put(b, NULL, 1);
}

/* ldconfig's order: keys descending by _dl_cache_libcmp, stable otherwise. */
static tentry *sorted(const tentry *e, size_t n)
{
    tentry *s = arena_alloc(ta, (n ? n : 1) * sizeof *s);
    if (n)
        memcpy(s, e, n * sizeof *s);
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && ldcache_libcmp(s[j - 1].key, s[j].key) < 0; j--) {
            tentry t = s[j];
            s[j] = s[j - 1];
            s[j - 1] = t;
        }
    return s;
}

/* A new-format block at the end of b. String offsets count from the block start; the hwcaps
 * name offsets count from names_base (ldconfig: the block start; ld.so reads them from the file
 * start). The extension directory offset counts from the file start. */
static void put_new_block(tbuf *b, const tentry *in, size_t n, const char *const *hw, size_t nhw,
                          int names_from_file_start)
{
    const tentry *e = sorted(in, n);
    size_t base = put(b, "glibc-ld.so.cache1.1", 20);
    put(b, NULL, 28);
    b->p[base + 28] = 2; /* little-endian */
    size_t ents = put(b, NULL, 24 * n);
    size_t strings = b->n;
    for (size_t i = 0; i < n; i++) {
        size_t ek = put(b, e[i].key, strlen(e[i].key) + 1);
        size_t ev = put(b, e[i].value, strlen(e[i].value) + 1);
        size_t at = ents + 24 * i;
        put32_at(b, at, (uint32_t)e[i].flags);
        put32_at(b, at + 4, (uint32_t)(ek - base));
        put32_at(b, at + 8, (uint32_t)(ev - base));
        put64_at(b, at + 16, e[i].hwcap);
    }
    size_t *names = arena_alloc(ta, (nhw ? nhw : 1) * sizeof *names);
    for (size_t i = 0; i < nhw; i++)
        names[i] = put(b, hw[i], strlen(hw[i]) + 1) - (names_from_file_start ? 0 : base);
    put32_at(b, base + 20, (uint32_t)n);
    put32_at(b, base + 24, (uint32_t)(b->n - strings));
    if (nhw) {
        align(b, 4);
        put32_at(b, base + 32, (uint32_t)b->n);
        size_t dir = put(b, NULL, 8 + 16);
        put32_at(b, dir, 0xeaa42174u);
        put32_at(b, dir + 4, 1);
        put32_at(b, dir + 8, 1); /* tag: glibc-hwcaps */
        size_t arr = put(b, NULL, 4 * nhw);
        put32_at(b, dir + 16, (uint32_t)arr);
        put32_at(b, dir + 20, (uint32_t)(4 * nhw));
        for (size_t i = 0; i < nhw; i++)
            put32_at(b, arr + 4 * i, (uint32_t)names[i]);
    }
}

/* Old format; with new_e, the compat layout (a new block after the old table, 8-aligned). */
static void put_old(tbuf *b, const tentry *in, size_t n, const tentry *new_e, size_t new_n)
{
    const tentry *e = sorted(in, n);
    put(b, "ld.so-1.7.0", 11);
    put(b, NULL, 1);
    size_t nl = put(b, NULL, 4);
    put32_at(b, nl, (uint32_t)n);
    size_t ents = put(b, NULL, 12 * n);
    size_t strings = b->n;
    if (new_e) {
        align(b, 8);
        put_new_block(b, new_e, new_n, NULL, 0, 0);
    }
    for (size_t i = 0; i < n; i++) {
        size_t ek = put(b, e[i].key, strlen(e[i].key) + 1);
        size_t ev = put(b, e[i].value, strlen(e[i].value) + 1);
        put32_at(b, ents + 12 * i, (uint32_t)e[i].flags);
        put32_at(b, ents + 12 * i + 4, (uint32_t)(ek - strings));
        put32_at(b, ents + 12 * i + 8, (uint32_t)(ev - strings));
    }
}

static const ldcache *load(tbuf *b)
{
    ldcache *c = NULL;
    bf_err err = {{0}};
    int rc = ldcache_from_bytes(b->p, b->n, "test.cache", ta, &c, &err);
    if (rc != BF_OK)
        fail_msg("%s", err.msg);
    free(b->p);
    *b = (tbuf){0};
    assert_non_null(c);
    return c;
}

static const ldcache *new_cache(const tentry *e, size_t n, const char *const *hw, size_t nhw)
{
    tbuf b = {0};
    put_new_block(&b, e, n, hw, nhw, 1);
    return load(&b);
}

/* An AMD-like x86_64 host: v4, v3, v2 active; ISA levels 0-3; platform "x86_64" (no bit). */
static host_info amd_host(void)
{
    static const char *hw[] = {"x86-64-v4", "x86-64-v3", "x86-64-v2"};
    host_info h = {0};
    h.cache_flags = 0x0303;
    h.hwcaps = hw;
    h.nhwcaps = 3;
    h.isa_levels = 0xf;
    h.legacy_hwcap = 0x2;
    h.legacy_platform_mask = UINT64_C(0xf) << 48;
    return h;
}

#define N(a) (sizeof(a) / sizeof *(a))
#define HWCAPS(index, isa) ((UINT64_C(1) << 62) | ((uint64_t)(isa) << 32) | (index))

/* ---- tests ---- */

static void test_libcmp(void **state)
{
    static const struct {
        const char *a, *b;
        int sign;
    } t[] = {
        {"libfoo.so.1", "libfoo.so.01", 0},    {"libfoo.so.10", "libfoo.so.9", 1},
        {"libfoo.so.1.2", "libfoo.so.1.10", -1}, {"liba.so", "libb.so", -1},
        {"lib1.so", "liba.so", 1}, /* a digit sorts after any other character */
        {"liba.so", "lib1.so", -1},            {"libfoo.so", "libfoo.so.1", -1},
        {"libfoo.so.1", "libfoo.so", 1},       {"", "", 0},
        {"lib\xc3.so", "liba.so", -1}, /* bytes above 0x7f are negative chars */
        {"x4294967297", "x1", 0},      /* digit runs wrap like the loader's int */
    };
    for (size_t i = 0; i < N(t); i++) {
        int r = ldcache_libcmp(t[i].a, t[i].b);
        int s = (r > 0) - (r < 0);
        if (s != t[i].sign)
            fail_msg("libcmp(%s, %s) = %d, want sign %d", t[i].a, t[i].b, r, t[i].sign);
    }
}

/* Only flags 0x0303 count on x86_64: i386 (0x0003), generic ELF (0x0001) and x32 (0x0803)
 * entries with the same key are passed over, whatever their position. */
static void test_foreign_flags_skipped(void **state)
{
    tentry e[] = {
        {0x0003, "libx.so.1", "/lib32/libx.so.1", 0},
        {0x0001, "libx.so.1", "/elf/libx.so.1", 0},
        {0x0803, "libx.so.1", "/libx32/libx.so.1", 0},
        {0x0303, "libx.so.1", "/lib64/libx.so.1", 0},
        {0x0003, "libonly32.so.1", "/lib32/libonly32.so.1", 0},
    };
    const ldcache *c = new_cache(e, N(e), NULL, 0);
    host_info h = amd_host();
    assert_int_equal(ldcache_count(c), 5);
    assert_string_equal(ldcache_lookup(c, "libx.so.1", &h), "/lib64/libx.so.1");
    assert_null(ldcache_lookup(c, "libonly32.so.1", &h));
    assert_null(ldcache_lookup(c, "libmissing.so.1", &h));
}

static void test_glibc_hwcaps_priority(void **state)
{
    static const char *names[] = {"x86-64-v2", "x86-64-v3", "x86-64-v4"}; /* sorted */
    tentry e[] = {
        {0x0303, "libh.so.1", "/d/glibc-hwcaps/x86-64-v2/libh.so.1", HWCAPS(0, 0)},
        {0x0303, "libh.so.1", "/d/glibc-hwcaps/x86-64-v4/libh.so.1", HWCAPS(2, 0)},
        {0x0303, "libh.so.1", "/d/glibc-hwcaps/x86-64-v3/libh.so.1", HWCAPS(1, 0)},
        {0x0303, "libh.so.1", "/d/libh.so.1", 0},
        {0x0303, "libh.so.1", "/e/libh.so.1", 0},
        {0x0303, "libonlyhw.so.1", "/d/glibc-hwcaps/x86-64-v4/libonlyhw.so.1", HWCAPS(2, 0)},
    };
    const ldcache *c = new_cache(e, N(e), names, 3);
    host_info h = amd_host();
    assert_string_equal(ldcache_lookup(c, "libh.so.1", &h), "/d/glibc-hwcaps/x86-64-v4/libh.so.1");
    h.hwcaps++, h.nhwcaps--; /* v3, v2 */
    assert_string_equal(ldcache_lookup(c, "libh.so.1", &h), "/d/glibc-hwcaps/x86-64-v3/libh.so.1");
    assert_null(ldcache_lookup(c, "libonlyhw.so.1", &h));
    h.hwcaps++, h.nhwcaps--; /* v2 */
    assert_string_equal(ldcache_lookup(c, "libh.so.1", &h), "/d/glibc-hwcaps/x86-64-v2/libh.so.1");
    h.nhwcaps = 0;
    assert_string_equal(ldcache_lookup(c, "libh.so.1", &h), "/d/libh.so.1");
}

/* An entry's ISA level n needs bit n of the host's levels. */
static void test_hwcaps_isa_level(void **state)
{
    static const char *names[] = {"x86-64-v2", "x86-64-v3"};
    tentry e[] = {
        {0x0303, "libi.so.1", "/v3/libi.so.1", HWCAPS(1, 3)},
        {0x0303, "libi.so.1", "/v2/libi.so.1", HWCAPS(0, 1)},
        {0x0303, "libi.so.1", "/plain/libi.so.1", 0},
        {0x0303, "libw.so.1", "/v3/libw.so.1", HWCAPS(1, 33)}, /* x86 reduces the shift mod 32 */
    };
    const ldcache *c = new_cache(e, N(e), names, 2);
    host_info h = amd_host();
    assert_string_equal(ldcache_lookup(c, "libi.so.1", &h), "/v3/libi.so.1");
    h.isa_levels = 0x7; /* no bit 3 */
    assert_string_equal(ldcache_lookup(c, "libi.so.1", &h), "/v2/libi.so.1");
    h.isa_levels = 0x1;
    assert_string_equal(ldcache_lookup(c, "libi.so.1", &h), "/plain/libi.so.1");
    h.isa_levels = 0x3;
    assert_string_equal(ldcache_lookup(c, "libw.so.1", &h), "/v3/libw.so.1");
    h.isa_levels = 0x1;
    assert_null(ldcache_lookup(c, "libw.so.1", &h));
}

/* hwcaps entries whose index has no name, or with no extension at all, are never chosen; an
 * unsorted name array gets the priorities ld.so's merge gives it. */
static void test_hwcaps_names_as_ldso_merges_them(void **state)
{
    tentry e[] = {
        {0x0303, "libn.so.1", "/idx9/libn.so.1", HWCAPS(9, 0)},
        {0x0303, "libn.so.1", "/plain/libn.so.1", 0},
        {0x0303, "libu.so.1", "/v2/libu.so.1", HWCAPS(1, 0)},
        {0x0303, "libu.so.1", "/plain/libu.so.1", 0},
        {0x0303, "libv.so.1", "/v3/libv.so.1", HWCAPS(0, 0)},
    };
    host_info h = amd_host();
    const ldcache *none = new_cache(e, N(e), NULL, 0);
    assert_string_equal(ldcache_lookup(none, "libn.so.1", &h), "/plain/libn.so.1");
    assert_null(ldcache_lookup(none, "libv.so.1", &h));

    /* [v3, v2] is not sorted: merging with [v2, v3, v4] pairs v3, then v2 is past v3: inactive. */
    static const char *unsorted[] = {"x86-64-v3", "x86-64-v2"};
    const ldcache *c = new_cache(e, N(e), unsorted, 2);
    assert_string_equal(ldcache_lookup(c, "libn.so.1", &h), "/plain/libn.so.1");
    assert_string_equal(ldcache_lookup(c, "libu.so.1", &h), "/plain/libu.so.1");
    assert_string_equal(ldcache_lookup(c, "libv.so.1", &h), "/v3/libv.so.1");
}

/* glibc 2.36 still honours legacy hwcap bits: an entry is usable if its bits are among the
 * host's (plus tls and platform bits), and a platform bit must be the host's platform. */
static void test_legacy_hwcap_entries(void **state)
{
    uint64_t haswell = UINT64_C(1) << 50, tls = UINT64_C(1) << 63;
    tentry e[] = {
        {0x0303, "libl.so.1", "/haswell/libl.so.1", haswell | 0x2},
        {0x0303, "libl.so.1", "/avx512_1/libl.so.1", 0x4},
        {0x0303, "libl.so.1", "/unknown-bit/libl.so.1", UINT64_C(1) << 40},
        {0x0303, "libl.so.1", "/not-named/libl.so.1", (UINT64_C(1) << 62) | (UINT64_C(1) << 45)},
        {0x0303, "libl.so.1", "/tls/x86_64/libl.so.1", tls | 0x2},
        {0x0303, "libl.so.1", "/plain/libl.so.1", 0},
    };
    const ldcache *c = new_cache(e, N(e), NULL, 0);
    host_info h = amd_host();
    assert_string_equal(ldcache_lookup(c, "libl.so.1", &h), "/tls/x86_64/libl.so.1");
    h.legacy_hwcap = 0x6 | haswell; /* Intel with AVX512: avx512_1 and platform haswell */
    assert_string_equal(ldcache_lookup(c, "libl.so.1", &h), "/haswell/libl.so.1");
    h.legacy_hwcap = 0x6 | (UINT64_C(1) << 51); /* xeon_phi */
    assert_string_equal(ldcache_lookup(c, "libl.so.1", &h), "/avx512_1/libl.so.1");
    h.legacy_hwcap = 0;
    assert_string_equal(ldcache_lookup(c, "libl.so.1", &h), "/plain/libl.so.1");
}

/* The old format has no hwcap field: the first 0x0303 entry wins. */
static void test_old_format(void **state)
{
    tentry e[] = {
        {0x0003, "libo.so.2", "/lib32/libo.so.2", 0},
        {0x0303, "libo.so.2", "/first/libo.so.2", 0},
        {0x0303, "libo.so.2", "/second/libo.so.2", 0},
        {0x0303, "liba.so.1", "/a/liba.so.1", 0},
    };
    tbuf b = {0};
    put_old(&b, e, N(e), NULL, 0);
    const ldcache *c = load(&b);
    host_info h = amd_host();
    assert_int_equal(ldcache_count(c), 4);
    assert_string_equal(ldcache_lookup(c, "libo.so.02", &h), "/first/libo.so.2");
    assert_string_equal(ldcache_lookup(c, "liba.so.1", &h), "/a/liba.so.1");
    assert_null(ldcache_lookup(c, "libz.so.1", &h));
}

/* A compat file: ld.so reads the new block and ignores the old table. */
static void test_compat_uses_new_block(void **state)
{
    tentry old[] = {{0x0303, "libc1.so.1", "/old/libc1.so.1", 0}};
    tentry nw[] = {
        {0x0303, "libc1.so.1", "/new/libc1.so.1", 0},
        {0x0303, "libc2.so.1", "/new/libc2.so.1", 0},
    };
    tbuf b = {0};
    put_old(&b, old, N(old), nw, N(nw));
    const ldcache *c = load(&b);
    host_info h = amd_host();
    assert_int_equal(ldcache_count(c), 2);
    assert_string_equal(ldcache_lookup(c, "libc1.so.1", &h), "/new/libc1.so.1");
    assert_string_equal(ldcache_lookup(c, "libc2.so.1", &h), "/new/libc2.so.1");
}

/* Many keys, each a few times, against a straight scan for the first 0x0303 entry. */
static void test_binary_search_against_scan(void **state)
{
    enum { KEYS = 700 };
    tentry *e = arena_alloc(ta, 3 * KEYS * sizeof *e);
    size_t n = 0;
    for (int k = 0; k < KEYS; k++) {
        const char *key = arena_printf(ta, "lib%c%d.so.%d", 'a' + k % 26, k / 26, k % 7);
        int copies = 1 + k % 3;
        for (int j = 0; j < copies; j++) {
            int32_t flags = (k + j) % 4 == 0 ? 0x0003 : 0x0303;
            e[n++] = (tentry){flags, key, arena_printf(ta, "/d%d/%s", j, key), 0};
        }
    }
    const ldcache *c = new_cache(e, n, NULL, 0);
    host_info h = amd_host();
    for (int k = 0; k < KEYS; k++) {
        const char *key = arena_printf(ta, "lib%c%d.so.%d", 'a' + k % 26, k / 26, k % 7);
        const char *want = NULL;
        for (size_t i = 0; i < n && !want; i++)
            if (!strcmp(e[i].key, key) && e[i].flags == 0x0303)
                want = e[i].value;
        const char *got = ldcache_lookup(c, key, &h);
        if (want == NULL ? got != NULL : (got == NULL || strcmp(got, want)))
            fail_msg("%s: got %s, want %s", key, got ? got : "(null)", want ? want : "(null)");
        /* the same key with a leading zero in its version */
        const char *zero = arena_printf(ta, "lib%c%d.so.0%d", 'a' + k % 26, k / 26, k % 7);
        const char *got0 = ldcache_lookup(c, zero, &h);
        assert_true(got0 == got || (got0 && got && !strcmp(got0, got)));
        assert_null(ldcache_lookup(c, arena_printf(ta, "%sx", key), &h));
    }
}

/* ld.so wants a new-format file to be longer than its header; one more byte makes an empty,
 * valid cache. */
static void test_empty_cache(void **state)
{
    tbuf b = {0};
    put_new_block(&b, NULL, 0, NULL, 0, 1);
    assert_int_equal(b.n, 48);
    ldcache *bare = NULL;
    bf_err err = {{0}};
    assert_int_equal(ldcache_from_bytes(b.p, b.n, "bare.cache", ta, &bare, &err), BF_FAIL);
    assert_null(bare);
    assert_non_null(strstr(err.msg, "bare.cache: "));
    put(&b, NULL, 1);
    const ldcache *c = load(&b);
    host_info h = amd_host();
    assert_int_equal(ldcache_count(c), 0);
    assert_null(ldcache_lookup(c, "libc.so.6", &h));
    assert_null(ldcache_lookup(NULL, "libc.so.6", &h));
    assert_int_equal(ldcache_count(NULL), 0);
}

/* Limits that keep lookups cheap on hostile files: keys are library names (under 4 KiB), and
 * a cache names at most 256 glibc-hwcaps subdirectories. */
static void test_limits(void **state)
{
    char *long_key = arena_alloc(ta, 5000);
    memset(long_key, 'k', 4999);
    tentry e[] = {{0x0303, long_key, "/long", 0}};
    tbuf b = {0};
    put_new_block(&b, e, 1, NULL, 0, 1);
    ldcache *c = NULL;
    bf_err err = {{0}};
    assert_int_equal(ldcache_from_bytes(b.p, b.n, "long.cache", ta, &c, &err), BF_FAIL);
    assert_non_null(strstr(err.msg, "entry 0's key at string offset 0x48 is longer than 4095"));
    free(b.p);

    long_key[4095] = '\0'; /* 4095 bytes and the NUL: accepted */
    const ldcache *ok = new_cache(e, 1, NULL, 0);
    host_info h = amd_host();
    assert_string_equal(ldcache_lookup(ok, long_key, &h), "/long");

    const char **names = arena_alloc(ta, 257 * sizeof *names);
    for (int i = 0; i < 257; i++)
        names[i] = arena_printf(ta, "name%03d", i);
    tentry hw[] = {{0x0303, "libh.so.1", "/h", HWCAPS(255, 0)}};
    b = (tbuf){0};
    put_new_block(&b, hw, 1, names, 257, 1);
    assert_int_equal(ldcache_from_bytes(b.p, b.n, "many.cache", ta, &c, &err), BF_FAIL);
    assert_non_null(strstr(err.msg, "lists 257 subdirectory names"));
    free(b.p);

    names[255] = "x86-64-v3";
    const ldcache *most = new_cache(hw, 1, names, 256);
    assert_string_equal(ldcache_lookup(most, "libh.so.1", &h), "/h");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_libcmp),
        cmocka_unit_test(test_foreign_flags_skipped),
        cmocka_unit_test(test_glibc_hwcaps_priority),
        cmocka_unit_test(test_hwcaps_isa_level),
        cmocka_unit_test(test_hwcaps_names_as_ldso_merges_them),
        cmocka_unit_test(test_legacy_hwcap_entries),
        cmocka_unit_test(test_old_format),
        cmocka_unit_test(test_compat_uses_new_block),
        cmocka_unit_test(test_binary_search_against_scan),
        cmocka_unit_test(test_empty_cache),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

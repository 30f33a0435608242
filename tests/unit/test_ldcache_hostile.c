/* Damaged caches: caches written by this machine's ldconfig, then truncated or with counts and
 * offsets overwritten. Every damage must give BF_FAIL with a message naming the file and the
 * problem; nothing may crash or read outside the buffer (run under ASan to see the latter). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundlefs/host.h"
#include "bundlefs/ldcache.h"
#include "test_util.h"

static char *tmp;
static host_info host;
static arena *host_arena;

typedef struct blob {
    uint8_t *p;
    size_t n;
} blob;

static blob cache_new, cache_old, cache_compat;

/* A cache of the fixture alone (ldconfig -r, a few hundred bytes) when chroot is possible,
 * else one that also holds the system directories (tens of KiB). */
static blob build(const char *format, const char *as_root)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s.cache", tmp, format);
    if (as_root)
        test_run("%sldconfig -X -i -c %s -r %s/root 2>/dev/null && cp %s/root/etc/ld.so.cache %s",
                 as_root, format, tmp, tmp, path);
    else
        test_run("ldconfig -X -i -c %s -C %s -f %s/ld.so.conf", format, path, tmp);
    blob b;
    b.p = test_read_file(path, &b.n);
    return b;
}

static int setup(void **state)
{
    host_arena = arena_new();
    host_detect(&host, host_arena);
    tmp = test_tmpdir("ldcache-hostile");
    /* A glibc-hwcaps subdirectory makes ldconfig write the tag-1 extension section. */
    test_run("mkdir -p %s/root/etc %s/root/d/glibc-hwcaps/x86-64-v2 && cd %s && "
             "printf 'int f(void){return 0;}\\n' > a.c && "
             "for n in bfh bfa bfb; do "
             "cc -shared -fPIC -o root/d/lib$n.so.1 -Wl,-soname,lib$n.so.1 a.c || exit 1; done && "
             "cp root/d/libbfh.so.1 root/d/glibc-hwcaps/x86-64-v2/ && "
             "echo /d > root/etc/ld.so.conf && echo %s/root/d > ld.so.conf",
             tmp, tmp, tmp, tmp);
    const char *as_root = test_root_prefix();
    if (!as_root)
        print_message("no chroot (not root, no user namespaces): using caches with the system "
                      "directories, truncation tests take longer\n");
    cache_new = build("new", as_root);
    cache_old = build("old", as_root);
    cache_compat = build("compat", as_root);
    return 0;
}

static int teardown(void **state)
{
    test_rmdir(tmp);
    free(cache_new.p);
    free(cache_old.p);
    free(cache_compat.p);
    arena_free(host_arena);
    return 0;
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static void set32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

/* Parses buf; on success, also looks a few names up. Returns the status, message in err. */
static int parse(const uint8_t *buf, size_t len, bf_err *err)
{
    arena *a = arena_new();
    ldcache *c = NULL;
    memset(err, 0, sizeof *err);
    int rc = ldcache_from_bytes(buf, len, "damaged.cache", a, &c, err);
    if (rc == BF_OK) {
        assert_non_null(c);
        ldcache_lookup(c, "libc.so.6", &host);
        ldcache_lookup(c, "libbfh.so.1", &host);
    } else {
        assert_null(c);
        assert_true(!strncmp(err->msg, "damaged.cache: ", 15));
    }
    arena_free(a);
    return rc;
}

/* Applies edit to a copy of b and expects failure with a message containing want. */
static void expect_fail(const blob *b, void (*edit)(uint8_t *, size_t, uint32_t), uint32_t arg,
                        const char *want)
{
    uint8_t *copy = malloc(b->n);
    memcpy(copy, b->p, b->n);
    edit(copy, b->n, arg);
    bf_err err;
    int rc = parse(copy, b->n, &err);
    free(copy);
    if (rc != BF_FAIL)
        fail_msg("damage accepted; wanted an error containing \"%s\"", want);
    if (!strstr(err.msg, want))
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
}

/* Offsets inside a new-format block: the header starts at base. */
static size_t new_base(const uint8_t *p)
{
    if (!memcmp(p, "glibc-ld.so.cache1.1", 20))
        return 0;
    return (16 + 12 * (size_t)get32(p + 12) + 7) & ~(size_t)7;
}

static void set_nlibs(uint8_t *p, size_t n, uint32_t v) { set32(p + new_base(p) + 20, v); }
static void set_len_strings(uint8_t *p, size_t n, uint32_t v) { set32(p + new_base(p) + 24, v); }
static void set_flags(uint8_t *p, size_t n, uint32_t v) { p[new_base(p) + 28] = (uint8_t)v; }
static void set_ext(uint8_t *p, size_t n, uint32_t v) { set32(p + new_base(p) + 32, v); }
/* The last entry of the new block. */
static uint32_t last_entry(const uint8_t *p)
{
    uint32_t nlibs = get32(p + new_base(p) + 20);
    assert_true(nlibs > 0);
    return nlibs - 1;
}

static void set_last_key(uint8_t *p, size_t n, uint32_t v)
{
    set32(p + new_base(p) + 48 + 24 * (size_t)last_entry(p) + 4, v);
}
static void set_old_nlibs(uint8_t *p, size_t n, uint32_t v) { set32(p + 12, v); }
static void set_old_value1(uint8_t *p, size_t n, uint32_t v) { set32(p + 16 + 12 * 1 + 8, v); }

static uint8_t *ext_dir(uint8_t *p)
{
    return p + get32(p + new_base(p) + 32);
}

static void set_ext_magic(uint8_t *p, size_t n, uint32_t v) { set32(ext_dir(p), v); }
static void set_ext_count(uint8_t *p, size_t n, uint32_t v) { set32(ext_dir(p) + 4, v); }

/* The section with tag t in the directory (ldconfig writes tags 0 and 1). */
static uint8_t *section(uint8_t *p, uint32_t t)
{
    uint8_t *d = ext_dir(p);
    for (uint32_t i = 0; i < get32(d + 4); i++)
        if (get32(d + 8 + 16 * i) == t)
            return d + 8 + 16 * i;
    fail_msg("no extension section with tag %u", t);
    return NULL;
}

static void set_sec0_offset(uint8_t *p, size_t n, uint32_t v) { set32(section(p, 0) + 8, v); }
static void set_hwcaps_size(uint8_t *p, size_t n, uint32_t v) { set32(section(p, 1) + 12, v); }
static void set_hwcaps_name0(uint8_t *p, size_t n, uint32_t v) { set32(p + get32(section(p, 1) + 8), v); }

/* The generator string closes the file without a NUL: the last NUL is before it. */
static uint32_t after_last_nul(const blob *b)
{
    size_t i = b->n;
    while (i > 0 && b->p[i - 1] != 0)
        i--;
    assert_true(i < b->n);
    return (uint32_t)i;
}

static void test_intact_caches_parse(void **state)
{
    bf_err err;
    assert_int_equal(parse(cache_new.p, cache_new.n, &err), BF_OK);
    assert_int_equal(parse(cache_old.p, cache_old.n, &err), BF_OK);
    assert_int_equal(parse(cache_compat.p, cache_compat.n, &err), BF_OK);
}

/* Every proper prefix of a cache is refused: each format ends with data something points to. */
static void test_every_truncation_fails(void **state)
{
    const blob *all[] = {&cache_new, &cache_old, &cache_compat};
    for (size_t k = 0; k < 3; k++) {
        for (size_t len = 0; len < all[k]->n; len++) {
            bf_err err;
            if (parse(all[k]->p, len, &err) != BF_FAIL)
                fail_msg("cache %zu truncated to %zu of %zu bytes was accepted", k, len,
                         all[k]->n);
        }
    }
}

static void test_counts_that_overflow(void **state)
{
    expect_fail(&cache_new, set_nlibs, 0xffffffffu, "announces 4294967295 entries");
    /* 0x0aaaaaab * 24 is 8 modulo 2^32 */
    expect_fail(&cache_new, set_nlibs, 0x0aaaaaabu, "announces");
    expect_fail(&cache_compat, set_nlibs, 0xffffffffu, "announces");
    expect_fail(&cache_old, set_old_nlibs, 0xffffffffu, "announces");
    expect_fail(&cache_old, set_old_nlibs, 0x15555556u, "announces"); /* *12 wraps to 8 */
    expect_fail(&cache_new, set_len_strings, 0xffffffffu, "string table of 4294967295 bytes");
    expect_fail(&cache_new, set_ext_count, 0xffffffffu, "lists 4294967295 sections");
    expect_fail(&cache_new, set_sec0_offset, 0xffffff00u, "runs past the end of the file");
}

static void test_string_offsets_out_of_bounds(void **state)
{
    char want[256];
    snprintf(want, sizeof want,
             "damaged.cache: entry %u's key points to string offset 0x99999 beyond the end of the "
             "file (%zu bytes); the cache is corrupt, run ldconfig to rebuild it",
             last_entry(cache_new.p), cache_new.n);
    uint8_t *copy = malloc(cache_new.n);
    memcpy(copy, cache_new.p, cache_new.n);
    set_last_key(copy, cache_new.n, 0x99999);
    bf_err err;
    assert_int_equal(parse(copy, cache_new.n, &err), BF_FAIL);
    assert_string_equal(err.msg, want);
    free(copy);

    expect_fail(&cache_new, set_last_key, 0xffffffffu, "key points to string offset 0xffffffff");
    expect_fail(&cache_new, set_last_key, after_last_nul(&cache_new), "without a terminating NUL");
    expect_fail(&cache_compat, set_last_key, 0xfffffff0u, "beyond the end of the file");
    expect_fail(&cache_old, set_old_value1, 0x7fffffffu, "entry 1's value points to string offset");
}

static void test_extension_damage(void **state)
{
    uint32_t past = (uint32_t)((cache_new.n + 7) & ~(size_t)3);
    expect_fail(&cache_new, set_ext, past, "extension directory offset");
    expect_fail(&cache_new, set_ext, 0xfffffffcu, "lies beyond the end of the file");
    expect_fail(&cache_new, set_ext, get32(cache_new.p + 32) + 1, "not a multiple of 4");
    expect_fail(&cache_new, set_ext_magic, 0x12345678u, "has magic 0x12345678");
    expect_fail(&cache_new, set_hwcaps_size, 3, "glibc-hwcaps section");
    expect_fail(&cache_new, set_hwcaps_name0, 0xfffffff0u, "glibc-hwcaps name 0 points to");
    expect_fail(&cache_new, set_hwcaps_name0, after_last_nul(&cache_new), "without a terminating NUL");
    expect_fail(&cache_compat, set_ext_magic, 0, "has magic 0x00000000");
}

static void test_byte_order_flag(void **state)
{
    expect_fail(&cache_new, set_flags, 3, "big-endian");
    expect_fail(&cache_new, set_flags, 1, "marked invalid");
    expect_fail(&cache_compat, set_flags, 3, "big-endian");
    /* 0 (unknown) is accepted, and bits above the two byte-order bits are ignored. */
    const uint32_t fine[] = {0, 2, 6, 0xfe};
    for (size_t i = 0; i < 4; i++) {
        uint8_t *copy = malloc(cache_new.n);
        memcpy(copy, cache_new.p, cache_new.n);
        set_flags(copy, cache_new.n, fine[i]);
        bf_err err;
        assert_int_equal(parse(copy, cache_new.n, &err), BF_OK);
        free(copy);
    }
}

static void test_not_a_cache(void **state)
{
    bf_err err;
    static const char text[] = "# this is /etc/ld.so.conf, not a cache\n";
    assert_int_equal(parse((const uint8_t *)text, sizeof text - 1, &err), BF_FAIL);
    assert_non_null(strstr(err.msg, "not an ld.so.cache file"));

    arena *a = arena_new();
    ldcache *c = (ldcache *)1;
    char path[300];
    snprintf(path, sizeof path, "%s/missing.cache", tmp);
    assert_int_equal(ldcache_open(path, a, &c, &err), BF_OK); /* no cache is not an error */
    assert_null(c);
    assert_int_equal(ldcache_open(tmp, a, &c, &err), BF_FAIL); /* a directory */
    assert_non_null(strstr(err.msg, tmp));
    snprintf(path, sizeof path, "%s/empty.cache", tmp);
    test_write_file(path, "", 0);
    assert_int_equal(ldcache_open(path, a, &c, &err), BF_FAIL);
    assert_non_null(strstr(err.msg, "empty"));
    snprintf(path, sizeof path, "%s/new.cache", tmp);
    assert_int_equal(ldcache_open(path, a, &c, &err), BF_OK);
    assert_non_null(c);
    arena_free(a);
}

/* Random damage in the first bytes (header, entries) and anywhere else. */
static void test_random_damage(void **state)
{
    uint64_t x = 0x2545f4914f6cdd1dull;
    const blob *all[] = {&cache_new, &cache_old, &cache_compat};
    for (int round = 0; round < 3000; round++) {
        const blob *b = all[round % 3];
        uint8_t *copy = malloc(b->n);
        memcpy(copy, b->p, b->n);
        for (int k = 0; k < 1 + round % 5; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t span = round % 2 ? b->n : (b->n < 2048 ? b->n : 2048);
            copy[x % span] = (uint8_t)(x >> 32);
        }
        bf_err err;
        parse(copy, b->n, &err);
        free(copy);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intact_caches_parse),
        cmocka_unit_test(test_every_truncation_fails),
        cmocka_unit_test(test_counts_that_overflow),
        cmocka_unit_test(test_string_offsets_out_of_bounds),
        cmocka_unit_test(test_extension_damage),
        cmocka_unit_test(test_byte_order_flag),
        cmocka_unit_test(test_not_a_cache),
        cmocka_unit_test(test_random_damage),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

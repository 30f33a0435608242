/* ldcache against the real tools: caches written by this machine's ldconfig (new, old and
 * compat formats) over libraries compiled here, /etc/ld.so.cache, and the answers of the real
 * ld.so (LD_DEBUG=libs shows "trying file=" right after "search cache=" for a dlopen). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundlefs/host.h"
#include "bundlefs/ldcache.h"
#include "test_util.h"

static arena *ta;
static host_info host;
static char *tmp;

/* ---- helpers ---- */

/* One line of `ldconfig -p`: "\tKEY (DESC) => VALUE". */
typedef struct pline {
    const char *key, *desc, *value;
} pline;

static pline *parse_p(const char *out, size_t *n, size_t *announced)
{
    size_t cap = 0;
    pline *v = NULL;
    *n = 0;
    *announced = strtoul(out, NULL, 10); /* "N libs found in cache ..." */
    for (const char *l = strchr(out, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        const char *s = l + 1;
        if (*s != '\t')
            continue;
        char *line = arena_strndup(ta, s + 1, strcspn(s + 1, "\n"));
        char *open = strstr(line, " ("), *arrow = strstr(line, ") => ");
        assert_non_null(open);
        assert_non_null(arrow);
        *open = *arrow = '\0';
        pline p = {line, open + 2, arrow + 5};
        arena_push(ta, &v, n, &cap, &p, sizeof p);
    }
    return v;
}

/* The path ld.so takes for key, worked out from the listing: among x86-64 entries with an equal
 * key, the glibc-hwcaps entry whose name comes first in the host's priority list, else the
 * first plain entry (or legacy-hwcap entry the host qualifies for). The ISA level of hwcaps
 * entries does not show in the listing; the libraries used here have none. */
static const char *expected(const pline *v, size_t n, const char *key, const host_info *h)
{
    const char *best = NULL;
    size_t best_prio = 0;
    for (size_t i = 0; i < n; i++) {
        if (ldcache_libcmp(key, v[i].key) != 0 || strncmp(v[i].desc, "libc6,x86-64", 12)
            || (v[i].desc[12] != '\0' && v[i].desc[12] != ','))
            continue;
        const char *hw = strstr(v[i].desc, "hwcap: ");
        if (hw && hw[7] == '"') {
            const char *name = arena_strndup(ta, hw + 8, strcspn(hw + 8, "\""));
            for (size_t j = 0; j < h->nhwcaps; j++)
                if (!strcmp(name, h->hwcaps[j]) && (!best || j + 1 < best_prio)) {
                    best = v[i].value;
                    best_prio = j + 1;
                }
            continue;
        }
        if (best)
            return best;
        if (hw) {
            uint64_t bits = strtoull(hw + 7, NULL, 16);
            uint64_t mask = h->legacy_platform_mask, plat = h->legacy_hwcap & mask;
            if (bits & ~(h->legacy_hwcap | mask | (UINT64_C(1) << 63)))
                continue;
            if ((bits & mask) && (bits & mask) != (plat ? plat : UINT64_MAX))
                continue;
        }
        return v[i].value;
    }
    return best;
}

static void check_every_key(const ldcache *c, const char *cache_path)
{
    size_t n, announced;
    pline *v = parse_p(test_output(ta, "ldconfig -p -C %s", cache_path), &n, &announced);
    assert_true(n > 0);
    assert_int_equal(n, announced);
    assert_int_equal(ldcache_count(c), n);
    for (size_t i = 0; i < n; i++) {
        const char *want = expected(v, n, v[i].key, &host);
        const char *got = ldcache_lookup(c, v[i].key, &host);
        if (want == NULL ? got != NULL : (got == NULL || strcmp(got, want)))
            fail_msg("%s: key %s: ldcache gives %s, the listing says %s", cache_path, v[i].key,
                     got ? got : "(null)", want ? want : "(null)");
    }
}

static const ldcache *open_cache(const char *path)
{
    ldcache *c = NULL;
    bf_err err = {{0}};
    if (ldcache_open(path, ta, &c, &err) != BF_OK)
        fail_msg("%s", err.msg);
    assert_non_null(c);
    return c;
}

/* Builds the program that dlopens each name on stdin with RTLD_NOLOAD: ld.so runs its whole
 * search (cache included) but loads nothing. */
static void build_probe(const char *out)
{
    test_write_text(tmp, "probe.c",
                    "#include <dlfcn.h>\n#include <stdio.h>\n#include <string.h>\n"
                    "int main(void) {\n"
                    "    char l[4096];\n"
                    "    while (fgets(l, sizeof l, stdin)) {\n"
                    "        l[strcspn(l, \"\\n\")] = 0;\n"
                    "        dlopen(l, RTLD_LAZY | RTLD_NOLOAD);\n"
                    "    }\n"
                    "    return 0;\n"
                    "}\n");
    test_run("cc -o %s %s/probe.c", out, tmp);
}

typedef struct answer {
    const char *name, *path; /* path NULL: the cache had nothing */
} answer;

/* Reads LD_DEBUG=libs output: for each "find library=NAME" that consults the cache after the
 * program `prog` got control, the "trying file=" line that directly follows "search cache=". */
static answer *parse_ld_debug(const char *out, const char *prog, size_t *n)
{
    size_t cap = 0;
    answer *v = NULL, cur = {0};
    *n = 0;
    int started = 0, in_cache = 0;
    char started_marker[512];
    snprintf(started_marker, sizeof started_marker, "transferring control: %s", prog);
    for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        const char *tab = strchr(l, '\t');
        const char *eol = l + strcspn(l, "\n");
        if (!tab || tab > eol)
            continue;
        char *text = arena_strndup(ta, tab + 1, (size_t)(eol - tab - 1));
        if (!started) {
            started = !strcmp(text, started_marker);
            continue;
        }
        if (in_cache) {
            in_cache = 0;
            cur.path = !strncmp(text, "  trying file=", 14) ? text + 14 : NULL;
            arena_push(ta, &v, n, &cap, &cur, sizeof cur);
        }
        if (!strncmp(text, "find library=", 13))
            cur.name = arena_strndup(ta, text + 13, strcspn(text + 13, " "));
        else if (!strncmp(text, " search cache=", 14))
            in_cache = 1;
    }
    return v;
}

static void compare_with_loader(const ldcache *c, const answer *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *got = ldcache_lookup(c, v[i].name, &host);
        if (v[i].path == NULL ? got != NULL : (got == NULL || strcmp(got, v[i].path)))
            fail_msg("%s: ld.so takes %s from the cache, ldcache gives %s", v[i].name,
                     v[i].path ? v[i].path : "(nothing)", got ? got : "(null)");
    }
}

/* ---- fixtures: libraries in two directories, with glibc-hwcaps subdirectories ---- */

typedef struct fixture_lib {
    const char *path, *soname;
} fixture_lib;

static const fixture_lib fixture[] = {
    {"d1/libbfnum.so.1.2", "libbfnum.so.1"},
    {"d1/libbfreal-1.0.so", "libbfsoname.so.3"},
    {"d1/libbfdup.so.1", "libbfdup.so.1"},
    {"d2/libbfdup.so.1", "libbfdup.so.1"},
    {"d2/libbfhw.so.1", "libbfhw.so.1"},
    {"d2/glibc-hwcaps/x86-64-v2/libbfhw.so.1", "libbfhw.so.1"},
    {"d2/glibc-hwcaps/x86-64-v3/libbfhw.so.1", "libbfhw.so.1"},
    {"d2/glibc-hwcaps/x86-64-v4/libbfhw.so.1", "libbfhw.so.1"},
    {"d2/glibc-hwcaps/x86-64-v2/libbfv2.so.1", "libbfv2.so.1"},
    {"d2/glibc-hwcaps/x86-64-v9/libbfhwonly.so.1", "libbfhwonly.so.1"},
};

static const char *const probe_names[] = {
    "libbfnum.so.1", "libbfnum.so.01", "libbfsoname.so.3", "libbfreal-1.0.so", "libbfdup.so.1",
    "libbfhw.so.1",  "libbfv2.so.1",   "libbfhwonly.so.1", "libbfmissing.so.1",
};

/* Compiles the fixture libraries under root. */
static void make_fixture(const char *root)
{
    test_run("mkdir -p %s && printf 'int bf_fixture(void) { return 1; }\\n' > %s/lib.c", root, tmp);
    for (size_t i = 0; i < sizeof fixture / sizeof *fixture; i++)
        test_run("mkdir -p $(dirname %s/%s) && cc -shared -fPIC -o %s/%s -Wl,-soname,%s %s/lib.c",
                 root, fixture[i].path, root, fixture[i].path, fixture[i].soname, tmp);
}

static int setup(void **state)
{
    ta = arena_new();
    host_detect(&host, ta);
    tmp = test_tmpdir("ldcache");
    make_fixture(arena_printf(ta, "%s/fx", tmp));
    test_run("printf '%%s\\n' %s/fx/d1 %s/fx/d2 > %s/ld.so.conf", tmp, tmp, tmp);
    return 0;
}

static int teardown(void **state)
{
    test_rmdir(tmp);
    arena_free(ta);
    return 0;
}

/* The first active glibc-hwcaps name of the host among v4, v3, v2. */
static const char *best_level(void)
{
    for (size_t i = 0; i < host.nhwcaps; i++)
        if (!strncmp(host.hwcaps[i], "x86-64-v", 8) && strchr("234", host.hwcaps[i][8]))
            return host.hwcaps[i];
    return NULL;
}

static const ldcache *build_cache(const char *format)
{
    const char *path = arena_printf(ta, "%s/%s.cache", tmp, format);
    test_run("ldconfig -X -i -c %s -C %s -f %s/ld.so.conf", format, path, tmp);
    return open_cache(path);
}

static void assert_lookup(const ldcache *c, const char *name, const char *want_rel)
{
    const char *got = ldcache_lookup(c, name, &host);
    if (!want_rel) {
        if (got)
            fail_msg("%s: got %s, want nothing", name, got);
        return;
    }
    const char *want = arena_printf(ta, "%s/fx/%s", tmp, want_rel);
    if (!got || strcmp(got, want))
        fail_msg("%s: got %s, want %s", name, got ? got : "(null)", want);
}

/* ---- tests ---- */

static void test_new_format_from_ldconfig(void **state)
{
    const ldcache *c = build_cache("new");
    assert_lookup(c, "libbfnum.so.1", "d1/libbfnum.so.1");
    assert_lookup(c, "libbfnum.so.01", "d1/libbfnum.so.1"); /* digit runs compare as numbers */
    assert_lookup(c, "libbfsoname.so.3", "d1/libbfsoname.so.3"); /* keyed by SONAME */
    assert_lookup(c, "libbfreal-1.0.so", NULL);                  /* not by file name */
    assert_lookup(c, "libbfdup.so.1", "d1/libbfdup.so.1");       /* earlier directory wins */
    const char *lvl = best_level();
    assert_lookup(c, "libbfhw.so.1",
                  lvl ? arena_printf(ta, "d2/glibc-hwcaps/%s/libbfhw.so.1", lvl) : "d2/libbfhw.so.1");
    int has_v2 = 0;
    for (size_t i = 0; i < host.nhwcaps; i++)
        has_v2 |= !strcmp(host.hwcaps[i], "x86-64-v2");
    assert_lookup(c, "libbfv2.so.1", has_v2 ? "d2/glibc-hwcaps/x86-64-v2/libbfv2.so.1" : NULL);
    assert_lookup(c, "libbfhwonly.so.1", NULL); /* x86-64-v9 is never active */
    check_every_key(c, arena_printf(ta, "%s/new.cache", tmp));
}

/* The old format carries no hwcap: glibc-hwcaps entries are ordinary ones, first one wins. */
static void test_old_format_from_ldconfig(void **state)
{
    const ldcache *c = build_cache("old");
    assert_lookup(c, "libbfnum.so.01", "d1/libbfnum.so.1");
    assert_lookup(c, "libbfdup.so.1", "d1/libbfdup.so.1");
    check_every_key(c, arena_printf(ta, "%s/old.cache", tmp));
}

/* In compat files ldconfig stores the glibc-hwcaps names relative to the new block while
 * ld.so reads them from the file start, so no hwcaps entry ever matches there. */
static void test_compat_format_from_ldconfig(void **state)
{
    const ldcache *c = build_cache("compat");
    assert_lookup(c, "libbfhw.so.1", "d2/libbfhw.so.1");
    assert_lookup(c, "libbfv2.so.1", NULL);
    assert_lookup(c, "libbfnum.so.01", "d1/libbfnum.so.1");
    check_every_key(c, arena_printf(ta, "%s/compat.cache", tmp));
}

static void test_etc_ld_so_cache_every_key(void **state)
{
    check_every_key(open_cache("/etc/ld.so.cache"), "/etc/ld.so.cache");
}

/* Every x86-64 key of /etc/ld.so.cache, and a few variants, asked of the real loader. */
static void test_etc_ld_so_cache_against_loader(void **state)
{
    const ldcache *c = open_cache("/etc/ld.so.cache");
    size_t n, announced;
    pline *v = parse_p(test_output(ta, "ldconfig -p"), &n, &announced);
    const char *names = arena_printf(ta, "%s/names", tmp);
    FILE *f = fopen(names, "w");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s\n", v[i].key);
    fprintf(f, "libc.so.06\nlibm.so.006\nlibbfnothere.so.1\nlibz.so\n");
    fclose(f);
    const char *probe = arena_printf(ta, "%s/probe", tmp);
    build_probe(probe);
    size_t na;
    answer *a =
        parse_ld_debug(test_output(ta, "LD_DEBUG=libs %s < %s 2>&1", probe, names), probe, &na);
    assert_true(na > n / 2); /* names already loaded (libc.so.6) are not searched */
    compare_with_loader(c, a, na);
}

/* The real ld.so reading caches written by ldconfig in every format, inside a chroot that has
 * the fixture libraries, ld.so and libc. */
static void test_loader_in_chroot(void **state)
{
    const char *as_root = test_root_prefix();
    if (!as_root) {
        print_message("chroot is not available (not root, no user namespaces): skipped\n");
        skip();
    }
    const char *root = arena_printf(ta, "%s/root", tmp);
    test_run("mkdir -p %s && cp -a %s/fx/d1 %s/fx/d2 %s/", root, tmp, tmp, root);
    test_run("mkdir -p %s/etc %s/lib64 %s/lib/x86_64-linux-gnu && "
             "cp -L /lib64/ld-linux-x86-64.so.2 %s/lib64/ && "
             "cp -L /lib/x86_64-linux-gnu/libc.so.6 %s/lib/x86_64-linux-gnu/ && "
             "printf '/d1\\n/d2\\n' > %s/etc/ld.so.conf",
             root, root, root, root, root, root);
    build_probe(arena_printf(ta, "%s/probe", root));
    const char *names = arena_printf(ta, "%s/probe-names", tmp);
    FILE *f = fopen(names, "w");
    assert_non_null(f);
    for (size_t i = 0; i < sizeof probe_names / sizeof *probe_names; i++)
        fprintf(f, "%s\n", probe_names[i]);
    fclose(f);

    static const char *const formats[] = {"new", "old", "compat"};
    for (size_t k = 0; k < 3; k++) {
        test_run("%sldconfig -X -i -c %s -r %s", as_root, formats[k], root);
        const ldcache *c = open_cache(arena_printf(ta, "%s/etc/ld.so.cache", root));
        size_t na;
        answer *a = parse_ld_debug(
            test_output(ta, "LD_DEBUG=libs %schroot %s /probe < %s 2>&1", as_root, root, names),
            "/probe", &na);
        assert_int_equal(na, sizeof probe_names / sizeof *probe_names);
        compare_with_loader(c, a, na);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_format_from_ldconfig),
        cmocka_unit_test(test_old_format_from_ldconfig),
        cmocka_unit_test(test_compat_format_from_ldconfig),
        cmocka_unit_test(test_etc_ld_so_cache_every_key),
        cmocka_unit_test(test_etc_ld_so_cache_against_loader),
        cmocka_unit_test(test_loader_in_chroot),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* elf_parse against readelf on fixtures built at test time: x86_64 with gcc, and i386,
 * 32-bit big-endian PowerPC and 64-bit big-endian PowerPC with clang and lld, so all four
 * class/byte-order combinations come from a real linker. Each fixture is compared with
 * readelf's view in full, and its known content is asserted as well. */
#include "test_elf_support.h"

typedef struct toolchain {
    const char *name;
    const char *cc;     /* compiler and link flags for a shared object */
    const char *interp; /* what --dynamic-linker sets for executables */
} toolchain;

static const toolchain host_tc = {"x86_64", "gcc -fPIC", "/lib64/ld-linux-x86-64.so.2"};
static const toolchain cross_tcs[] = {
    {"i386", "clang --target=i386-linux-gnu -fPIC -nostdlib -fuse-ld=lld", "/lib/ld-linux.so.2"},
    {"ppc", "clang --target=powerpc-linux-gnu -fPIC -nostdlib -fuse-ld=lld", "/lib/ld.so.1"},
    {"ppc64", "clang --target=powerpc64-linux-gnu -fPIC -nostdlib -fuse-ld=lld",
     "/lib64/ld64.so.1"},
};

typedef struct fixtures {
    char *dir;
    const toolchain *tc;
} fixtures;

/* Builds the fixture set in a fresh directory:
 *   libv.so    SONAME libv.so.1, symbols versioned VERS_1.0 and VERS_2.0
 *   liba.so, libb.so
 *   libdeps.so NEEDED liba.so libb.so libv.so.1 (that order), RPATH, needs VERS_1.0/VERS_2.0
 *   librun.so  RUNPATH, SONAME
 *   libflags.so DF_1_NODEFLIB, BIND_NOW, AUXILIARY libx.so, FILTER liby.so
 *   app        a PIE executable with PT_INTERP */
static fixtures build_fixtures(const toolchain *tc)
{
    fixtures f = {test_tmpdir("elf"), tc};
    const char *d = f.dir, *cc = tc->cc;
    test_write_text(d, "v.c", "int v1(void) { return 1; }\nint v2(void) { return 2; }\n");
    test_write_text(d, "v.map",
                    "VERS_1.0 { global: v1; local: *; };\nVERS_2.0 { global: v2; } VERS_1.0;\n");
    test_write_text(d, "a.c", "int a(void) { return 3; }\n");
    test_write_text(d, "b.c", "int b(void) { return 4; }\n");
    test_write_text(d, "deps.c", "int v1(void); int v2(void); int a(void); int b(void);\n"
                                 "int deps(void) { return v1() + v2() + a() + b(); }\n");
    test_write_text(d, "app.c", "int deps(void);\nint main(void) { return deps(); }\n"
                                "void _start(void) { main(); }\n");
    test_run("cd '%s' && %s -shared -Wl,-soname,libv.so.1 -Wl,--version-script=v.map v.c -o libv.so"
             " && ln -s libv.so libv.so.1"
             " && %s -shared a.c -o liba.so -Wl,-soname,liba.so"
             " && %s -shared b.c -o libb.so -Wl,-soname,libb.so",
             d, cc, cc, cc);
    test_run("cd '%s' && %s -shared deps.c -o libdeps.so -Wl,--no-as-needed ./liba.so ./libb.so"
             " ./libv.so -Wl,--disable-new-dtags -Wl,-rpath,'$ORIGIN/r1:/r2'",
             d, cc);
    test_run("cd '%s' && %s -shared a.c -o librun.so -Wl,--enable-new-dtags -Wl,-rpath,/run/x"
             " -Wl,-soname,librun.so.7",
             d, cc);
    test_run("cd '%s' && %s -shared b.c -o libflags.so -Wl,-z,nodefaultlib -Wl,-z,now"
             " -Wl,-f,libx.so -Wl,-F,liby.so",
             d, cc);
    /* _start is ours: the cross builds have no C library, and the host build leaves out crt1
     * to match. */
    test_run("cd '%s' && %s -pie -fPIE app.c -o app ./libdeps.so -Wl,-rpath-link,."
             " -Wl,--dynamic-linker=%s -e _start %s",
             d, cc, tc->interp, tc == &host_tc ? "-nostartfiles" : "");
    return f;
}

static char *fixture(const fixtures *f, const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    return path;
}

static const char *dep_name(const elf_info *in, size_t i, int kind)
{
    assert_true(i < in->ndeps);
    assert_int_equal(in->deps[i].kind, kind);
    return in->deps[i].name;
}

static const elf_verneed *verneed_of(const elf_info *in, const char *file)
{
    for (size_t i = 0; i < in->nverneed; i++)
        if (strcmp(in->verneed[i].file, file) == 0)
            return &in->verneed[i];
    fail_msg("no version need for %s", file);
    return NULL;
}

/* What the fixtures are known to contain, independent of readelf. */
static void check_known_content(const fixtures *f, uint8_t want_class, uint8_t want_data)
{
    arena *a;
    elf_info in = test_parse_path(fixture(f, "libdeps.so"), &a);
    assert_int_equal(in.elf_class, want_class);
    assert_int_equal(in.data, want_data);
    assert_int_equal(in.type, 3 /* ET_DYN */);
    assert_true(in.has_dynamic);
    assert_null(in.interp);
    assert_string_equal(dep_name(&in, 0, ELF_DEP_NEEDED), "liba.so");
    assert_string_equal(dep_name(&in, 1, ELF_DEP_NEEDED), "libb.so");
    assert_string_equal(dep_name(&in, 2, ELF_DEP_NEEDED), "libv.so.1");
    assert_string_equal(in.rpath, "$ORIGIN/r1:/r2");
    assert_null(in.runpath);
    const elf_verneed *vn = verneed_of(&in, "libv.so.1");
    assert_int_equal(vn->nversions, 2);
    assert_string_equal(elf_highest_version(&in, "VERS_"), "VERS_2.0");
    assert_null(elf_highest_version(&in, "NOSUCH_"));
    arena_free(a);

    in = test_parse_path(fixture(f, "librun.so"), &a);
    assert_string_equal(in.runpath, "/run/x");
    assert_null(in.rpath);
    assert_string_equal(in.soname, "librun.so.7");
    arena_free(a);

    in = test_parse_path(fixture(f, "libflags.so"), &a);
    assert_true(in.flags_1 & 0x800 /* DF_1_NODEFLIB */);
    assert_true(in.flags_1 & 0x1 /* DF_1_NOW */);
    assert_true(in.flags & 0x8 /* DF_BIND_NOW */);
    bool aux = false, filter = false;
    for (size_t i = 0; i < in.ndeps; i++) {
        aux |= in.deps[i].kind == ELF_DEP_AUXILIARY && !strcmp(in.deps[i].name, "libx.so");
        filter |= in.deps[i].kind == ELF_DEP_FILTER && !strcmp(in.deps[i].name, "liby.so");
    }
    assert_true(aux);
    assert_true(filter);
    arena_free(a);

    in = test_parse_path(fixture(f, "app"), &a);
    assert_string_equal(in.interp, f->tc->interp);
    assert_true(in.flags_1 & 0x8000000 /* DF_1_PIE */);
    arena_free(a);
}

static void check_against_readelf(const fixtures *f)
{
    static const char *const files[] = {"libv.so",    "liba.so", "libdeps.so",
                                        "librun.so",  "libflags.so", "app"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        test_assert_matches_readelf(fixture(f, files[i]));
}

static void test_host_fixtures(void **state)
{
    fixtures f = build_fixtures(&host_tc);
    check_known_content(&f, 2, 1);
    check_against_readelf(&f);
    /* Linked with the C library, the file needs glibc versions too. */
    arena *a;
    elf_info in = test_parse_path(fixture(&f, "libdeps.so"), &a);
    assert_non_null(verneed_of(&in, "libc.so.6"));
    assert_non_null(elf_highest_version(&in, "GLIBC_"));
    arena_free(a);
    test_rmdir(f.dir);
}

static void test_cross_fixtures(void **state)
{
    static const uint8_t classes[] = {1, 1, 2}, datas[] = {1, 2, 2};
    if (system("command -v clang >/dev/null && command -v ld.lld >/dev/null") != 0) {
        print_message("clang or ld.lld is missing: no 32-bit and big-endian fixtures\n");
        skip();
    }
    for (size_t i = 0; i < sizeof cross_tcs / sizeof *cross_tcs; i++) {
        fixtures f = build_fixtures(&cross_tcs[i]);
        check_known_content(&f, classes[i], datas[i]);
        check_against_readelf(&f);
        test_rmdir(f.dir);
    }
}

/* Files without PT_DYNAMIC: a static executable and a relocatable object. */
static void test_no_dynamic(void **state)
{
    char *d = test_tmpdir("elf");
    test_run("cd '%s' && printf 'int main(void){return 0;}\\n' > s.c && gcc -static s.c -o s"
             " && gcc -c s.c -o s.o",
             d);
    char path[512];
    static const struct {
        const char *file;
        uint16_t type;
    } cases[] = {{"s", 2 /* ET_EXEC */}, {"s.o", 1 /* ET_REL */}};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", d, cases[i].file);
        arena *a;
        elf_info in = test_parse_path(path, &a);
        assert_false(in.has_dynamic);
        assert_int_equal(in.type, cases[i].type);
        assert_int_equal(in.ndeps, 0);
        assert_null(in.interp);
        arena_free(a);
        test_assert_matches_readelf(path);
    }
    test_rmdir(d);
}

/* The version comparison is numeric per component, and only digits after the prefix count. */
static void test_highest_version(void **state)
{
    const char *libc[] = {"GLIBC_2.9", "GLIBC_2.10", "GLIBC_PRIVATE", "GLIBC_2.2.5"};
    const char *more[] = {"GLIBC_2.10.1", "GLIBCXX_3.4.30", "GLIBC_2.010"};
    elf_verneed vn[] = {{"libc.so.6", libc, 4}, {"libm.so.6", more, 3}};
    elf_info in = {.verneed = vn, .nverneed = 1};
    assert_string_equal(elf_highest_version(&in, "GLIBC_"), "GLIBC_2.10");
    in.nverneed = 2;
    assert_string_equal(elf_highest_version(&in, "GLIBC_"), "GLIBC_2.10.1");
    assert_string_equal(elf_highest_version(&in, "GLIBCXX_"), "GLIBCXX_3.4.30");
    assert_null(elf_highest_version(&in, "GCC_"));
    const char *ssl[] = {"OPENSSL_1_1_0", "OPENSSL_1_1_1d", "OPENSSL_1_1_1"};
    elf_verneed vs = {"libssl.so.1.1", ssl, 3};
    in = (elf_info){.verneed = &vs, .nverneed = 1};
    assert_string_equal(elf_highest_version(&in, "OPENSSL_"), "OPENSSL_1_1_1d");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_fixtures),
        cmocka_unit_test(test_cross_fixtures),
        cmocka_unit_test(test_no_dynamic),
        cmocka_unit_test(test_highest_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

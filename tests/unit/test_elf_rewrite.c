/* The ELF rewriter against the real tools: every output is read back with readelf (the
 * dynamic entries must be exactly the requested ones), with elf_parse (which must agree with
 * readelf), checked with eu-elflint (no error the input did not have) and, where this machine
 * can, run: executables are started, libraries dlopen'ed in a child process. Fixtures are
 * built with gcc at test time: x86_64 PIE and non-PIE programs and libraries, 32-bit ones
 * when gcc -m32 works, and big-endian ELF32/ELF64 files written by the test itself. */
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundlefs/elf_rewrite.h"
#include "test_elf_support.h"
#include "test_util.h"

static char *dir;   /* every file of the tests, removed at the end */
static bool have_m32; /* gcc -m32 links */

/* ---- Fixtures */

static int setup(void **state)
{
    dir = test_tmpdir("rewrite");
    test_write_text(dir, "dep.c", "int dep(void) { return 42; }\n");
    test_write_text(dir, "mid.c", "int dep(void);\nint mid(void) { return dep() + 1; }\n");
    test_write_text(dir, "app.c",
                    "#include <stdio.h>\nint dep(void);\n"
                    "int main(void) { printf(\"dep=%d\\n\", dep()); return 0; }\n");
    /* Text right after the dynamic tables (-z noseparate-code): no free space follows them. */
    test_write_text(dir, "nosep.c",
                    "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
                    "int nosep(void) { char *p = malloc(8); strcpy(p, \"abc\");\n"
                    "  int n = (int)strlen(p) + printf(\"%s\", \"\"); free(p); return n; }\n");
    test_write_text(dir, "dlo.c",
                    "#include <dlfcn.h>\n#include <stdio.h>\n"
                    "int main(int argc, char **argv) {\n"
                    "  void *h = dlopen(argv[1], RTLD_NOW);\n"
                    "  if (!h) { fprintf(stderr, \"%s\\n\", dlerror()); return 1; }\n"
                    "  int (*f)(void) = (int (*)(void))dlsym(h, argv[2]);\n"
                    "  if (!f) return 2;\n"
                    "  printf(\"%s=%d\\n\", argv[2], f());\n  return 0;\n}\n");
    /* Outputs go to out/, whose lib/ holds the dependency under its own and a new name, so
     * $ORIGIN/lib in an output finds it either way. */
    test_run("cd '%s' && mkdir -p lib out/lib && "
             "gcc -shared -fPIC -Wl,-soname,libdep.so.1 -o lib/libdep.so.1 dep.c && "
             "gcc -shared -fPIC -Wl,-soname,libmid.so.1 "
             "-Wl,--enable-new-dtags,-rpath,'$ORIGIN/lib' -o libmid.so mid.c "
             "-Llib -l:libdep.so.1 && "
             "gcc -o app-pie app.c -Llib -l:libdep.so.1 "
             "-Wl,--disable-new-dtags,-rpath,'$ORIGIN/lib' && "
             "gcc -no-pie -o app-nopie app.c -Llib -l:libdep.so.1 "
             "-Wl,--disable-new-dtags,-rpath,'$ORIGIN/lib' && "
             "gcc -o app-norpath app.c -Llib -l:libdep.so.1 && "
             "gcc -static -o app-static app.c dep.c && gcc -o dlo dlo.c -ldl && "
             "gcc -shared -fPIC -Wl,-z,noseparate-code -o libnosep.so nosep.c && "
             "ln -s ../../lib/libdep.so.1 out/lib/libdep.so.1 && "
             "ln -s ../../lib/libdep.so.1 out/lib/libd.so.1", dir);
    char *m32 = NULL;
    assert_true(asprintf(&m32, "cd '%s' && mkdir -p lib32 out32/lib && "
                         "gcc -m32 -shared -fPIC -Wl,-soname,libdep.so.1 -o lib32/libdep.so.1 "
                         "dep.c && gcc -m32 -o app32 app.c -Llib32 -l:libdep.so.1 "
                         "-Wl,--disable-new-dtags,-rpath,'$ORIGIN/lib' 2>/dev/null && "
                         "ln -s ../../lib32/libdep.so.1 out32/lib/libd.so.1 && "
                         "ln -s ../../lib32/libdep.so.1 out32/lib/libdep.so.1", dir) > 0);
    have_m32 = system(m32) == 0;
    free(m32);
    return 0;
}

static int teardown(void **state)
{
    test_rmdir(dir);
    return 0;
}

static char *path_of(const char *name)
{
    char *p = NULL;
    assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
    return p;
}

/* ---- The rewrite */

/* How a rewrite changed the file. */
enum change { IN_PLACE, SHIFTED, GROWN, GROWN_SHIFTED };
static const char *const change_names[] = {"in place", "shifted", "grown", "grown and shifted"};

/* elf_rewrite of dir/in written to dir/out; BF_OK or BF_FAIL with the message in *msg. */
static int rewrite(const char *in, const char *out, const elf_edit *ed, enum change *change,
                   char **msg)
{
    char *src = path_of(in), *dst = path_of(out);
    int fd = open(src, O_RDONLY);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    arena *a = arena_new();
    image *im;
    elf_rewrite_result res;
    bf_err err;
    int rc = elf_rewrite(fd, (uint64_t)st.st_size, src, ed, a, &im, &res, &err);
    if (rc == BF_OK) {
        if (image_write_file(im, dst, 0755, &err) != BF_OK)
            fail_msg("image_write_file: %s", err.msg);
        assert_int_equal(res.old_size, (uint64_t)st.st_size);
        struct stat ost;
        assert_int_equal(stat(dst, &ost), 0);
        assert_int_equal(res.new_size, (uint64_t)ost.st_size);
        if (!res.grown)
            assert_int_equal(ost.st_size, st.st_size);
        if (change)
            *change = res.grown ? (res.shifted ? GROWN_SHIFTED : GROWN)
                                : (res.shifted ? SHIFTED : IN_PLACE);
    }
    if (msg)
        *msg = rc == BF_OK ? NULL : strdup(err.msg);
    close(fd);
    arena_free(a);
    free(src);
    free(dst);
    return rc;
}

static void rewrite_ok(const char *in, const char *out, const elf_edit *ed, enum change want)
{
    enum change got;
    char *msg;
    if (rewrite(in, out, ed, &got, &msg) != BF_OK)
        fail_msg("rewriting %s failed: %s", in, msg);
    if (got != want)
        fail_msg("rewriting %s: %s, expected %s", in, change_names[got], change_names[want]);
}

/* ---- What the tools say about an output */

/* The string entries of dir/name as readelf -dW lists them, one "TAG value" line each. */
static char *dyn_strings(const char *name)
{
    char *path = path_of(name);
    char *out = test_capture("readelf -dW '%s'", path);
    if (!out)
        fail_msg("readelf -dW failed on %s", path);
    static const char *const tags[] = {"NEEDED", "SONAME", "RPATH", "RUNPATH"};
    test_buf b = {0};
    test_buf_printf(&b, "%s", "");
    char *save;
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        for (size_t i = 0; i < sizeof tags / sizeof *tags; i++) {
            char key[32];
            snprintf(key, sizeof key, "(%s)", tags[i]);
            if (strstr(line, key)) {
                char *v = test_bracketed(line);
                test_buf_printf(&b, "%s %s\n", tags[i], v);
                free(v);
            }
        }
    free(out);
    free(path);
    return b.s;
}

/* readelf shows exactly these string entries, and elf_parse agrees with readelf on
 * everything it reports (dependencies, paths, version needs, interpreter). */
static void check_entries(const char *name, const char *want)
{
    char *got = dyn_strings(name);
    if (strcmp(got, want) != 0)
        fail_msg("%s: readelf -dW shows\n%swhere the edit asks for\n%s", name, got, want);
    free(got);
    char *path = path_of(name);
    test_assert_matches_readelf(path);
    free(path);
}

static int count_lines(const char *cmd_fmt, const char *name)
{
    char *path = path_of(name);
    char *out = test_capture(cmd_fmt, path);
    assert_non_null(out);
    int n = atoi(out);
    free(out);
    free(path);
    return n;
}

static int loads(const char *name)
{
    return count_lines("readelf -lW '%s' | grep -c '^ *LOAD '", name);
}

static int dyn_entries(const char *name)
{
    return count_lines("readelf -dW '%s' | sed -n 's/.* contains \\([0-9]*\\) entries.*/\\1/p'",
                       name);
}

/* eu-elflint finds no problem in the output that it did not find in the input. */
static void check_elflint(const char *in, const char *out)
{
    char *pin = path_of(in), *pout = path_of(out);
    arena *a = arena_new();
    const char *before = test_output(a, "eu-elflint --gnu-ld '%s' 2>&1 | sed 's|%s|FILE|g'",
                                     pin, pin);
    const char *after = test_output(a, "eu-elflint --gnu-ld '%s' 2>&1 | sed 's|%s|FILE|g'",
                                    pout, pout);
    char *copy = strdup(after), *save;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        if (strcmp(line, "No errors") != 0 && !strstr(before, line))
            fail_msg("eu-elflint finds in %s what it did not in %s:\n%s", out, in, after);
    free(copy);
    arena_free(a);
    free(pin);
    free(pout);
}

/* Runs a command in dir and returns its standard output, failing if it fails. */
static char *run_in_dir(const char *cmd)
{
    char *out = test_capture("cd '%s' && %s 2>&1", dir, cmd);
    if (!out)
        fail_msg("in %s, `%s` failed", dir, cmd);
    return out;
}

static void check_runs(const char *cmd, const char *want)
{
    char *out = run_in_dir(cmd);
    if (strcmp(out, want) != 0)
        fail_msg("`%s` printed \"%s\", expected \"%s\"", cmd, out, want);
    free(out);
}

/* The bytes that differ between two files of one size all lie in the output's .dynamic. */
static void check_only_dynamic_changed(const char *in, const char *out)
{
    char *pin = path_of(in), *pout = path_of(out);
    char *range = test_capture("readelf -SW '%s' | sed -n "
                               "'s/.*\\] \\.dynamic *DYNAMIC *[0-9a-f]* \\([0-9a-f]*\\) "
                               "\\([0-9a-f]*\\).*/\\1 \\2/p'", pout);
    assert_non_null(range);
    unsigned long off = 0, size = 0;
    assert_int_equal(sscanf(range, "%lx %lx", &off, &size), 2);
    size_t na, nb;
    uint8_t *a = test_read_file(pin, &na), *b = test_read_file(pout, &nb);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++)
        if (a[i] != b[i] && (i < off || i >= off + size))
            fail_msg("%s differs from %s at offset 0x%zx, outside .dynamic", out, in, i);
    free(a);
    free(b);
    free(range);
    free(pin);
    free(pout);
}

/* "$ORIGIN/lib:/opt/xxx...", len characters. */
static const char *rpath_of_length(char *buf, size_t len)
{
    if (!buf[0]) {
        memset(buf, 'x', len);
        memcpy(buf, "$ORIGIN/lib:/opt/", 17);
    }
    return buf;
}

/* 200 characters: more than any string space an edit frees in the fixtures, less than the
 * free space after their first segment. */
static const char *long_rpath(void)
{
    static char buf[201];
    return rpath_of_length(buf, 200);
}

/* More than a page: never fits before the next segment, so the table is copied. */
static const char *huge_rpath(void)
{
    static char buf[6001];
    return rpath_of_length(buf, 6000);
}

/* The value of dynamic entry tag ("STRTAB", ...) as readelf -dW prints it. */
static char *dyn_value(const char *name, const char *tag)
{
    char *path = path_of(name);
    char *out = test_capture("readelf -dW '%s' | sed -n 's/.*(%s) *//p'", path, tag);
    assert_non_null(out);
    free(path);
    return out;
}

/* The string table is where it was in the input: extended in place, not copied. */
static void check_strtab_kept(const char *in, const char *out)
{
    char *a = dyn_value(in, "STRTAB"), *b = dyn_value(out, "STRTAB");
    if (strcmp(a, b) != 0)
        fail_msg("%s: DT_STRTAB moved from %s to %s", out, a, b);
    free(a);
    free(b);
}

static off_t size_of(const char *name)
{
    char *path = path_of(name);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    free(path);
    return st.st_size;
}

/* ---- Little-endian x86_64, in place */

static void test_replace_needed_shorter_in_place(void **state)
{
    elf_rename r = {"libdep.so.1", "libd.so.1"};
    elf_edit ed = {.needed = &r, .nneeded = 1};
    rewrite_ok("app-pie", "out/app-renamed", &ed, IN_PLACE);
    check_entries("out/app-renamed", "NEEDED libd.so.1\nNEEDED libc.so.6\nRPATH $ORIGIN/lib\n");
    check_elflint("app-pie", "out/app-renamed");
    /* Loaded under its new name through the RPATH: out/lib/libd.so.1 is a symlink. */
    check_runs("LD_DEBUG=libs out/app-renamed 2>&1 | "
               "grep -c 'calling init: .*/out/lib/libd.so.1$'; out/app-renamed",
               "1\ndep=42\n");
}

static void test_remove_rpath_in_place(void **state)
{
    elf_edit ed = {.remove_rpath = true};
    rewrite_ok("app-pie", "out/app-norpath", &ed, IN_PLACE);
    check_entries("out/app-norpath", "NEEDED libdep.so.1\nNEEDED libc.so.6\n");
    assert_int_equal(dyn_entries("out/app-norpath"), dyn_entries("app-pie") - 1);
    check_elflint("app-pie", "out/app-norpath");
    /* Without its RPATH the program needs the library path from outside. */
    assert_null(test_capture("cd '%s' && out/app-norpath >/dev/null 2>&1", dir));
    check_runs("LD_LIBRARY_PATH=lib out/app-norpath", "dep=42\n");
}

static void test_runpath_reuses_existing_string(void **state)
{
    /* $ORIGIN/lib is already in .dynstr (the RPATH's string): only .dynamic changes. */
    elf_edit ed = {.runpath = "$ORIGIN/lib"};
    rewrite_ok("app-pie", "out/app-runpath", &ed, IN_PLACE);
    check_entries("out/app-runpath", "NEEDED libdep.so.1\nNEEDED libc.so.6\nRUNPATH $ORIGIN/lib\n");
    check_only_dynamic_changed("app-pie", "out/app-runpath");
    check_elflint("app-pie", "out/app-runpath");
    check_runs("out/app-runpath", "dep=42\n");
}

static void test_freed_string_not_reused_after_overwrite(void **state)
{
    /* The new NEEDED name fills the whole space of the old one; the new RUNPATH equals that
     * old name, so it cannot point there any more and takes the RPATH's freed space. */
    elf_rename r = {"libdep.so.1", "libdepXY.so"};
    elf_edit ed = {.needed = &r, .nneeded = 1, .runpath = "libdep.so.1"};
    rewrite_ok("app-pie", "out/app-overwrite", &ed, IN_PLACE);
    check_entries("out/app-overwrite",
                  "NEEDED libdepXY.so\nNEEDED libc.so.6\nRUNPATH libdep.so.1\n");
    check_elflint("app-pie", "out/app-overwrite");
}

static void test_spare_slot_reused(void **state)
{
    /* Removing the RPATH frees its slot; a new RPATH naming a string still in the table then
     * fits in place, in that slot. */
    elf_edit rm = {.remove_rpath = true};
    rewrite_ok("app-nopie", "out/app-slot1", &rm, IN_PLACE);
    int slots_used = dyn_entries("out/app-slot1");
    elf_edit set = {.rpath = "$ORIGIN/lib"};
    rewrite_ok("out/app-slot1", "out/app-slot2", &set, IN_PLACE);
    assert_int_equal(dyn_entries("out/app-slot2"), slots_used + 1);
    check_entries("out/app-slot2", "NEEDED libdep.so.1\nNEEDED libc.so.6\nRPATH $ORIGIN/lib\n");
    check_only_dynamic_changed("out/app-slot1", "out/app-slot2");
    check_elflint("app-nopie", "out/app-slot2");
    check_runs("out/app-slot2", "dep=42\n");
}

static void test_new_rpath_in_spare_slot(void **state)
{
    /* GNU ld leaves spare DT_NULL slots; an RPATH naming an existing string takes one. */
    elf_edit ed = {.rpath = "libdep.so.1"};
    rewrite_ok("app-norpath", "out/app-addrpath", &ed, IN_PLACE);
    assert_int_equal(dyn_entries("out/app-addrpath"), dyn_entries("app-norpath") + 1);
    check_entries("out/app-addrpath",
                  "NEEDED libdep.so.1\nNEEDED libc.so.6\nRPATH libdep.so.1\n");
    check_only_dynamic_changed("app-norpath", "out/app-addrpath");
    check_elflint("app-norpath", "out/app-addrpath");
}

/* ---- Little-endian x86_64, shifted and grown */

/* Programs: an RPATH that fits before the next segment is added after the string table where
 * it lies (the file keeps its size and segments); one that does not goes into an added
 * segment with a copy of the table. */
static void check_longer_rpath(const char *in, const char *out, const char *rpath,
                               enum change change)
{
    elf_edit ed = {.rpath = rpath};
    rewrite_ok(in, out, &ed, change);
    char *want = NULL;
    assert_true(asprintf(&want, "NEEDED libdep.so.1\nNEEDED libc.so.6\nRPATH %s\n", rpath) > 0);
    check_entries(out, want);
    free(want);
    assert_int_equal(loads(out), loads(in) + (change >= GROWN));
    if (change == SHIFTED)
        assert_int_equal(size_of(out), size_of(in));
    if (change != GROWN)
        check_strtab_kept(in, out);
    check_runs(out, "dep=42\n");
    check_elflint(in, out);
}

static void test_shift_pie(void **state)
{
    check_longer_rpath("app-pie", "out/app-pie-shifted", long_rpath(), SHIFTED);
}

static void test_shift_nopie(void **state)
{
    check_longer_rpath("app-nopie", "out/app-nopie-shifted", long_rpath(), SHIFTED);
}

static void test_grow_pie(void **state)
{
    check_longer_rpath("app-pie", "out/app-pie-grown", huge_rpath(), GROWN);
}

static void test_grow_nopie(void **state)
{
    check_longer_rpath("app-nopie", "out/app-nopie-grown", huge_rpath(), GROWN);
}

/* A longer SONAME, a longer NEEDED and a RUNPATH at once, on libmid.so or a copy of it. */
static void check_library_edit(const char *in, const char *out, const char *runpath,
                               enum change change)
{
    elf_rename r = {"libdep.so.1", "libdep-with-a-much-longer-name.so.1"};
    elf_edit ed = {.runpath = runpath, .soname = "libmid-renamed.so.1", .needed = &r,
                   .nneeded = 1};
    rewrite_ok(in, out, &ed, change);
    char *want = NULL;
    assert_true(asprintf(&want, "NEEDED libdep-with-a-much-longer-name.so.1\n"
                                "SONAME libmid-renamed.so.1\nRUNPATH %s\n", runpath) > 0);
    check_entries(out, want);
    free(want);
    assert_int_equal(loads(out), loads(in) + (change >= GROWN));
    if (change != GROWN)
        check_strtab_kept(in, out);
    test_run("ln -sf ../../lib/libdep.so.1 '%s/out/lib/libdep-with-a-much-longer-name.so.1'",
             dir);
    char *cmd = NULL;
    assert_true(asprintf(&cmd, "./dlo %s mid", out) > 0);
    check_runs(cmd, "mid=43\n");
    free(cmd);
    check_elflint(in, out);
}

static void test_shift_library(void **state)
{
    check_library_edit("libmid.so", "out/libmid-shifted.so", long_rpath(), SHIFTED);
}

static void test_grow_library(void **state)
{
    check_library_edit("libmid.so", "out/libmid-grown.so", huge_rpath(), GROWN);
}

/* Cuts the dynamic section of a little-endian ELF64 file to its entries up to the first
 * DT_NULL (PT_DYNAMIC and the section header), as a linker leaving no spare slot would. */
static void make_dynamic_full(const char *name)
{
    char *path = path_of(name);
    size_t len;
    uint8_t *b = test_read_file(path, &len);
    Elf64_Ehdr eh;
    memcpy(&eh, b, sizeof eh);
    uint64_t used = 0;
    for (size_t i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, b + eh.e_phoff + i * sizeof ph, sizeof ph);
        if (ph.p_type != PT_DYNAMIC)
            continue;
        Elf64_Dyn d;
        do {
            memcpy(&d, b + ph.p_offset + used, sizeof d);
            used += sizeof d;
        } while (d.d_tag != DT_NULL);
        assert_true(used < ph.p_filesz); /* the fixture had a spare slot */
        ph.p_filesz = ph.p_memsz = used;
        memcpy(b + eh.e_phoff + i * sizeof ph, &ph, sizeof ph);
    }
    for (size_t i = 0; i < eh.e_shnum; i++) {
        Elf64_Shdr sh;
        memcpy(&sh, b + eh.e_shoff + i * sizeof sh, sizeof sh);
        if (sh.sh_type == SHT_DYNAMIC) {
            sh.sh_size = used;
            memcpy(b + eh.e_shoff + i * sizeof sh, &sh, sizeof sh);
        }
    }
    test_write_file(path, b, len);
    free(b);
    free(path);
}

static void test_shift_with_dynamic_moved(void **state)
{
    /* No spare slot for the new RPATH: the dynamic section moves to an added segment, while
     * the string still extends the table where it lies; the file grows by less than a page. */
    test_run("cd '%s' && cp lib/libdep.so.1 libdep-full.so", dir);
    make_dynamic_full("libdep-full.so");
    elf_edit ed = {.rpath = long_rpath()};
    rewrite_ok("libdep-full.so", "out/libdep-full-shifted.so", &ed, GROWN_SHIFTED);
    char *want = NULL;
    /* libdep needs nothing: the new entry goes first */
    assert_true(asprintf(&want, "RPATH %s\nSONAME libdep.so.1\n", long_rpath()) > 0);
    check_entries("out/libdep-full-shifted.so", want);
    free(want);
    assert_int_equal(loads("out/libdep-full-shifted.so"), loads("libdep-full.so") + 1);
    check_strtab_kept("libdep-full.so", "out/libdep-full-shifted.so");
    assert_true(size_of("out/libdep-full-shifted.so") - size_of("libdep-full.so") <= 4096);
    check_runs("./dlo out/libdep-full-shifted.so dep", "dep=42\n");
    check_elflint("libdep-full.so", "out/libdep-full-shifted.so");
}

static void test_library_in_place_loads(void **state)
{
    elf_rename r = {"libdep.so.1", "libd.so.1"};
    elf_edit ed = {.soname = "libmid.so", .needed = &r, .nneeded = 1};
    rewrite_ok("libmid.so", "out/libmid-small.so", &ed, IN_PLACE);
    check_entries("out/libmid-small.so",
                  "NEEDED libd.so.1\nSONAME libmid.so\nRUNPATH $ORIGIN/lib\n");
    check_runs("./dlo out/libmid-small.so mid", "mid=43\n");
    check_elflint("libmid.so", "out/libmid-small.so");
}

/* libz.so.1 given SONAME soname: the entries are right, the table stays where it was unless
 * the file grew, and the copy answers zlibCompileFlags as the original (want). */
static void check_libz(const char *out, const char *soname, enum change change,
                       const char *want)
{
    elf_edit ed = {.soname = soname};
    rewrite_ok("libz.so.1", out, &ed, change);
    char *entries = NULL;
    assert_true(asprintf(&entries, "NEEDED libc.so.6\nSONAME %s\n", soname) > 0);
    check_entries(out, entries);
    free(entries);
    if (change != GROWN)
        check_strtab_kept("libz.so.1", out);
    char *cmd = NULL;
    assert_true(asprintf(&cmd, "./dlo %s zlibCompileFlags", out) > 0);
    check_runs(cmd, want);
    free(cmd);
    check_elflint("libz.so.1", out);
}

static void test_shift_with_section_evicted(void **state)
{
    /* Code follows the tables at once: the smallest table whose space takes the new string
     * leaves for the added segment, the ones before it move up, .dynstr grows in place. */
    elf_edit ed = {.rpath = "$ORIGIN/lib/evict"};
    rewrite_ok("libnosep.so", "out/libnosep.so", &ed, GROWN_SHIFTED);
    check_entries("out/libnosep.so", "NEEDED libc.so.6\nRPATH $ORIGIN/lib/evict\n");
    assert_int_equal(loads("out/libnosep.so"), loads("libnosep.so") + 1);
    check_strtab_kept("libnosep.so", "out/libnosep.so");
    assert_true(size_of("out/libnosep.so") - size_of("libnosep.so") <= 4096);
    check_runs("./dlo out/libnosep.so nosep", "nosep=3\n");
    check_elflint("libnosep.so", "out/libnosep.so");
}

/* A real library with symbol versions (DT_VERDEF, DT_VERNEED): the version strings share
 * the table, so the rewriter walks them before it reuses anything. A SONAME that is the tail
 * of an existing string ("z.so.1" of "libz.so.1") reuses it in place; a new one extends the
 * table where it lies; one longer than a page grows the file. All copies still load and
 * answer as the original. */
static void test_system_library(void **state)
{
    test_run("cp -L /usr/lib/x86_64-linux-gnu/libz.so.1 '%s/libz.so.1'", dir);
    char *want = run_in_dir("./dlo ./libz.so.1 zlibCompileFlags");
    check_libz("out/libz-tail.so.1", "z.so.1", IN_PLACE, want);
    check_only_dynamic_changed("libz.so.1", "out/libz-tail.so.1");
    check_libz("out/libz-shifted.so.1", "libz-bundled.so.1", SHIFTED, want);
    check_libz("out/libz-grown.so.1", huge_rpath(), GROWN, want);
    free(want);
}

/* ---- Refusals */

static void check_refused(const char *in, const elf_edit *ed, const char *what)
{
    char *msg, *path = path_of(in);
    assert_int_equal(rewrite(in, "out/refused", ed, NULL, &msg), BF_FAIL);
    if (!strstr(msg, path) || !strstr(msg, what))
        fail_msg("refusing %s: message \"%s\" should name the file and \"%s\"", in, msg, what);
    free(msg);
    free(path);
}

static void test_refuses_static(void **state)
{
    elf_edit ed = {.rpath = "/x"};
    check_refused("app-static", &ed, "PT_DYNAMIC");
}

static void test_refuses_truncated(void **state)
{
    test_run("cd '%s' && head -c 2000 app-pie > app-cut2000 && head -c 40 app-pie > app-cut40",
             dir);
    elf_edit ed = {.rpath = "/x"};
    check_refused("app-cut2000", &ed, "outside the file");
    check_refused("app-cut40", &ed, "ELF");
}

static void test_refuses_absent_needed(void **state)
{
    elf_rename r = {"libnothere.so.7", "libx.so"};
    elf_edit ed = {.needed = &r, .nneeded = 1};
    check_refused("app-pie", &ed, "libnothere.so.7");
}

/* ---- 32-bit */

static bool can_run_m32(void)
{
    char *out = test_capture("cd '%s' && ./app32 2>/dev/null", dir);
    bool ok = out && !strcmp(out, "dep=42\n");
    free(out);
    return ok;
}

static void test_elf32(void **state)
{
    if (!have_m32)
        skip(); /* no 32-bit toolchain: gcc-multilib is not installed */
    elf_edit grow = {.rpath = huge_rpath()};
    rewrite_ok("app32", "out32/app-grown", &grow, GROWN);
    char want[6100];
    snprintf(want, sizeof want, "NEEDED libdep.so.1\nNEEDED libc.so.6\nRPATH %s\n",
             huge_rpath());
    check_entries("out32/app-grown", want);
    assert_int_equal(loads("out32/app-grown"), loads("app32") + 1);

    elf_edit shift = {.rpath = long_rpath()};
    rewrite_ok("app32", "out32/app-shifted", &shift, SHIFTED);
    snprintf(want, sizeof want, "NEEDED libdep.so.1\nNEEDED libc.so.6\nRPATH %s\n",
             long_rpath());
    check_entries("out32/app-shifted", want);
    check_strtab_kept("app32", "out32/app-shifted");
    check_elflint("app32", "out32/app-shifted");

    elf_rename r = {"libdep.so.1", "libd.so.1"};
    elf_edit small = {.remove_rpath = true, .needed = &r, .nneeded = 1};
    rewrite_ok("app32", "out32/app-small", &small, IN_PLACE);
    check_entries("out32/app-small", "NEEDED libd.so.1\nNEEDED libc.so.6\n");
    check_elflint("app32", "out32/app-small");

    elf_edit rpath_renamed = {.needed = &r, .nneeded = 1};
    rewrite_ok("app32", "out32/app-renamed", &rpath_renamed, IN_PLACE);
    check_entries("out32/app-renamed", "NEEDED libd.so.1\nNEEDED libc.so.6\nRPATH $ORIGIN/lib\n");
    check_elflint("app32", "out32/app-renamed");
    if (can_run_m32()) { /* else the kernel runs no 32-bit programs (no IA32 emulation) */
        check_runs("out32/app-grown", "dep=42\n");
        check_runs("out32/app-shifted", "dep=42\n");
        check_runs("LD_LIBRARY_PATH=out32/lib out32/app-small", "dep=42\n");
        check_runs("out32/app-renamed", "dep=42\n");
    }
    check_elflint("app32", "out32/app-grown");
}

/* ---- Big-endian, written by hand */

typedef struct be_file {
    uint8_t buf[2048];
    size_t len;
    bool is64;
} be_file;

static void be_put(uint8_t *p, int width, uint64_t v)
{
    for (int i = 0; i < width; i++)
        p[width - 1 - i] = (uint8_t)(v >> (8 * i));
}

static size_t be_align(size_t v, size_t a)
{
    return (v + a - 1) / a * a;
}

/* Writes a section header: name, type, flags, addr, offset, size, link, info, addralign,
 * entsize. */
static void be_shdr(uint8_t *p, int w, const uint64_t v[10])
{
    be_put(p, 4, v[0]);
    be_put(p + 4, 4, v[1]);
    for (int k = 2; k < 6; k++)
        be_put(p + 8 + (k - 2) * w, w, v[k]);
    be_put(p + 8 + 4 * w, 4, v[6]);
    be_put(p + 12 + 4 * w, 4, v[7]);
    be_put(p + 16 + 4 * w, w, v[8]);
    be_put(p + 16 + 5 * w, w, v[9]);
}

/* A shared library for a big-endian machine (EM_PPC64 or EM_PPC): one PT_LOAD mapping the
 * whole file, PT_DYNAMIC, and section headers for .dynstr, .dynsym, .dynamic and .shstrtab.
 * The dynamic section has two NEEDED, a SONAME, an RPATH and one spare DT_NULL; one dynamic
 * symbol, be_sym, shares the string table, so the rewriter knows every string reference. */
static void be_make(be_file *f, bool is64)
{
    static const char dynstr[] = "\0libfoo.so.1\0libbar.so.2\0libme.so\0/opt/old/rpath\0be_sym";
    static const char shstr[] = "\0.dynstr\0.dynsym\0.dynamic\0.shstrtab";
    enum { FOO = 1, BAR = 13, ME = 25, RP = 34, SYM = 49, NDYN = 10 };
    const uint64_t base = 0x10000000;
    memset(f, 0, sizeof *f);
    f->is64 = is64;
    int w = is64 ? 8 : 4;
    size_t ehsize = is64 ? 64 : 52, phsize = is64 ? 56 : 32, shsize = is64 ? 64 : 40;
    size_t symsize = is64 ? 24 : 16, dynsize = 2 * (size_t)w;
    size_t phoff = ehsize, stroff = phoff + 2 * phsize, strsz = sizeof dynstr;
    size_t symoff = be_align(stroff + strsz, 8), dynoff = symoff + 2 * symsize;
    size_t shstroff = dynoff + NDYN * dynsize, shoff = be_align(shstroff + sizeof shstr, 8);
    f->len = shoff + 5 * shsize;
    assert_true(f->len <= sizeof f->buf);
    uint8_t *b = f->buf;

    memcpy(b, "\x7f" "ELF", 4);
    b[4] = is64 ? 2 : 1; /* class */
    b[5] = 2;            /* big-endian */
    b[6] = 1;            /* version */
    be_put(b + 16, 2, 3); /* ET_DYN */
    be_put(b + 18, 2, is64 ? 21 : 20); /* EM_PPC64 : EM_PPC */
    be_put(b + 20, 4, 1);
    be_put(b + 24 + w, w, phoff);
    be_put(b + 24 + 2 * w, w, shoff);
    be_put(b + 28 + 3 * w, 2, ehsize);
    be_put(b + 30 + 3 * w, 2, phsize);
    be_put(b + 32 + 3 * w, 2, 2);
    be_put(b + 34 + 3 * w, 2, shsize);
    be_put(b + 36 + 3 * w, 2, 5);
    be_put(b + 38 + 3 * w, 2, 4);

    /* PT_LOAD (RW) over the whole file, then PT_DYNAMIC: type, offset, vaddr, size, align. */
    const uint64_t ph[2][5] = {{1, 0, base, f->len, 0x10000},
                               {2, dynoff, base + dynoff, NDYN * dynsize, 8}};
    for (int i = 0; i < 2; i++) {
        uint8_t *p = b + phoff + (size_t)i * phsize;
        be_put(p, 4, ph[i][0]);
        if (is64) {
            be_put(p + 4, 4, 6);
            be_put(p + 8, 8, ph[i][1]);
            be_put(p + 16, 8, ph[i][2]);
            be_put(p + 24, 8, ph[i][2]);
            be_put(p + 32, 8, ph[i][3]);
            be_put(p + 40, 8, ph[i][3]);
            be_put(p + 48, 8, ph[i][4]);
        } else {
            be_put(p + 4, 4, ph[i][1]);
            be_put(p + 8, 4, ph[i][2]);
            be_put(p + 12, 4, ph[i][2]);
            be_put(p + 16, 4, ph[i][3]);
            be_put(p + 20, 4, ph[i][3]);
            be_put(p + 24, 4, 6);
            be_put(p + 28, 4, ph[i][4]);
        }
    }
    memcpy(b + stroff, dynstr, strsz);
    /* symbol 1: be_sym, a global function, absolute (SHN_ABS) */
    uint8_t *sym = b + symoff + symsize;
    be_put(sym, 4, SYM);
    sym[is64 ? 4 : 12] = 0x12;
    be_put(sym + (is64 ? 6 : 14), 2, 0xfff1);
    const uint64_t dyn[NDYN][2] = {{1, FOO}, {1, BAR}, {14, ME}, {15, RP},
                                   {5, base + stroff}, {10, strsz}, {6, base + symoff},
                                   {11, symsize}, {0, 0}, {0, 0}};
    for (size_t i = 0; i < NDYN; i++) {
        be_put(b + dynoff + i * dynsize, w, dyn[i][0]);
        be_put(b + dynoff + i * dynsize + (size_t)w, w, dyn[i][1]);
    }
    memcpy(b + shstroff, shstr, sizeof shstr);
    const uint64_t sh[5][10] = {
        {0},
        {1, 3, 2, base + stroff, stroff, strsz, 0, 0, 1, 0},
        {9, 11, 2, base + symoff, symoff, 2 * symsize, 1, 1, 8, symsize},
        {17, 6, 3, base + dynoff, dynoff, NDYN * dynsize, 1, 0, 8, dynsize},
        {26, 3, 0, 0, shstroff, sizeof shstr, 0, 0, 1, 0}};
    for (int i = 0; i < 5; i++)
        be_shdr(b + shoff + (size_t)i * shsize, w, sh[i]);
}

/* The dynamic symbol still has its name. */
static void be_check_symbol(const char *name)
{
    char *path = path_of(name);
    char *out = test_capture("readelf --dyn-syms -W '%s' | grep -c ' be_sym$'", path);
    if (!out || strcmp(out, "1\n") != 0)
        fail_msg("%s: readelf no longer shows the dynamic symbol be_sym", name);
    free(out);
    free(path);
}

static void check_big_endian(bool is64)
{
    be_file f;
    be_make(&f, is64);
    const char *in = is64 ? "be64.so" : "be32.so";
    char *path = path_of(in);
    test_write_file(path, f.buf, f.len);
    free(path);
    /* The hand-made file is what the test means it to be. */
    check_entries(in, "NEEDED libfoo.so.1\nNEEDED libbar.so.2\nSONAME libme.so\n"
                      "RPATH /opt/old/rpath\n");
    be_check_symbol(in);

    elf_rename r = {"libbar.so.2", "libb.so.2"};
    elf_edit small = {.remove_rpath = true, .needed = &r, .nneeded = 1};
    const char *out_small = is64 ? "out/be64-small.so" : "out/be32-small.so";
    rewrite_ok(in, out_small, &small, IN_PLACE);
    check_entries(out_small, "NEEDED libfoo.so.1\nNEEDED libb.so.2\nSONAME libme.so\n");
    be_check_symbol(out_small);

    elf_edit grow = {.runpath = long_rpath(), .soname = "libme-renamed.so.1"};
    const char *out_grown = is64 ? "out/be64-grown.so" : "out/be32-grown.so";
    rewrite_ok(in, out_grown, &grow, GROWN);
    char want[512];
    snprintf(want, sizeof want,
             "NEEDED libfoo.so.1\nNEEDED libbar.so.2\nSONAME libme-renamed.so.1\nRUNPATH %s\n",
             long_rpath());
    check_entries(out_grown, want);
    be_check_symbol(out_grown);
    assert_int_equal(loads(out_grown), 2);
}

static void test_big_endian_elf32(void **state)
{
    check_big_endian(false);
}

static void test_big_endian_elf64(void **state)
{
    check_big_endian(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replace_needed_shorter_in_place),
        cmocka_unit_test(test_remove_rpath_in_place),
        cmocka_unit_test(test_runpath_reuses_existing_string),
        cmocka_unit_test(test_freed_string_not_reused_after_overwrite),
        cmocka_unit_test(test_spare_slot_reused),
        cmocka_unit_test(test_new_rpath_in_spare_slot),
        cmocka_unit_test(test_shift_pie),
        cmocka_unit_test(test_shift_nopie),
        cmocka_unit_test(test_grow_pie),
        cmocka_unit_test(test_grow_nopie),
        cmocka_unit_test(test_shift_library),
        cmocka_unit_test(test_grow_library),
        cmocka_unit_test(test_shift_with_dynamic_moved),
        cmocka_unit_test(test_shift_with_section_evicted),
        cmocka_unit_test(test_library_in_place_loads),
        cmocka_unit_test(test_system_library),
        cmocka_unit_test(test_refuses_static),
        cmocka_unit_test(test_refuses_truncated),
        cmocka_unit_test(test_refuses_absent_needed),
        cmocka_unit_test(test_elf32),
        cmocka_unit_test(test_big_endian_elf32),
        cmocka_unit_test(test_big_endian_elf64),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* The planner: content-addressed real names; relative symlink targets, each proven to resolve
 * lexically to its target; plan_hash_fd against xxhash's one-shot XXH3-128; the exclusion
 * policy; and plan_build end to end on programs compiled here: a NEEDED chain planned from a
 * real `bundlefs trace` and from the static emulation alone (the two plans must agree, and
 * the materialized bundle runs with the sources moved away), the launcher run from several
 * places and its Python arguments, a missing dependency, sources inside a bundle, and
 * binaries sharing one content. Expected real names are computed from the files' bytes and
 * the GLIBC requirement with objdump. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "../../resolver/plan_internal.h"
#include "bundlefs/materialize.h"
#include "test_util.h"

/* Every fixture is in one folder, built once and removed when the tests end. */
static char *base;

static const char *fixture(arena *a, const char *rel)
{
    return arena_printf(a, "%s/%s", base, rel);
}

static const char CHAIN_SH[] =
    "mkdir -p chain/lib chain/other && cd chain && "
    "printf '#include <stdio.h>\\nint b_fn(void){ return puts(\"b\") > 0; }\\n' > b.c && "
    "printf 'int b_fn(void);\\nint a_fn(void){ return b_fn(); }\\n' > a.c && "
    "printf 'int c2_fn(void){ return 2; }\\n' > c2.c && "
    "printf 'int a_fn(void); int c2_fn(void);\\n"
    "int main(void){ return a_fn() + c2_fn() - 3; }\\n' > app.c && "
    "gcc -shared -fPIC -o lib/libb.so -Wl,-soname,libb.so b.c && "
    "gcc -shared -fPIC -o liba.so -Wl,-soname,liba.so a.c -Llib -lb "
    "  -Wl,-rpath,'$ORIGIN/lib' -Wl,--disable-new-dtags && "
    /* no SONAME: linked by its path, the NEEDED entry is that path */
    "gcc -shared -fPIC -o other/libc2.so c2.c -Wl,-rpath,/nonexistent -Wl,--enable-new-dtags && "
    "gcc -o app app.c -L. -la \"$PWD/other/libc2.so\" -Wl,-rpath,'$ORIGIN' "
    "  -Wl,--disable-new-dtags";

/* missing: app -> libhalf.so -> libgone.so, the last one removed; libhalf links no libc, so
 * the emulation has bound everything else when it fails. */
static const char OTHERS_SH[] =
    "mkdir -p missing depbundle/b same && "
    "printf 'int g_fn(void){ return 0; }\\n' > missing/g.c && "
    "printf 'int g_fn(void);\\nint h_fn(void){ return g_fn(); }\\n' > missing/half.c && "
    "printf 'int h_fn(void);\\nint main(void){ return h_fn(); }\\n' > missing/app.c && "
    "printf 'int g_fn(void);\\nint main(void){ return g_fn(); }\\n' > depbundle/app.c && "
    "gcc -shared -fPIC -o missing/libgone.so missing/g.c && "
    "gcc -shared -fPIC -nostdlib -o missing/libhalf.so missing/half.c -Lmissing -lgone "
    "  -Wl,-rpath,'$ORIGIN' && "
    "gcc -o missing/app missing/app.c -Lmissing -lhalf -Wl,-rpath,'$ORIGIN' && "
    "cp missing/libgone.so depbundle/b/ && rm missing/libgone.so && "
    "gcc -o depbundle/app depbundle/app.c -Ldepbundle/b -lgone -Wl,-rpath,'$ORIGIN/b' && "
    "printf '{\"format\": \"something-else\"}' > depbundle/b/bundle.json && "
    "printf 'int x_fn(void){ return 0; }\\n' > same/x.c && "
    "printf 'int x_fn(void);\\nint main(void){ return x_fn(); }\\n' > same/app.c && "
    "printf 'int main(void){ return 0; }\\n' > same/plain.c && "
    "gcc -shared -fPIC -o same/libx.so same/x.c && cp same/libx.so same/liby.so && "
    "gcc -o same/app same/app.c -Lsame -Wl,--no-as-needed -lx -ly -Wl,-rpath,'$ORIGIN' && "
    "gcc -o same/plain same/plain.c";

static int setup(void **state)
{
    char *dir = test_tmpdir("plan");
    base = realpath(dir, NULL); /* the planner names canonical paths */
    free(dir);
    if (!base)
        return -1;
    test_run("cd '%s' && %s", base, CHAIN_SH);
    test_run("cd '%s' && %s", base, OTHERS_SH);
    return 0;
}

static int teardown(void **state)
{
    test_rmdir(base);
    return 0;
}

/* ---- Helpers */

static const char *xxh3_hex(arena *a, const void *buf, size_t len)
{
    XXH128_hash_t h = XXH3_128bits(buf, len);
    return arena_printf(a, "%016llx%016llx", (unsigned long long)h.high64,
                        (unsigned long long)h.low64);
}

static const char *file_hash(arena *a, const char *path)
{
    size_t len;
    uint8_t *buf = test_read_file(path, &len);
    const char *hex = xxh3_hex(a, buf, len);
    free(buf);
    return hex;
}

/* The path rel leads to from the folder dir, by components alone (as layout_validate reads
 * a target, and as the kernel does in a tree without symlinks); NULL when it leaves the root. */
static const char *lexical(arena *a, const char *dir, const char *rel)
{
    char *out = arena_alloc(a, strlen(dir) + strlen(rel) + 2);
    strcpy(out, dir);
    size_t n = strlen(out);
    while (*rel) {
        const char *end = strchr(rel, '/');
        size_t len = end ? (size_t)(end - rel) : strlen(rel);
        if (len == 2 && !strncmp(rel, "..", 2)) {
            if (n == 0)
                return NULL;
            char *slash = strrchr(out, '/');
            n = slash ? (size_t)(slash - out) : 0;
            out[n] = '\0';
        } else if (len && !(len == 1 && rel[0] == '.')) {
            if (n)
                out[n++] = '/';
            memcpy(out + n, rel, len);
            n += len;
            out[n] = '\0';
        }
        rel += len + (end != NULL);
    }
    return out;
}

static const char *dirname_of(arena *a, const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? arena_strndup(a, path, (size_t)(s - path)) : "";
}

static const char *leaf(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static const layout_entry *entry(const layout *l, const char *path)
{
    for (size_t i = 0; i < l->nentries; i++)
        if (!strcmp(l->entries[i].path, path))
            return &l->entries[i];
    return NULL;
}

static long object_index(const layout *l, const char *source)
{
    for (size_t i = 0; i < l->nobjects; i++)
        if (!strcmp(l->objects[i].source, source))
            return (long)i;
    fail_msg("no object has the source %s", source);
    return -1;
}

static const layout_dep *dep(const layout_object *o, const char *name)
{
    for (size_t i = 0; i < o->ndeps; i++)
        if (!strcmp(o->deps[i].name, name))
            return &o->deps[i];
    fail_msg("%s has no dependency %s", o->source, name);
    return NULL;
}

/* What the real of the file at source must be called, from its bytes. */
static const char *expected_real(arena *a, const char *source)
{
    return arena_printf(a, "reals/r/%s", plan_real_name(a, leaf(source), file_hash(a, source)));
}

static void assert_symlink(const layout *l, const char *path, const char *target)
{
    const layout_entry *e = entry(l, path);
    if (!e)
        fail_msg("no entry %s", path);
    assert_int_equal(e->type, LAYOUT_SYMLINK);
    assert_string_equal(e->target, target);
}

/* Every symlink, followed lexically from its folder (through other symlinks), ends at a file
 * entry of the layout. */
static void assert_symlinks_land(arena *a, const layout *l)
{
    for (size_t i = 0; i < l->nentries; i++) {
        const layout_entry *e = &l->entries[i];
        for (int hops = 0; e && e->type == LAYOUT_SYMLINK; hops++) {
            assert_true(hops < 8);
            const char *to = lexical(a, dirname_of(a, e->path), e->target);
            if (!to)
                fail_msg("%s -> %s leaves the bundle", e->path, e->target);
            e = entry(l, to);
            if (!e)
                fail_msg("%s -> %s: nothing at %s", l->entries[i].path, l->entries[i].target, to);
        }
        assert_true(e->type != LAYOUT_SYMLINK);
    }
}

/* $ORIGIN of a real is the folder of whichever path the loader opened it by: reals/r itself
 * or the folder of any symlink to it. From each, the first RPATH entry must reach the real's
 * symlinks/ folder. */
static void assert_rpath_reaches(arena *a, const layout *l, const layout_entry *real)
{
    const char *want = arena_printf(a, "symlinks/%s", leaf(real->path));
    assert_string_equal(real->edit.rpath, arena_printf(a, "$ORIGIN/../../%s", want));
    const char *rel = real->edit.rpath + strlen("$ORIGIN/");
    assert_non_null(entry(l, want));
    assert_string_equal(lexical(a, dirname_of(a, real->path), rel), want);
    for (size_t i = 0; i < l->nentries; i++) {
        const layout_entry *e = &l->entries[i];
        if (e->type != LAYOUT_SYMLINK)
            continue;
        const char *dir = dirname_of(a, e->path), *to = lexical(a, dir, e->target);
        if (to && !strcmp(to, real->path))
            assert_string_equal(lexical(a, dir, rel), want);
    }
}

enum { TRACE_ROOM = 4 };

/* A trace of one audited process whose loads were not seen: the static emulation answers
 * everything. */
static trace *static_trace(arena *a, const char *exe)
{
    trace *t = arena_alloc(a, sizeof *t);
    t->version = TRACE_FORMAT_VERSION;
    t->cwd = base;
    t->nprocesses = 1;
    t->processes = arena_alloc(a, sizeof *t->processes);
    trace_process *pr = t->processes;
    pr->parent = -1;
    pr->origin = "exec";
    pr->exe = exe;
    pr->audited = true;
    pr->reached_exit = true;
    pr->nobjects = 1;
    pr->objects = arena_alloc(a, TRACE_ROOM * sizeof *pr->objects);
    pr->loads = arena_alloc(a, TRACE_ROOM * sizeof *pr->loads);
    pr->objects[0] = (trace_object){.id = 0, .name = "", .file = exe, .realpath = exe};
    return t;
}

/* Adds to the process an object loaded by dlopen(name) from a caller the trace does not know. */
static void trace_dlopen(trace *t, const char *name, const char *path)
{
    trace_process *pr = &t->processes[0];
    long id = (long)pr->nobjects;
    assert_true(pr->nobjects < TRACE_ROOM && pr->nloads < TRACE_ROOM);
    pr->objects[pr->nobjects++] =
        (trace_object){.id = id, .name = path, .file = path, .realpath = path};
    pr->loads[pr->nloads++] = (trace_load){.kind = TRACE_DLOPEN, .requester = -1, .name = name,
                                           .mode = 2, .status = TRACE_LOADED, .object = id};
}

static void print_warnings(const layout *l)
{
    for (size_t i = 0; i < l->nwarnings; i++)
        print_message("plan warning: %s\n", l->warnings[i]);
}

/* ---- 1. Real names */

static void real_names(void **state)
{
    arena *a = arena_new();
    const char *h = "0123456789abcdeffedcba9876543210";
    static const char *const cases[][2] = {
        {"libz.so.1", "libz-0123456789abcdef.so.1"},
        {"_ssl.cpython-311-x86_64-linux-gnu.so",
         "_ssl.cpython-311-x86_64-linux-gnu-0123456789abcdef.so"},
        {"python3.11", "python3.11-0123456789abcdef"},
        {"libsodium.so.23", "libsodium-0123456789abcdef.so.23"},
        {"foo.node", "foo-0123456789abcdef.node"},
        {"x.dylib", "x-0123456789abcdef.dylib"},
        {"Plugin.bundle", "Plugin-0123456789abcdef.bundle"},
        /* ".sox" is not a suffix: the hash goes before the ".so" that ends the name */
        {"libfoo.sox.so", "libfoo.sox-0123456789abcdef.so"},
        /* the first suffix wins, whichever kind it is */
        {"addon.node.so.2", "addon-0123456789abcdef.node.so.2"},
        {"libsomething.so", "libsomething-0123456789abcdef.so"},
        {"libsonic.sonic", "libsonic.sonic-0123456789abcdef"},
        {"app", "app-0123456789abcdef"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(plan_real_name(a, cases[i][0], h), cases[i][1]);
    arena_free(a);
}

/* ---- 2. Relative symlink targets */

static void relative_paths(void **state)
{
    arena *a = arena_new();
    static const char *const cases[][3] = {
        {"symlinks/x", "reals/r/y", "../../reals/r/y"},
        {"", "a/b", "a/b"},
        {"a/b", "a/b/c", "c"},
        {"a/bc", "a/b/x", "../b/x"},
        {"a/b", "a/bc", "../bc"},
        {"a/b/c", "a/x", "../../x"},
        {"bin/b", "reals/r/app-0123456789abcdef", "../../reals/r/app-0123456789abcdef"},
        {"site/1-dist-packages/numpy/core", "reals/r/z", "../../../../reals/r/z"},
        {"site/1-dist-packages/numpy/core", "site/1-dist-packages/numpy.libs/l",
         "../../numpy.libs/l"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *rel = plan_relative(a, cases[i][0], cases[i][1]);
        assert_string_equal(rel, cases[i][2]);
        const char *to = lexical(a, cases[i][0], rel);
        assert_non_null(to);
        assert_string_equal(to, cases[i][1]);
    }
    arena_free(a);
}

/* ---- 3. Hashing */

static void count_bytes(void *ctx, uint64_t n)
{
    *(uint64_t *)ctx += n;
}

static void hash_matches_xxh3(void **state)
{
    arena *a = arena_new();
    static const size_t sizes[] = {0, 1, 1 << 20, (1 << 20) + 1, (7 << 20) / 2};
    uint8_t *buf = malloc(sizes[4]);
    assert_non_null(buf);
    uint64_t x = 0x9e3779b97f4a7c15u; /* xorshift64*: the same bytes at every run */
    for (size_t i = 0; i < sizes[4]; i++) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        buf[i] = (uint8_t)((x * 0x2545f4914f6cdd1du) >> 56);
    }
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        const char *path = fixture(a, arena_printf(a, "hash-%zu", sizes[i]));
        test_write_file(path, buf, sizes[i]);
        int fd = open(path, O_RDONLY);
        assert_true(fd >= 0);
        char hex[33];
        uint64_t seen = 0;
        bf_err err;
        assert_int_equal(plan_hash_fd(fd, path, hex, count_bytes, &seen, &err), BF_OK);
        close(fd);
        assert_string_equal(hex, xxh3_hex(a, buf, sizes[i]));
        assert_int_equal(seen, sizes[i]);
    }
    free(buf);
    /* a descriptor that cannot be read: an error naming the file */
    int fd = open(base, O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    char hex[33];
    bf_err err;
    assert_int_equal(plan_hash_fd(fd, base, hex, NULL, NULL, &err), BF_FAIL);
    close(fd);
    assert_non_null(strstr(err.msg, base));
    arena_free(a);
}

/* ---- 4. Policy */

static plan *policy_plan(arena *a, const plan_opts *o)
{
    plan *p = arena_alloc(a, sizeof *p);
    p->a = a;
    p->o = o;
    strmap_init(&p->canon, a);
    return p;
}

static void policy_defaults(void **state)
{
    arena *a = arena_new();
    plan_opts o = {0};
    plan *p = policy_plan(a, &o);
    static const char *const glibc[] = {"libc.so.6", "libm.so.6", "ld-linux-x86-64.so.2",
                                        "libpthread.so.0", "libdl.so.2", "libmvec.so.1",
                                        "libresolv.so.2"};
    for (size_t i = 0; i < sizeof glibc / sizeof glibc[0]; i++) {
        const char *path = arena_printf(a, "/lib/x86_64-linux-gnu/%s", glibc[i]);
        assert_string_equal(plan_policy_rule(p, glibc[i], path), "glibc core");
        assert_string_equal(plan_policy_rule(p, NULL, path), "glibc core");
    }
    /* every shared library the glibc package of this machine installs */
    char *listing = test_capture("dpkg -L libc6 | grep -E '^/lib/[^/]+/[^/]+\\.so' | "
                                 "grep -v '/gconv/'");
    assert_non_null(listing);
    size_t count = 0;
    for (char *line = strtok(listing, "\n"); line; line = strtok(NULL, "\n"), count++) {
        const char *rule = plan_policy_rule(p, leaf(line), line);
        if (!rule || strcmp(rule, "glibc core"))
            fail_msg("%s, from the libc6 package, is not excluded as glibc core", line);
    }
    free(listing);
    assert_true(count >= 10);
    /* the interpreter as a PT_INTERP path */
    assert_string_equal(plan_policy_rule(p, "/lib64/ld-linux-x86-64.so.2",
                                         "/lib64/ld-linux-x86-64.so.2"),
                        "glibc core");
    static const char *const gpu[] = {
        "libGL.so.1",        "libEGL.so.1",    "libnvidia-glcore.so.535", "libGLX_mesa.so.0",
        "libGLdispatch.so.0", "libGLESv2.so.2", "libEGL_nvidia.so.0",      "libvulkan.so.1",
        "libcuda.so.1",      "libcuda.so",     "libdrm.so.2",             "libdrm_amdgpu.so.1",
        "libOpenGL.so.0"};
    for (size_t i = 0; i < sizeof gpu / sizeof gpu[0]; i++)
        assert_string_equal(plan_policy_rule(p, gpu[i], NULL), "GPU driver stack");
    /* ordinary libraries, some with names close to the rules' */
    static const char *const kept[] = {"libz.so.1", "libcrypto.so.3", "libcap.so.2",
                                       "libmagic.so.1", "libcudart.so.12", "libGLU.so.1",
                                       "libGLEW.so.2.2", "libcairo.so.2", "libdrmaa.so.1"};
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        const char *rule = plan_policy_rule(p, kept[i], arena_printf(a, "/usr/lib/%s", kept[i]));
        if (rule)
            fail_msg("%s is excluded by \"%s\"", kept[i], rule);
    }
    arena_free(a);
}

static void policy_globs(void **state)
{
    arena *a = arena_new();
    const char *ex[] = {"libz*", "/opt/*"};
    plan_opts o = {.exclude = ex, .nexclude = 2};
    plan *p = policy_plan(a, &o);
    assert_string_equal(plan_policy_rule(p, "libz.so.1", "/usr/lib/libz.so.1"), "--exclude libz*");
    assert_string_equal(plan_policy_rule(p, NULL, "/usr/lib/libz.so.1"), "--exclude libz*");
    /* a glob with a '/' matches where the library was found, never the name asked for */
    assert_string_equal(plan_policy_rule(p, "libq.so", "/opt/q/libq.so"), "--exclude /opt/*");
    assert_null(plan_policy_rule(p, "/opt/q/libq.so", "/usr/lib/libq.so"));
    assert_null(plan_policy_rule(p, "libq.so", "/usr/lib/libq.so"));
    /* ... or its canonical path, once the planner knows it */
    test_run("mkdir -p '%s/canon/real' && touch '%s/canon/real/libr.so' && "
             "ln -sfn real '%s/canon/link'",
             base, base, base);
    const char *ex2[] = {"*/canon/real/*"};
    plan_opts o2 = {.exclude = ex2, .nexclude = 1};
    plan *p2 = policy_plan(a, &o2);
    const char *link = fixture(a, "canon/link/libr.so");
    assert_null(plan_policy_rule(p2, "libr.so", link));
    assert_non_null(plan_canonical(p2, link));
    assert_string_equal(plan_policy_rule(p2, "libr.so", link), "--exclude */canon/real/*");

    /* --include keeps what a default rule or an --exclude would leave out */
    const char *in[] = {"libGL*", "libz.so.1"};
    plan_opts o3 = {.exclude = ex, .nexclude = 2, .include = in, .ninclude = 2};
    plan *p3 = policy_plan(a, &o3);
    assert_null(plan_policy_rule(p3, "libGL.so.1", "/usr/lib/libGL.so.1"));
    assert_null(plan_policy_rule(p3, "libz.so.1", "/usr/lib/libz.so.1"));
    assert_string_equal(plan_policy_rule(p3, "libEGL.so.1", NULL), "GPU driver stack");
    assert_string_equal(plan_policy_rule(p3, "libzstd.so.1", NULL), "--exclude libz*");
    assert_string_equal(plan_policy_rule(p3, "libc.so.6", NULL), "glibc core");

    /* files of the Python universe: only the user's globs count */
    const char *fx[] = {"*.pyc", "*/tests/*"};
    const char *fi[] = {"keep.pyc"};
    plan_opts o4 = {.exclude = fx, .nexclude = 2, .include = fi, .ninclude = 1};
    plan *p4 = policy_plan(a, &o4);
    assert_true(plan_policy_skips_file(p4, "/usr/lib/python3.11/__pycache__/os.cpython-311.pyc"));
    assert_true(plan_policy_skips_file(p4, "/usr/lib/python3/dist-packages/numpy/tests/t.py"));
    assert_false(plan_policy_skips_file(p4, "/usr/lib/python3.11/os.py"));
    assert_false(plan_policy_skips_file(p4, "/srv/app/keep.pyc"));
    assert_false(plan_policy_skips_file(p4, "/usr/lib/x86_64-linux-gnu/libc.so.6"));
    arena_free(a);
}

/* ---- 5. plan_build */

static const char *bundlefs_exe(arena *a)
{
    /* tests/unit/test_plan in the build folder; the command is tools/bundlefs there */
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    assert_true(n > 0);
    self[n] = '\0';
    const char *exe =
        arena_printf(a, "%s/tools/bundlefs", dirname_of(a, dirname_of(a, dirname_of(a, self))));
    if (access(exe, X_OK) != 0)
        fail_msg("%s is missing: build the bundlefs target first", exe);
    return exe;
}

typedef struct chain {
    const char *app, *liba, *libb, *libc2;
} chain;

static chain chain_paths(arena *a)
{
    return (chain){fixture(a, "chain/app"), fixture(a, "chain/liba.so"),
                   fixture(a, "chain/lib/libb.so"), fixture(a, "chain/other/libc2.so")};
}

static void plan_ok(const trace *t, const plan_opts *o, arena *a, layout *l, plan_summary *s)
{
    bf_err err;
    if (plan_build(t, o, a, l, s, &err) != BF_OK)
        fail_msg("plan_build: %s", err.msg);
}

/* What every plan of the chain holds, whichever way its bindings were found. */
static void check_chain(arena *a, const layout *l, const plan_summary *s, const char *origin)
{
    chain c = chain_paths(a);
    print_warnings(l);
    assert_int_equal(l->nwarnings, 0); /* the emulation agrees with the trace */
    assert_string_equal(l->name, "app");
    assert_string_equal(l->launcher, "bin/app");
    assert_int_equal(l->nobjects, 4);
    assert_int_equal(s->objects, 4);
    assert_int_equal(l->nmissing, 0);
    long app = object_index(l, c.app), liba = object_index(l, c.liba);
    long libb = object_index(l, c.libb), libc2 = object_index(l, c.libc2);
    const layout_object *o = &l->objects[app];
    assert_string_equal(o->root, "program");
    assert_string_equal(o->real, expected_real(a, c.app));
    assert_string_equal(o->hash, file_hash(a, c.app));
    assert_int_equal(o->ndeps, 3);

    const layout_dep *d = dep(o, "liba.so");
    assert_int_equal(d->status, LAYOUT_DEP_BUNDLED);
    assert_int_equal(d->target, liba);
    assert_string_equal(d->found, c.liba);
    assert_string_equal(d->kind, "needed");
    assert_string_equal(d->origin, origin);
    assert_non_null(d->step);
    d = dep(o, c.libc2);
    assert_int_equal(d->status, LAYOUT_DEP_BUNDLED);
    assert_int_equal(d->target, libc2);
    assert_string_equal(d->step, "path");
    d = dep(o, "libc.so.6");
    assert_int_equal(d->status, LAYOUT_DEP_EXCLUDED);
    assert_int_equal(d->target, -1);
    assert_string_equal(leaf(d->found), "libc.so.6");
    assert_non_null(d->step);
    d = dep(&l->objects[liba], "libb.so");
    assert_int_equal(d->status, LAYOUT_DEP_BUNDLED);
    assert_int_equal(d->target, libb);
    assert_string_equal(d->found, c.libb);
    assert_non_null(d->step);
    for (size_t i = 0; i < l->objects[libb].ndeps; i++)
        assert_int_not_equal(l->objects[libb].deps[i].status, LAYOUT_DEP_BUNDLED);

    assert_int_equal(l->nexcluded, 1);
    assert_string_equal(l->excluded[0].name, "libc.so.6");
    assert_string_equal(l->excluded[0].rule, "glibc core");

    /* reals, their symlink folders and edits */
    const char *r_app = expected_real(a, c.app), *r_a = expected_real(a, c.liba);
    const char *r_b = expected_real(a, c.libb), *r_c2 = expected_real(a, c.libc2);
    assert_string_equal(l->objects[liba].real, r_a);
    assert_string_equal(l->objects[libb].real, r_b);
    assert_string_equal(l->objects[libc2].real, r_c2);
    assert_symlink(l, arena_printf(a, "symlinks/%s/liba.so", leaf(r_app)),
                   arena_printf(a, "../../%s", r_a));
    assert_symlink(l, arena_printf(a, "symlinks/%s/libc2.so", leaf(r_app)),
                   arena_printf(a, "../../%s", r_c2));
    assert_symlink(l, arena_printf(a, "symlinks/%s/libb.so", leaf(r_a)),
                   arena_printf(a, "../../%s", r_b));
    assert_null(entry(l, arena_printf(a, "symlinks/%s/libc.so.6", leaf(r_app))));
    assert_null(entry(l, arena_printf(a, "symlinks/%s", leaf(r_b))));
    assert_symlink(l, "bin/b/app", arena_printf(a, "../../%s", r_app));

    const layout_entry *e = entry(l, r_app);
    assert_non_null(e);
    assert_int_equal(e->type, LAYOUT_FILE);
    assert_string_equal(e->source, c.app);
    assert_string_equal(e->hash, file_hash(a, c.app));
    struct stat st;
    assert_int_equal(stat(c.app, &st), 0);
    assert_int_equal(e->size, (uint64_t)st.st_size);
    assert_int_equal(e->mode, st.st_mode & 07777);
    assert_true(e->has_edit);
    assert_rpath_reaches(a, l, e);
    assert_false(e->edit.remove_rpath);
    assert_null(e->edit.runpath);
    assert_int_equal(e->edit.nneeded, 1);
    assert_string_equal(e->edit.needed[0].from, c.libc2);
    assert_string_equal(e->edit.needed[0].to, "libc2.so");

    e = entry(l, r_a);
    assert_non_null(e);
    assert_true(e->has_edit);
    assert_rpath_reaches(a, l, e);
    assert_int_equal(e->edit.nneeded, 0);
    e = entry(l, r_b);
    assert_non_null(e);
    assert_false(e->has_edit); /* no bundled dependency, no RPATH to remove */
    e = entry(l, r_c2);
    assert_non_null(e);
    assert_true(e->has_edit); /* its DT_RUNPATH would search the target's /nonexistent */
    assert_true(e->edit.remove_rpath);
    assert_null(e->edit.rpath);

    e = entry(l, "bin/app");
    assert_non_null(e);
    assert_int_equal(e->type, LAYOUT_GENERATED);
    assert_int_equal(e->mode, 0755);
    assert_int_equal(e->content_len, strlen(e->content));
    assert_true(!strncmp(e->content, "#!/bin/sh\n", 10));
    const char *exec = "\nexec \"$b/bin/b/\"'app' \"$@\"\n";
    assert_string_equal(e->content + strlen(e->content) - strlen(exec), exec);
    assert_null(strstr(e->content, "PYTHON"));
    assert_null(strstr(e->content, "LD_LIBRARY_PATH"));
    assert_symlinks_land(a, l);

    /* the highest GLIBC_ version any bundled binary asks for, as objdump reads them */
    char *want = test_capture("objdump -p '%s' '%s' '%s' '%s' | grep -o 'GLIBC_2[0-9.]*' | "
                              "sort -V | tail -n 1 | tr -d '\\n'",
                              c.app, c.liba, c.libb, c.libc2);
    assert_non_null(want);
    assert_non_null(l->requires_glibc);
    assert_string_equal(l->requires_glibc, want);
    free(want);
}

static void chain_traced(void **state)
{
    arena *a = arena_new();
    const char *tr = fixture(a, "chain/t.json");
    test_run("cd '%s/chain' && '%s' trace -o '%s' -- ./app >/dev/null", base, bundlefs_exe(a), tr);
    trace t;
    bf_err err;
    if (trace_read_file(tr, a, &t, &err) != BF_OK)
        fail_msg("%s", err.msg);
    layout l;
    plan_summary s;
    plan_opts o = {0};
    plan_ok(&t, &o, a, &l, &s);
    check_chain(a, &l, &s, "trace");

    /* the emulation alone finds the same closure, entry for entry */
    arena *b = arena_new();
    chain c = chain_paths(b);
    layout ls;
    plan_summary ss;
    plan_ok(static_trace(b, c.app), &o, b, &ls, &ss);
    check_chain(b, &ls, &ss, "static");
    assert_string_equal(dep(&ls.objects[object_index(&ls, c.app)], "liba.so")->step, "rpath");
    assert_string_equal(dep(&ls.objects[object_index(&ls, c.liba)], "libb.so")->step, "rpath");
    assert_int_equal(l.nentries, ls.nentries);
    for (size_t i = 0; i < l.nentries; i++) {
        const layout_entry *x = &l.entries[i], *y = &ls.entries[i];
        assert_string_equal(x->path, y->path);
        assert_int_equal(x->type, y->type);
        if (x->type == LAYOUT_SYMLINK)
            assert_string_equal(x->target, y->target);
        if (x->type == LAYOUT_GENERATED)
            assert_string_equal(x->content, y->content);
        if (x->type == LAYOUT_FILE && x->edit.rpath)
            assert_string_equal(x->edit.rpath, y->edit.rpath);
    }
    arena_free(b);
    arena_free(a);
}

/* The launcher from the plan, copied into two folders with a stand-in program: arguments,
 * standard output and exit status pass through, from wherever the folder is and however
 * the launcher is named on the command line. */
static void launcher_runs(void **state)
{
    arena *a = arena_new();
    chain c = chain_paths(a);
    layout l;
    plan_summary s;
    plan_opts o = {.name = "a/b"};
    bf_err err;
    assert_int_equal(plan_build(static_trace(a, c.app), &o, a, &l, &s, &err), BF_FAIL);
    assert_non_null(strstr(err.msg, "--name"));
    o.name = "tool";
    plan_ok(static_trace(a, c.app), &o, a, &l, &s);
    const layout_entry *e = entry(&l, "bin/tool");
    assert_non_null(e);
    static const char *const where[] = {"run/one", "run/two words/deeper"};
    for (size_t i = 0; i < 2; i++) {
        const char *root = fixture(a, where[i]);
        test_run("mkdir -p '%s/bin/b'", root);
        test_write_text(root, "bin/tool", e->content);
        test_write_text(root, "bin/b/app",
                        "#!/bin/sh\nprintf '[%s]' \"${0##*/}\" \"$@\"\nexit 7\n");
        test_run("chmod 755 '%s/bin/tool' '%s/bin/b/app'", root, root);
    }
    /* the folder to run in, and how to call the launcher from there */
    static const char *const runs[][2] = {
        {"run/one/bin", "./tool"},
        {"run", "'two words/deeper/bin/tool'"},
        {"run/two words/deeper", "sh bin/tool"},
        {"run/one/bin", "PATH=\"$PWD:$PATH\" tool"},
        {"run/two words/deeper/bin", "../bin/../bin/tool"},
        /* a CDPATH holding a bin/ folder must not send the launcher elsewhere */
        {"run/two words/deeper", "CDPATH=\"$PWD/../../one\" sh bin/tool"},
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        char *out = test_output(a, "cd '%s/%s' && %s 'a b' '' \"c'd\"; echo \" $?\"", base,
                                runs[i][0], runs[i][1]);
        assert_string_equal(out, "[app][a b][][c'd] 7\n");
    }
    arena_free(a);
}

/* The launcher of a CPython program passes the interpreter's own options, up to the program
 * (a script now in app/, -c CODE or -m MODULE), before the user's arguments. The
 * "interpreter" here is a C program with Python facts written by hand around it. */
static void launcher_python_args(void **state)
{
    arena *a = arena_new();
    test_run("mkdir -p '%s/py/lib/python3.11' '%s/pyapp' && touch '%s/py/lib/python3.11/os.py' "
             "'%s/pyapp/main.py'",
             base, base, base, base);
    const char *script = fixture(a, "pyapp/main.py");
    static const char *const cases[][9] = {
        /* the last item is what follows exec "$b/bin/b/"'plain' */
        {"--check-hash-based-pycs", "default", "-X", "dev", "@", "arg",
         "'--check-hash-based-pycs' 'default' '-X' 'dev' \"$b/app/\"'main.py' \"$@\""},
        {"-bb", "-Wignore", "-Xdev", "--", "@", "-c", "'-bb' '-Wignore' '-Xdev' '--' "
         "\"$b/app/\"'main.py' \"$@\""},
        {"-c", "print('hi')", "-m", "'-c' 'print('\\''hi'\\'')' \"$@\""},
        {"-E", "-Om", "mod", "x", "'-Om' 'mod' \"$@\""},
        {"--help-env", "-c", "pass", "'--help-env' '-c' 'pass' \"$@\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        trace *t = static_trace(a, fixture(a, "same/plain"));
        trace_python *py = arena_alloc(a, sizeof *py);
        t->processes[0].python = py;
        py->stdlib = fixture(a, "py/lib/python3.11");
        py->prefix = py->base_prefix = fixture(a, "py");
        py->cache_tag = "cpython-311";
        py->version_info.items = arena_alloc(a, 2 * sizeof(char *));
        py->version_info.items[0] = "3";
        py->version_info.items[1] = "11";
        py->version_info.count = 2;
        py->orig_argv.items = arena_alloc(a, 10 * sizeof(char *));
        py->orig_argv.items[py->orig_argv.count++] = "/usr/bin/python3";
        size_t n = 0;
        while (cases[i][n + 1])
            n++;
        for (size_t k = 0; k < n; k++) {
            const char *arg = strcmp(cases[i][k], "@") ? cases[i][k] : script;
            py->orig_argv.items[py->orig_argv.count++] = arg;
            if (arg == script)
                py->main_script = script;
            if (k && !strcmp(cases[i][k - 1], "-Om"))
                py->main_module = arg;
        }
        layout l;
        plan_summary s;
        plan_opts o = {0};
        plan_ok(t, &o, a, &l, &s);
        const layout_entry *e = entry(&l, l.launcher);
        assert_non_null(e);
        const char *want = arena_printf(a, "\nexec \"$b/bin/b/\"'plain' %s\n", cases[i][n]);
        const char *at = strstr(e->content, "\nexec ");
        if (!at || strcmp(at, want))
            fail_msg("case %zu: the launcher ends with\n%s\nnot\n%s", i, at ? at : "(no exec)",
                     want);
        assert_non_null(entry(&l, "python/lib/python3.11/os.py"));
        assert_int_equal(entry(&l, "app/main.py") != NULL, py->main_script != NULL);
        bool warned = false; /* -E would make the interpreter ignore PYTHONHOME */
        for (size_t k = 0; k < l.nwarnings; k++)
            warned |= strstr(l.warnings[k], "-E") != NULL;
        assert_int_equal(warned, !strcmp(cases[i][0], "-E"));
    }
    arena_free(a);
}

static void missing_dependency(void **state)
{
    arena *a = arena_new();
    const char *app = fixture(a, "missing/app"), *half = fixture(a, "missing/libhalf.so");
    const char *gone = fixture(a, "missing/libgone.so");
    layout l;
    plan_summary s;
    plan_opts o = {0};
    bf_err err;
    assert_int_equal(plan_build(static_trace(a, app), &o, a, &l, &s, &err), BF_FAIL);
    assert_non_null(strstr(err.msg, half)); /* the requester */
    assert_non_null(strstr(err.msg, "libgone.so"));
    assert_non_null(strstr(err.msg, gone)); /* its RPATH candidate */
    assert_non_null(strstr(err.msg, "--allow-missing"));
    assert_null(strstr(err.msg, "more dependencies"));

    o.allow_missing = true;
    plan_ok(static_trace(a, app), &o, a, &l, &s);
    assert_int_equal(l.nmissing, 1);
    assert_int_equal(s.missing, 1);
    assert_string_equal(l.missing[0].requester, half);
    assert_string_equal(l.missing[0].name, "libgone.so");
    bool tried = false;
    for (size_t i = 0; i < l.missing[0].ntried; i++)
        tried |= !strcmp(l.missing[0].tried[i], gone);
    assert_true(tried);
    assert_int_equal(l.nobjects, 2);
    const layout_object *obj = &l.objects[object_index(&l, half)];
    assert_int_equal(dep(obj, "libgone.so")->status, LAYOUT_DEP_MISSING);
    assert_int_equal(dep(obj, "libgone.so")->target, -1);
    const char *r_half = expected_real(a, half);
    assert_null(entry(&l, arena_printf(a, "symlinks/%s", leaf(r_half))));
    /* nothing bundled to find: its RPATH would only search the build machine's folder */
    const layout_entry *e = entry(&l, r_half);
    assert_true(e->has_edit);
    assert_true(e->edit.remove_rpath);
    assert_null(e->edit.rpath);
    arena_free(a);
}

/* The chain's plan, materialized and run without its sources; then neither a program nor a
 * library of that bundle can be bundled again. */
static void refuses_bundles(void **state)
{
    arena *a = arena_new();
    chain c = chain_paths(a);
    layout l;
    plan_summary s;
    plan_opts o = {0};
    bf_err err;
    const char *dest = fixture(a, "inbundle"), *json = fixture(a, "inbundle.json");
    plan_ok(static_trace(a, c.app), &o, a, &l, &s);
    fs_materialize_opts mo = {.layout_path = json};
    fs_materialize_stats ms;
    if (layout_write_file(&l, json, &err) != BF_OK || fs_materialize(&l, dest, &mo, &ms, &err))
        fail_msg("%s", err.msg);
    test_run("mv '%s/chain' '%s/chain.away'", base, base);
    char *out = test_output(a, "'%s/bin/app' 2>&1; echo \" $?\"", dest);
    test_run("mv '%s/chain.away' '%s/chain'", base, base);
    assert_string_equal(out, "b\n 0\n");

    const char *exe = arena_printf(a, "%s/bin/b/app", dest);
    assert_int_equal(plan_build(static_trace(a, exe), &o, a, &l, &s, &err), BF_FAIL);
    assert_non_null(strstr(err.msg, "inside the bundle"));
    assert_non_null(strstr(err.msg, arena_printf(a, "%s/%s", dest, expected_real(a, c.app))));
    assert_non_null(strstr(err.msg, arena_printf(a, "bundle %s ", dest)));
    /* a library of the bundle, found through its symlinks/ folder by a program outside */
    test_run("cd '%s/depbundle' && "
             "printf 'int a_fn(void);\\nint main(void){ return a_fn() - 1; }\\n' > uses.c && "
             "gcc -o uses uses.c -L'%s/chain' -la -Wl,-rpath,'%s/symlinks/%s' "
             "-Wl,--disable-new-dtags",
             base, base, dest, leaf(expected_real(a, c.app)));
    const char *uses = fixture(a, "depbundle/uses");
    assert_int_equal(plan_build(static_trace(a, uses), &o, a, &l, &s, &err), BF_FAIL);
    assert_non_null(strstr(err.msg, "inside the bundle"));
    assert_non_null(strstr(err.msg, arena_printf(a, "%s/%s", dest, expected_real(a, c.liba))));
    /* a bundle.json of another kind makes no bundle */
    plan_ok(static_trace(a, fixture(a, "depbundle/app")), &o, a, &l, &s);
    assert_int_equal(l.nobjects, 2);
    assert_int_equal(object_index(&l, fixture(a, "depbundle/b/libgone.so")), 1);
    arena_free(a);
}

static void same_content(void **state)
{
    arena *a = arena_new();
    const char *app = fixture(a, "same/app"), *x = fixture(a, "same/libx.so");
    const char *y = fixture(a, "same/liby.so");
    assert_string_equal(file_hash(a, x), file_hash(a, y));
    layout l;
    plan_summary s;
    plan_opts o = {0};
    /* asked for by two names: one real, both names in the requester's folder */
    plan_ok(static_trace(a, app), &o, a, &l, &s);
    print_warnings(&l);
    assert_int_equal(l.nobjects, 2);
    long ia = object_index(&l, app), ix = object_index(&l, x);
    const char *r_app = expected_real(a, app), *r_x = expected_real(a, x);
    assert_string_equal(l.objects[ix].real, r_x);
    assert_int_equal(dep(&l.objects[ia], "libx.so")->target, ix);
    assert_int_equal(dep(&l.objects[ia], "liby.so")->target, ix);
    assert_symlink(&l, arena_printf(a, "symlinks/%s/libx.so", leaf(r_app)),
                   arena_printf(a, "../../%s", r_x));
    assert_symlink(&l, arena_printf(a, "symlinks/%s/liby.so", leaf(r_app)),
                   arena_printf(a, "../../%s", r_x));
    size_t files = 0;
    for (size_t i = 0; i < l.nentries; i++)
        files += l.entries[i].type == LAYOUT_FILE;
    assert_int_equal(files, 2);
    assert_int_equal(s.files, 2);

    /* dlopen'd by two names with no caller folder: one real, both names in lib/l */
    trace *t = static_trace(a, fixture(a, "same/plain"));
    trace_dlopen(t, "libx.so", x);
    trace_dlopen(t, "liby.so", y);
    layout m;
    plan_ok(t, &o, a, &m, &s);
    print_warnings(&m);
    assert_int_equal(m.nobjects, 2);
    ix = object_index(&m, x);
    assert_string_equal(m.objects[ix].root, "trace");
    assert_int_equal(m.objects[ix].naliases, 2);
    assert_string_equal(m.objects[ix].aliases[0], "lib/l/libx.so");
    assert_string_equal(m.objects[ix].aliases[1], "lib/l/liby.so");
    assert_symlink(&m, "lib/l/libx.so", arena_printf(a, "../../%s", r_x));
    assert_symlink(&m, "lib/l/liby.so", arena_printf(a, "../../%s", r_x));
    const layout_entry *launcher = entry(&m, "bin/plain");
    assert_non_null(launcher);
    assert_non_null(strstr(launcher->content, "LD_LIBRARY_PATH=\"$b/lib/l"));
    assert_symlinks_land(a, &m);
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(real_names),
        cmocka_unit_test(relative_paths),
        cmocka_unit_test(hash_matches_xxh3),
        cmocka_unit_test(policy_defaults),
        cmocka_unit_test(policy_globs),
        cmocka_unit_test(chain_traced),
        cmocka_unit_test(launcher_runs),
        cmocka_unit_test(launcher_python_args),
        cmocka_unit_test(missing_dependency),
        cmocka_unit_test(refuses_bundles),
        cmocka_unit_test(same_content),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

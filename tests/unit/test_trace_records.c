/* trace_from_records on recorder files written by hand, event by event as the LD_AUDIT
 * recorder writes them, with real files of this machine as objects (/bin/ls and
 * /usr/bin/python3.11 and their libraries) so that what the assembler reads from disk (DT_NEEDED,
 * SONAME, device and inode) is real; what is "needed" is checked against readelf. Each
 * assembled trace must also survive trace_write_file and trace_read_file. */
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundlefs/trace.h"
#include "test_util.h"

#define LIBDIR "/lib/x86_64-linux-gnu/"

/* Every test's folders are in one, removed when the tests end, failed or not. */
static char *base;

static int setup(void **state)
{
    base = test_tmpdir("trace-rec");
    return 0;
}

static int teardown(void **state)
{
    test_rmdir(base);
    return 0;
}

static const char *fresh_dir(arena *a)
{
    static unsigned n;
    const char *d = arena_printf(a, "%s/%u", base, n++);
    assert_int_equal(mkdir(d, 0700), 0);
    return d;
}

/* ---- Writing record files */

typedef struct rec {
    test_buf b;
    unsigned long long seq;
    long tid;
} rec;

static void rec_text(rec *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rec_text(rec *r, const char *fmt, ...)
{
    char line[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof line);
    test_buf_printf(&r->b, "%s", line);
}

static void rec_header(rec *r, long pid, long ppid, const char *origin, long parent_pid,
                       unsigned long long fork_seq, unsigned long long started, const char *exe)
{
    r->tid = pid;
    rec_text(r, "H\t1\t%ld\t%ld\t%s\t%ld\t%llu\t%llu\t%s\n", pid, ppid, origin, parent_pid,
             fork_seq, started, exe);
}

/* An event: kind, the next sequence number, the thread, then the fields in fmt. */
static void rec_event(rec *r, char kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void rec_event(rec *r, char kind, const char *fmt, ...)
{
    char rest[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(rest, sizeof rest, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof rest);
    rec_text(r, "%c\t%llu\t%ld%s\n", kind, r->seq++, r->tid, rest);
}

/* la_objopen: the recorder stats the file (the executable for the main program). */
static void ev_open(rec *r, long id, long lmid, const char *name, const char *file)
{
    struct stat st;
    bool have = *file && stat(file, &st) == 0;
    char *real = have ? realpath(file, NULL) : NULL;
    rec_event(r, 'O', "\t%ld\t%ld\t%llu\t%llu\t%s\t%s", id, lmid,
              have ? (unsigned long long)st.st_dev : 0, have ? (unsigned long long)st.st_ino : 0,
              name, real ? real : "\\0");
    free(real);
}

static void ev_search(rec *r, long requester, unsigned flag, const char *name)
{
    rec_event(r, 'S', "\t%ld\t%u\t%s", requester, flag, name);
}

static void ev_dlopen(rec *r, long caller, long lmid, long mode, const char *name)
{
    rec_event(r, 'D', "\t%ld\t%ld\t%ld\t%s", caller, lmid, mode, name);
}

static void ev_activity(rec *r, unsigned flag)
{
    rec_event(r, 'A', "\t0\t%u", flag);
}

static void ev_close(rec *r, long id)
{
    rec_event(r, 'C', "\t%ld", id);
}

/* A dlclose as glibc 2.36 reports it (seen in a real recording): the close, then the
 * namespace's delete and consistent activity. */
static void ev_dlclose(rec *r, long id)
{
    ev_close(r, id);
    ev_activity(r, LA_ACT_DELETE);
    ev_activity(r, LA_ACT_CONSISTENT);
}

/* A search for name by requester through the config step that maps file as object id. */
static void ev_load(rec *r, long requester, const char *name, long id, const char *file)
{
    ev_search(r, requester, LA_SER_ORIG, name);
    ev_search(r, requester, LA_SER_CONFIG, file);
    ev_open(r, id, 0, file, file);
}

/* The start-up of /bin/ls as the recorder saw it (objects 0 to 5), with a RUNPATH candidate
 * that did not exist before the one that was mapped. */
static void ls_startup(rec *r)
{
    ev_open(r, 0, 0, "", "/bin/ls");
    ev_open(r, 1, 0, "/lib64/ld-linux-x86-64.so.2", "/lib64/ld-linux-x86-64.so.2");
    ev_activity(r, LA_ACT_ADD);
    ev_open(r, 2, 0, "linux-vdso.so.1", "");
    ev_search(r, 0, LA_SER_ORIG, "libselinux.so.1");
    ev_search(r, 0, LA_SER_RUNPATH, "/nonexistent/rp/libselinux.so.1");
    ev_search(r, 0, LA_SER_CONFIG, LIBDIR "libselinux.so.1");
    ev_open(r, 3, 0, LIBDIR "libselinux.so.1", LIBDIR "libselinux.so.1");
    ev_load(r, 0, "libc.so.6", 4, LIBDIR "libc.so.6");
    ev_load(r, 3, "libpcre2-8.so.0", 5, LIBDIR "libpcre2-8.so.0");
    ev_activity(r, LA_ACT_CONSISTENT);
    rec_event(r, 'P', "%s", "");
}

/* The exit as the loader reports it: every object of the namespace closed, main first. */
static void ls_exit(rec *r)
{
    ev_activity(r, LA_ACT_DELETE);
    static const long order[] = {0, 3, 5, 4, 1};
    for (size_t i = 0; i < sizeof order / sizeof *order; i++)
        ev_close(r, order[i]);
    ev_activity(r, LA_ACT_CONSISTENT);
    rec_event(r, 'X', "%s", "");
}

static void rec_save(rec *r, const char *dir, const char *name)
{
    test_write_text(dir, name, r->b.s ? r->b.s : "");
    free(r->b.s);
    *r = (rec){0};
}

/* ---- Reading the result */

/* Assembles dir, and checks the trace is one the reader takes back unchanged in shape. */
static trace assemble(arena *a, const char *dir)
{
    trace t = {.version = TRACE_FORMAT_VERSION};
    bf_err err;
    if (trace_from_records(dir, a, &t, &err))
        fail_msg("%s", err.msg);
    const char *out = arena_printf(a, "%s/assembled.json", dir);
    if (trace_write_file(&t, out, &err))
        fail_msg("%s", err.msg);
    trace back;
    if (trace_read_file(out, a, &back, &err))
        fail_msg("the assembled trace is not readable: %s", err.msg);
    unlink(out);
    assert_int_equal(back.nprocesses, t.nprocesses);
    assert_int_equal(back.warnings.count, t.warnings.count);
    for (size_t i = 0; i < t.nprocesses; i++) {
        assert_int_equal(back.processes[i].nobjects, t.processes[i].nobjects);
        assert_int_equal(back.processes[i].nloads, t.processes[i].nloads);
    }
    return t;
}

static const trace_object *object(const trace_process *p, long id)
{
    for (size_t i = 0; i < p->nobjects; i++)
        if (p->objects[i].id == id)
            return &p->objects[i];
    fail_msg("process %ld has no object %ld", p->pid, id);
    return NULL;
}

static bool has_object(const trace_process *p, long id)
{
    for (size_t i = 0; i < p->nobjects; i++)
        if (p->objects[i].id == id)
            return true;
    return false;
}

/* The nth load (from 0) asked for name. */
static const trace_load *load(const trace_process *p, const char *name, int nth)
{
    for (size_t i = 0; i < p->nloads; i++)
        if (!strcmp(p->loads[i].name, name) && nth-- == 0)
            return &p->loads[i];
    fail_msg("process %ld has no load of %s", p->pid, name);
    return NULL;
}

static void expect_load(const trace_load *l, enum trace_kind kind, long requester,
                        enum trace_status status, long obj)
{
    if (l->kind != kind || l->requester != requester || l->status != status || l->object != obj)
        fail_msg("load of %s: %s by %ld, %s, object %ld; expected %s by %ld, %s, object %ld",
                 l->name, trace_kind_name(l->kind), l->requester, trace_status_name(l->status),
                 l->object, trace_kind_name(kind), requester, trace_status_name(status), obj);
}

static void expect_candidates(const trace_load *l, size_t n, const char *const *pairs)
{
    if (l->ncandidates != n)
        fail_msg("load of %s: %zu candidates, expected %zu", l->name, l->ncandidates, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(l->candidates[i].path, pairs[2 * i]);
        assert_string_equal(l->candidates[i].step, pairs[2 * i + 1]);
    }
}

/* A warning holding both words. */
static bool warned(const trace *t, const char *w1, const char *w2)
{
    for (size_t i = 0; i < t->warnings.count; i++)
        if (strstr(t->warnings.items[i], w1) && strstr(t->warnings.items[i], w2))
            return true;
    return false;
}

static void no_warnings(const trace *t)
{
    if (t->warnings.count)
        fail_msg("unexpected warning: %s", t->warnings.items[0]);
}

/* Whether readelf lists name as a DT_NEEDED entry of file. */
static bool readelf_needs(const char *file, const char *name)
{
    char *out = test_capture("readelf -d '%s'", file);
    assert_non_null(out);
    char want[512];
    snprintf(want, sizeof want, "Shared library: [%s]", name);
    bool found = strstr(out, want) != NULL;
    free(out);
    return found;
}

/* ---- Tests */

/* DT_NEEDED chains of /bin/ls: the search name, its candidates with their steps, the new
 * object; and a search nobody announced for a name that is no DT_NEEDED entry (a dlopen
 * glibc makes itself). */
static void needed_chain(void **state)
{
    arena *a = arena_new();
    const char *dir = fresh_dir(a);
    rec r = {0};
    rec_header(&r, 1000, 999, "exec", 0, 0, 100, "/usr/bin/ls");
    rec_text(&r, "V\t/bin/ls\nV\t-l\n");
    ls_startup(&r);
    ev_load(&r, 4, "libnss_files.so.2", 6, LIBDIR "libnss_files.so.2");
    ls_exit(&r);
    rec_save(&r, dir, "1000-0.rec");
    trace t = assemble(a, dir);
    no_warnings(&t);
    assert_int_equal(t.nprocesses, 1);
    const trace_process *p = &t.processes[0];
    assert_int_equal(p->pid, 1000);
    assert_int_equal(p->ppid, 999);
    assert_int_equal(p->parent, -1);
    assert_string_equal(p->origin, "exec");
    assert_string_equal(p->exe, "/usr/bin/ls");
    assert_int_equal(p->argv.count, 2);
    assert_string_equal(p->argv.items[1], "-l");
    assert_true(p->audited);
    assert_true(p->reached_exit);
    assert_int_equal(p->nobjects, 7);
    assert_string_equal(object(p, 0)->name, "");
    assert_string_equal(object(p, 0)->file, "/usr/bin/ls");
    assert_string_equal(object(p, 0)->realpath, "/usr/bin/ls");
    assert_null(object(p, 2)->realpath);
    struct stat st;
    assert_int_equal(stat(LIBDIR "libc.so.6", &st), 0);
    assert_int_equal(object(p, 4)->ino, st.st_ino);
    assert_int_equal(object(p, 4)->dev, st.st_dev);
    assert_int_equal(p->nloads, 4);

    /* what readelf says each requester needs, the trace must call "needed" */
    static const struct {
        const char *name, *requester_file;
        long requester, obj;
    } want[] = {
        {"libselinux.so.1", "/bin/ls", 0, 3},
        {"libc.so.6", "/bin/ls", 0, 4},
        {"libpcre2-8.so.0", LIBDIR "libselinux.so.1", 3, 5},
        {"libnss_files.so.2", LIBDIR "libc.so.6", 4, 6},
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        const trace_load *l = &p->loads[i];
        assert_string_equal(l->name, want[i].name);
        bool needed = readelf_needs(want[i].requester_file, want[i].name);
        expect_load(l, needed ? TRACE_NEEDED : TRACE_DLOPEN, want[i].requester, TRACE_LOADED,
                    want[i].obj);
        assert_int_equal(l->mode, -1);
        assert_int_equal(l->tid, 1000);
        assert_int_equal(l->lmid, 0);
    }
    /* the control: libc does not need the NSS module, so the last is a dlopen */
    assert_int_equal(p->loads[3].kind, TRACE_DLOPEN);
    assert_int_equal(p->loads[0].kind, TRACE_NEEDED);
    static const char *const selinux[] = {"/nonexistent/rp/libselinux.so.1", "runpath",
                                          LIBDIR "libselinux.so.1", "config"};
    expect_candidates(&p->loads[0], 2, selinux);
    static const char *const pcre[] = {LIBDIR "libpcre2-8.so.0", "config"};
    expect_candidates(&p->loads[2], 1, pcre);
    /* the exit closes everything; nothing was dlclose'd */
    for (size_t i = 0; i < p->nobjects; i++)
        assert_false(p->objects[i].closed);
    assert_null(p->python);
    arena_free(a);
}

/* python3.11's own DT_NEEDED entries, and a name on LD_PRELOAD asked for first by the main
 * program before start-up ends: a preload, although python3.11 does not need it. */
static void needed_python_and_preload(void **state)
{
    arena *a = arena_new();
    const char *dir = fresh_dir(a);
    rec r = {0};
    rec_header(&r, 1100, 1, "exec", 0, 0, 100, "/usr/bin/python3.11");
    rec_text(&r, "V\tpython3\nE\tLD_PRELOAD\tlibpcre2-8.so.0\n");
    ev_open(&r, 0, 0, "", "/usr/bin/python3.11");
    ev_open(&r, 1, 0, "/lib64/ld-linux-x86-64.so.2", "/lib64/ld-linux-x86-64.so.2");
    ev_load(&r, 0, "libpcre2-8.so.0", 2, LIBDIR "libpcre2-8.so.0");
    static const char *const names[] = {"libm.so.6", "libz.so.1", "libexpat.so.1", "libc.so.6"};
    for (size_t i = 0; i < 4; i++)
        ev_load(&r, 0, names[i], 3 + (long)i, arena_printf(a, LIBDIR "%s", names[i]));
    /* libm needs ld-linux-x86-64.so.2 by that name (mapped already, so no search); a search
     * for a name libm does not need */
    ev_load(&r, 3, "libselinux.so.1", 7, LIBDIR "libselinux.so.1");
    ev_activity(&r, LA_ACT_CONSISTENT);
    rec_event(&r, 'P', "%s", "");
    rec_save(&r, dir, "1100-0.rec");
    trace t = assemble(a, dir);
    no_warnings(&t);
    const trace_process *p = &t.processes[0];
    assert_int_equal(p->nloads, 6);
    expect_load(&p->loads[0], TRACE_PRELOAD, 0, TRACE_LOADED, 2);
    for (size_t i = 0; i < 4; i++) {
        assert_true(readelf_needs("/usr/bin/python3.11", names[i]));
        expect_load(&p->loads[1 + i], TRACE_NEEDED, 0, TRACE_LOADED, 3 + (long)i);
    }
    assert_false(readelf_needs(LIBDIR "libm.so.6", "libselinux.so.1"));
    expect_load(&p->loads[5], TRACE_DLOPEN, 3, TRACE_LOADED, 7);
    assert_false(p->reached_exit);
    arena_free(a);
}

/* A dlopen call and the search it leads to are one load of kind dlopen, with the caller as
 * requester and the call's namespace and mode; then dlopen calls that reach no search: the
 * loader matched the name against an object's l_name, a name it was loaded under, or its
 * SONAME. */
static void dlopen_calls(void **state)
{
    arena *a = arena_new();
    const char *dir = fresh_dir(a);
    rec r = {0};
    rec_header(&r, 1200, 1, "exec", 0, 0, 100, "/usr/bin/ls");
    ls_startup(&r);
    ev_dlopen(&r, 5, 0, RTLD_NOW | RTLD_GLOBAL, "libz.so.1");
    ev_search(&r, 5, LA_SER_ORIG, "libz.so.1");
    ev_search(&r, 5, LA_SER_LIBPATH, "/nonexistent/ld_library_path/libz.so.1");
    ev_search(&r, 5, LA_SER_DEFAULT, LIBDIR "libz.so.1");
    ev_open(&r, 6, 0, LIBDIR "libz.so.1", LIBDIR "libz.so.1");
    ev_activity(&r, LA_ACT_CONSISTENT);
    ev_dlopen(&r, 0, 0, RTLD_LAZY, "/usr/lib/x86_64-linux-gnu/libexpat.so.1.8.10");
    ev_search(&r, 0, LA_SER_ORIG, "/usr/lib/x86_64-linux-gnu/libexpat.so.1.8.10");
    ev_open(&r, 7, 0, "/usr/lib/x86_64-linux-gnu/libexpat.so.1.8.10",
            "/usr/lib/x86_64-linux-gnu/libexpat.so.1.8.10");
    ev_dlopen(&r, 0, 0, RTLD_NOW, LIBDIR "libz.so.1");       /* its l_name */
    ev_dlopen(&r, 3, 0, RTLD_NOW, "libz.so.1");              /* the name it was loaded under */
    ev_dlopen(&r, 0, 0, RTLD_LAZY, "libexpat.so.1");         /* its SONAME */
    ev_dlopen(&r, 0, 0, RTLD_LAZY, "libpcre2-8.so.0");       /* a NEEDED name */
    ev_dlopen(&r, 0, 0, RTLD_LAZY, "libnothing.so.9");       /* matches nothing */
    rec_save(&r, dir, "1200-0.rec");
    trace t = assemble(a, dir);
    const trace_process *p = &t.processes[0];
    const trace_load *z = load(p, "libz.so.1", 0);
    expect_load(z, TRACE_DLOPEN, 5, TRACE_LOADED, 6);
    assert_int_equal(z->mode, RTLD_NOW | RTLD_GLOBAL);
    static const char *const zc[] = {"/nonexistent/ld_library_path/libz.so.1", "libpath",
                                     LIBDIR "libz.so.1", "default"};
    expect_candidates(z, 2, zc);
    const trace_load *x = load(p, "/usr/lib/x86_64-linux-gnu/libexpat.so.1.8.10", 0);
    expect_load(x, TRACE_DLOPEN, 0, TRACE_LOADED, 7);
    assert_int_equal(x->mode, RTLD_LAZY);
    assert_int_equal(x->ncandidates, 0);
    expect_load(load(p, LIBDIR "libz.so.1", 0), TRACE_DLOPEN, 0, TRACE_ALREADY_LOADED, 6);
    expect_load(load(p, "libz.so.1", 1), TRACE_DLOPEN, 3, TRACE_ALREADY_LOADED, 6);
    expect_load(load(p, "libexpat.so.1", 0), TRACE_DLOPEN, 0, TRACE_ALREADY_LOADED, 7);
    expect_load(load(p, "libpcre2-8.so.0", 1), TRACE_DLOPEN, 0, TRACE_ALREADY_LOADED, 5);
    const trace_load *none = load(p, "libnothing.so.9", 0);
    assert_int_equal(none->status, TRACE_ALREADY_LOADED);
    assert_int_equal(none->object, -1);
    assert_true(warned(&t, "1200-0.rec", "libnothing.so.9"));
    assert_int_equal(t.warnings.count, 1);
    assert_int_equal(p->nloads, 10);
    arena_free(a);
}

/* Searches that mapped nothing: failed with every candidate when no candidate is a mapped
 * file, already-loaded when one is (the same file under another path). */
static void searches_without_object(void **state)
{
    arena *a = arena_new();
    const char *dir = fresh_dir(a);
    rec r = {0};
    rec_header(&r, 1300, 1, "exec", 0, 0, 100, "/usr/bin/ls");
    ls_startup(&r);
    ev_dlopen(&r, 0, 0, RTLD_NOW, "libnotthere.so.7");
    ev_search(&r, 0, LA_SER_ORIG, "libnotthere.so.7");
    ev_search(&r, 0, LA_SER_RUNPATH, "/nonexistent/libnotthere.so.7");
    ev_search(&r, 0, LA_SER_DEFAULT, LIBDIR "libnotthere.so.7");
    ev_search(&r, 0, LA_SER_DEFAULT, "/usr/lib/libnotthere.so.7");
    ev_activity(&r, LA_ACT_CONSISTENT);
    /* a candidate that exists but is not mapped (the loader refused it) */
    ev_dlopen(&r, 0, 0, RTLD_NOW, "libz.so.1");
    ev_search(&r, 0, LA_SER_ORIG, "libz.so.1");
    ev_search(&r, 0, LA_SER_DEFAULT, LIBDIR "libz.so.1");
    /* a path to a mapped file by another name: /usr/lib/... is /lib/... */
    ev_dlopen(&r, 0, 0, RTLD_NOW, "/usr/lib/x86_64-linux-gnu/libc.so.6");
    ev_search(&r, 0, LA_SER_ORIG, "/usr/lib/x86_64-linux-gnu/libc.so.6");
    /* a NEEDED-style search (no dlopen call) whose candidate is a mapped file */
    ev_search(&r, 3, LA_SER_ORIG, "libpcre2-8.so.0");
    ev_search(&r, 3, LA_SER_RUNPATH, "/usr/lib/x86_64-linux-gnu/libpcre2-8.so.0");
    rec_save(&r, dir, "1300-0.rec");
    trace t = assemble(a, dir);
    no_warnings(&t);
    const trace_process *p = &t.processes[0];
    const trace_load *l = load(p, "libnotthere.so.7", 0);
    expect_load(l, TRACE_DLOPEN, 0, TRACE_FAILED, -1);
    static const char *const nc[] = {"/nonexistent/libnotthere.so.7", "runpath",
                                     LIBDIR "libnotthere.so.7", "default",
                                     "/usr/lib/libnotthere.so.7", "default"};
    expect_candidates(l, 3, nc);
    expect_load(load(p, "libz.so.1", 0), TRACE_DLOPEN, 0, TRACE_FAILED, -1);
    expect_load(load(p, "/usr/lib/x86_64-linux-gnu/libc.so.6", 0), TRACE_DLOPEN, 0,
                TRACE_ALREADY_LOADED, 4);
    const trace_load *pc = load(p, "libpcre2-8.so.0", 1);
    expect_load(pc, TRACE_NEEDED, 3, TRACE_ALREADY_LOADED, 5);
    assert_int_equal(pc->ncandidates, 1);
    assert_int_equal(p->nobjects, 6);
    arena_free(a);
}

/* dlclose: the objects closed by a close run that does not hold the main program are
 * closed; the loader's close of everything at exit is not a dlclose. */
static void closes(void **state)
{
    arena *a = arena_new();
    const char *dir = fresh_dir(a);
    rec r = {0};
    rec_header(&r, 1400, 1, "exec", 0, 0, 100, "/usr/bin/ls");
    ls_startup(&r);
    ev_dlopen(&r, 0, 0, RTLD_NOW, "libz.so.1");
    ev_load(&r, 0, "libz.so.1", 6, LIBDIR "libz.so.1");
    ev_activity(&r, LA_ACT_CONSISTENT);
    ev_dlclose(&r, 6);
    ev_dlopen(&r, 0, 0, RTLD_NOW, "libexpat.so.1");
    ev_load(&r, 0, "libexpat.so.1", 7, LIBDIR "libexpat.so.1");
    ev_activity(&r, LA_ACT_CONSISTENT);
    /* the order of a dlclose with the delete activity first */
    ev_activity(&r, LA_ACT_DELETE);
    ev_close(&r, 7);
    ev_activity(&r, LA_ACT_CONSISTENT);
    ev_dlopen(&r, 0, 0, RTLD_NOW, "libm.so.6");
    ev_load(&r, 0, "libm.so.6", 8, LIBDIR "libm.so.6");
    ls_exit(&r);
    rec_save(&r, dir, "1400-0.rec");
    trace t = assemble(a, dir);
    no_warnings(&t);
    const trace_process *p = &t.processes[0];
    assert_true(object(p, 6)->closed);
    assert_true(object(p, 7)->closed);
    for (long id = 0; id <= 8; id++)
        if (id != 6 && id != 7 && object(p, id)->closed)
            fail_msg("object %ld is marked closed; only the exit closed it", id);
    assert_true(p->reached_exit);
    arena_free(a);
}

/* A dlclose as the program's last act, so the exit's close run follows it directly (a
 * plug-in closed just before main returns). */
static void close_right_before_exit(void **state)
{
    arena *a = arena_new();
    const char *dir = fresh_dir(a);
    rec r = {0};
    rec_header(&r, 1450, 1, "exec", 0, 0, 100, "/usr/bin/ls");
    ls_startup(&r);
    ev_dlopen(&r, 0, 0, RTLD_NOW, "libz.so.1");
    ev_load(&r, 0, "libz.so.1", 6, LIBDIR "libz.so.1");
    ev_activity(&r, LA_ACT_CONSISTENT);
    ev_dlclose(&r, 6);
    ls_exit(&r);
    rec_save(&r, dir, "1450-0.rec");
    trace t = assemble(a, dir);
    const trace_process *p = &t.processes[0];
    if (!object(p, 6)->closed)
        fail_msg("libz.so.1 was dlclose'd (C 6, A delete, A consistent) before the exit, yet "
                 "the trace says it stayed open");
    assert_false(object(p, 3)->closed);
    arena_free(a);
}

/* The start-up of a program needing only libc, then dlmopen(LM_ID_NEWLM, "libz.so.1"), as
 * recorded from a real run: the new namespace is 2 (the recorder has 1), and its libc needs
 * ld.so, which every namespace shares, so that search maps nothing. */
static void dlmopen_startup(rec *r)
{
    ev_open(r, 0, 0, "", "/bin/true");
    ev_open(r, 1, 0, "/lib64/ld-linux-x86-64.so.2", "/lib64/ld-linux-x86-64.so.2");
    ev_open(r, 2, 0, "linux-vdso.so.1", "");
    ev_load(r, 0, "libc.so.6", 3, LIBDIR "libc.so.6");
    ev_activity(r, LA_ACT_CONSISTENT);
    rec_event(r, 'P', "%s", "");
    ev_dlopen(r, 0, -1, RTLD_NOW, "libz.so.1");
    ev_search(r, 0, LA_SER_ORIG, "libz.so.1");
    ev_search(r, 0, LA_SER_CONFIG, LIBDIR "libz.so.1");
    rec_event(r, 'A', "\t-1\t%u", LA_ACT_ADD);
    ev_open(r, 4, 2, LIBDIR "libz.so.1", LIBDIR "libz.so.1");
    ev_search(r, 4, LA_SER_ORIG, "libc.so.6");
    ev_search(r, 4, LA_SER_CONFIG, LIBDIR "libc.so.6");
    ev_open(r, 5, 2, LIBDIR "libc.so.6", LIBDIR "libc.so.6");
    ev_search(r, 5, LA_SER_ORIG, "ld-linux-x86-64.so.2");
    ev_search(r, 5, LA_SER_CONFIG, LIBDIR "ld-linux-x86-64.so.2");
    rec_event(r, 'A', "\t4\t%u", LA_ACT_CONSISTENT);
}

/* The exit of the main namespace as recorded: delete, closes (main first), consistent. */
static void true_exit(rec *r)
{
    ev_activity(r, LA_ACT_DELETE);
    ev_close(r, 0);
    ev_close(r, 3);
    ev_close(r, 1);
    ev_activity(r, LA_ACT_CONSISTENT);
    rec_event(r, 'X', "%s", "");
}

/* A namespace still open at exit: the loader closes it first, as a run of its own (delete,
 * closes, consistent); that is the exit, not a dlclose. */
static void exit_with_second_namespace(void **state)
{
    arena *a = arena_new();
    const char *dir = fresh_dir(a);
    rec r = {0};
    rec_header(&r, 2000, 1, "exec", 0, 0, 100, "/usr/bin/true");
    dlmopen_startup(&r);
    rec_event(&r, 'A', "\t4\t%u", LA_ACT_DELETE);
    ev_close(&r, 4);
    ev_close(&r, 5);
    rec_event(&r, 'A', "\t4\t%u", LA_ACT_CONSISTENT);
    true_exit(&r);
    rec_save(&r, dir, "2000-0.rec");
    trace t = assemble(a, dir);
    const trace_process *p = &t.processes[0];
    assert_int_equal(object(p, 4)->lmid, 2);
    for (long id = 0; id <= 5; id++)
        if (object(p, id)->closed)
            fail_msg("object %ld (namespace %ld) is marked dlclose'd; only the exit closed it",
                     id, object(p, id)->lmid);
    arena_free(a);
}

/* The loads of the second namespace; ld.so is in every namespace (glibc adds it without
 * la_objopen), so its search mapped nothing because it was there already. */
static void second_namespace_loads(void **state)
{
    arena *a = arena_new();
    const char *dir = fresh_dir(a);
    rec r = {0};
    rec_header(&r, 2050, 1, "exec", 0, 0, 100, "/usr/bin/true");
    dlmopen_startup(&r);
    true_exit(&r);
    rec_save(&r, dir, "2050-0.rec");
    trace t = assemble(a, dir);
    const trace_process *p = &t.processes[0];
    expect_load(load(p, "libz.so.1", 0), TRACE_DLOPEN, 0, TRACE_LOADED, 4);
    expect_load(load(p, "libc.so.6", 1), TRACE_NEEDED, 4, TRACE_LOADED, 5);
    assert_int_equal(load(p, "libc.so.6", 1)->lmid, 2);
    const trace_load *ld = load(p, "ld-linux-x86-64.so.2", 0);
    if (ld->status == TRACE_FAILED)
        fail_msg("the second namespace's ld-linux-x86-64.so.2 is reported as failed; the "
                 "program ran, so the loader had it");
    arena_free(a);
}

/* dlclose of the whole second namespace as the program's last act, as recorded: the closes
 * (one of them the shared ld.so, which has no cookie) and the delete, with no consistent
 * (glibc does not signal it for a namespace left empty), then the exit. */
static void namespace_closed_before_exit(void **state)
{
    arena *a = arena_new();
    const char *dir = fresh_dir(a);
    rec r = {0};
    rec_header(&r, 2100, 1, "exec", 0, 0, 100, "/usr/bin/true");
    dlmopen_startup(&r);
    ev_close(&r, 4);
    ev_close(&r, 5);
    ev_close(&r, -1);
    rec_event(&r, 'A', "\t4\t%u", LA_ACT_DELETE);
    true_exit(&r);
    rec_save(&r, dir, "2100-0.rec");
    trace t = assemble(a, dir);
    const trace_process *p = &t.processes[0];
    for (long id = 4; id <= 5; id++)
        if (!object(p, id)->closed)
            fail_msg("object %ld was dlclose'd before the exit, yet the trace says it stayed "
                     "open", id);
    for (long id = 0; id <= 3; id++)
        assert_false(object(p, id)->closed);
    arena_free(a);
}

/* A forked child has what its parent had mapped at the fork (opened before fork_seq and not
 * closed before it), as inherited objects; a fork of that child inherits them again. */
static void fork_inherits(void **state)
{
    arena *a = arena_new();
    const char *dir = fresh_dir(a);
    rec r = {0};
    rec_header(&r, 1500, 1, "exec", 0, 0, 100, "/usr/bin/ls");
    ls_startup(&r);
    ev_dlopen(&r, 0, 0, RTLD_NOW, "libz.so.1");
    ev_load(&r, 0, "libz.so.1", 6, LIBDIR "libz.so.1");
    ev_dlopen(&r, 0, 0, RTLD_NOW, LIBDIR "libexpat.so.1");
    ev_search(&r, 0, LA_SER_ORIG, LIBDIR "libexpat.so.1");
    ev_open(&r, 7, 0, LIBDIR "libexpat.so.1", LIBDIR "libexpat.so.1");
    ev_dlopen(&r, 0, 0, RTLD_NOW, "libm.so.6");
    ev_load(&r, 0, "libm.so.6", 8, LIBDIR "libm.so.6");
    ev_dlclose(&r, 6); /* closed before the fork */
    /* the fork: parent and child go on counting from the same number */
    unsigned long long fork_seq = r.seq;
    ev_dlclose(&r, 8); /* closed after the fork: the child still has it */
    ev_dlopen(&r, 0, 0, RTLD_NOW, "libnss_files.so.2");
    ev_load(&r, 0, "libnss_files.so.2", 9, LIBDIR "libnss_files.so.2"); /* after the fork */
    rec_save(&r, dir, "1500-0.rec");

    rec c = {.seq = fork_seq};
    rec_header(&c, 1501, 1500, "fork", 1500, fork_seq, 200, "/usr/bin/ls");
    ev_dlopen(&c, 0, 0, RTLD_NOW, "libz.so.1");
    ev_load(&c, 0, "libz.so.1", 9, LIBDIR "libz.so.1");
    ev_dlopen(&c, 0, 0, RTLD_NOW, LIBDIR "libexpat.so.1"); /* the inherited one, by l_name */
    unsigned long long child_fork = c.seq;
    rec_save(&c, dir, "1501-0.rec");

    rec g = {.seq = child_fork};
    rec_header(&g, 1502, 1501, "fork", 1501, child_fork, 300, "/usr/bin/ls");
    ev_dlopen(&g, 0, 0, RTLD_NOW, "libm.so.6"); /* inherited through two forks */
    rec_save(&g, dir, "1502-0.rec");

    trace t = assemble(a, dir);
    no_warnings(&t);
    assert_int_equal(t.nprocesses, 3);
    const trace_process *p = &t.processes[0], *ch = &t.processes[1], *gc = &t.processes[2];
    assert_int_equal(p->pid, 1500);
    assert_true(object(p, 6)->closed);
    assert_true(object(p, 8)->closed);
    assert_false(object(p, 7)->closed);

    assert_int_equal(ch->pid, 1501);
    assert_string_equal(ch->origin, "fork");
    assert_int_equal(ch->parent, 0);
    assert_int_equal(ch->ppid, 1500);
    static const long inherited[] = {0, 1, 2, 3, 4, 5, 7, 8};
    for (size_t i = 0; i < sizeof inherited / sizeof *inherited; i++) {
        const trace_object *o = object(ch, inherited[i]);
        if (!o->inherited || o->closed)
            fail_msg("child: object %ld should be inherited and open", inherited[i]);
    }
    /* libz was closed before the fork; the child's own object 9 is its libz */
    const trace_object *own = object(ch, 9);
    assert_false(own->inherited);
    assert_string_equal(own->name, LIBDIR "libz.so.1");
    assert_int_equal(ch->nobjects, 9);
    assert_int_equal(ch->nloads, 2);
    expect_load(load(ch, "libz.so.1", 0), TRACE_DLOPEN, 0, TRACE_LOADED, 9);
    expect_load(load(ch, LIBDIR "libexpat.so.1", 0), TRACE_DLOPEN, 0, TRACE_ALREADY_LOADED, 7);
    assert_string_equal(object(ch, 0)->file, "/usr/bin/ls");

    assert_int_equal(gc->parent, 1);
    for (long id = 0; id <= 9; id++)
        if (id != 6 && (!has_object(gc, id) || !object(gc, id)->inherited))
            fail_msg("grandchild: object %ld should be inherited", id);
    assert_int_equal(gc->nobjects, 9);
    expect_load(load(gc, "libm.so.6", 0), TRACE_DLOPEN, 0, TRACE_ALREADY_LOADED, 8);
    arena_free(a);
}

/* Damage: lines that are no record and a last line cut short are warnings naming the file;
 * the records around them are kept. Escapes are undone. */
static void damaged_lines(void **state)
{
    arena *a = arena_new();
    const char *dir = fresh_dir(a);
    rec r = {0};
    rec_header(&r, 1600, 1, "exec", 0, 0, 100, "/usr/bin/ls");
    rec_text(&r, "V\ta\\x09b\\\\c\n");
    ls_startup(&r);
    rec_text(&r, "hello\n");                                /* no kind */
    rec_text(&r, "\n");                                     /* empty */
    rec_text(&r, "O\tx\t1600\t6\t0\t0\t0\t/a\t\\0\n");     /* seq not a number */
    rec_text(&r, "S\t50\t1600\t0\t1\n");                    /* a field short */
    rec_text(&r, "O\t51\t1600\t6\t0\t0\t0\t/a\\q\t\\0\n"); /* bad escape */
    rec_text(&r, "O\t52\t1600\t6\t0\t0\t0\t/a\\x00\t\\0\n"); /* NUL */
    rec_text(&r, "O\t53\t1600\t-1\t0\t0\t0\t/a\t\\0\n");   /* negative object */
    rec_text(&r, "Q\t54\t1600\n");                          /* unknown kind */
    rec_text(&r, "H\t1\t1\t1\texec\t0\t0\t1\t/x\n");        /* a second header */
    r.seq = 60;
    ev_open(&r, 6, 0, "/tmp/odd\\\\dir\\x09x.so", "");
    ev_dlopen(&r, 0, 0, RTLD_NOW, "libz.so.1");
    ev_load(&r, 0, "libz.so.1", 7, LIBDIR "libz.so.1");
    rec_text(&r, "O\t99\t1600\t8\t0\t0\t0\t" LIBDIR "libm"); /* cut short */
    rec_save(&r, dir, "1600-0.rec");
    trace t = assemble(a, dir);
    const trace_process *p = &t.processes[0];
    assert_true(warned(&t, "1600-0.rec", "cut short"));
    assert_true(warned(&t, "1600-0.rec", "9 of "));
    assert_int_equal(t.warnings.count, 2);
    assert_int_equal(p->pid, 1600);
    assert_string_equal(p->exe, "/usr/bin/ls");
    assert_int_equal(p->argv.count, 1);
    assert_string_equal(p->argv.items[0], "a\tb\\c");
    assert_int_equal(p->nobjects, 8);
    assert_string_equal(object(p, 6)->name, "/tmp/odd\\dir\tx.so");
    assert_false(has_object(p, 8));
    expect_load(load(p, "libz.so.1", 0), TRACE_DLOPEN, 0, TRACE_LOADED, 7);
    expect_load(load(p, "libselinux.so.1", 0), TRACE_NEEDED, 0, TRACE_LOADED, 3);
    arena_free(a);
}

/* A record file with no header is left out with a warning; the others are assembled. An
 * empty folder gives no process; a folder that cannot be read fails. */
static void headerless_and_missing(void **state)
{
    arena *a = arena_new();
    const char *dir = fresh_dir(a);
    rec r = {0};
    rec_header(&r, 1700, 1, "exec", 0, 0, 100, "/usr/bin/ls");
    ls_startup(&r);
    rec_save(&r, dir, "1700-0.rec");
    r.tid = 1701;
    ls_startup(&r);
    rec_save(&r, dir, "1701-0.rec");
    test_write_text(dir, "1702-0.rec", "");
    test_write_text(dir, "notes.txt", "not a record\n");
    trace t = assemble(a, dir);
    assert_int_equal(t.nprocesses, 1);
    assert_int_equal(t.processes[0].pid, 1700);
    assert_true(warned(&t, "1701-0.rec", "no header"));
    assert_true(warned(&t, "1702-0.rec", "no header"));
    assert_int_equal(t.warnings.count, 2);

    t = assemble(a, fresh_dir(a));
    assert_int_equal(t.nprocesses, 0);
    no_warnings(&t);

    const char *missing = arena_printf(a, "%s/nonexistent", dir);
    trace t2 = {0};
    bf_err err;
    assert_int_equal(trace_from_records(missing, a, &t2, &err), BF_FAIL);
    assert_non_null(strstr(err.msg, missing));
    arena_free(a);
}

/* A record file of a process that recorded no event (killed before its first flush of
 * events, or cut): a process with nothing loaded. */
static void header_only(void **state)
{
    arena *a = arena_new();
    const char *dir = fresh_dir(a);
    rec r = {0};
    rec_header(&r, 1750, 1, "exec", 0, 0, 100, "/usr/bin/ls");
    rec_text(&r, "V\tls\n");
    rec_save(&r, dir, "1750-0.rec");
    trace t = assemble(a, dir);
    no_warnings(&t);
    assert_int_equal(t.nprocesses, 1);
    assert_int_equal(t.processes[0].nobjects, 0);
    assert_int_equal(t.processes[0].nloads, 0);
    arena_free(a);
}

/* Records that name objects the file never opened (an objopen line lost, or damaged
 * numbers): the trace written must still be one the reader takes, whose references all
 * resolve. */
static void unknown_objects(void **state)
{
    arena *a = arena_new();
    const char *dir = fresh_dir(a);
    rec r = {0};
    rec_header(&r, 1760, 1, "exec", 0, 0, 100, "/usr/bin/ls");
    ls_startup(&r);
    ev_search(&r, 9, LA_SER_ORIG, "libz.so.1");            /* requester 9 was never opened */
    ev_search(&r, 9, LA_SER_CONFIG, LIBDIR "libz.so.1");
    ev_open(&r, 6, 0, LIBDIR "libz.so.1", LIBDIR "libz.so.1");
    ev_dlopen(&r, -7, 0, RTLD_NOW, "libm.so.6");            /* a caller that is no number */
    ev_load(&r, -7, "libm.so.6", 7, LIBDIR "libm.so.6");
    ev_close(&r, 42);
    rec_save(&r, dir, "1760-0.rec");
    trace t = assemble(a, dir);
    const trace_process *p = &t.processes[0];
    assert_int_equal(load(p, "libz.so.1", 0)->object, 6);
    assert_int_equal(load(p, "libm.so.6", 0)->object, 7);
    arena_free(a);
}

/* Two threads searching at once: each search and object belong to the thread's own load. */
static void threads_interleaved(void **state)
{
    arena *a = arena_new();
    const char *dir = fresh_dir(a);
    rec r = {0};
    rec_header(&r, 1800, 1, "exec", 0, 0, 100, "/usr/bin/ls");
    ls_startup(&r);
    r.tid = 1801;
    ev_dlopen(&r, 0, 0, RTLD_NOW, "libz.so.1");
    ev_search(&r, 0, LA_SER_ORIG, "libz.so.1");
    r.tid = 1802;
    ev_dlopen(&r, 5, 0, RTLD_LAZY, "libm.so.6");
    ev_search(&r, 5, LA_SER_ORIG, "libm.so.6");
    r.tid = 1801;
    ev_search(&r, 0, LA_SER_CONFIG, LIBDIR "libz.so.1");
    r.tid = 1802;
    ev_search(&r, 5, LA_SER_DEFAULT, LIBDIR "libm.so.6");
    ev_open(&r, 6, 0, LIBDIR "libm.so.6", LIBDIR "libm.so.6");
    r.tid = 1801;
    ev_open(&r, 7, 0, LIBDIR "libz.so.1", LIBDIR "libz.so.1");
    rec_save(&r, dir, "1800-0.rec");
    trace t = assemble(a, dir);
    no_warnings(&t);
    const trace_process *p = &t.processes[0];
    const trace_load *z = load(p, "libz.so.1", 0), *m = load(p, "libm.so.6", 0);
    expect_load(z, TRACE_DLOPEN, 0, TRACE_LOADED, 7);
    expect_load(m, TRACE_DLOPEN, 5, TRACE_LOADED, 6);
    assert_int_equal(z->tid, 1801);
    assert_int_equal(m->tid, 1802);
    static const char *const zc[] = {LIBDIR "libz.so.1", "config"};
    static const char *const mc[] = {LIBDIR "libm.so.6", "default"};
    expect_candidates(z, 1, zc);
    expect_candidates(m, 1, mc);
    arena_free(a);
}

/* A Python hook record as the hook writes it. */
static const char *py_record(arena *a, long pid, long ppid, const char *forked_from,
                             unsigned long long started)
{
    return arena_printf(a,
        "{\"format\":\"bundlefs-python-facts\",\"version\":1,\"pid\":%ld,\"ppid\":%ld,"
        "\"forked_from\":%s,\"started_ns\":%llu,\"complete\":true,\"end\":\"exit\","
        "\"executable\":\"/usr/bin/python3\",\"executable_realpath\":\"/usr/bin/python3.11\","
        "\"orig_argv\":[\"python3\",\"app.py\"],\"argv\":[\"app.py\"],"
        "\"python_version\":\"3.11.2\",\"version_info\":[3,11,2,\"final\",0],"
        "\"implementation\":\"cpython\",\"cache_tag\":\"cpython-311\",\"abiflags\":\"\","
        "\"multiarch\":\"x86_64-linux-gnu\",\"soabi\":\"cpython-311-x86_64-linux-gnu\","
        "\"extension_suffixes\":[\".so\"],\"prefix\":\"/usr\",\"base_prefix\":\"/usr\","
        "\"exec_prefix\":\"/usr\",\"base_exec_prefix\":\"/usr\",\"platlibdir\":\"lib\","
        "\"stdlib\":\"/usr/lib/python3.11\",\"lib_dynload\":\"/usr/lib/python3.11/lib-dynload\","
        "\"path_start\":[],\"path_exit\":[],\"modules\":[],\"hook_imported\":[],"
        "\"main_script\":null,\"main_module\":null,\"cwd\":\"/\",\"env\":{},"
        "\"flags\":{\"isolated\":false,\"ignore_environment\":false,\"no_site\":false,"
        "\"no_user_site\":false,\"safe_path\":false}}\n",
        pid, ppid, forked_from, started);
}

/* Hook records join the process image of their pid that was running when the hook started;
 * a Python process without a record file (a forked child that loaded nothing, or one the
 * recorder did not run in) becomes a process of its own. */
static void python_records_join(void **state)
{
    arena *a = arena_new();
    const char *dir = fresh_dir(a);
    rec r = {0};
    rec_header(&r, 1900, 1, "exec", 0, 0, 100, "/usr/bin/python3.11");
    ev_open(&r, 0, 0, "", "/usr/bin/python3.11");
    ev_load(&r, 0, "libm.so.6", 1, LIBDIR "libm.so.6");
    ev_dlopen(&r, 0, 0, RTLD_NOW, "libz.so.1");
    ev_load(&r, 0, "libz.so.1", 2, LIBDIR "libz.so.1");
    ev_dlclose(&r, 2);
    rec_save(&r, dir, "1900-0.rec");
    test_write_text(dir, "py-1900-0.json", py_record(a, 1900, 1, "null", 150));
    /* a forked Python child with no record file: it inherits what is open */
    test_write_text(dir, "py-1901-0.json", py_record(a, 1901, 1900, "1900", 300));
    /* a Python the recorder did not see, started by 1900 */
    test_write_text(dir, "py-1950-0.json", py_record(a, 1950, 1900, "null", 400));
    test_write_text(dir, "py-1960-0.json", "{\"format\":\"bundlefs-python-facts\"");
    trace t = assemble(a, dir);
    assert_true(warned(&t, "py-1960-0.json", "not a Python hook record"));
    assert_int_equal(t.warnings.count, 1);
    assert_int_equal(t.nprocesses, 3);
    const trace_process *p = &t.processes[0];
    assert_int_equal(p->pid, 1900);
    assert_non_null(p->python);
    assert_int_equal(p->python->pid, 1900);
    assert_int_equal(p->python->forked_from, -1);
    assert_string_equal(p->python->soabi, "cpython-311-x86_64-linux-gnu");
    const trace_process *f = NULL, *e = NULL;
    for (size_t i = 1; i < t.nprocesses; i++) {
        if (t.processes[i].pid == 1901)
            f = &t.processes[i];
        if (t.processes[i].pid == 1950)
            e = &t.processes[i];
    }
    assert_non_null(f);
    assert_non_null(e);
    assert_non_null(f->python);
    assert_int_equal(f->python->pid, 1901);
    assert_string_equal(f->origin, "fork");
    assert_int_equal(f->parent, 0);
    assert_true(f->audited);
    assert_int_equal(f->nobjects, 2);
    assert_true(object(f, 0)->inherited);
    assert_true(object(f, 1)->inherited);
    assert_false(has_object(f, 2));
    assert_string_equal(e->origin, "exec");
    assert_int_equal(e->parent, 0);
    assert_false(e->audited);
    assert_non_null(e->not_audited_why);
    assert_int_equal(e->python->pid, 1950);
    assert_string_equal(e->exe, "/usr/bin/python3.11");
    assert_int_equal(e->argv.count, 2);
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(needed_chain),
        cmocka_unit_test(needed_python_and_preload),
        cmocka_unit_test(dlopen_calls),
        cmocka_unit_test(searches_without_object),
        cmocka_unit_test(closes),
        cmocka_unit_test(close_right_before_exit),
        cmocka_unit_test(exit_with_second_namespace),
        cmocka_unit_test(second_namespace_loads),
        cmocka_unit_test(namespace_closed_before_exit),
        cmocka_unit_test(fork_inherits),
        cmocka_unit_test(damaged_lines),
        cmocka_unit_test(headerless_and_missing),
        cmocka_unit_test(unknown_objects),
        cmocka_unit_test(threads_interleaved),
        cmocka_unit_test(python_records_join),
        /* last: under UBSan its failure ends the program */
        cmocka_unit_test(header_only),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

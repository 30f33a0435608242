/* trace_write_file and trace_read_file: a trace holding every kind of field (a path that is not
 * UTF-8 included) comes back from a write and a read field for field, byte for byte; every way
 * a trace file can be broken is refused with a message naming the file and the problem.
 * trace_python_read_file on a hand-written hook record, on broken ones, and on records the real
 * Python hook writes when Debian's python3 runs with it. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundlefs/trace.h"
#include "test_util.h"

/* A path with a Latin-1 byte and bytes no UTF-8 text holds, and its {"hex": ...} form. */
static const char NOT_UTF8[] = "/opt/caf\xe9/lib\xff\xfe.so";
static const char NOT_UTF8_HEX[] = "2f6f70742f636166e92f6c6962fffe2e736f";

static char *tmp;

static int setup(void **state)
{
    tmp = test_tmpdir("trace-read");
    return 0;
}

static int teardown(void **state)
{
    test_rmdir(tmp);
    return 0;
}

static const char *tmp_path(arena *a, const char *name)
{
    return arena_printf(a, "%s/%s", tmp, name);
}

static trace_strlist strs(arena *a, size_t n, ...)
{
    trace_strlist l = {arena_alloc(a, (n + 1) * sizeof(char *)), n};
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        l.items[i] = va_arg(ap, const char *);
    va_end(ap);
    return l;
}

static trace_python *sample_python(arena *a, long pid, bool at_exit)
{
    trace_python *py = arena_alloc(a, sizeof *py);
    *py = (trace_python){
        .pid = pid, .ppid = 1, .forked_from = at_exit ? -1 : 100,
        .started_ns = 9223372036854775807ull, /* the largest value JSON integers carry here */
        .complete = at_exit, .end = at_exit ? "exit" : "running",
        .executable = "/usr/bin/python3", .executable_realpath = "/usr/bin/python3.11",
        .orig_argv = strs(a, 3, "/usr/bin/python3", "-c", "import ctypes"),
        .argv = strs(a, 1, "-c"),
        .python_version = "3.11.2 (main, Mar 13 2023, 12:18:29) [GCC 12.2.0]",
        .implementation = "cpython", .cache_tag = "cpython-311", .abiflags = "",
        .multiarch = "x86_64-linux-gnu",
        .soabi = at_exit ? "cpython-311-x86_64-linux-gnu" : NULL,
        .version_info = strs(a, 5, "3", "11", "2", "final", "0"),
        .extension_suffixes = strs(a, 3, ".cpython-311-x86_64-linux-gnu.so", ".abi3.so", ".so"),
        .prefix = "/usr", .base_prefix = "/usr", .exec_prefix = "/usr/local",
        .base_exec_prefix = "/usr", .platlibdir = "lib", .stdlib = "/usr/lib/python3.11",
        .lib_dynload = "/usr/lib/python3.11/lib-dynload",
        .path_start = strs(a, 2, "/usr/lib/python3.11", NOT_UTF8),
        .path_exit = at_exit ? strs(a, 1, "/usr/lib/python3.11") : (trace_strlist){NULL, 0},
        .hook_imported = strs(a, 2, "atexit", "time"),
        .main_script = NULL, .main_module = "__main__", .cwd = "/home/\xc3\xa9t\xc3\xa9",
        .isolated = true, .no_site = true, .safe_path = true,
    };
    py->nmodules = 3;
    py->modules = arena_alloc(a, 3 * sizeof *py->modules);
    py->modules[0] = (trace_pymodule){"sys", "built-in", NULL};
    py->modules[1] = (trace_pymodule){"_ctypes",
                                      "/usr/lib/python3.11/lib-dynload/"
                                      "_ctypes.cpython-311-x86_64-linux-gnu.so",
                                      "/usr/lib/python3.11/lib-dynload/"
                                      "_ctypes.cpython-311-x86_64-linux-gnu.so"};
    py->modules[2] = (trace_pymodule){"odd", NOT_UTF8, NOT_UTF8};
    py->nenv = 3;
    py->env = arena_alloc(a, 3 * sizeof *py->env);
    py->env[0] = (trace_env){"LD_LIBRARY_PATH", "/opt/lib:"};
    py->env[1] = (trace_env){"PYTHONHOME", NULL};
    py->env[2] = (trace_env){"PYTHONPATH", NOT_UTF8};
    return py;
}

static trace_candidate *cands(arena *a, size_t n, const char *const *pairs)
{
    trace_candidate *c = arena_alloc(a, (n + 1) * sizeof *c);
    for (size_t i = 0; i < n; i++)
        c[i] = (trace_candidate){pairs[2 * i], pairs[2 * i + 1]};
    return c;
}

static trace_object object(long id, const char *name, const char *file, const char *real,
                           uint64_t dev, uint64_t ino)
{
    return (trace_object){.id = id, .name = name, .file = file, .realpath = real, .dev = dev,
                          .ino = ino};
}

/* Two processes: a Python that loaded, dlopen'ed, preloaded and failed, with object ids that
 * are not contiguous and a second namespace; and its forked child that was not audited. */
static trace sample_trace(arena *a)
{
    trace_process *p = arena_alloc(a, 2 * sizeof *p);
    trace_object *o = arena_alloc(a, 5 * sizeof *o);
    o[0] = object(0, "", "/usr/bin/python3.11", "/usr/bin/python3.11", 65024, 247970);
    o[1] = object(1, "/lib/x86_64-linux-gnu/libm.so.6", "/lib/x86_64-linux-gnu/libm.so.6",
                  "/usr/lib/x86_64-linux-gnu/libm.so.6", 65024, 333211);
    o[2] = object(2, "linux-vdso.so.1", "linux-vdso.so.1", NULL, 0, 0);
    o[3] = object(3, NOT_UTF8, NOT_UTF8, NOT_UTF8, 2049, 77);
    o[3].lmid = 1;
    o[3].closed = true;
    o[4] = object(7, "/usr/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1",
                  "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13", 65024, 9);
    static const char *const libm_cands[] = {"/opt/rp/libm.so.6", "runpath",
                                             "/lib/x86_64-linux-gnu/libm.so.6", "config"};
    const char *odd_cands[] = {NOT_UTF8, "default"};
    static const char *const foo_cands[] = {"/usr/lib/libfoo.so", "default",
                                            "/lib/libfoo.so", "secure"};
    trace_load *l = arena_alloc(a, 5 * sizeof *l);
    l[0] = (trace_load){TRACE_NEEDED, 0, "libm.so.6", 0, -1, 100, cands(a, 2, libm_cands), 2,
                        TRACE_LOADED, 1};
    l[1] = (trace_load){TRACE_DLOPEN, 7, NOT_UTF8, 1, 0x102, 101, cands(a, 1, odd_cands), 1,
                        TRACE_LOADED, 3};
    l[2] = (trace_load){TRACE_PRELOAD, 0, "libfoo.so", 0, -1, 100, cands(a, 2, foo_cands), 2,
                        TRACE_FAILED, -1};
    l[3] = (trace_load){TRACE_DLOPEN, -1, "libm.so.6", 0, 1, 100, NULL, 0,
                        TRACE_ALREADY_LOADED, 1};
    l[4] = (trace_load){TRACE_DLOPEN, 0, "libgone.so", 0, 2, 100, NULL, 0,
                        TRACE_ALREADY_LOADED, -1};
    p[0] = (trace_process){.pid = 100, .ppid = 1, .parent = -1, .origin = "exec",
                           .started_ns = 18224769944820, .exe = "/usr/bin/python3.11",
                           .argv = strs(a, 3, "python3", "-c", "import ctypes"),
                           .audited = true, .reached_exit = true, .objects = o, .nobjects = 5,
                           .loads = l, .nloads = 5, .python = sample_python(a, 100, true)};
    trace_object *inh = arena_alloc(a, sizeof *inh);
    *inh = o[1];
    inh->inherited = true;
    p[1] = (trace_process){.pid = 101, .ppid = 100, .parent = 0, .origin = "fork",
                           .started_ns = 18224769944999, .exe = NOT_UTF8, .argv = strs(a, 0),
                           .audited = false, .not_audited_why = "set-uid program",
                           .objects = inh, .nobjects = 1, .loads = arena_alloc(a, 1),
                           .python = sample_python(a, 101, false)};
    return (trace){.version = TRACE_FORMAT_VERSION,
                   .command = strs(a, 3, "python3", "-c", "import ctypes"),
                   .cwd = NOT_UTF8, .exit_code = -1, .exit_signal = 9,
                   .warnings = strs(a, 2, "first warning", "caf\xc3\xa9"),
                   .processes = p, .nprocesses = 2};
}

/* ---- Field-by-field comparison; a difference names the field. */

static void same_str(const char *what, const char *x, const char *y)
{
    if (!x || !y) {
        if (x != y)
            fail_msg("%s: %s vs %s", what, x ? x : "(null)", y ? y : "(null)");
    } else if (strcmp(x, y)) {
        fail_msg("%s: \"%s\" vs \"%s\"", what, x, y);
    }
}

static void same_num(const char *what, long long x, long long y)
{
    if (x != y)
        fail_msg("%s: %lld vs %lld", what, x, y);
}

static void same_list(const char *what, const trace_strlist *x, const trace_strlist *y)
{
    same_num(what, (long long)x->count, (long long)y->count);
    for (size_t i = 0; i < x->count; i++)
        same_str(what, x->items[i], y->items[i]);
}

#define SAME_STR(x, y, f) same_str(#f, (x)->f, (y)->f)
#define SAME_NUM(x, y, f) same_num(#f, (long long)(x)->f, (long long)(y)->f)
#define SAME_LIST(x, y, f) same_list(#f, &(x)->f, &(y)->f)

static const char *env_value(const trace_python *py, const char *name, bool *found)
{
    for (size_t i = 0; i < py->nenv; i++)
        if (!strcmp(py->env[i].name, name)) {
            *found = true;
            return py->env[i].value;
        }
    *found = false;
    return NULL;
}

static void same_python(const trace_python *x, const trace_python *y)
{
    SAME_NUM(x, y, pid), SAME_NUM(x, y, ppid), SAME_NUM(x, y, forked_from);
    SAME_NUM(x, y, started_ns), SAME_NUM(x, y, complete);
    SAME_STR(x, y, end), SAME_STR(x, y, executable), SAME_STR(x, y, executable_realpath);
    SAME_LIST(x, y, orig_argv), SAME_LIST(x, y, argv);
    SAME_STR(x, y, python_version), SAME_STR(x, y, implementation), SAME_STR(x, y, cache_tag);
    SAME_STR(x, y, abiflags), SAME_STR(x, y, multiarch), SAME_STR(x, y, soabi);
    SAME_LIST(x, y, version_info), SAME_LIST(x, y, extension_suffixes);
    SAME_STR(x, y, prefix), SAME_STR(x, y, base_prefix), SAME_STR(x, y, exec_prefix);
    SAME_STR(x, y, base_exec_prefix), SAME_STR(x, y, platlibdir), SAME_STR(x, y, stdlib);
    SAME_STR(x, y, lib_dynload);
    SAME_LIST(x, y, path_start), SAME_LIST(x, y, path_exit), SAME_LIST(x, y, hook_imported);
    /* sys.path at exit is null while the process runs: a null list stays null */
    same_num("path_exit is null", !x->path_exit.items, !y->path_exit.items);
    SAME_STR(x, y, main_script), SAME_STR(x, y, main_module), SAME_STR(x, y, cwd);
    SAME_NUM(x, y, nmodules);
    for (size_t i = 0; i < x->nmodules; i++) {
        SAME_STR(&x->modules[i], &y->modules[i], name);
        SAME_STR(&x->modules[i], &y->modules[i], origin);
        SAME_STR(&x->modules[i], &y->modules[i], file);
    }
    SAME_NUM(x, y, nenv);
    for (size_t i = 0; i < x->nenv; i++) {
        bool found;
        const char *v = env_value(y, x->env[i].name, &found);
        if (!found)
            fail_msg("env: %s is missing", x->env[i].name);
        same_str(x->env[i].name, x->env[i].value, v);
    }
    SAME_NUM(x, y, isolated), SAME_NUM(x, y, ignore_environment), SAME_NUM(x, y, no_site);
    SAME_NUM(x, y, no_user_site), SAME_NUM(x, y, safe_path);
}

static void same_process(const trace_process *x, const trace_process *y)
{
    SAME_NUM(x, y, pid), SAME_NUM(x, y, ppid), SAME_NUM(x, y, parent);
    SAME_STR(x, y, origin), SAME_NUM(x, y, started_ns), SAME_STR(x, y, exe);
    SAME_LIST(x, y, argv), SAME_NUM(x, y, audited), SAME_STR(x, y, not_audited_why);
    SAME_NUM(x, y, reached_exit), SAME_NUM(x, y, nobjects), SAME_NUM(x, y, nloads);
    for (size_t i = 0; i < x->nobjects; i++) {
        const trace_object *ox = &x->objects[i], *oy = &y->objects[i];
        SAME_NUM(ox, oy, id), SAME_STR(ox, oy, name), SAME_STR(ox, oy, file);
        SAME_STR(ox, oy, realpath), SAME_NUM(ox, oy, dev), SAME_NUM(ox, oy, ino);
        SAME_NUM(ox, oy, lmid), SAME_NUM(ox, oy, closed), SAME_NUM(ox, oy, inherited);
    }
    for (size_t i = 0; i < x->nloads; i++) {
        const trace_load *lx = &x->loads[i], *ly = &y->loads[i];
        SAME_NUM(lx, ly, kind), SAME_NUM(lx, ly, requester), SAME_STR(lx, ly, name);
        SAME_NUM(lx, ly, lmid), SAME_NUM(lx, ly, mode), SAME_NUM(lx, ly, tid);
        SAME_NUM(lx, ly, status), SAME_NUM(lx, ly, object), SAME_NUM(lx, ly, ncandidates);
        for (size_t k = 0; k < lx->ncandidates; k++) {
            SAME_STR(&lx->candidates[k], &ly->candidates[k], path);
            SAME_STR(&lx->candidates[k], &ly->candidates[k], step);
        }
    }
    same_num("has python", !x->python, !y->python);
    if (x->python)
        same_python(x->python, y->python);
}

static void same_trace(const trace *x, const trace *y)
{
    SAME_NUM(x, y, version), SAME_LIST(x, y, command), SAME_STR(x, y, cwd);
    SAME_NUM(x, y, exit_code), SAME_NUM(x, y, exit_signal), SAME_LIST(x, y, warnings);
    SAME_NUM(x, y, nprocesses);
    for (size_t i = 0; i < x->nprocesses; i++)
        same_process(&x->processes[i], &y->processes[i]);
}

static void round_trip(void **state)
{
    arena *a = arena_new();
    trace t = sample_trace(a), back;
    const char *path = tmp_path(a, "round.json");
    bf_err err;
    assert_int_equal(trace_write_file(&t, path, &err), BF_OK);
    if (trace_read_file(path, a, &back, &err) != BF_OK)
        fail_msg("%s", err.msg);
    same_trace(&t, &back);
    /* the documented form of bytes that are not UTF-8, and bytes that are stay as text */
    size_t n;
    char *text = (char *)test_read_file(path, &n);
    text = realloc(text, n + 1);
    text[n] = '\0';
    char want[128];
    snprintf(want, sizeof want, "\"hex\": \"%s\"", NOT_UTF8_HEX);
    assert_non_null(strstr(text, want));
    assert_non_null(strstr(text, "\"/home/\xc3\xa9t\xc3\xa9\""));
    free(text);
    /* written through a temporary file beside it, which is gone */
    char *left = test_capture("ls -A '%s' | grep '^round\\.json'", tmp);
    assert_string_equal(left, "round.json\n");
    free(left);
    unlink(path);
    arena_free(a);
}

/* dev, ino and started_ns are unsigned 64-bit: inode numbers with the top bit set exist
 * (overlayfs with xino puts the layer in the top bits). What the writer writes, the reader
 * must take back. */
static void round_trip_u64(void **state)
{
    arena *a = arena_new();
    trace t = sample_trace(a), back;
    t.processes[0].objects[1].ino = UINT64_MAX;
    t.processes[0].objects[1].dev = 1ull << 63;
    t.processes[1].started_ns = (1ull << 63) + 5;
    const char *path = tmp_path(a, "u64.json");
    bf_err err;
    assert_int_equal(trace_write_file(&t, path, &err), BF_OK);
    if (trace_read_file(path, a, &back, &err) != BF_OK)
        fail_msg("a trace with a 64-bit inode number is written but cannot be read: %s",
                 err.msg);
    same_trace(&t, &back);
    unlink(path);
    arena_free(a);
}

static void write_to_missing_folder(void **state)
{
    arena *a = arena_new();
    trace t = sample_trace(a);
    const char *path = tmp_path(a, "no/such/dir/t.json");
    bf_err err;
    assert_int_equal(trace_write_file(&t, path, &err), BF_FAIL);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "cannot write"));
    arena_free(a);
}

/* ---- Rejections: the sample trace with one edit each. */

/* Sets the member at a slash-separated path (numbers index lists) to the JSON text value, or
 * removes it when value is NULL. */
static void edit_json(json_t *root, const char *path, const char *value)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *cur = root;
    char *save, *tok = strtok_r(buf, "/", &save), *next;
    while ((next = strtok_r(NULL, "/", &save))) {
        cur = json_is_array(cur) ? json_array_get(cur, strtoul(tok, NULL, 10))
                                 : json_object_get(cur, tok);
        if (!cur)
            fail_msg("the sample trace has no %s", path);
        tok = next;
    }
    json_t *v = NULL;
    if (value) {
        json_error_t je;
        v = json_loads(value, JSON_DECODE_ANY, &je);
        if (!v)
            fail_msg("bad JSON in the test: %s", value);
    }
    int rc = json_is_array(cur) ? (v ? json_array_set_new(cur, strtoul(tok, NULL, 10), v)
                                     : json_array_remove(cur, strtoul(tok, NULL, 10)))
                                : (v ? json_object_set_new(cur, tok, v) : json_object_del(cur, tok));
    if (rc)
        fail_msg("cannot edit %s", path);
}

static void expect_reject(const char *path, const char *want, const char *what)
{
    arena *a = arena_new();
    trace t;
    bf_err err;
    if (trace_read_file(path, a, &t, &err) != BF_FAIL)
        fail_msg("%s: accepted", what);
    if (!strstr(err.msg, path) || !strstr(err.msg, want))
        fail_msg("%s: the message \"%s\" should name the file and say \"%s\"", what, err.msg,
                 want);
    arena_free(a);
}

typedef struct reject_case {
    const char *path;  /* member edited */
    const char *value; /* its new JSON value, NULL to remove it */
    const char *want;  /* in the message */
} reject_case;

static const reject_case rejects[] = {
    {"format", "\"bundlefs-layout\"", "\"format\" is not \"bundlefs-trace\""},
    {"format", NULL, "\"format\" is not \"bundlefs-trace\""},
    {"version", "2", "version 2 is not supported"},
    {"version", "\"1\"", "is not supported"},
    {"version", NULL, "is not supported"},
    {"exit_code", "\"0\"", "\"exit_code\""},
    {"exit_signal", NULL, "\"exit_signal\""},
    {"processes", "{}", "\"processes\""},
    {"command", "null", "\"command\" must be a list"},
    {"command/1", "7", "\"command\" must be a string"},
    {"warnings/0", "null", "\"warnings\" holds a null"},
    {"warnings", NULL, "\"warnings\""},
    {"cwd", "[]", "\"cwd\" must be a string"},
    {"processes/0", "[]", "processes[0] must be a JSON object"},
    {"processes/0/pid", NULL, "processes[0] has no \"pid\""},
    {"processes/1/pid", "\"101\"", "processes[1]: \"pid\" must be an integer"},
    {"processes/0/started_ns", "1.5", "\"started_ns\" must be an integer"},
    {"processes/0/audited", "1", "\"audited\" must be true or false"},
    {"processes/0/argv", "\"python3\"", "\"argv\" must be a list of strings"},
    {"processes/0/exe", "{\"hex\": \"2f7\"}", "\"exe\" must be a string, null or"},
    {"processes/0/exe", "{\"hex\": \"2fzz\"}", "\"exe\" has a bad hex string"},
    {"processes/0/exe", "{\"hex\": \"2f002f\"}", "\"exe\" has a bad hex string"},
    {"processes/0/exe", "{\"hx\": \"2f\"}", "\"exe\" must be a string, null or"},
    {"processes/0/origin", "\"spawn\"", "\"origin\" must be \"exec\" or \"fork\""},
    {"processes/0/origin", "null", "\"origin\" must be \"exec\" or \"fork\""},
    {"processes/0/parent", "0", "parent 0 is not a process listed before it"},
    {"processes/0/parent", "-2", "parent -2 is not a process listed before it"},
    {"processes/1/parent", "2", "processes[1]: parent 2 is not a process listed before it"},
    {"processes/0/objects", NULL, "\"objects\" and \"loads\" must be lists"},
    {"processes/0/loads", "{}", "\"objects\" and \"loads\" must be lists"},
    {"processes/0/objects/2", "\"linux-vdso.so.1\"", "processes[0] must be a JSON object"},
    {"processes/0/objects/1/id", "0", "object id 0 appears twice"},
    {"processes/0/objects/4/id", "3", "object id 3 appears twice"},
    {"processes/0/objects/0/name", "null", "objects[0] has no name"},
    {"processes/0/objects/3/ino", NULL, "processes[0] has no \"ino\""},
    {"processes/0/objects/3/closed", "\"yes\"", "\"closed\" must be true or false"},
    {"processes/0/objects/2/realpath", "{\"hex\": \"6g\"}", "\"realpath\" has a bad hex string"},
    {"processes/0/loads/0/requester", "99", "requester 99 is not an object of the process"},
    {"processes/0/loads/0/requester", "-5", "requester -5 is not an object of the process"},
    {"processes/0/loads/0/object", "4", "object 4 is not an object of the process"},
    {"processes/0/loads/0/object", "-1", "object -1 is not an object of the process"},
    {"processes/0/loads/3/object", "2000", "object 2000 is not an object of the process"},
    {"processes/0/loads/0/kind", "\"needs\"", "\"kind\" has an unknown value"},
    {"processes/0/loads/0/kind", NULL, "\"kind\" has an unknown value"},
    {"processes/0/loads/0/kind", "0", "\"kind\" has an unknown value"},
    {"processes/0/loads/0/status", "\"done\"", "\"status\" has an unknown value"},
    {"processes/0/loads/0/name", "null", "a load has no name"},
    {"processes/0/loads/0/tid", NULL, "processes[0] has no \"tid\""},
    {"processes/0/loads/0/mode", "true", "\"mode\" must be an integer"},
    {"processes/0/loads/0/candidates", "null", "\"candidates\" must be a list"},
    {"processes/0/loads/0/candidates/1/step", "null", "a candidate needs a path and a step"},
    {"processes/0/loads/0/candidates/1/path", NULL, "\"path\" must be a string"},
    {"processes/0/loads/0/candidates/0", "\"/lib/libm.so.6\"", "\"path\" must be a string"},
    {"processes/0/loads/1/candidates/0/path", "{\"hex\": \"2f6\"}", "\"path\" must be a string"},
    {"processes/0/python", "[]", "processes[0].python must be a JSON object"},
    {"processes/0/python/soabi", NULL, "processes[0].python has no \"soabi\""},
    {"processes/0/python/forked_from", "\"100\"", "\"forked_from\" must be a process id"},
    {"processes/0/python/forked_from", NULL, "\"forked_from\" must be a process id"},
    {"processes/0/python/version_info", "{}", "\"version_info\" must be a list"},
    {"processes/0/python/version_info/3", "[]", "\"version_info\" must be a string"},
    {"processes/0/python/path_exit", "5", "\"path_exit\" must be a list of strings"},
    {"processes/0/python/modules", NULL, "\"modules\" must be a list"},
    {"processes/0/python/modules/1", "\"_ctypes\"", "modules[1] must be an object"},
    {"processes/0/python/modules/0/name", "null", "modules[0] has no name"},
    {"processes/0/python/modules/2/file", "{\"hex\": \"zz\"}", "\"modules.file\" has a bad hex"},
    {"processes/0/python/env", "[]", "\"env\" must be an object"},
    {"processes/0/python/env/PYTHONPATH", "3", "\"PYTHONPATH\" must be a string"},
    {"processes/0/python/flags", NULL, "\"flags\" must be an object"},
    {"processes/0/python/flags/safe_path", "1", "flags.safe_path must be true or false"},
    {"processes/1/python/flags/isolated", NULL, "flags.isolated must be true or false"},
};

static void rejects_broken_members(void **state)
{
    arena *a = arena_new();
    trace t = sample_trace(a), back;
    const char *base = tmp_path(a, "base.json"), *path = tmp_path(a, "broken.json");
    bf_err err;
    assert_int_equal(trace_write_file(&t, base, &err), BF_OK);
    /* the unedited document is accepted, so each refusal below is its edit's */
    assert_int_equal(trace_read_file(base, a, &back, &err), BF_OK);
    json_error_t je;
    json_t *root = json_load_file(base, 0, &je);
    assert_non_null(root);
    for (size_t i = 0; i < sizeof rejects / sizeof *rejects; i++) {
        const reject_case *c = &rejects[i];
        json_t *doc = json_deep_copy(root);
        edit_json(doc, c->path, c->value);
        assert_int_equal(json_dump_file(doc, path, 0), 0);
        json_decref(doc);
        expect_reject(path, c->want,
                      arena_printf(a, "%s = %s", c->path, c->value ? c->value : "(removed)"));
    }
    json_decref(root);
    arena_free(a);
}

static void rejects_broken_documents(void **state)
{
    arena *a = arena_new();
    trace t = sample_trace(a);
    const char *base = tmp_path(a, "whole.json"), *path = tmp_path(a, "doc.json");
    bf_err err;
    assert_int_equal(trace_write_file(&t, base, &err), BF_OK);
    size_t n;
    uint8_t *whole = test_read_file(base, &n);
    static const char *const words = "not a readable trace";
    /* truncated anywhere: at the start, in a string, between members, before the last brace */
    size_t cuts[] = {0, 1, 40, n / 3, n / 2, n - 2};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        test_write_file(path, whole, cuts[i]);
        expect_reject(path, words, arena_printf(a, "cut at %zu of %zu", cuts[i], n));
    }
    free(whole);
    static const struct {
        const char *text, *want;
    } docs[] = {
        {"hello\n", "not a readable trace"},
        {"{\"format\": \"bundlefs-trace\", \"version\": 1,}", "not a readable trace"},
        {"{\"format\": \"bundlefs-trace\", \"format\": \"bundlefs-trace\", \"version\": 1}",
         "not a readable trace"},
        {"{\"format\": \"bundlefs-trace\", \"version\": 1, \"cwd\": \"/a\\u0000b\"}",
         "not a readable trace"},
        {"[\"bundlefs-trace\", 1]", "\"format\" is not \"bundlefs-trace\""},
        {"\"bundlefs-trace\"", "not a readable trace"},
        {"{\"format\": \"bundlefs-trace\", \"version\": 2, \"processes\": []}",
         "trace format version 2 is not supported"},
        {"{\"format\": \"bundlefs-trace\", \"version\": 1}", "\"processes\""},
        {"{\"format\": \"bundlefs-trace\", \"version\": 1, \"exit_code\": 0, \"exit_signal\": 0,"
         " \"processes\": [], \"warnings\": []}", "\"command\""},
    };
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
        test_write_file(path, docs[i].text, strlen(docs[i].text));
        expect_reject(path, docs[i].want, docs[i].text);
    }
    expect_reject(tmp_path(a, "missing.json"), "not a readable trace", "a missing file");
    arena_free(a);
}

/* Every string the reader takes may be {"hex": ...}, a candidate's step included: what it
 * takes, the writer must write back, not drop. */
static void hex_step_round_trip(void **state)
{
    arena *a = arena_new();
    trace t = sample_trace(a), first, back;
    const char *base = tmp_path(a, "step.json"), *again = tmp_path(a, "step2.json");
    bf_err err;
    assert_int_equal(trace_write_file(&t, base, &err), BF_OK);
    json_error_t je;
    json_t *root = json_load_file(base, 0, &je);
    assert_non_null(root);
    edit_json(root, "processes/0/loads/0/candidates/1/step", "{\"hex\": \"ff\"}");
    assert_int_equal(json_dump_file(root, base, 0), 0);
    json_decref(root);
    if (trace_read_file(base, a, &first, &err) == BF_FAIL) {
        arena_free(a); /* refusing a step that is no step name is as good */
        return;
    }
    assert_int_equal(first.processes[0].loads[0].ncandidates, 2);
    assert_int_equal(trace_write_file(&first, again, &err), BF_OK);
    if (trace_read_file(again, a, &back, &err))
        fail_msg("%s", err.msg);
    if (back.processes[0].loads[0].ncandidates != 2)
        fail_msg("a candidate whose step is {\"hex\": \"ff\"} is read, then dropped when "
                 "written: %zu candidates of 2 are left",
                 back.processes[0].loads[0].ncandidates);
    same_trace(&first, &back);
    arena_free(a);
}

/* The smallest document the reader takes: no process at all. */
static void reads_minimal_trace(void **state)
{
    arena *a = arena_new();
    const char *path = tmp_path(a, "minimal.json");
    test_write_text(tmp, "minimal.json",
                    "{\"format\": \"bundlefs-trace\", \"version\": 1, \"command\": [\"true\"],"
                    " \"cwd\": null, \"exit_code\": 0, \"exit_signal\": 0, \"warnings\": [],"
                    " \"processes\": []}");
    trace t;
    bf_err err;
    if (trace_read_file(path, a, &t, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(t.version, 1);
    assert_int_equal(t.nprocesses, 0);
    assert_int_equal(t.command.count, 1);
    assert_string_equal(t.command.items[0], "true");
    assert_null(t.cwd);
    arena_free(a);
}

/* ---- trace_python_read_file */

/* A record as the hook writes it: pure ASCII, version_info holding numbers. */
static const char HOOK_RECORD[] =
    "{\"format\":\"bundlefs-python-facts\",\"version\":1,\"pid\":4242,\"ppid\":4241,"
    "\"forked_from\":4240,\"started_ns\":18224769944820,\"complete\":true,\"end\":\"exit\","
    "\"executable\":\"/usr/bin/python3\",\"executable_realpath\":\"/usr/bin/python3.11\","
    "\"orig_argv\":[\"python3\",\"app.py\"],\"argv\":[\"app.py\"],"
    "\"python_version\":\"3.11.2 (main)\",\"version_info\":[3,11,2,\"final\",0],"
    "\"implementation\":\"cpython\",\"cache_tag\":\"cpython-311\",\"abiflags\":\"\","
    "\"multiarch\":\"x86_64-linux-gnu\",\"soabi\":\"cpython-311-x86_64-linux-gnu\","
    "\"extension_suffixes\":[\".cpython-311-x86_64-linux-gnu.so\",\".abi3.so\",\".so\"],"
    "\"prefix\":\"/usr\",\"base_prefix\":\"/usr\",\"exec_prefix\":\"/usr\","
    "\"base_exec_prefix\":\"/usr\",\"platlibdir\":\"lib\",\"stdlib\":\"/usr/lib/python3.11\","
    "\"lib_dynload\":\"/usr/lib/python3.11/lib-dynload\","
    "\"path_start\":[\"/home/me/app\",\"/usr/lib/python3.11\"],\"path_exit\":null,"
    "\"modules\":[{\"name\":\"sys\",\"origin\":\"built-in\",\"file\":null},"
    "{\"name\":\"app\",\"origin\":\"/home/me/app/app.py\",\"file\":\"/home/me/app/app.py\"}],"
    "\"hook_imported\":[\"time\"],\"main_script\":\"/home/me/app/app.py\","
    "\"main_module\":null,\"cwd\":\"/home/me/\\u00e9t\\u00e9\","
    "\"env\":{\"LD_LIBRARY_PATH\":\"/opt/lib\",\"PYTHONPATH\":null},"
    "\"flags\":{\"isolated\":false,\"ignore_environment\":true,\"no_site\":false,"
    "\"no_user_site\":true,\"safe_path\":false}}\n";

static void python_record(void **state)
{
    arena *a = arena_new();
    const char *path = tmp_path(a, "py-4242-0.json");
    test_write_text(tmp, "py-4242-0.json", HOOK_RECORD);
    trace_python py;
    bf_err err;
    if (trace_python_read_file(path, a, &py, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(py.pid, 4242);
    assert_int_equal(py.ppid, 4241);
    assert_int_equal(py.forked_from, 4240);
    assert_int_equal(py.started_ns, 18224769944820ull);
    assert_true(py.complete);
    assert_string_equal(py.end, "exit");
    assert_string_equal(py.executable_realpath, "/usr/bin/python3.11");
    assert_int_equal(py.orig_argv.count, 2);
    assert_string_equal(py.orig_argv.items[1], "app.py");
    assert_int_equal(py.version_info.count, 5);
    const char *vi[] = {"3", "11", "2", "final", "0"};
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(py.version_info.items[i], vi[i]);
    assert_string_equal(py.abiflags, "");
    assert_string_equal(py.soabi, "cpython-311-x86_64-linux-gnu");
    assert_int_equal(py.extension_suffixes.count, 3);
    assert_string_equal(py.lib_dynload, "/usr/lib/python3.11/lib-dynload");
    assert_int_equal(py.path_start.count, 2);
    assert_null(py.path_exit.items);
    assert_int_equal(py.nmodules, 2);
    assert_string_equal(py.modules[0].name, "sys");
    assert_null(py.modules[0].file);
    assert_string_equal(py.modules[1].file, "/home/me/app/app.py");
    assert_string_equal(py.main_script, "/home/me/app/app.py");
    assert_null(py.main_module);
    assert_string_equal(py.cwd, "/home/me/\xc3\xa9t\xc3\xa9");
    assert_int_equal(py.nenv, 2);
    bool found;
    assert_string_equal(env_value(&py, "LD_LIBRARY_PATH", &found), "/opt/lib");
    assert_null(env_value(&py, "PYTHONPATH", &found));
    assert_true(found);
    assert_false(py.isolated);
    assert_true(py.ignore_environment);
    assert_false(py.no_site);
    assert_true(py.no_user_site);
    assert_false(py.safe_path);
    arena_free(a);
}

/* Replaces the first occurrence of from in the hook record. */
static const char *record_with(arena *a, const char *from, const char *to)
{
    const char *at = strstr(HOOK_RECORD, from);
    if (!at)
        fail_msg("the record has no %s", from);
    return arena_printf(a, "%.*s%s%s", (int)(at - HOOK_RECORD), HOOK_RECORD, to,
                        at + strlen(from));
}

static void python_record_broken(void **state)
{
    arena *a = arena_new();
    const struct {
        const char *from, *to, *want;
    } cases[] = {
        {"bundlefs-python-facts", "bundlefs-trace", "\"format\" is not \"bundlefs-python-facts\""},
        {"\"version\":1", "\"version\":2", "version is not 1"},
        {"\"version\":1,", "", "version is not 1"},
        {"\"soabi\":\"cpython-311-x86_64-linux-gnu\",", "", "has no \"soabi\""},
        {"\"pid\":4242", "\"pid\":\"4242\"", "\"pid\" must be an integer"},
        {"\"forked_from\":4240", "\"forked_from\":true", "\"forked_from\" must be a process id"},
        {"\"safe_path\":false", "\"safe_path\":0", "flags.safe_path must be true or false"},
        {"\"modules\":[", "\"modules\":[7,", "modules[0] must be an object"},
        {"\"env\":{", "\"env\":[", "not a Python hook record"}, /* unbalanced: not JSON */
        {"\"env\":{\"LD_LIBRARY_PATH\":\"/opt/lib\",\"PYTHONPATH\":null}", "\"env\":null",
         "\"env\" must be an object"},
        {"}\n", "", "not a Python hook record"}, /* cut short */
    };
    const char *path = tmp_path(a, "py-1-0.json");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *text = record_with(a, cases[i].from, cases[i].to);
        test_write_text(tmp, "py-1-0.json", text);
        trace_python py;
        bf_err err;
        if (trace_python_read_file(path, a, &py, &err) != BF_FAIL)
            fail_msg("accepted: %s -> %s", cases[i].from, cases[i].to);
        if (!strstr(err.msg, path) || !strstr(err.msg, cases[i].want))
            fail_msg("%s -> %s: the message \"%s\" should name the file and say \"%s\"",
                     cases[i].from, cases[i].to, err.msg, cases[i].want);
    }
    arena_free(a);
}

/* The folder of the Python hook, tools/pyhook in the source tree of this test. */
static const char *pyhook_dir(arena *a)
{
    const char *slash = strrchr(__FILE__, '/');
    assert_non_null(slash);
    return arena_printf(a, "%.*s/../../tools/pyhook", (int)(slash - __FILE__), __FILE__);
}

/* Runs python3 with the hook in cwd (created) and reads the record it leaves. */
static int run_hook(arena *a, const char *cwd, const char *code, trace_python *py, bf_err *err)
{
    const char *dir = tmp_path(a, "hookrecs");
    test_run("rm -rf '%s' && mkdir -p '%s' '%s'", dir, dir, cwd);
    test_run("cd '%s' && PYTHONPATH='%s' BUNDLEFS_TRACE_DIR='%s' /usr/bin/python3 -c '%s'", cwd,
             pyhook_dir(a), dir, code);
    char *name = test_capture("ls '%s'", dir);
    assert_non_null(name);
    name[strcspn(name, "\n")] = '\0';
    if (strncmp(name, "py-", 3))
        fail_msg("the hook left no record in %s (found \"%s\")", dir, name);
    const char *path = arena_printf(a, "%s/%s", dir, name);
    free(name);
    return trace_python_read_file(path, a, py, err);
}

/* A record of the real hook: what the reader returns is what python3 says of itself. */
static void python_record_real(void **state)
{
    arena *a = arena_new();
    const char *cwd = tmp_path(a, "app");
    trace_python py;
    bf_err err;
    if (run_hook(a, cwd, "import sys", &py, &err))
        fail_msg("%s", err.msg);
    char *facts = test_capture(
        "cd '%s' && /usr/bin/python3 -c 'import sys, sysconfig; print(sys.prefix, "
        "sys.implementation.cache_tag, sys.platlibdir, sysconfig.get_config_var(\"SOABI\"), "
        "\".\".join(map(str, sys.version_info)), sep=\"\\n\")'", cwd);
    assert_non_null(facts);
    char want[4096];
    const char *vi = py.version_info.count == 5 ? arena_printf(a, "%s.%s.%s.%s.%s",
        py.version_info.items[0], py.version_info.items[1], py.version_info.items[2],
        py.version_info.items[3], py.version_info.items[4]) : "(not 5 items)";
    snprintf(want, sizeof want, "%s\n%s\n%s\n%s\n%s\n", py.prefix, py.cache_tag, py.platlibdir,
             py.soabi ? py.soabi : "(null)", vi);
    assert_string_equal(want, facts);
    free(facts);
    assert_true(py.complete);
    assert_string_equal(py.end, "exit");
    assert_string_equal(py.cwd, cwd);
    assert_string_equal(py.executable_realpath, "/usr/bin/python3.11");
    assert_int_equal(py.forked_from, -1);
    assert_true(py.nmodules > 0);
    arena_free(a);
}

/* A Python process in a folder whose name is not UTF-8: Python holds the byte as a lone
 * surrogate and the hook writes it as \udcXX. The record must still be read, with the
 * folder's bytes unchanged. */
static void python_record_real_not_utf8(void **state)
{
    arena *a = arena_new();
    const char *cwd = tmp_path(a, "caf\xe9");
    trace_python py;
    bf_err err;
    if (run_hook(a, cwd, "import sys", &py, &err))
        fail_msg("the hook's record of a process in a non-UTF-8 folder is refused: %s",
                 err.msg);
    assert_string_equal(py.cwd, cwd);
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(round_trip_u64),
        cmocka_unit_test(write_to_missing_folder),
        cmocka_unit_test(rejects_broken_members),
        cmocka_unit_test(rejects_broken_documents),
        cmocka_unit_test(hex_step_round_trip),
        cmocka_unit_test(reads_minimal_trace),
        cmocka_unit_test(python_record),
        cmocka_unit_test(python_record_broken),
        cmocka_unit_test(python_record_real),
        cmocka_unit_test(python_record_real_not_utf8),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

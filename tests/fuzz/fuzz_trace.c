/* The trace readers on arbitrary bytes: the same input as a trace file (trace_read_file), as a
 * recorder file and as a Python hook record, both read by trace_from_records next to a valid
 * recorder file whose process they can join or fork from, and the hook record alone
 * (trace_python_read_file). No crash, no hang, no leak. Whatever is read or assembled must be
 * written by trace_write_file and read back with every field unchanged: a trace bundlefs
 * writes is one it can read. Valid samples of each format are run first, so a replay without
 * seed files of these formats still starts from inputs that reach the deep code. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundlefs/trace.h"
#include "support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A recorder file of /bin/ls: start-up, a dlopen, a search that failed, a dlclose, the exit;
 * pid 1, so an input recorder file can fork from it and a hook record can join it. */
static const char SAMPLE_PARENT_REC[] =
    "H\t1\t1\t0\texec\t0\t0\t100\t/usr/bin/ls\n"
    "V\t/bin/ls\nV\ta\\x09b\\\\c\n"
    "E\tLD_PRELOAD\tlibz.so.1\n"
    "O\t0\t1\t0\t0\t0\t0\t\t/usr/bin/ls\n"
    "O\t1\t1\t1\t0\t0\t0\t/lib64/ld-linux-x86-64.so.2\t/usr/lib/x86_64-linux-gnu/"
    "ld-linux-x86-64.so.2\n"
    "A\t2\t1\t0\t1\n"
    "O\t3\t1\t2\t0\t0\t0\tlinux-vdso.so.1\t\\0\n"
    "S\t4\t1\t0\t1\tlibz.so.1\n"
    "S\t5\t1\t0\t8\t/lib/x86_64-linux-gnu/libz.so.1\n"
    "O\t6\t1\t3\t0\t0\t0\t/lib/x86_64-linux-gnu/libz.so.1\t/usr/lib/x86_64-linux-gnu/libz.so.1\n"
    "S\t7\t1\t0\t1\tlibselinux.so.1\n"
    "S\t8\t1\t0\t4\t/nonexistent/libselinux.so.1\n"
    "S\t9\t1\t0\t8\t/lib/x86_64-linux-gnu/libselinux.so.1\n"
    "O\t10\t1\t4\t0\t0\t0\t/lib/x86_64-linux-gnu/libselinux.so.1\t\\0\n"
    "S\t11\t1\t0\t1\tlibc.so.6\n"
    "S\t12\t1\t0\t8\t/lib/x86_64-linux-gnu/libc.so.6\n"
    "O\t13\t1\t5\t0\t0\t0\t/lib/x86_64-linux-gnu/libc.so.6\t\\0\n"
    "A\t14\t1\t0\t0\n"
    "P\t15\t1\n"
    "D\t16\t1\t0\t0\t2\tlibm.so.6\n"
    "S\t17\t1\t0\t1\tlibm.so.6\n"
    "S\t18\t1\t0\t64\t/lib/x86_64-linux-gnu/libm.so.6\n"
    "O\t19\t2\t6\t0\t0\t0\t/lib/x86_64-linux-gnu/libm.so.6\t\\0\n"
    "D\t20\t1\t6\t0\t258\tlibnotthere.so.1\n"
    "S\t21\t1\t6\t1\tlibnotthere.so.1\n"
    "S\t22\t1\t6\t64\t/usr/lib/libnotthere.so.1\n"
    "D\t23\t1\t0\t0\t1\tlibz.so.1\n"
    "D\t24\t1\t0\t-1\t1\t/lib/x86_64-linux-gnu/libz.so.1\n"
    "C\t25\t1\t6\n"
    "A\t26\t1\t0\t2\n"
    "A\t27\t1\t0\t0\n"
    "W\tsomething the recorder could not write\n"
    "A\t40\t1\t0\t2\n"
    "C\t41\t1\t0\n"
    "C\t42\t1\t4\n"
    "C\t43\t1\t5\n"
    "A\t44\t1\t0\t0\n"
    "X\t45\t1\n";

/* A fork of it, after the dlclose, that loads libexpat. */
static const char SAMPLE_FORK_REC[] =
    "H\t1\t2\t1\tfork\t1\t30\t200\t/usr/bin/ls\n"
    "D\t30\t2\t0\t0\t2\tlibexpat.so.1\n"
    "S\t31\t2\t0\t1\tlibexpat.so.1\n"
    "S\t32\t2\t0\t8\t/lib/x86_64-linux-gnu/libexpat.so.1\n"
    "O\t33\t2\t7\t0\t0\t0\t/lib/x86_64-linux-gnu/libexpat.so.1\t\\0\n"
    "D\t34\t2\t0\t0\t2\tlibc.so.6\n"
    "O\t35\t2\t8\t0\t0\t0\t/lib/x86_64-linux-gnu/libm";

static const char SAMPLE_PY[] =
    "{\"format\":\"bundlefs-python-facts\",\"version\":1,\"pid\":1,\"ppid\":0,"
    "\"forked_from\":null,\"started_ns\":150,\"complete\":false,\"end\":\"running\","
    "\"executable\":\"/usr/bin/python3\",\"executable_realpath\":\"/usr/bin/python3.11\","
    "\"orig_argv\":[\"python3\",\"-c\",\"pass\"],\"argv\":[\"-c\"],"
    "\"python_version\":\"3.11.2\",\"version_info\":[3,11,2,\"final\",0],"
    "\"implementation\":\"cpython\",\"cache_tag\":\"cpython-311\",\"abiflags\":\"\","
    "\"multiarch\":\"x86_64-linux-gnu\",\"soabi\":null,\"extension_suffixes\":[\".so\"],"
    "\"prefix\":\"/usr\",\"base_prefix\":\"/usr\",\"exec_prefix\":\"/usr\","
    "\"base_exec_prefix\":\"/usr\",\"platlibdir\":\"lib\",\"stdlib\":\"/usr/lib/python3.11\","
    "\"lib_dynload\":\"/usr/lib/python3.11/lib-dynload\",\"path_start\":[\"/usr/lib/python311.zip\"],"
    "\"path_exit\":null,\"modules\":[{\"name\":\"sys\",\"origin\":\"built-in\",\"file\":null}],"
    "\"hook_imported\":[\"time\"],\"main_script\":null,\"main_module\":\"__main__\","
    "\"cwd\":\"/caf\\u00e9\",\"env\":{\"PYTHONPATH\":\"/opt/py\",\"LD_PRELOAD\":null},"
    "\"flags\":{\"isolated\":false,\"ignore_environment\":false,\"no_site\":true,"
    "\"no_user_site\":false,\"safe_path\":false}}\n";

static const char SAMPLE_TRACE[] =
    "{\"format\": \"bundlefs-trace\", \"version\": 1, \"command\": [\"ls\", {\"hex\": \"ff2f\"}],"
    " \"cwd\": {\"hex\": \"2fe9\"}, \"exit_code\": 0, \"exit_signal\": 0, \"warnings\": [\"w\"],"
    " \"processes\": [{\"pid\": 1, \"ppid\": 0, \"parent\": -1, \"origin\": \"exec\","
    " \"started_ns\": 100, \"exe\": \"/usr/bin/ls\", \"argv\": [\"ls\"], \"audited\": true,"
    " \"not_audited_why\": null, \"reached_exit\": true,"
    " \"objects\": [{\"id\": 0, \"name\": \"\", \"file\": \"/usr/bin/ls\", \"realpath\": \"/usr/bin/ls\","
    " \"dev\": 1, \"ino\": 2, \"lmid\": 0, \"closed\": false, \"inherited\": false},"
    " {\"id\": 4, \"name\": {\"hex\": \"2f6c6962ff\"}, \"file\": \"/lib/x\", \"realpath\": null,"
    " \"dev\": 0, \"ino\": 0, \"lmid\": 1, \"closed\": true, \"inherited\": false}],"
    " \"loads\": [{\"requester\": 0, \"name\": \"libx.so\", \"lmid\": 0, \"mode\": -1, \"tid\": 1,"
    " \"object\": 4, \"kind\": \"needed\", \"status\": \"loaded\", \"candidates\": [{\"path\":"
    " \"/lib/libx.so\", \"step\": \"runpath\"}]}, {\"requester\": -1, \"name\": \"liby.so\","
    " \"lmid\": 0, \"mode\": 2, \"tid\": 1, \"object\": -1, \"kind\": \"dlopen\", \"status\":"
    " \"failed\", \"candidates\": []}], \"python\": null},"
    " {\"pid\": 2, \"ppid\": 1, \"parent\": 0, \"origin\": \"fork\", \"started_ns\": 200,"
    " \"exe\": null, \"argv\": null, \"audited\": false, \"not_audited_why\": \"static\","
    " \"reached_exit\": false, \"objects\": [], \"loads\": [], \"python\":"
    " {\"pid\": 2, \"ppid\": 1, \"forked_from\": 1, \"started_ns\": 5, \"complete\": true,"
    " \"end\": \"exit\", \"executable\": null, \"executable_realpath\": null, \"orig_argv\": null,"
    " \"argv\": [], \"python_version\": null, \"implementation\": null, \"cache_tag\": null,"
    " \"abiflags\": null, \"multiarch\": null, \"soabi\": null, \"version_info\": [3, \"x\"],"
    " \"extension_suffixes\": [], \"prefix\": null, \"base_prefix\": null, \"exec_prefix\": null,"
    " \"base_exec_prefix\": null, \"platlibdir\": null, \"stdlib\": null, \"lib_dynload\": null,"
    " \"path_start\": [], \"path_exit\": [], \"modules\": [], \"hook_imported\": [],"
    " \"main_script\": null, \"main_module\": null, \"cwd\": null, \"env\": {\"A\": \"b\"},"
    " \"flags\": {\"isolated\": true, \"ignore_environment\": true, \"no_site\": true,"
    " \"no_user_site\": true, \"safe_path\": true}}}]}\n";

/* In the scratch folder: in (the input, also linked as rec/1-0.rec and rec/py-1-0.json),
 * rec/0-0.rec (the parent sample), out.json. */
static char in_path[128], rec_dir[128], rec_in[160], py_in[160], parent_rec[160],
    out_path[128];

static int make_dir(void)
{
    const char *dir = fuzz_scratch("trace");
    if (!dir)
        return -1;
    snprintf(in_path, sizeof in_path, "%s/in", dir);
    snprintf(rec_dir, sizeof rec_dir, "%s/rec", dir);
    snprintf(rec_in, sizeof rec_in, "%s/1-0.rec", rec_dir);
    snprintf(py_in, sizeof py_in, "%s/py-1-0.json", rec_dir);
    snprintf(parent_rec, sizeof parent_rec, "%s/0-0.rec", rec_dir);
    snprintf(out_path, sizeof out_path, "%s/out.json", dir);
    if (mkdir(rec_dir, 0700) || fuzz_write_whole(in_path, "", 0) ||
        fuzz_write_whole(parent_rec, SAMPLE_PARENT_REC, sizeof SAMPLE_PARENT_REC - 1) ||
        link(in_path, rec_in) || link(in_path, py_in))
        return -1;
    return 0;
}

/* ---- Every field as text, to compare a trace with the trace read back from its file. */

static void dump_str(FILE *f, const char *s)
{
    if (s)
        fprintf(f, "%zu:%s\n", strlen(s), s);
    else
        fputs("null\n", f);
}

static void dump_list(FILE *f, const trace_strlist *l)
{
    fprintf(f, "%s %zu\n", l->items ? "list" : "null", l->count);
    for (size_t i = 0; i < l->count; i++)
        dump_str(f, l->items[i]);
}

static void dump_python(FILE *f, const trace_python *py)
{
    /* the file has no way to say a negative number other than -1 (null) */
    fprintf(f, "py %ld %ld %ld %llu %d\n", py->pid, py->ppid,
            py->forked_from < 0 ? -1 : py->forked_from, (unsigned long long)py->started_ns,
            py->complete);
    const char *strs[] = {py->end, py->executable, py->executable_realpath, py->python_version,
                          py->implementation, py->cache_tag, py->abiflags, py->multiarch,
                          py->soabi, py->prefix, py->base_prefix, py->exec_prefix,
                          py->base_exec_prefix, py->platlibdir, py->stdlib, py->lib_dynload,
                          py->main_script, py->main_module, py->cwd};
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
        dump_str(f, strs[i]);
    const trace_strlist *lists[] = {&py->orig_argv, &py->argv, &py->version_info,
                                    &py->extension_suffixes, &py->path_start, &py->path_exit,
                                    &py->hook_imported};
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++)
        dump_list(f, lists[i]);
    for (size_t i = 0; i < py->nmodules; i++) {
        dump_str(f, py->modules[i].name);
        dump_str(f, py->modules[i].origin);
        dump_str(f, py->modules[i].file);
    }
    for (size_t i = 0; i < py->nenv; i++) {
        dump_str(f, py->env[i].name);
        dump_str(f, py->env[i].value);
    }
    fprintf(f, "flags %d %d %d %d %d\n", py->isolated, py->ignore_environment, py->no_site,
            py->no_user_site, py->safe_path);
}

static void dump_process(FILE *f, const trace_process *p)
{
    fprintf(f, "process %ld %ld %ld %llu %d %d\n", p->pid, p->ppid, p->parent,
            (unsigned long long)p->started_ns, p->audited, p->reached_exit);
    dump_str(f, p->origin);
    dump_str(f, p->exe);
    dump_str(f, p->not_audited_why);
    dump_list(f, &p->argv);
    for (size_t i = 0; i < p->nobjects; i++) {
        const trace_object *o = &p->objects[i];
        fprintf(f, "object %ld %llu %llu %ld %d %d\n", o->id, (unsigned long long)o->dev,
                (unsigned long long)o->ino, o->lmid, o->closed, o->inherited);
        dump_str(f, o->name);
        dump_str(f, o->file);
        dump_str(f, o->realpath);
    }
    for (size_t i = 0; i < p->nloads; i++) {
        const trace_load *l = &p->loads[i];
        fprintf(f, "load %d %ld %ld %ld %ld %d %ld %zu\n", (int)l->kind, l->requester, l->lmid,
                l->mode, l->tid, (int)l->status, l->object, l->ncandidates);
        dump_str(f, l->name);
        for (size_t k = 0; k < l->ncandidates; k++) {
            dump_str(f, l->candidates[k].path);
            dump_str(f, l->candidates[k].step);
        }
    }
    if (p->python)
        dump_python(f, p->python);
}

/* The text of t (caller frees). */
static char *dump_trace(const trace *t, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f)
        abort();
    fprintf(f, "trace %ld %ld %ld\n", t->version, t->exit_code, t->exit_signal);
    dump_str(f, t->cwd);
    /* top-level lists are always lists in the file */
    fprintf(f, "%zu\n", t->command.count);
    for (size_t i = 0; i < t->command.count; i++)
        dump_str(f, t->command.items[i]);
    fprintf(f, "%zu\n", t->warnings.count);
    for (size_t i = 0; i < t->warnings.count; i++)
        dump_str(f, t->warnings.items[i]);
    for (size_t i = 0; i < t->nprocesses; i++)
        dump_process(f, &t->processes[i]);
    fclose(f);
    return buf;
}

/* t written and read back: it must read, and hold the same. */
static void round_trip(const trace *t)
{
    bf_err err;
    if (trace_write_file(t, out_path, &err))
        return; /* a full disk is no finding */
    arena *a = arena_new();
    trace back;
    if (trace_read_file(out_path, a, &back, &err))
        fuzz_fail("fuzz_trace: a trace written by trace_write_file is refused: %s\n", err.msg);
    size_t n1, n2;
    char *d1 = dump_trace(t, &n1), *d2 = dump_trace(&back, &n2);
    fuzz_same_dumps("fuzz_trace", "trace", d1, n1, d2, n2);
    free(d1);
    free(d2);
    arena_free(a);
}

/* The input (already in the files) through the three readers; returns what the two file
 * readers said and how many processes were assembled, for the samples' check. */
static void run_readers(int *trace_rc, int *py_rc, size_t *nprocs)
{
    arena *a = arena_new();
    trace t;
    bf_err err;
    *trace_rc = trace_read_file(in_path, a, &t, &err);
    if (*trace_rc == BF_OK)
        round_trip(&t);
    trace_python py;
    *py_rc = trace_python_read_file(py_in, a, &py, &err);
    trace r = {.version = TRACE_FORMAT_VERSION};
    if (trace_from_records(rec_dir, a, &r, &err) == BF_OK)
        round_trip(&r);
    *nprocs = r.nprocesses;
    arena_free(a);
}

static void run_samples(void)
{
    int trace_rc, py_rc;
    size_t nprocs;
    /* the hook record joins the parent sample's process; a recorder file is one more */
    const struct {
        const char *text;
        size_t len;
        int want_trace, want_py;
        size_t want_procs;
    } samples[] = {
        {SAMPLE_TRACE, sizeof SAMPLE_TRACE - 1, BF_OK, BF_FAIL, 1},
        {SAMPLE_PY, sizeof SAMPLE_PY - 1, BF_FAIL, BF_OK, 1},
        {SAMPLE_PARENT_REC, sizeof SAMPLE_PARENT_REC - 1, BF_FAIL, BF_FAIL, 2},
        {SAMPLE_FORK_REC, sizeof SAMPLE_FORK_REC - 1, BF_FAIL, BF_FAIL, 2},
    };
    for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
        if (fuzz_write_whole(in_path, samples[i].text, samples[i].len))
            fuzz_fail("fuzz_trace: %s: cannot write\n", in_path);
        run_readers(&trace_rc, &py_rc, &nprocs);
        /* a sample the readers no longer take would leave the fuzzing on the surface */
        if (trace_rc != samples[i].want_trace || py_rc != samples[i].want_py ||
            nprocs != samples[i].want_procs)
            fuzz_fail("fuzz_trace: sample %zu is not read as it should be\n", i);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int started;
    if (!started) {
        started = 1;
        if (make_dir())
            fuzz_fail("fuzz_trace: cannot make a temporary folder in /tmp\n");
        run_samples();
    }
    if (fuzz_write_whole(in_path, data, size))
        return 0;
    int trace_rc, py_rc;
    size_t nprocs;
    run_readers(&trace_rc, &py_rc, &nprocs);
    return 0;
}

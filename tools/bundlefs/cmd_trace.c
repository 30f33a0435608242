/* bundlefs trace: run a command once under the loader's audit interface and write down what
 * every process of it loaded. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bundlefs/trace.h"
#include "commands.h"
#include "trace_target.h"

static const char trace_usage[] =
    "usage: bundlefs trace [OPTIONS] -o FILE.trace.json -- CMD [ARGS...]\n"
    "\n"
    "Runs CMD once and records every shared object each of its processes loaded (forks and\n"
    "exec'd programs included), as the dynamic loader decided it: who asked, for which\n"
    "name, by DT_NEEDED, dlopen or preload, every path tried and what was found. For a\n"
    "CPython interpreter it also records the Python facts (prefixes, sys.path, imported\n"
    "modules, main script). CMD's input, output and exit status are left as they are.\n"
    "\n"
    "  -o, --output FILE   write the trace to FILE (required)\n"
    "  --python            load the Python hook even if CMD does not look like CPython\n"
    "  --no-python         never load the Python hook\n"
    "  --keep-records DIR  also keep the recorder's raw files in DIR (must not exist)\n"
    "  -h, --help          show this help\n"
    "\n"
    "Exit status: CMD's (a CMD killed by a signal kills bundlefs with the same signal);\n"
    "127 when CMD cannot be run; 2 usage or tool errors (then CMD did not run, or the trace\n"
    "could not be written).\n";

enum { OPT_PYTHON = 256, OPT_NO_PYTHON, OPT_KEEP };

/* The recorder and the Python hook are installed next to the bundlefs executable. */
static int trace_find_helpers(arena *a, const char **recorder, const char **hook, bf_err *err)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return err_set(err, "cannot find the bundlefs executable (/proc/self/exe)");
    self[n] = '\0';
    *strrchr(self, '/') = '\0';
    *recorder = arena_printf(a, "%s/libbundlefs_audit.so", self);
    *hook = arena_printf(a, "%s/pyhook", self);
    if (access(*recorder, R_OK))
        return err_set(err, "%s: the recorder library is missing; build it (cmake --build) or "
                            "reinstall bundlefs", *recorder);
    if (access(arena_printf(a, "%s/sitecustomize.py", *hook), R_OK))
        return err_set(err, "%s/sitecustomize.py: the Python hook is missing; build it (cmake "
                            "--build) or reinstall bundlefs", *hook);
    return BF_OK;
}

static void trace_setenv_list(const char *name, const char *first, const char *last)
{
    const char *old = getenv(name);
    char *v;
    if (!old || !*old)
        v = strdup(first ? first : last);
    else if (first && asprintf(&v, "%s:%s", first, old) < 0)
        v = NULL;
    else if (!first && asprintf(&v, "%s:%s", old, last) < 0)
        v = NULL;
    if (v)
        setenv(name, v, 1);
    free(v);
}

/* The records folder holds only flat files the recorder and the hook created. */
static void trace_remove_records(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        char path[PATH_MAX];
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name) < (int)sizeof path)
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

/* Runs argv with the recorder in its environment; returns the wait status. */
static int trace_run(char **argv, const char *dir, const char *recorder, const char *hook,
                     bool python, pid_t *pid_out)
{
    trace_setenv_list("LD_AUDIT", NULL, recorder);
    setenv("BUNDLEFS_TRACE_DIR", dir, 1);
    setenv("BUNDLEFS_TRACE_AUDIT", recorder, 1);
    if (python) {
        trace_setenv_list("PYTHONPATH", hook, NULL);
        setenv("BUNDLEFS_TRACE_HOOK", hook, 1);
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        execvp(argv[0], argv);
        fprintf(stderr, "bundlefs trace: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    *pid_out = pid;
    /* Like system(): a Ctrl-C at the terminal is the program's to handle; bundlefs waits and
     * still writes the trace. */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_int, old_quit;
    sigaction(SIGINT, &ign, &old_int);
    sigaction(SIGQUIT, &ign, &old_quit);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    return status;
}

/* The root process, when the recorder never ran in it: say so in the trace. */
static void trace_note_root(trace *t, arena *a, pid_t pid, const trace_target *tg, char **argv,
                            int argc)
{
    for (size_t i = 0; i < t->nprocesses; i++)
        if (t->processes[i].pid == pid)
            return;
    char *real = realpath(tg->program, NULL);
    trace_process p = {.pid = pid, .ppid = getpid(), .parent = -1, .origin = "exec",
                       .exe = real ? arena_strdup(a, real) : tg->program,
                       .argv = {(const char **)argv, (size_t)argc}};
    free(real);
    p.not_audited_why = tg->not_auditable
                            ? tg->not_auditable
                            : "the recorder left no record (the program replaced its "
                              "environment, or ended before the loader finished)";
    size_t cap = t->nprocesses;
    arena_push(a, &t->processes, &t->nprocesses, &cap, &p, sizeof p);
}

/* A CPython process without Python facts ran without the hook: say which, and why that
 * happens, since `build` then knows less about it. */
static void trace_note_missing_python(trace *t, arena *a)
{
    size_t n = t->warnings.count;
    for (size_t i = 0; i < t->nprocesses; i++) {
        const trace_process *p = &t->processes[i];
        if (p->python || !p->audited || strcmp(p->origin, "exec") || !p->exe ||
            !trace_target_is_python_name(p->exe))
            continue;
        const char *w = arena_printf(a, "process %ld (%s) has no Python facts: it ran with -S, "
                                        "-E or -I, or without the hook on PYTHONPATH", p->pid, p->exe);
        t->warnings.items = arena_grow(a, t->warnings.items, n, n + 1, sizeof(char *));
        t->warnings.items[n++] = w;
    }
    t->warnings.count = n;
}

static int trace_main(arena *a, const char *out, char **argv, int argc, int python,
                      const char *keep)
{
    bf_err err;
    trace_target tg;
    if (trace_target_inspect(argv[0], a, &tg, &err)) {
        fprintf(stderr, "bundlefs trace: %s\n", err.msg);
        return 127;
    }
    /* Found out now, not after a run that may have taken an hour. */
    const char *slash = strrchr(out, '/');
    const char *outdir = slash ? (slash == out ? "/" : arena_strndup(a, out, (size_t)(slash - out))) : ".";
    if (access(outdir, W_OK | X_OK)) {
        fprintf(stderr, "bundlefs trace: %s: cannot write the trace into this folder: %s\n",
                outdir, strerror(errno));
        return 2;
    }
    const char *recorder = NULL, *hook = NULL;
    if (trace_find_helpers(a, &recorder, &hook, &err)) {
        fprintf(stderr, "bundlefs trace: %s\n", err.msg);
        return 2;
    }
    const char *dir = keep;
    if (keep && mkdir(keep, 0700)) {
        fprintf(stderr, "bundlefs trace: %s: cannot create it: %s\n", keep, strerror(errno));
        return 2;
    }
    if (!keep) {
        const char *tmp = getenv("TMPDIR");
        char *templ = arena_printf(a, "%s/bundlefs-trace-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(templ)) {
            fprintf(stderr, "bundlefs trace: %s: cannot create a folder for the records: %s "
                            "(set TMPDIR to a writable folder)\n", templ, strerror(errno));
            return 2;
        }
        dir = templ;
    }
    bool use_python = python > 0 || (python == 0 && tg.is_python);
    pid_t pid = -1;
    int status = trace_run(argv, dir, recorder, hook, use_python, &pid);
    if (status == -1) {
        fprintf(stderr, "bundlefs trace: cannot start a process: %s\n", strerror(errno));
        if (!keep)
            trace_remove_records(dir);
        return 2;
    }

    trace t = {.version = TRACE_FORMAT_VERSION};
    t.command = (trace_strlist){(const char **)argv, (size_t)argc};
    char cwd[PATH_MAX];
    t.cwd = getcwd(cwd, sizeof cwd) ? cwd : NULL;
    t.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    t.exit_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    int rc = trace_from_records(dir, a, &t, &err);
    if (rc == BF_OK) {
        trace_note_root(&t, a, pid, &tg, argv, argc);
        if (use_python)
            trace_note_missing_python(&t, a);
        rc = trace_write_file(&t, out, &err);
    }
    if (!keep)
        trace_remove_records(dir);
    if (rc != BF_OK) {
        fprintf(stderr, "bundlefs trace: %s\n", err.msg);
        return 2;
    }
    if (tg.not_auditable)
        fprintf(stderr, "bundlefs trace: %s: %s; the trace records no loads for it\n",
                tg.program, tg.not_auditable);
    if (WIFSIGNALED(status)) {
        signal(WTERMSIG(status), SIG_DFL);
        raise(WTERMSIG(status));
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}

int cmd_trace(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"python", no_argument, NULL, OPT_PYTHON},
        {"no-python", no_argument, NULL, OPT_NO_PYTHON},
        {"keep-records", required_argument, NULL, OPT_KEEP},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL, *keep = NULL;
    int python = 0, c;
    /* '+': options end at CMD, so CMD's own options are never taken for ours */
    while ((c = getopt_long(argc, argv, "+o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case OPT_PYTHON: python = 1; break;
        case OPT_NO_PYTHON: python = -1; break;
        case OPT_KEEP: keep = optarg; break;
        case 'h': fputs(trace_usage, stdout); return 0;
        default: fputs(trace_usage, stderr); return 2;
        }
    }
    if (!out || optind >= argc) {
        fprintf(stderr, "bundlefs trace: %s\n\n%s",
                !out ? "-o FILE is required" : "no command given after the options",
                trace_usage);
        return 2;
    }
    arena *a = arena_new();
    int rc = trace_main(a, out, argv + optind, argc - optind, python, keep);
    arena_free(a);
    return rc;
}

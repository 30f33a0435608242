/* bin/<name>: a POSIX sh launcher using only shell built-ins (the target has no coreutils).
 * It finds the bundle from its own path, sets only what the program needs (PYTHONHOME,
 * PYTHONPATH, PYTHONNOUSERSITE; LD_LIBRARY_PATH only when lib/l is used), prints nothing and
 * execs the program with "$@", so exit status and signals pass through. */
#include <string.h>
#include <time.h>

#include "plan_internal.h"

/* s as one sh word in single quotes. */
static const char *plan_sh_quote(arena *a, const char *s)
{
    size_t n = 2;
    for (const char *c = s; *c; c++)
        n += *c == '\'' ? 4 : 1;
    char *out = arena_alloc(a, n + 1), *o = out;
    *o++ = '\'';
    for (const char *c = s; *c; c++) {
        if (*c == '\'') {
            memcpy(o, "'\\''", 4);
            o += 4;
        } else {
            *o++ = *c;
        }
    }
    *o = '\'';
    return out;
}

static const char *plan_leaf(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* The interpreter's arguments of the traced command up to the program (script, -c CODE or
 * -m MODULE): what the launcher passes before "$@". *script is the index of a script
 * argument, or -1. */
static size_t plan_python_args(const trace_strlist *argv, long *script)
{
    *script = -1;
    for (size_t i = 1; i < argv->count; i++) {
        const char *a = argv->items[i];
        if (!strcmp(a, "--")) {
            if (i + 1 < argv->count)
                *script = (long)i + 1;
            return i + 2 <= argv->count ? i + 2 : argv->count;
        }
        if (a[0] != '-' || !a[1]) {
            if (a[0] != '-')
                *script = (long)i;
            return i + 1;
        }
        if (a[1] == '-') {
            /* the one long option with an argument, always the next one ("=" is refused) */
            if (!strcmp(a, "--check-hash-based-pycs") && i + 1 < argv->count)
                i++;
            continue;
        }
        for (size_t j = 1; a[j]; j++) {
            if (!strchr("cmWX", a[j]))
                continue;
            size_t end = a[j + 1] ? i + 1 : i + 2; /* the option's argument: attached or next */
            if (end > argv->count)
                end = argv->count;
            if (a[j] == 'c' || a[j] == 'm')
                return end;
            i = end - 1;
            break;
        }
    }
    return argv->count;
}

static const char *plan_python_exec(plan *p, const char *exe)
{
    const trace_strlist *argv = &p->py->orig_argv;
    long script;
    size_t end = plan_python_args(argv, &script);
    const char *cmd = arena_printf(p->a, "exec \"$b/bin/b/\"%s", plan_sh_quote(p->a, exe));
    for (size_t i = 1; i < end; i++) {
        const char *a = argv->items[i];
        if (!strcmp(a, "-E") || !strcmp(a, "-I")) {
            plan_warn(p, "the program ran with %s, which would ignore the launcher's PYTHONHOME "
                         "and PYTHONPATH; the launcher leaves it out",
                      a);
            continue;
        }
        if ((long)i == script) {
            const char *canon = plan_canonical(p, p->py->main_script ? p->py->main_script : a);
            if (p->app_dir && canon) {
                cmd = arena_printf(p->a, "%s \"$b/%s/\"%s", cmd, p->app_dir,
                                   plan_sh_quote(p->a, plan_leaf(canon)));
                continue;
            }
            plan_warn(p, "the script %s is not in the bundle; the launcher passes its path as is",
                      a);
        }
        cmd = arena_printf(p->a, "%s %s", cmd, plan_sh_quote(p->a, a));
    }
    return arena_printf(p->a, "%s \"$@\"\n", cmd);
}

static const char *plan_program_leaf(plan *p)
{
    for (size_t i = 0; i < p->nnodes; i++) {
        const plan_node *n = p->nodes[i];
        if (n->program && n->same_as < 0 && p->py_process && p->py_process->exe &&
            plan_canonical(p, p->py_process->exe) &&
            !strcmp(plan_canonical(p, p->py_process->exe), n->source))
            return plan_leaf(n->source);
    }
    for (size_t i = 0; i < p->nnodes; i++)
        if (p->nodes[i]->program)
            return plan_leaf(p->nodes[p->nodes[i]->same_as >= 0 ? p->nodes[i]->same_as
                                                                 : (long)i]->source);
    return NULL;
}

int plan_launcher(plan *p, const char *name, bf_err *err)
{
    const char *exe = plan_program_leaf(p);
    if (!exe)
        return err_set(err, "no program of the trace could be bundled; nothing to launch");
    const char *text = arena_printf(
        p->a,
        "#!/bin/sh\n"
        "# %s, bundled by bundlefs: runs the program from wherever this folder is.\n"
        "case $0 in */*) b=${0%%/*} ;; *) b=. ;; esac\n"
        /* with CDPATH set, cd may go to another folder of that name and print it */
        "b=$(CDPATH= cd -P -- \"$b/..\" && pwd -P) || exit 127\n",
        name);
    if (p->py) {
        text = arena_printf(p->a, "%sPYTHONHOME=\"$b/python\"\nPYTHONNOUSERSITE=1\n", text);
        if (p->npythonpath) {
            text = arena_printf(p->a, "%sPYTHONPATH=", text);
            for (size_t i = 0; i < p->npythonpath; i++)
                text = arena_printf(p->a, "%s\"%s$b/\"%s", text, i ? ":" : "",
                                    plan_sh_quote(p->a, p->pythonpath[i]));
            text = arena_printf(p->a, "%s\nexport PYTHONHOME PYTHONNOUSERSITE PYTHONPATH\n", text);
        } else {
            text = arena_printf(p->a, "%sunset PYTHONPATH\nexport PYTHONHOME PYTHONNOUSERSITE\n", text);
        }
    }
    if (p->lib_l_used)
        text = arena_printf(p->a,
                            "%sLD_LIBRARY_PATH=\"$b/lib/l${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}\"\n"
                            "export LD_LIBRARY_PATH\n",
                            text);
    if (p->py)
        text = arena_printf(p->a, "%s%s", text, plan_python_exec(p, exe));
    else
        text = arena_printf(p->a, "%sexec \"$b/bin/b/\"%s \"$@\"\n", text,
                            plan_sh_quote(p->a, exe));
    const char *path = arena_printf(p->a, "bin/%s", name);
    plan_entry_parents(p, path, (int64_t)time(NULL) * 1000000000);
    layout_entry *e = plan_entry_add(p, path, LAYOUT_GENERATED);
    if (!e)
        return err_set(err, "bin/%s is already taken in the bundle; choose another --name", name);
    e->content = text;
    e->content_len = strlen(text);
    e->mode = 0755;
    e->mtime_ns = (int64_t)time(NULL) * 1000000000;
    return BF_OK;
}

/* The static emulation of each traced process: started like the program, then replaying the
 * dlopen calls the trace saw, so every (requester, name) the run resolved gets the
 * emulation's answer too, to check the trace against and to fill in what the run never did. */
#include <string.h>

#include "plan_internal.h"

struct plan_session {
    ldso_session *s;
    const char *exe;
    size_t seen; /* edges already turned into answers */
};

/* The path the emulation knows an object by: l_name, the program's own path for the main
 * program. */
static const char *plan_obj_path(const struct plan_session *ps, const ldso_obj *o)
{
    return o->kind == LDSO_OBJ_MAIN ? ps->exe : o->l_name;
}

static void plan_collect(plan *p, struct plan_session *ps)
{
    size_t n;
    const ldso_edge *const *edges = ldso_edges(ps->s, &n);
    for (size_t i = ps->seen; i < n; i++) {
        const ldso_edge *e = edges[i];
        if (!e->requester || e->kind == LDSO_EDGE_PRELOAD_ENV ||
            e->kind == LDSO_EDGE_PRELOAD_OPT || e->kind == LDSO_EDGE_PRELOAD_FILE)
            continue;
        const char *req = plan_canonical(p, plan_obj_path(ps, e->requester));
        if (!req)
            continue;
        const char *key = plan_key(p, req, e->name);
        if (strmap_get(&p->answers, key))
            continue;
        plan_answer *ans = arena_alloc(p->a, sizeof *ans);
        if (e->result) {
            ans->found = plan_obj_path(ps, e->result);
            ans->canon = plan_canonical(p, ans->found);
        }
        ans->step = ldso_step_name(e->step);
        ans->error = e->error;
        ans->tried = arena_alloc(p->a, (e->ntried + 1) * sizeof *ans->tried);
        for (size_t k = 0; k < e->ntried; k++)
            ans->tried[ans->ntried++] = e->tried[k].path;
        strmap_set(&p->answers, key, ans);
    }
    ps->seen = n;
}

static struct plan_session *plan_session_start(plan *p, const char *exe, const char *libpath)
{
    ldso_opts o = {.host = &p->host, .cache = p->cache, .library_path = libpath};
    struct plan_session *ps = arena_alloc(p->a, sizeof *ps);
    ps->exe = exe;
    bf_err err;
    if (ldso_session_new(&o, p->a, &ps->s, &err) != BF_OK || ldso_start(ps->s, exe, &err) != BF_OK) {
        plan_warn(p, "the static resolver cannot start %s: %s", exe, err.msg);
        return NULL;
    }
    if (ldso_start_error(ps->s))
        plan_warn(p, "statically, %s would not start here: %s", exe, ldso_start_error(ps->s));
    plan_collect(p, ps);
    return ps;
}

static const trace_object *plan_trace_object(const trace_process *pr, long id)
{
    for (size_t i = 0; i < pr->nobjects; i++)
        if (pr->objects[i].id == id)
            return &pr->objects[i];
    return NULL;
}

static const char *plan_env(const trace_python *py, const char *name)
{
    for (size_t i = 0; py && i < py->nenv; i++)
        if (!strcmp(py->env[i].name, name))
            return py->env[i].value;
    return NULL;
}

static void plan_replay(plan *p, struct plan_session *ps, const trace_process *pr)
{
    for (size_t i = 0; i < pr->nloads; i++) {
        const trace_load *l = &pr->loads[i];
        if (l->kind != TRACE_DLOPEN || l->status == TRACE_FAILED || ldso_start_error(ps->s))
            continue;
        const trace_object *req = plan_trace_object(pr, l->requester);
        const ldso_obj *caller = NULL;
        if (req && req->name[0])
            caller = ldso_find(ps->s, req->realpath ? req->realpath : req->file);
        ldso_dlopen(ps->s, caller, l->name);
    }
    plan_collect(p, ps);
}

int plan_static_processes(plan *p, bf_err *err)
{
    for (size_t i = 0; i < p->t->nprocesses; i++) {
        const trace_process *pr = &p->t->processes[i];
        if (!pr->audited || !pr->exe)
            continue;
        const char *libpath = plan_env(pr->python, "LD_LIBRARY_PATH");
        struct plan_session *ps = plan_session_start(p, pr->exe, libpath);
        if (!ps)
            continue;
        plan_replay(p, ps, pr);
        if (!p->main_session || pr == p->py_process)
            p->main_session = ps;
    }
    if (!p->main_session)
        return err_set(err, "the static resolver could start none of the traced programs; "
                            "see the warnings above");
    return BF_OK;
}

void plan_static_dlopen(plan *p, const plan_node *n)
{
    if (n->elf.interp) {
        /* a program: its own process, as when it is run */
        plan_session_start(p, n->source, NULL);
        return;
    }
    struct plan_session *ps = p->main_session;
    if (ldso_start_error(ps->s))
        return;
    ldso_dlopen(ps->s, NULL, n->source);
    plan_collect(p, ps);
}

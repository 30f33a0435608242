/* What the traced run shows: each process's program is a root, and each load the loader
 * satisfied binds (requester, name) to the object it mapped, under the name asked for. */
#include <string.h>

#include "plan_internal.h"

static const trace_object *plan_object(const trace_process *pr, long id)
{
    for (size_t i = 0; i < pr->nobjects; i++)
        if (pr->objects[i].id == id)
            return &pr->objects[i];
    return NULL;
}

static const char *plan_object_path(const trace_object *o)
{
    return o->realpath ? o->realpath : o->file;
}

/* The search step that produced the object, from the candidates the loader tried. */
static const char *plan_load_step(const trace_load *l, const trace_object *o)
{
    for (size_t i = l->ncandidates; i-- > 0;)
        if (o->name && !strcmp(l->candidates[i].path, o->name))
            return l->candidates[i].step;
    if (l->status == TRACE_ALREADY_LOADED)
        return "loaded";
    return strchr(l->name, '/') ? "path" : "trace";
}

static int plan_program(plan *p, const trace_process *pr, long *out, bf_err *err)
{
    *out = -1;
    const char *canon = plan_canonical(p, pr->exe);
    if (!canon) {
        plan_warn(p, "the program %s of process %ld no longer exists; it is not bundled",
                  pr->exe, pr->pid);
        return BF_OK;
    }
    if (plan_check_not_bundle(p, canon, err) != BF_OK)
        return BF_FAIL;
    if ((*out = plan_node_get(p, canon, err)) < 0)
        return BF_FAIL;
    plan_node *n = p->nodes[*out];
    n->program = true;
    n->root = "program";
    n->asked = true; /* its process is emulated already */
    return BF_OK;
}

static int plan_load(plan *p, const trace_process *pr, const trace_load *l, long program,
                     bf_err *err)
{
    const trace_object *o = plan_object(pr, l->object);
    if (!o || !o->name[0] || !o->realpath || l->kind == TRACE_PRELOAD)
        return BF_OK;
    const trace_object *req = l->requester >= 0 ? plan_object(pr, l->requester) : NULL;
    plan_node *rn = NULL;
    if (req) {
        if (!req->name[0]) {
            rn = program >= 0 ? p->nodes[program] : NULL;
        } else {
            const char *rc = plan_canonical(p, plan_object_path(req));
            /* what the loader or an excluded library loads for itself (NSS modules, ...) is
             * the target system's business */
            if (!rc || plan_policy_rule(p, NULL, rc) || !strmap_get(&p->by_source, rc))
                return BF_OK;
            rn = p->nodes[(long)(uintptr_t)strmap_get(&p->by_source, rc) - 1];
        }
    }
    layout_dep d = {.name = l->name, .kind = l->kind == TRACE_NEEDED ? "needed" : "dlopen",
                    .target = -1, .found = o->name, .step = plan_load_step(l, o),
                    .origin = "trace"};
    const char *rule = plan_policy_rule(p, l->name, o->name);
    const char *canon = plan_canonical(p, plan_object_path(o));
    if (!rule && canon)
        rule = plan_policy_rule(p, NULL, canon);
    if (rule) {
        d.status = LAYOUT_DEP_EXCLUDED;
        plan_note_excluded(p, l->name, o->name, rule);
    } else {
        if (!canon) {
            plan_warn(p, "%s, loaded by the traced run, no longer exists; it is not bundled",
                      o->name);
            return BF_OK;
        }
        if (plan_check_not_bundle(p, canon, err) != BF_OK ||
            (d.target = plan_node_get(p, canon, err)) < 0)
            return BF_FAIL;
        d.status = LAYOUT_DEP_BUNDLED;
        plan_node *t = p->nodes[d.target];
        if (!rn && !t->root)
            t->root = "trace";
        if (!rn && !strchr(l->name, '/')) {
            const char *alias = arena_printf(p->a, "lib/l/%s", l->name);
            arena_push(p->a, &t->aliases, &t->naliases, &t->capaliases, &alias, sizeof alias);
            p->lib_l_used = alias;
        }
        if (l->kind == TRACE_DLOPEN && strchr(l->name, '/') && !t->opened_by_path)
            t->opened_by_path = l->name;
    }
    if (rn)
        plan_node_add_dep(p, rn, &d);
    return BF_OK;
}

int plan_from_trace(plan *p, bf_err *err)
{
    bool any = false;
    for (size_t i = 0; i < p->t->nprocesses; i++) {
        const trace_process *pr = &p->t->processes[i];
        if (!pr->audited) {
            plan_warn(p, "process %ld (%s) could not be traced (%s); what it loads is not in the "
                         "bundle",
                      pr->pid, pr->exe ? pr->exe : "?",
                      pr->not_audited_why ? pr->not_audited_why : "unknown reason");
            continue;
        }
        if (!pr->exe)
            continue;
        long program;
        if (plan_program(p, pr, &program, err) != BF_OK)
            return BF_FAIL;
        any = true;
        bool warned_preload = false;
        for (size_t k = 0; k < pr->nloads; k++) {
            const trace_load *l = &pr->loads[k];
            if (l->kind == TRACE_PRELOAD && !warned_preload) {
                plan_warn(p, "process %ld preloaded %s (LD_PRELOAD or /etc/ld.so.preload); the "
                             "bundle does not preload anything",
                          pr->pid, l->name);
                warned_preload = true;
            }
            if (l->status != TRACE_FAILED && plan_load(p, pr, l, program, err) != BF_OK)
                return BF_FAIL;
        }
    }
    if (!any)
        return err_set(err, "the trace shows no program whose loads were recorded: nothing to "
                            "bundle (was it made by `bundlefs trace`?)");
    return BF_OK;
}

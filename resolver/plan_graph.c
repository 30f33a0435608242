/* The object graph: one node per binary (by canonical path), each with the names it asks the
 * loader for and what they bind to. The trace's bindings come first; the static emulation
 * answers the rest and is checked against the trace. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plan_internal.h"

void plan_warn(plan *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char buf[2048];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    const char *msg = arena_strdup(p->a, buf);
    arena_push(p->a, &p->warnings, &p->nwarnings, &p->capwarnings, &msg, sizeof msg);
    if (p->o->warn)
        p->o->warn(p->o->warn_ctx, msg);
}

const char *plan_canonical(plan *p, const char *path)
{
    const char *c = strmap_get(&p->canon, path);
    if (!c) {
        char *r = realpath(path, NULL);
        c = r ? arena_strdup(p->a, r) : "";
        free(r);
        strmap_set(&p->canon, arena_strdup(p->a, path), (void *)c);
    }
    return *c ? c : NULL;
}

/* Paths and names never hold a 0x1f byte in practice; a key with one merely shares a slot. */
const char *plan_key(plan *p, const char *requester, const char *name)
{
    return arena_printf(p->a, "%s\x1f%s", requester, name);
}

long plan_node_get(plan *p, const char *canon, bf_err *err)
{
    void *v = strmap_get(&p->by_source, canon);
    if (v)
        return (long)(uintptr_t)v - 1;
    int fd = open(canon, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(err, "cannot open %s: %s", canon, strerror(errno)), -1;
    plan_node *n = arena_alloc(p->a, sizeof *n);
    n->same_as = -1;
    n->source = arena_strdup(p->a, canon);
    if (fstat(fd, &n->st) != 0) {
        err_set(err, "cannot examine %s: %s", canon, strerror(errno));
        close(fd);
        return -1;
    }
    if (elf_parse_fd(p->reader, fd, (uint64_t)n->st.st_size, NULL, 0, 0, canon, p->a, &n->elf,
                     err) != BF_OK) {
        close(fd);
        return -1;
    }
    close(fd);
    arena_push(p->a, &p->nodes, &p->nnodes, &p->capnodes, &n, sizeof n);
    strmap_set(&p->by_source, n->source, (void *)(uintptr_t)p->nnodes);
    return (long)p->nnodes - 1;
}

static const char *plan_dep_where(const plan *p, const layout_dep *d)
{
    if (d->status == LAYOUT_DEP_MISSING)
        return "nothing";
    if (d->status == LAYOUT_DEP_BUNDLED)
        return p->nodes[d->target]->source;
    return d->found ? d->found : "an excluded library";
}

void plan_node_add_dep(plan *p, plan_node *n, const layout_dep *d)
{
    for (size_t i = 0; i < n->ndeps; i++) {
        layout_dep *e = &n->deps[i];
        if (strcmp(e->name, d->name) != 0 || strcmp(e->kind, d->kind) != 0)
            continue;
        bool same = e->status == d->status &&
                    (e->status != LAYOUT_DEP_BUNDLED || e->target == d->target);
        if (!same && strcmp(d->origin, "static") == 0)
            plan_warn(p, "%s asks for %s: the traced run bound %s, the static resolver finds %s; "
                         "the bundle follows the trace",
                      n->source, d->name, plan_dep_where(p, e), plan_dep_where(p, d));
        else if (!same)
            plan_warn(p, "%s asks for %s: bound to %s in one traced process and to %s in "
                         "another; the bundle keeps the first",
                      n->source, d->name, plan_dep_where(p, e), plan_dep_where(p, d));
        return;
    }
    arena_push(p->a, &n->deps, &n->ndeps, &n->capdeps, d, sizeof *d);
}

static void plan_add_missing(plan *p, const plan_node *n, const char *name, const plan_answer *ans)
{
    layout_missing m = {n->source, name, ans ? ans->tried : NULL, ans ? ans->ntried : 0};
    arena_push(p->a, &p->missing, &p->nmissing, &p->capmissing, &m, sizeof m);
}

/* The static answer for one name a node asks for, as a dependency. */
static bool plan_has_dep(const plan_node *n, const char *name, const char *kind)
{
    for (size_t i = 0; i < n->ndeps; i++)
        if (!strcmp(n->deps[i].name, name) && !strcmp(n->deps[i].kind, kind))
            return true;
    return false;
}

static int plan_static_dep(plan *p, plan_node *n, const char *name, const char *kind,
                           const plan_answer *ans, bf_err *err)
{
    if (!ans && plan_has_dep(n, name, kind))
        return BF_OK; /* the emulation has no opinion; the trace's binding stands */
    layout_dep d = {.name = name, .kind = kind, .target = -1, .origin = "static"};
    const char *byname = ans ? NULL : plan_policy_rule(p, name, NULL);
    if (byname) {
        /* the emulation stopped before this name (an earlier one is missing) */
        d.status = LAYOUT_DEP_EXCLUDED;
        d.step = "not reached";
        plan_note_excluded(p, name, NULL, byname);
        plan_node_add_dep(p, n, &d);
        return BF_OK;
    }
    if (!ans || !ans->found) {
        d.status = LAYOUT_DEP_MISSING;
        d.step = ans ? ans->step : NULL;
        size_t before = n->ndeps;
        plan_node_add_dep(p, n, &d);
        if (n->ndeps > before)
            plan_add_missing(p, n, name, ans);
        return BF_OK;
    }
    d.found = ans->found;
    d.step = ans->step;
    const char *rule = plan_policy_rule(p, name, ans->found);
    if (!rule && ans->canon)
        rule = plan_policy_rule(p, NULL, ans->canon);
    if (rule) {
        d.status = LAYOUT_DEP_EXCLUDED;
        plan_note_excluded(p, name, ans->found, rule);
    } else {
        d.status = LAYOUT_DEP_BUNDLED;
        if (!ans->canon || (d.target = plan_node_get(p, ans->canon, err)) < 0)
            return BF_FAIL;
    }
    plan_node_add_dep(p, n, &d);
    return BF_OK;
}

static const plan_answer *plan_answer_for(plan *p, plan_node *n, const char *name)
{
    const plan_answer *ans = strmap_get(&p->answers, plan_key(p, n->source, name));
    if (!ans && !n->asked) {
        n->asked = true;
        plan_static_dlopen(p, n);
        ans = strmap_get(&p->answers, plan_key(p, n->source, name));
    }
    return ans;
}

static int plan_expand_node(plan *p, plan_node *n, bf_err *err)
{
    for (size_t i = 0; i < n->elf.ndeps; i++) {
        const elf_dep *dep = &n->elf.deps[i];
        if (dep->kind == ELF_DEP_AUXILIARY)
            continue; /* optional by definition: the loader carries on without it */
        const plan_answer *ans = plan_answer_for(p, n, dep->name);
        if (plan_static_dep(p, n, dep->name, "needed", ans, err) != BF_OK)
            return BF_FAIL;
    }
    /* traced dlopens are checked against the emulation replaying them */
    size_t ndeps = n->ndeps;
    for (size_t i = 0; i < ndeps; i++) {
        layout_dep d = n->deps[i];
        if (strcmp(d.kind, "dlopen") != 0 || strcmp(d.origin, "trace") != 0)
            continue;
        const plan_answer *ans = strmap_get(&p->answers, plan_key(p, n->source, d.name));
        if (ans && plan_static_dep(p, n, d.name, "dlopen", ans, err) != BF_OK)
            return BF_FAIL;
    }
    return BF_OK;
}

int plan_graph_expand(plan *p, bf_err *err)
{
    for (size_t i = 0; i < p->nnodes; i++) {
        plan_node *n = p->nodes[i];
        if (n->expanded)
            continue;
        n->expanded = true;
        if (plan_check_not_bundle(p, n->source, err) != BF_OK ||
            plan_expand_node(p, n, err) != BF_OK)
            return BF_FAIL;
    }
    return BF_OK;
}

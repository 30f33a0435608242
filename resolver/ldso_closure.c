/* The breadth-first dependency closure (glibc's _dl_map_object_deps, docs/LDSO.md §1): every
 * DT_NEEDED, DT_AUXILIARY and DT_FILTER entry of every object, in queue order. */
#include <string.h>

#include "ldso_internal.h"

typedef struct ldso_qent {
    ldso_obj *o;
    bool done;
} ldso_qent;

typedef struct ldso_queue {
    ldso_qent *q;
    size_t n, cap;
} ldso_queue;

static void ldso_queue_insert(arena *a, ldso_queue *qu, size_t at, ldso_obj *o)
{
    ldso_qent e = {o, false};
    arena_push(a, &qu->q, &qu->n, &qu->cap, &e, sizeof e);
    memmove(&qu->q[at + 1], &qu->q[at], (qu->n - 1 - at) * sizeof e);
    qu->q[at] = e;
}

static const int ldso_edge_kind_of_dep[] = {
    [ELF_DEP_NEEDED] = LDSO_EDGE_NEEDED,
    [ELF_DEP_AUXILIARY] = LDSO_EDGE_AUXILIARY,
    [ELF_DEP_FILTER] = LDSO_EDGE_FILTER,
};

/* Auxiliary and filter objects go just before their filter in the list (and are processed
 * next); one already behind it moves up, one already before it stays. */
static void ldso_place_filtee(arena *a, ldso_queue *qu, size_t *cur, ldso_obj *dep, unsigned gen)
{
    if (dep->bfs_mark == gen) {
        size_t j = *cur + 1;
        while (j < qu->n && qu->q[j].o != dep)
            j++;
        if (j == qu->n)
            return;
        memmove(&qu->q[j], &qu->q[j + 1], (qu->n - j - 1) * sizeof *qu->q);
        qu->n--;
    }
    dep->bfs_mark = gen;
    ldso_queue_insert(a, qu, *cur, dep);
    (*cur)++;
}

/* Processes the dependencies of the objects in the list that starts with roots[]. Objects
 * whose index is below skip_below were fully processed by an earlier load and bring nothing
 * new; they are not walked again. */
static int ldso_map_deps(ldso_session *s, ldso_obj **roots, size_t nroots, int mode,
                         size_t skip_below, ldso_fail *fail)
{
    unsigned gen = ++s->bfs_gen;
    ldso_queue qu = {0};
    for (size_t i = 0; i < nroots; i++) {
        roots[i]->bfs_mark = gen;
        ldso_qent e = {roots[i], false};
        arena_push(s->a, &qu.q, &qu.n, &qu.cap, &e, sizeof e);
    }
    for (size_t i = 0; i < qu.n;) {
        ldso_obj *l = qu.q[i].o;
        size_t cur = i;
        bool walk = l->index >= skip_below || i == 0;
        for (size_t k = 0; walk && k < l->elf.ndeps; k++) {
            const elf_dep *d = &l->elf.deps[k];
            const char *name = d->name;
            if (ldso_has_dst(name)) {
                if (s->opts.secure) {
                    *fail = (ldso_fail){name, "DST not allowed in SUID/SGID programs", 0};
                    return BF_FAIL;
                }
                name = ldso_dst_expand(s, l, name);
                if (!name) {
                    /* glibc skips such a NEEDED or FILTER, but fails for an AUXILIARY. */
                    if (d->kind != ELF_DEP_AUXILIARY)
                        continue;
                    *fail = (ldso_fail){d->name, "empty dynamic string token substitution", 0};
                    return BF_FAIL;
                }
            }
            ldso_edge *e = ldso_edge_new(s, ldso_edge_kind_of_dep[d->kind], l, d->name);
            e->expanded = name;
            ldso_fail f;
            ldso_obj *dep = ldso_map_object(s, l, name, mode, e, &f);
            if (!dep) {
                e->error = ldso_fail_text(s->a, &f, !(mode & LDSO_M_DLOPEN));
                if (d->kind == ELF_DEP_AUXILIARY)
                    continue; /* a missing auxiliary object is not an error */
                *fail = f;
                return BF_FAIL;
            }
            e->result = dep;
            if (d->kind != ELF_DEP_NEEDED) {
                ldso_place_filtee(s->a, &qu, &cur, dep, gen);
            } else if (dep->bfs_mark != gen) {
                dep->bfs_mark = gen;
                ldso_qent ne = {dep, false};
                arena_push(s->a, &qu.q, &qu.n, &qu.cap, &ne, sizeof ne);
            }
        }
        qu.q[cur].done = true;
        while (i < qu.n && qu.q[i].done)
            i++;
    }
    return BF_OK;
}

/* LD_PRELOAD and --preload are split at spaces and colons; in secure mode names with '/' are
 * dropped without a word. */
static void ldso_preload_list(ldso_session *s, const char *list, int kind, const char *where,
                              ldso_obj ***pre, size_t *npre, size_t *cap)
{
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, " :");
        const char *name = arena_strndup(s->a, p, len);
        p += len;
        if (*p)
            p++;
        /* /etc/ld.so.preload is trusted: the secure-mode filter is for the environment. */
        bool valid = len > 0 && (kind == LDSO_EDGE_PRELOAD_FILE ||
                                 !(s->opts.secure && (len >= 255 || strchr(name, '/'))));
        if (!valid)
            continue;
        ldso_edge *e = ldso_edge_new(s, kind, s->main, name);
        size_t before = s->nobjs;
        ldso_fail f;
        ldso_obj *o = ldso_map_object(s, s->main, name, LDSO_M_SECURE, e, &f);
        if (!o) {
            e->error = arena_printf(s->a,
                                    "ld.so: object '%s' from %s cannot be preloaded (%s): ignored.",
                                    name, where, f.msg);
            continue;
        }
        e->result = o;
        if (s->nobjs != before) /* a duplicate is not preloaded twice */
            arena_push(s->a, pre, npre, cap, &o, sizeof o);
    }
}

/* /etc/ld.so.preload: names separated by spaces, tabs, newlines or colons; '#' starts a
 * comment that runs to the end of the line. */
static char *ldso_preload_file_list(arena *a, const char *text)
{
    char *t = arena_strdup(a, text);
    for (char *c = strchr(t, '#'); c; c = strchr(c, '#'))
        while (*c && *c != '\n')
            *c++ = ' ';
    for (char *c = t; *c; c++)
        if (*c == '\t' || *c == '\n')
            *c = ' ';
    return t;
}

int ldso_closure_start(ldso_session *s)
{
    ldso_obj **pre = NULL;
    size_t npre = 0, cap = 0;
    if (s->opts.preload_env)
        ldso_preload_list(s, s->opts.preload_env, LDSO_EDGE_PRELOAD_ENV, "LD_PRELOAD", &pre,
                          &npre, &cap);
    if (s->opts.preload_opt)
        ldso_preload_list(s, s->opts.preload_opt, LDSO_EDGE_PRELOAD_OPT, "--preload", &pre, &npre,
                          &cap);
    if (s->opts.preload_file)
        ldso_preload_list(s, ldso_preload_file_list(s->a, s->opts.preload_file),
                          LDSO_EDGE_PRELOAD_FILE, "/etc/ld.so.preload", &pre, &npre, &cap);
    ldso_obj **roots = arena_alloc(s->a, (npre + 1) * sizeof *roots);
    roots[0] = s->main;
    if (npre)
        memcpy(roots + 1, pre, npre * sizeof *roots);
    ldso_fail f;
    if (ldso_map_deps(s, roots, npre + 1, 0, 0, &f) != BF_OK)
        s->start_error = ldso_fail_text(s->a, &f, true);
    return BF_OK;
}

const ldso_obj *ldso_dlopen(ldso_session *s, const ldso_obj *caller, const char *name)
{
    ldso_obj *call = caller ? (ldso_obj *)caller : s->main;
    name = arena_strdup(s->a, name); /* the caller's string may not outlive the session */
    ldso_edge *e = ldso_edge_new(s, LDSO_EDGE_DLOPEN, call, name);
    size_t first_new = s->nobjs;
    ldso_fail f;
    ldso_obj *o = ldso_map_object(s, call, name, LDSO_M_CALLMAP | LDSO_M_DLOPEN, e, &f);
    if (o && o->index >= first_new &&
        ldso_map_deps(s, &o, 1, LDSO_M_DLOPEN, first_new, &f) != BF_OK)
        o = NULL;
    if (!o) {
        /* A failed dlopen unmaps everything it mapped. */
        ldso_remove_from(s, first_new);
        e->error = ldso_fail_text(s->a, &f, false);
        return NULL;
    }
    e->result = o;
    return o;
}

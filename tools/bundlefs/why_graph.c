/* The search behind `bundlefs why`: breadth-first from every root at once, so the chain kept
 * for each object is a shortest one, and every object's parent is nearer a root than the
 * object itself (chains end, even in a layout whose graph has cycles). */
#include <string.h>

#include "why_diff.h"

static bool why_dep_target(const layout *l, const layout_dep *d, size_t *target)
{
    if (d->status != LAYOUT_DEP_BUNDLED || d->target < 0 || (size_t)d->target >= l->nobjects)
        return false;
    *target = (size_t)d->target;
    return true;
}

void why_graph_build(const layout *l, arena *a, why_graph *g)
{
    size_t n = l->nobjects ? l->nobjects : 1;
    g->l = l;
    g->depth = arena_alloc(a, n * sizeof *g->depth);
    g->parent = arena_alloc(a, n * sizeof *g->parent);
    g->via = arena_alloc(a, n * sizeof *g->via);
    g->order = arena_alloc(a, n * sizeof *g->order);
    size_t head = 0, tail = 0;
    for (size_t i = 0; i < l->nobjects; i++) {
        g->parent[i] = -1;
        g->depth[i] = l->objects[i].root ? 0 : -1;
        if (l->objects[i].root)
            g->order[tail++] = i;
    }
    while (head < tail) {
        size_t o = g->order[head++];
        const layout_object *obj = &l->objects[o];
        for (size_t k = 0; k < obj->ndeps; k++) {
            size_t t;
            if (!why_dep_target(l, &obj->deps[k], &t) || g->depth[t] >= 0)
                continue;
            g->depth[t] = g->depth[o] + 1;
            g->parent[t] = (long)o;
            g->via[t] = k;
            g->order[tail++] = t;
        }
    }
    for (size_t i = 0; i < l->nobjects; i++)
        if (g->depth[i] < 0)
            g->order[tail++] = i;
}

why_chain why_chain_to(const why_graph *g, size_t obj, const layout_dep *last, arena *a)
{
    size_t len = 1;
    for (long o = (long)obj; g->parent[o] >= 0; o = g->parent[o])
        len++;
    why_chain c = {arena_alloc(a, (len + 1) * sizeof *c.hops), len + (last != NULL)};
    size_t i = len;
    for (long o = (long)obj; i-- > 0; o = g->parent[o]) {
        long p = g->parent[o];
        c.hops[i].obj = &g->l->objects[o];
        c.hops[i].dep = p >= 0 ? &g->l->objects[p].deps[g->via[o]] : NULL;
    }
    if (last)
        c.hops[len] = (why_hop){last, NULL};
    return c;
}

static bool why_same(const char *want, const char *have)
{
    return !want || (have && !strcmp(want, have));
}

size_t why_requests(const why_graph *g, const char *name, enum layout_dep_status status,
                    const char *found, const char *requester, arena *a, why_request **out)
{
    size_t n = 0, cap = 0;
    *out = NULL;
    for (size_t i = 0; i < g->l->nobjects; i++) {
        size_t o = g->order[i];
        const layout_object *obj = &g->l->objects[o];
        if (!why_same(requester, obj->source))
            continue;
        for (size_t k = 0; k < obj->ndeps; k++) {
            const layout_dep *d = &obj->deps[k];
            if (d->status == status && !strcmp(d->name, name) && why_same(found, d->found)) {
                arena_push(a, out, &n, &cap, &(why_request){o, d}, sizeof **out);
                break; /* one per requester: the first request is the one the loader made */
            }
        }
    }
    return n;
}

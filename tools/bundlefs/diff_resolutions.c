/* Requests that bind differently in B: for each object in both layouts, its requests matched
 * by name and kind (a NEEDED and a dlopen of one name are two requests). */
#include <string.h>

#include "why_diff.h"

/* An object's requests sorted by name, kind, then the order asked, so that both sides can be
 * walked together: O(n log n) even for an object with very many requests. */
static const layout_dep **res_sorted(const layout_object *o, arena *a)
{
    const layout_dep **d = arena_alloc(a, (o->ndeps + 1) * sizeof *d);
    const char **name = arena_alloc(a, (o->ndeps + 1) * sizeof *name);
    const char **kind = arena_alloc(a, (o->ndeps + 1) * sizeof *kind);
    for (size_t k = 0; k < o->ndeps; k++) {
        d[k] = &o->deps[k];
        name[k] = o->deps[k].name;
        kind[k] = o->deps[k].kind;
    }
    diff_sort(d, o->ndeps, sizeof *d, name, kind, a);
    return d;
}

static int res_key_cmp(const layout_dep *x, const layout_dep *y)
{
    int c = strcmp(x->name ? x->name : "", y->name ? y->name : "");
    return c ? c : strcmp(x->kind ? x->kind : "", y->kind ? y->kind : "");
}

static long res_target(const layout *l, const layout_dep *d)
{
    return d->status == LAYOUT_DEP_BUNDLED && d->target >= 0 && (size_t)d->target < l->nobjects
               ? d->target
               : -1;
}

/* Same outcome: status, step, path found and, when bundled, the same object (which may have
 * changed content: that is an object change, not a resolution change). */
static bool res_same(const diff_result *r, const layout_dep *x, const layout_dep *y)
{
    if (x->status != y->status || !why_diff_streq(x->found, y->found) ||
        !why_diff_streq(x->step, y->step))
        return false;
    long ta = res_target(r->a.l, x), tb = res_target(r->b.l, y);
    return ta < 0 || tb < 0 ? ta == tb : r->a.partner[ta] == tb;
}

static void res_push(diff_result *r, size_t *cap, size_t i, size_t j, const layout_dep *old,
                     const layout_dep *new, arena *a)
{
    arena_push(a, &r->resolutions, &r->nresolutions, cap, &(diff_resolution){i, j, old, new},
               sizeof(diff_resolution));
}

void diff_resolutions(diff_result *r, arena *a)
{
    size_t cap = 0;
    for (size_t i = 0; i < r->a.l->nobjects; i++) {
        if (r->a.partner[i] < 0)
            continue;
        size_t j = (size_t)r->a.partner[i];
        const layout_object *oa = &r->a.l->objects[i], *ob = &r->b.l->objects[j];
        const layout_dep **da = res_sorted(oa, a), **db = res_sorted(ob, a);
        size_t p = 0, q = 0;
        while (p < oa->ndeps || q < ob->ndeps) {
            int c = p == oa->ndeps ? 1 : q == ob->ndeps ? -1 : res_key_cmp(da[p], db[q]);
            if (c < 0) {
                res_push(r, &cap, i, j, da[p++], NULL, a);
            } else if (c > 0) {
                res_push(r, &cap, i, j, NULL, db[q++], a);
            } else {
                if (!res_same(r, da[p], db[q]))
                    res_push(r, &cap, i, j, da[p], db[q], a);
                p++;
                q++;
            }
        }
    }
    const char **who = arena_alloc(a, (r->nresolutions + 1) * sizeof *who);
    const char **name = arena_alloc(a, (r->nresolutions + 1) * sizeof *name);
    for (size_t k = 0; k < r->nresolutions; k++) {
        const diff_resolution *x = &r->resolutions[k];
        who[k] = r->a.label[x->a];
        name[k] = (x->old ? x->old : x->new)->name;
    }
    diff_sort(r->resolutions, r->nresolutions, sizeof *r->resolutions, who, name, a);
}

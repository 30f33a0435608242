/* What a name given to `bundlefs why` denotes in a layout, and close names when nothing. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "why_diff.h"

typedef struct match_ctx {
    const layout *l;
    const char *name;
    arena *a;
    why_matches *out;
    size_t cap;
    bool *seen; /* by object: already matched */
} match_ctx;

static void match_add(match_ctx *c, enum why_match_kind kind, size_t index)
{
    if (kind == WHY_MATCH_OBJECT) {
        if (c->seen[index])
            return;
        c->seen[index] = true;
    }
    arena_push(c->a, &c->out->items, &c->out->count, &c->cap, &(why_match){kind, index},
               sizeof(why_match));
}

static void match_requested(match_ctx *c)
{
    const layout *l = c->l;
    for (size_t i = 0; i < l->nobjects; i++)
        for (size_t k = 0; k < l->objects[i].ndeps; k++) {
            const layout_dep *d = &l->objects[i].deps[k];
            if (d->status == LAYOUT_DEP_BUNDLED && d->target >= 0 &&
                (size_t)d->target < l->nobjects && why_diff_streq(d->name, c->name))
                match_add(c, WHY_MATCH_OBJECT, (size_t)d->target);
        }
    for (size_t i = 0; i < l->nexcluded; i++)
        if (why_diff_streq(l->excluded[i].name, c->name))
            match_add(c, WHY_MATCH_EXCLUDED, i);
    for (size_t i = 0; i < l->nmissing; i++)
        if (why_diff_streq(l->missing[i].name, c->name))
            match_add(c, WHY_MATCH_MISSING, i);
}

static void match_bundle_path(match_ctx *c)
{
    for (size_t i = 0; i < c->l->nobjects; i++) {
        const layout_object *o = &c->l->objects[i];
        bool hit = why_diff_streq(o->real, c->name) ||
                   (o->real && why_diff_streq(why_diff_basename(o->real), c->name));
        for (size_t k = 0; k < o->naliases && !hit; k++)
            hit = why_diff_streq(o->aliases[k], c->name);
        if (hit)
            match_add(c, WHY_MATCH_OBJECT, i);
    }
}

/* Paths of the build machine: a source, or the path the loader found (often a symlink to the
 * source, such as libz.so.1 for libz.so.1.2.13); base: compare basenames instead. */
static const char *match_path(const char *path, bool base)
{
    return path && base ? why_diff_basename(path) : path;
}

static void match_source(match_ctx *c, bool base)
{
    const layout *l = c->l;
    for (size_t i = 0; i < l->nobjects; i++)
        if (why_diff_streq(match_path(l->objects[i].source, base), c->name))
            match_add(c, WHY_MATCH_OBJECT, i);
    if (!base)
        for (size_t i = 0; i < l->nobjects; i++)
            for (size_t k = 0; k < l->objects[i].ndeps; k++) {
                const layout_dep *d = &l->objects[i].deps[k];
                if (d->status == LAYOUT_DEP_BUNDLED && d->target >= 0 &&
                    (size_t)d->target < l->nobjects && why_diff_streq(d->found, c->name))
                    match_add(c, WHY_MATCH_OBJECT, (size_t)d->target);
            }
    for (size_t i = 0; i < l->nexcluded; i++)
        if (why_diff_streq(match_path(l->excluded[i].path, base), c->name))
            match_add(c, WHY_MATCH_EXCLUDED, i);
}

void why_match_name(const layout *l, const char *name, arena *a, why_matches *out)
{
    *out = (why_matches){0};
    match_ctx c = {l, name, a, out, 0, arena_alloc(a, l->nobjects + 1)};
    match_requested(&c);
    if (out->count) {
        out->how = "requested name";
        return;
    }
    match_bundle_path(&c);
    if (out->count) {
        out->how = "bundle path";
        return;
    }
    match_source(&c, false);
    if (out->count) {
        out->how = "source path";
        return;
    }
    match_source(&c, true);
    if (out->count)
        out->how = "source basename";
}

/* ---- suggestions ---- */

typedef struct suggestion {
    const char *name;
    size_t score;
} suggestion;

typedef struct suggest_ctx {
    const char *want; /* the name's basename: paths are compared by their last component */
    size_t wantlen;
    strmap *seen;
    suggestion *items;
    size_t count, cap;
    arena *a;
} suggest_ctx;

/* Containing the name beats any prefix; else the length of the common prefix, ignoring
 * case; 0 when too little is shared to be a hint. */
static size_t suggest_score(const suggest_ctx *s, const char *cand)
{
    if (s->wantlen && strcasestr(cand, s->want))
        return 1000000 + s->wantlen;
    size_t p = 0;
    while (cand[p] && tolower((unsigned char)cand[p]) == tolower((unsigned char)s->want[p]))
        p++;
    /* "lib" alone is shared by nearly everything: ask for half the name, at least 3. */
    size_t need = s->wantlen / 2 > 3 ? s->wantlen / 2 : 3;
    if (need > s->wantlen)
        need = s->wantlen;
    return p && p >= need ? p : 0;
}

static void suggest_add(suggest_ctx *s, const char *cand)
{
    if (!cand)
        return;
    cand = why_diff_basename(cand);
    size_t score = suggest_score(s, cand);
    if (!score || strmap_get(s->seen, cand))
        return;
    strmap_set(s->seen, cand, (void *)cand);
    arena_push(s->a, &s->items, &s->count, &s->cap, &(suggestion){cand, score},
               sizeof(suggestion));
}

static int suggest_cmp(const void *x, const void *y)
{
    const suggestion *p = x, *q = y;
    if (p->score != q->score)
        return p->score > q->score ? -1 : 1;
    return strcmp(p->name, q->name);
}

size_t why_suggest(const layout *l, const char *name, size_t max, arena *a, const char ***out)
{
    suggest_ctx s = {.want = why_diff_basename(name), .a = a};
    s.wantlen = strlen(s.want);
    s.seen = why_diff_map(a);
    for (size_t i = 0; i < l->nobjects; i++) {
        const layout_object *o = &l->objects[i];
        suggest_add(&s, o->real);
        suggest_add(&s, o->source);
        for (size_t k = 0; k < o->ndeps; k++)
            suggest_add(&s, o->deps[k].name);
    }
    for (size_t i = 0; i < l->nexcluded; i++)
        suggest_add(&s, l->excluded[i].name);
    for (size_t i = 0; i < l->nmissing; i++)
        suggest_add(&s, l->missing[i].name);
    if (s.count)
        qsort(s.items, s.count, sizeof *s.items, suggest_cmp);
    size_t n = s.count < max ? s.count : max;
    *out = arena_alloc(a, (n + 1) * sizeof **out);
    for (size_t i = 0; i < n; i++)
        (*out)[i] = s.items[i].name;
    return n;
}

/* Which object of layout B is which object of layout A. Content first (same hash: the same
 * object, wherever its source now lives), then the names it is asked for (libblas.so.3 is
 * libblas.so.3, whichever file provides it), then its file name without version (libz.so
 * for libz.so.1.2.13), for roots that nothing asks for. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "why_diff.h"

typedef struct diff_sortkey {
    const char *k1, *k2;
    size_t pos;
} diff_sortkey;

static int diff_str_cmp(const char *x, const char *y)
{
    return strcmp(x ? x : "", y ? y : "");
}

static int diff_sortkey_cmp(const void *x, const void *y)
{
    const diff_sortkey *p = x, *q = y;
    int c = diff_str_cmp(p->k1, q->k1);
    if (!c)
        c = diff_str_cmp(p->k2, q->k2);
    return c ? c : (p->pos > q->pos) - (p->pos < q->pos);
}

void diff_sort(void *items, size_t n, size_t size, const char *const *k1,
               const char *const *k2, arena *a)
{
    if (n < 2)
        return;
    diff_sortkey *keys = arena_alloc(a, n * sizeof *keys);
    for (size_t i = 0; i < n; i++)
        keys[i] = (diff_sortkey){k1[i], k2 ? k2[i] : NULL, i};
    qsort(keys, n, sizeof *keys, diff_sortkey_cmp);
    char *copy = arena_alloc(a, n * size);
    memcpy(copy, items, n * size);
    for (size_t i = 0; i < n; i++)
        memcpy((char *)items + i * size, copy + keys[i].pos * size, size);
}

/* "libz.so.1.2.13" -> "libz.so", "python3.11" -> "python3"; names without a version as is. */
static const char *diff_stem(const char *source, arena *a)
{
    const char *base = why_diff_basename(source ? source : "");
    const char *so = strstr(base, ".so.");
    if (so)
        return arena_strndup(a, base, (size_t)(so + 3 - base));
    size_t n = strlen(base);
    for (;;) {
        size_t k = n;
        while (k && isdigit((unsigned char)base[k - 1]))
            k--;
        if (k == n || k < 2 || base[k - 1] != '.')
            break;
        n = k - 1;
    }
    return arena_strndup(a, base, n);
}

static void diff_side_init(diff_side *s, arena *a)
{
    size_t n = s->l->nobjects ? s->l->nobjects : 1;
    s->asked = why_diff_asked_names(s->l, a);
    s->label = arena_alloc(a, n * sizeof *s->label);
    s->partner = arena_alloc(a, n * sizeof *s->partner);
    for (size_t i = 0; i < s->l->nobjects; i++) {
        const layout_object *o = &s->l->objects[i];
        s->label[i] = s->asked[i].count ? s->asked[i].names[0]
                                        : why_diff_basename(o->source ? o->source : "?");
        s->partner[i] = -1;
    }
}

/* The objects of B under one key; next skips those already paired, which stay paired, so
 * each bucket is walked once in all. */
typedef struct diff_bucket {
    size_t *idx;
    size_t n, cap, next;
} diff_bucket;

static void diff_bucket_add(strmap *m, const char *key, size_t i, arena *a)
{
    diff_bucket *b = strmap_get(m, key);
    if (!b) {
        b = arena_alloc(a, sizeof *b);
        strmap_set(m, key, b);
    }
    arena_push(a, &b->idx, &b->n, &b->cap, &i, sizeof i);
}

static bool diff_bucket_take(const strmap *m, const char *key, diff_result *r, size_t i)
{
    diff_bucket *b = strmap_get(m, key);
    while (b && b->next < b->n && r->b.partner[b->idx[b->next]] >= 0)
        b->next++;
    if (!b || b->next == b->n)
        return false;
    size_t j = b->idx[b->next++];
    r->a.partner[i] = (long)j;
    r->b.partner[j] = (long)i;
    return true;
}

static void diff_pair_objects(diff_result *r, arena *a)
{
    const layout *la = r->a.l, *lb = r->b.l;
    strmap *by_hash = why_diff_map(a), *by_name = why_diff_map(a), *by_stem = why_diff_map(a);
    for (size_t j = 0; j < lb->nobjects; j++) {
        diff_bucket_add(by_hash, lb->objects[j].hash, j, a);
        for (size_t k = 0; k < r->b.asked[j].count; k++)
            diff_bucket_add(by_name, r->b.asked[j].names[k], j, a);
        diff_bucket_add(by_stem, diff_stem(lb->objects[j].source, a), j, a);
    }
    for (size_t i = 0; i < la->nobjects; i++)
        diff_bucket_take(by_hash, la->objects[i].hash, r, i);
    for (size_t i = 0; i < la->nobjects; i++)
        for (size_t k = 0; k < r->a.asked[i].count && r->a.partner[i] < 0; k++)
            diff_bucket_take(by_name, r->a.asked[i].names[k], r, i);
    for (size_t i = 0; i < la->nobjects; i++)
        if (r->a.partner[i] < 0)
            diff_bucket_take(by_stem, diff_stem(la->objects[i].source, a), r, i);
}

/* Sorts object indices of side s by label, then source. */
static void diff_sort_objects(size_t *idx, size_t n, const diff_side *s, arena *a)
{
    const char **k1 = arena_alloc(a, (n + 1) * sizeof *k1);
    const char **k2 = arena_alloc(a, (n + 1) * sizeof *k2);
    for (size_t i = 0; i < n; i++) {
        k1[i] = s->label[idx[i]];
        k2[i] = s->l->objects[idx[i]].source;
    }
    diff_sort(idx, n, sizeof *idx, k1, k2, a);
}

void diff_objects(diff_result *r, arena *a)
{
    diff_side_init(&r->a, a);
    diff_side_init(&r->b, a);
    diff_pair_objects(r, a);
    const layout *la = r->a.l, *lb = r->b.l;
    size_t cap_removed = 0, cap_added = 0, cap_changed = 0;
    for (size_t i = 0; i < la->nobjects; i++) {
        long j = r->a.partner[i];
        if (j < 0)
            arena_push(a, &r->removed, &r->nremoved, &cap_removed, &i, sizeof i);
        else if (strcmp(la->objects[i].hash, lb->objects[j].hash))
            arena_push(a, &r->changed, &r->nchanged, &cap_changed,
                       &(diff_pair){i, (size_t)j}, sizeof(diff_pair));
        else
            r->nunchanged++;
    }
    for (size_t j = 0; j < lb->nobjects; j++)
        if (r->b.partner[j] < 0)
            arena_push(a, &r->added, &r->nadded, &cap_added, &j, sizeof j);
    diff_sort_objects(r->removed, r->nremoved, &r->a, a);
    diff_sort_objects(r->added, r->nadded, &r->b, a);
    const char **k1 = arena_alloc(a, (r->nchanged + 1) * sizeof *k1);
    for (size_t i = 0; i < r->nchanged; i++)
        k1[i] = r->a.label[r->changed[i].a];
    diff_sort(r->changed, r->nchanged, sizeof *r->changed, k1, NULL, a);
}

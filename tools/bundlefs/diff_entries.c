/* The bundle trees of two layouts compared path by path, and their sizes. The reals of
 * objects added, removed or changed are left out of added and removed: their paths carry the
 * content hash, so each such object would show twice; diff_objects reports them. */
#include <string.h>

#include "why_diff.h"

static bool entries_same_edit(const layout_entry *x, const layout_entry *y)
{
    if (x->has_edit != y->has_edit)
        return false;
    if (!x->has_edit)
        return true;
    const elf_edit *p = &x->edit, *q = &y->edit;
    if (!why_diff_streq(p->rpath, q->rpath) || !why_diff_streq(p->runpath, q->runpath) ||
        p->remove_rpath != q->remove_rpath || !why_diff_streq(p->soname, q->soname) ||
        p->nneeded != q->nneeded)
        return false;
    for (size_t i = 0; i < p->nneeded; i++)
        if (!why_diff_streq(p->needed[i].from, q->needed[i].from) ||
            !why_diff_streq(p->needed[i].to, q->needed[i].to))
            return false;
    return true;
}

/* The fields that make the served bytes or metadata differ, comma-separated; NULL if none.
 * Times are left out: every build has its own. */
static const char *entries_changes(const layout_entry *x, const layout_entry *y, arena *a)
{
    if (x->type != y->type)
        return "type";
    bool diff[5] = {
        x->type != LAYOUT_SYMLINK && x->mode != y->mode,
        x->type == LAYOUT_FILE && (strcmp(x->hash, y->hash) || x->size != y->size),
        x->type == LAYOUT_FILE && !entries_same_edit(x, y),
        x->type == LAYOUT_SYMLINK && !why_diff_streq(x->target, y->target),
        x->type == LAYOUT_GENERATED &&
            (x->content_len != y->content_len ||
             (x->content_len && memcmp(x->content, y->content, x->content_len))),
    };
    static const char *const names[5] = {"mode", "hash", "edit", "target", "content"};
    char *out = NULL;
    for (size_t i = 0; i < 5; i++)
        if (diff[i])
            out = out ? arena_printf(a, "%s,%s", out, names[i]) : arena_strdup(a, names[i]);
    return out;
}

/* paths: every entry of s by path; reals: the reals of the objects s has and other has not in
 * the same content, which diff_objects reports already. */
static void entries_index(const diff_side *s, const diff_side *other, strmap **paths,
                          strmap **reals, arena *a)
{
    const layout *l = s->l;
    *paths = why_diff_map(a);
    *reals = why_diff_map(a);
    for (size_t i = 0; i < l->nentries; i++)
        strmap_put_first(*paths, l->entries[i].path, &l->entries[i]);
    for (size_t i = 0; i < l->nobjects; i++) {
        const layout_object *o = &l->objects[i];
        long p = s->partner[i];
        if (o->real && (p < 0 || strcmp(o->hash, other->l->objects[p].hash)))
            strmap_set(*reals, o->real, (void *)o->real);
    }
}

static int entries_size(const diff_side *s, int64_t *bytes, size_t *files, bf_err *err)
{
    *bytes = 0;
    *files = 0;
    for (size_t i = 0; i < s->l->nentries; i++) {
        const layout_entry *e = &s->l->entries[i];
        if (e->type != LAYOUT_FILE)
            continue;
        if (e->size > INT64_MAX || __builtin_add_overflow(*bytes, (int64_t)e->size, bytes))
            return err_set(err, "%s: the sizes of the files add up to more than 2^63 bytes; "
                                "this is not the layout of a real bundle",
                           s->file);
        ++*files;
    }
    return BF_OK;
}

static void entries_sort(diff_entry_change *c, size_t n, arena *a)
{
    const char **path = arena_alloc(a, (n + 1) * sizeof *path);
    for (size_t i = 0; i < n; i++)
        path[i] = (c[i].old ? c[i].old : c[i].new)->path;
    diff_sort(c, n, sizeof *c, path, NULL, a);
}

int diff_entries(diff_result *r, arena *a, bf_err *err)
{
    if (entries_size(&r->a, &r->a_bytes, &r->a_files, err) ||
        entries_size(&r->b, &r->b_bytes, &r->b_files, err))
        return BF_FAIL;
    strmap *paths_a, *reals_a, *paths_b, *reals_b;
    entries_index(&r->a, &r->b, &paths_a, &reals_a, a);
    entries_index(&r->b, &r->a, &paths_b, &reals_b, a);
    size_t cap_added = 0, cap_removed = 0, cap_changed = 0;
    for (size_t i = 0; i < r->a.l->nentries; i++) {
        const layout_entry *x = &r->a.l->entries[i], *y = strmap_get(paths_b, x->path);
        const char *what = y ? entries_changes(x, y, a) : NULL;
        if (what)
            arena_push(a, &r->entries_changed, &r->nentries_changed, &cap_changed,
                       &(diff_entry_change){x, y, what}, sizeof(diff_entry_change));
        else if (!y && !strmap_get(reals_a, x->path))
            arena_push(a, &r->entries_removed, &r->nentries_removed, &cap_removed,
                       &(diff_entry_change){x, NULL, NULL}, sizeof(diff_entry_change));
    }
    for (size_t i = 0; i < r->b.l->nentries; i++) {
        const layout_entry *y = &r->b.l->entries[i];
        if (!strmap_get(paths_a, y->path) && !strmap_get(reals_b, y->path))
            arena_push(a, &r->entries_added, &r->nentries_added, &cap_added,
                       &(diff_entry_change){NULL, y, NULL}, sizeof(diff_entry_change));
    }
    entries_sort(r->entries_added, r->nentries_added, a);
    entries_sort(r->entries_removed, r->nentries_removed, a);
    entries_sort(r->entries_changed, r->nentries_changed, a);
    return BF_OK;
}

/* `bundlefs diff --json`: every difference, entries listed one by one. */
#include <string.h>

#include "why_diff.h"

static json_t *diff_json_names(const why_diff_names *n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n->count; i++)
        json_array_append_new(arr, why_diff_json_str(n->names[i]));
    return arr;
}

static json_t *diff_json_object(const diff_side *s, size_t i)
{
    const layout_object *o = &s->l->objects[i];
    return json_pack("{s:o, s:o, s:o, s:s, s:I, s:o}", "identity", why_diff_json_str(s->label[i]),
                     "names", diff_json_names(&s->asked[i]), "source",
                     why_diff_json_str(o->source), "hash", o->hash, "size", (json_int_t)o->size,
                     "real", why_diff_json_str(o->real));
}

static json_t *diff_json_objects(const diff_result *r)
{
    json_t *added = json_array(), *removed = json_array(), *changed = json_array();
    for (size_t i = 0; i < r->nadded; i++)
        json_array_append_new(added, diff_json_object(&r->b, r->added[i]));
    for (size_t i = 0; i < r->nremoved; i++)
        json_array_append_new(removed, diff_json_object(&r->a, r->removed[i]));
    for (size_t i = 0; i < r->nchanged; i++)
        json_array_append_new(changed, json_pack("{s:o, s:o, s:o}", "identity",
                                                 why_diff_json_str(r->a.label[r->changed[i].a]),
                                                 "old", diff_json_object(&r->a, r->changed[i].a),
                                                 "new", diff_json_object(&r->b, r->changed[i].b)));
    return json_pack("{s:o, s:o, s:o, s:I}", "added", added, "removed", removed, "changed",
                     changed, "unchanged", (json_int_t)r->nunchanged);
}

static json_t *diff_json_dep(const layout *l, const layout_dep *d)
{
    if (!d)
        return json_null();
    bool bundled = d->status == LAYOUT_DEP_BUNDLED && d->target >= 0 &&
                   (size_t)d->target < l->nobjects;
    return json_pack("{s:s, s:o, s:o, s:o, s:o}", "status", why_diff_status_name(d->status),
                     "found", why_diff_json_str(d->found), "step", why_diff_json_str(d->step),
                     "origin", why_diff_json_str(d->origin), "target",
                     why_diff_json_str(bundled ? l->objects[d->target].source : NULL));
}

static json_t *diff_json_resolutions(const diff_result *r)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < r->nresolutions; i++) {
        const diff_resolution *x = &r->resolutions[i];
        const layout_dep *any = x->old ? x->old : x->new;
        json_array_append_new(
            arr, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "requester",
                           why_diff_json_str(r->a.label[x->a]), "requester_source",
                           why_diff_json_str(r->a.l->objects[x->a].source), "name",
                           why_diff_json_str(any->name), "kind", why_diff_json_str(any->kind),
                           "old", diff_json_dep(r->a.l, x->old), "new",
                           diff_json_dep(r->b.l, x->new)));
    }
    return arr;
}

static const char *diff_type_name(enum layout_type t)
{
    return t == LAYOUT_DIR ? "dir" : t == LAYOUT_FILE ? "file" : t == LAYOUT_SYMLINK ? "symlink"
                                                                                     : "generated";
}

/* "hash,edit" -> ["hash", "edit"] */
static json_t *diff_json_what(const char *what)
{
    json_t *arr = json_array();
    while (what && *what) {
        size_t n = strcspn(what, ",");
        json_array_append_new(arr, json_stringn(what, n));
        what += n + (what[n] == ',');
    }
    return arr;
}

static json_t *diff_json_entries(const diff_entry_change *c, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        const layout_entry *e = c[i].new ? c[i].new : c[i].old;
        json_t *item = json_pack("{s:o, s:s}", "path", why_diff_json_str(e->path), "type",
                                 diff_type_name(e->type));
        if (c[i].what && item)
            json_object_set_new(item, "what", diff_json_what(c[i].what));
        json_array_append_new(arr, item);
    }
    return arr;
}

static json_t *diff_json_fields(const diff_result *r)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < r->nfields; i++)
        json_array_append_new(arr, json_pack("{s:s, s:o, s:o}", "field", r->fields[i].field,
                                             "old", why_diff_json_str(r->fields[i].old), "new",
                                             why_diff_json_str(r->fields[i].new)));
    return arr;
}

int diff_print_json(FILE *out, const diff_result *r, const char *a_name, const char *b_name,
                    bf_err *err)
{
    json_t *entries = json_pack(
        "{s:o, s:o, s:o}", "added", diff_json_entries(r->entries_added, r->nentries_added),
        "removed", diff_json_entries(r->entries_removed, r->nentries_removed), "changed",
        diff_json_entries(r->entries_changed, r->nentries_changed));
    json_t *size = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "a_bytes", (json_int_t)r->a_bytes,
                             "b_bytes", (json_int_t)r->b_bytes, "delta_bytes",
                             (json_int_t)(r->b_bytes - r->a_bytes), "a_files",
                             (json_int_t)r->a_files, "b_files", (json_int_t)r->b_files,
                             "delta_files", (json_int_t)r->b_files - (json_int_t)r->a_files);
    json_t *doc = json_pack("{s:o, s:o, s:b, s:o, s:o, s:o, s:o, s:o}", "a",
                            why_diff_json_str(a_name), "b", why_diff_json_str(b_name),
                            "identical", diff_identical(r), "fields", diff_json_fields(r),
                            "objects", diff_json_objects(r), "resolutions",
                            diff_json_resolutions(r), "entries", entries, "size", size);
    return why_diff_json_print(out, doc, err);
}

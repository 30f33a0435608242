/* `bundlefs diff` for people: a summary line per kind of difference, then its items, sorted;
 * entries other than objects only as counts (there can be thousands). */
#include <inttypes.h>

#include "why_diff.h"

static void diff_text_object(FILE *out, const char *mark, const layout_object *o)
{
    fprintf(out, "%s%s  hash %s  %" PRIu64 " bytes\n", mark, why_diff_or(o->source, "?"), o->hash,
            o->size);
}

static void diff_text_objects(FILE *out, const diff_result *r)
{
    if (!r->nadded && !r->nremoved && !r->nchanged)
        return;
    fprintf(out, "objects: %zu added, %zu removed, %zu changed, %zu unchanged\n", r->nadded,
            r->nremoved, r->nchanged, r->nunchanged);
    for (size_t i = 0; i < r->nadded; i++) {
        fprintf(out, "+ %s  ", r->b.label[r->added[i]]);
        diff_text_object(out, "", &r->b.l->objects[r->added[i]]);
    }
    for (size_t i = 0; i < r->nremoved; i++) {
        fprintf(out, "- %s  ", r->a.label[r->removed[i]]);
        diff_text_object(out, "", &r->a.l->objects[r->removed[i]]);
    }
    for (size_t i = 0; i < r->nchanged; i++) {
        fprintf(out, "~ %s\n", r->a.label[r->changed[i].a]);
        diff_text_object(out, "    - ", &r->a.l->objects[r->changed[i].a]);
        diff_text_object(out, "    + ", &r->b.l->objects[r->changed[i].b]);
    }
}

static void diff_text_dep(FILE *out, const layout *l, const layout_dep *d)
{
    if (!d) {
        fputs("not asked", out);
        return;
    }
    fprintf(out, "%s %s [%s]", why_diff_status_name(d->status),
            why_diff_or(d->found, "(not found)"), why_diff_or(d->step, "-"));
    if (d->status == LAYOUT_DEP_BUNDLED && d->target >= 0 && (size_t)d->target < l->nobjects &&
        !why_diff_streq(l->objects[d->target].source, d->found))
        fprintf(out, " = %s", why_diff_or(l->objects[d->target].source, "?"));
}

static void diff_text_resolutions(FILE *out, const diff_result *r)
{
    if (!r->nresolutions)
        return;
    fprintf(out, "resolutions: %zu changed\n", r->nresolutions);
    for (size_t i = 0; i < r->nresolutions; i++) {
        const diff_resolution *x = &r->resolutions[i];
        const layout_dep *any = x->old ? x->old : x->new;
        fprintf(out, "~ %s asks %s (%s): ", r->a.label[x->a], why_diff_or(any->name, "?"),
                why_diff_or(any->kind, "?"));
        diff_text_dep(out, r->a.l, x->old);
        fputs(" -> ", out);
        diff_text_dep(out, r->b.l, x->new);
        fputc('\n', out);
    }
}

static const char *diff_sign(int64_t d)
{
    return d >= 0 ? "+" : "";
}

void diff_print_text(FILE *out, const diff_result *r, const char *a_name, const char *b_name)
{
    if (diff_identical(r)) {
        fprintf(out, "identical: %zu objects, %zu files, %" PRId64 " bytes\n",
                r->a.l->nobjects, r->a_files, r->a_bytes);
        return;
    }
    fprintf(out, "--- %s\n+++ %s\n", a_name, b_name);
    for (size_t i = 0; i < r->nfields; i++)
        fprintf(out, "~ %s: %s -> %s\n", r->fields[i].field,
                why_diff_or(r->fields[i].old, "(none)"), why_diff_or(r->fields[i].new, "(none)"));
    diff_text_objects(out, r);
    diff_text_resolutions(out, r);
    if (r->nentries_added || r->nentries_removed || r->nentries_changed)
        fprintf(out, "other entries: %zu added, %zu removed, %zu changed (--json lists them)\n",
                r->nentries_added, r->nentries_removed, r->nentries_changed);
    int64_t bytes = r->b_bytes - r->a_bytes;
    int64_t files = (int64_t)r->b_files - (int64_t)r->a_files;
    fprintf(out,
            "size: %" PRId64 " -> %" PRId64 " bytes (%s%" PRId64 "), %zu -> %zu files (%s%" PRId64
            ")\n",
            r->a_bytes, r->b_bytes, diff_sign(bytes), bytes, r->a_files, r->b_files,
            diff_sign(files), files);
}

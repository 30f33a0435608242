/* The layout's own fields that describe the bundle as a whole, and whether two layouts differ
 * at all. */
#include "why_diff.h"

void diff_fields(diff_result *r, arena *a)
{
    const layout *x = r->a.l, *y = r->b.l;
    const diff_field_change all[] = {
        {"name", x->name, y->name},
        {"platform", x->platform, y->platform},
        {"launcher", x->launcher, y->launcher},
        {"requires.glibc", x->requires_glibc, y->requires_glibc},
        {"requires.glibcxx", x->requires_glibcxx, y->requires_glibcxx},
        {"requires.cxxabi", x->requires_cxxabi, y->requires_cxxabi},
    };
    size_t cap = 0;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (!why_diff_streq(all[i].old, all[i].new))
            arena_push(a, &r->fields, &r->nfields, &cap, &all[i], sizeof all[i]);
}

bool diff_identical(const diff_result *r)
{
    /* Sizes need no check of their own: they differ only if some file entry does. */
    return !r->nadded && !r->nremoved && !r->nchanged && !r->nresolutions &&
           !r->nentries_added && !r->nentries_removed && !r->nentries_changed && !r->nfields;
}

/* The new dynamic entry list of a rewrite: the old entries with the edit applied, in the old
 * order; a new RPATH/RUNPATH takes the place of the one it replaces (else it follows the
 * NEEDED entries), as does a new SONAME. */
#include <string.h>

#include "elf_rw_internal.h"

static void rw_push(arena *a, rw_dyn **list, size_t *n, size_t *cap, int64_t tag,
                    uint64_t val, const char *str)
{
    rw_dyn d = {tag, val, str};
    arena_push(a, list, n, cap, &d, sizeof d);
}

int rw_new_entries(const rw_elf *e, const elf_edit *ed, arena *a, rw_dyn **out, size_t *nout,
                   bf_err *err)
{
    rw_dyn *list = NULL;
    size_t n = 0, cap = 0;
    int64_t path_tag = ed->rpath ? DT_RPATH : ed->runpath ? DT_RUNPATH : 0;
    const char *path = ed->rpath ? ed->rpath : ed->runpath;
    bool path_done = !path, soname_done = !ed->soname;
    bool *used = arena_alloc(a, ed->nneeded + 1);
    size_t last_needed = 0;
    for (size_t i = 0; i + 1 < e->ndyn; i++) { /* the DT_NULL is added at the end */
        const rw_dyn *d = &e->dyn[i];
        const char *s = rw_tag_is_string(d->tag) ? e->dynstr + d->val : NULL;
        if (d->tag == DT_RPATH || d->tag == DT_RUNPATH) {
            if (ed->remove_rpath || path) {
                if (!path_done)
                    rw_push(a, &list, &n, &cap, path_tag, 0, path);
                path_done = true;
                continue;
            }
        } else if (d->tag == DT_SONAME && ed->soname) {
            if (!soname_done)
                rw_push(a, &list, &n, &cap, DT_SONAME, 0, ed->soname);
            soname_done = true;
            continue;
        } else if (d->tag == DT_NEEDED) {
            for (size_t k = 0; k < ed->nneeded; k++)
                if (!strcmp(s, ed->needed[k].from)) {
                    s = ed->needed[k].to;
                    used[k] = true;
                    break;
                }
            rw_push(a, &list, &n, &cap, DT_NEEDED, d->val, s);
            last_needed = n;
            continue;
        }
        rw_push(a, &list, &n, &cap, d->tag, d->val, s);
    }
    for (size_t k = 0; k < ed->nneeded; k++)
        if (!used[k])
            return err_set(err, "%s: has no DT_NEEDED entry \"%s\" to replace", e->name,
                           ed->needed[k].from);
    /* entries that did not exist go after the NEEDED ones */
    rw_dyn extra[2];
    size_t nextra = 0;
    if (!soname_done)
        extra[nextra++] = (rw_dyn){DT_SONAME, 0, ed->soname};
    if (!path_done)
        extra[nextra++] = (rw_dyn){path_tag, 0, path};
    for (size_t k = 0; k < nextra; k++) {
        rw_push(a, &list, &n, &cap, 0, 0, NULL);
        memmove(&list[last_needed + k + 1], &list[last_needed + k],
                (n - 1 - last_needed - k) * sizeof *list);
        list[last_needed + k] = extra[k];
    }
    rw_push(a, &list, &n, &cap, DT_NULL, 0, NULL);
    *out = list;
    *nout = n;
    return BF_OK;
}

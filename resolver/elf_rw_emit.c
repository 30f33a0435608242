/* The rewritten file as an image: the source with new bytes laid over it, and with the range
 * a shift moves up shifted (the new strings in its place). */
#include <stdlib.h>
#include <string.h>

#include "elf_rw_internal.h"

void rw_add_patch(arena *a, rw_patch **p, size_t *n, size_t *cap, uint64_t off,
                  const void *bytes, size_t len)
{
    rw_patch x = {off, arena_alloc(a, len ? len : 1), len};
    memcpy((void *)x.bytes, bytes, len);
    arena_push(a, p, n, cap, &x, sizeof x);
}

void rw_emit_range(image *im, const rw_patch *p, size_t n, uint64_t from, uint64_t to)
{
    uint64_t at = from;
    for (size_t i = 0; i < n && at < to; i++) {
        uint64_t s = p[i].off, end = s + p[i].len;
        if (end <= at || s >= to)
            continue;
        if (s > at) {
            image_add_source(im, at, s - at);
            at = s;
        }
        uint64_t stop = end < to ? end : to;
        image_add_bytes(im, p[i].bytes + (at - s), stop - at);
        at = stop;
    }
    image_add_source(im, at, to - at);
}

static int rw_cmp_patch(const void *x, const void *y)
{
    const rw_patch *a = x, *b = y;
    return a->off < b->off ? -1 : a->off > b->off;
}

int rw_emit(const rw_elf *e, image *im, rw_patch *p, size_t n, const rw_shift *sh, bf_err *err)
{
    qsort(p, n, sizeof *p, rw_cmp_patch);
    /* Two changes to the same bytes: headers or tables of the file overlap (a section header
     * table over the dynamic tables, ...), so one change would undo the other. */
    for (size_t i = 1; i < n; i++)
        if (p[i].off < p[i - 1].off + p[i - 1].len)
            return err_set(err, "%s: the headers and tables the edit changes overlap in the file "
                                "(at offset %llu); not rewritten",
                           e->name, (unsigned long long)p[i].off);
    if (!sh || !sh->by) {
        rw_emit_range(im, p, n, 0, e->size);
        return BF_OK;
    }
    rw_emit_range(im, p, n, 0, sh->at);
    image_add_bytes(im, sh->strings, sh->by);
    rw_emit_range(im, p, n, sh->at, sh->end);
    rw_emit_range(im, p, n, sh->end + sh->by, e->size);
    return BF_OK;
}

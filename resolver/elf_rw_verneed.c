/* A replaced DT_NEEDED must be replaced in the version needs too: glibc matches each
 * Verneed's vn_file against the names of the loaded dependencies (an unmatched one is an
 * assertion in dl-version.c), and eu-elflint reports it. */
#include <string.h>
#include <unistd.h>

#include "elf_rw_internal.h"

enum { RW_MAX_VERNEED = 1 << 16 };

static uint64_t rw_new_offset(const rw_dyn *list, size_t n, const char *to)
{
    for (size_t i = 0; i < n; i++)
        if (list[i].tag == DT_NEEDED && list[i].str && !strcmp(list[i].str, to))
            return list[i].val;
    return UINT64_MAX;
}

void rw_patch_verneed(const rw_elf *e, const elf_edit *ed, const rw_dyn *list, size_t n,
                      arena *a, rw_patch **patches, size_t *np, size_t *cap)
{
    uint64_t vaddr = rw_dyn_value(e, DT_VERNEED), off;
    if (!ed->nneeded || !vaddr || !rw_vaddr_to_off(e, vaddr, 16, &off))
        return;
    /* the chain as glibc walks it: to a zero next link, whatever DT_VERNEEDNUM says */
    for (uint64_t k = 0; k < RW_MAX_VERNEED; k++) {
        uint8_t v[16];
        if (off > e->size || e->size - off < 16 || pread(e->fd, v, 16, (off_t)off) != 16)
            return;
        uint64_t file = rw_get(e, v + 4, 4);
        for (size_t r = 0; file < e->strsz && r < ed->nneeded; r++) {
            if (strcmp(e->dynstr + file, ed->needed[r].from))
                continue;
            uint64_t to = rw_new_offset(list, n, ed->needed[r].to);
            uint8_t field[4];
            rw_put(e, field, 4, to);
            if (to != UINT64_MAX)
                rw_add_patch(a, patches, np, cap, off + 4, field, 4);
            break;
        }
        uint64_t next = rw_get(e, v + 12, 4);
        if (!next)
            return;
        off += next;
    }
}

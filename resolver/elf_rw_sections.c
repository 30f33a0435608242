/* The section header table after a rewrite: sections follow what moved, so that readelf,
 * eu-elflint and debuggers see the file as the loader does. */
#include "elf_rw_internal.h"

void rw_patch_sections(const rw_elf *e, rw_section_move strtab, rw_section_move dynamic,
                       const rw_shift *sh, arena *a, rw_patch **p, size_t *np, size_t *cap)
{
    if (!e->shnum)
        return;
    size_t size = rw_shdr_size(e);
    uint8_t *buf = arena_alloc(a, e->shnum * size);
    rw_moved *moved = arena_alloc(a, e->shnum * sizeof *moved);
    size_t nmoved = 0;
    for (size_t i = 0; i < e->shnum; i++) {
        rw_shdr s = e->sh[i];
        const rw_section_move *to = NULL;
        if (rw_is_dynstr(e, &s)) {
            to = strtab.set ? &strtab : NULL;
            if (sh && !to)
                s.size = sh->strsz;
        } else if (s.type == SHT_DYNAMIC) {
            to = dynamic.set ? &dynamic : NULL;
        } else if (sh && rw_shift_moves(sh, &s)) {
            s.addr += sh->by;
            s.offset += sh->by;
        } else if (sh && (int)i == sh->evict) {
            s.offset = sh->evict_off;
            s.addr = sh->evict_addr;
        }
        if (to) {
            s.offset = to->off;
            s.addr = to->addr;
            s.size = to->size;
        }
        if (s.addr != e->sh[i].addr)
            moved[nmoved++] = (rw_moved){i, e->sh[i].addr, s.addr};
        rw_encode_shdr(e, &s, buf + i * size);
    }
    rw_patch_moved_symbols(e, moved, nmoved, a, p, np, cap);
    rw_add_patch(a, p, np, cap, e->shoff, buf, e->shnum * size);
}

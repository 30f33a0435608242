/* Symbols defined in a section that moved (_DYNAMIC, section symbols, in .symtab of
 * unstripped files and in .dynsym) move with it: eu-elflint checks _DYNAMIC against the
 * dynamic segment and every value against its section. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf_rw_internal.h"

enum { RW_MAX_TABLE = 256u << 20 };

static uint8_t *rw_section_bytes(const rw_elf *e, const rw_shdr *s)
{
    if (s->type == SHT_NOBITS || s->size == 0 || s->size > RW_MAX_TABLE || s->offset > e->size ||
        s->size > e->size - s->offset)
        return NULL;
    uint8_t *buf = malloc(s->size + 1);
    if (buf && pread(e->fd, buf, s->size, (off_t)s->offset) != (ssize_t)s->size) {
        free(buf);
        return NULL;
    }
    if (buf)
        buf[s->size] = 0;
    return buf;
}

void rw_patch_moved_symbols(const rw_elf *e, const rw_moved *moved, size_t nmoved, arena *a,
                            rw_patch **patches, size_t *np, size_t *cap)
{
    size_t ent = e->is64 ? sizeof(Elf64_Sym) : sizeof(Elf32_Sym);
    size_t value_at = e->is64 ? 8 : 4, shndx_at = e->is64 ? 6 : 14;
    int width = e->is64 ? 8 : 4;
    for (size_t i = 0; i < e->shnum; i++) {
        const rw_shdr *s = &e->sh[i];
        if (s->type != SHT_SYMTAB && s->type != SHT_DYNSYM)
            continue;
        uint8_t *syms = rw_section_bytes(e, s);
        for (size_t k = 0; syms && k < s->size / ent; k++) {
            const uint8_t *sym = syms + k * ent;
            uint64_t shndx = rw_get(e, sym + shndx_at, 2);
            for (size_t m = 0; m < nmoved; m++) {
                if (moved[m].shndx != shndx)
                    continue;
                uint8_t field[8];
                rw_put(e, field, width,
                       rw_get(e, sym + value_at, width) - moved[m].old_addr + moved[m].new_addr);
                rw_add_patch(a, patches, np, cap, s->offset + k * ent + value_at, field,
                             (size_t)width);
            }
        }
        free(syms);
    }
}

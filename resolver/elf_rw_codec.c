/* Field encoding for the rewriter: ELF32 and ELF64, little and big endian. */
#include <string.h>

#include "elf_rw_internal.h"

uint64_t rw_get(const rw_elf *e, const uint8_t *p, int width)
{
    uint64_t v = 0;
    for (int i = 0; i < width; i++)
        v |= (uint64_t)p[e->be ? width - 1 - i : i] << (8 * i);
    return v;
}

void rw_put(const rw_elf *e, uint8_t *p, int width, uint64_t v)
{
    for (int i = 0; i < width; i++)
        p[e->be ? width - 1 - i : i] = (uint8_t)(v >> (8 * i));
}

size_t rw_phdr_size(const rw_elf *e)
{
    return e->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
}

size_t rw_shdr_size(const rw_elf *e)
{
    return e->is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
}

size_t rw_dyn_size(const rw_elf *e)
{
    return e->is64 ? sizeof(Elf64_Dyn) : sizeof(Elf32_Dyn);
}

void rw_encode_phdr(const rw_elf *e, const rw_phdr *ph, uint8_t *o)
{
    if (e->is64) {
        rw_put(e, o + 0, 4, ph->type);
        rw_put(e, o + 4, 4, ph->flags);
        rw_put(e, o + 8, 8, ph->offset);
        rw_put(e, o + 16, 8, ph->vaddr);
        rw_put(e, o + 24, 8, ph->paddr);
        rw_put(e, o + 32, 8, ph->filesz);
        rw_put(e, o + 40, 8, ph->memsz);
        rw_put(e, o + 48, 8, ph->align);
    } else {
        rw_put(e, o + 0, 4, ph->type);
        rw_put(e, o + 4, 4, ph->offset);
        rw_put(e, o + 8, 4, ph->vaddr);
        rw_put(e, o + 12, 4, ph->paddr);
        rw_put(e, o + 16, 4, ph->filesz);
        rw_put(e, o + 20, 4, ph->memsz);
        rw_put(e, o + 24, 4, ph->flags);
        rw_put(e, o + 28, 4, ph->align);
    }
}

void rw_encode_shdr(const rw_elf *e, const rw_shdr *sh, uint8_t *o)
{
    int w = e->is64 ? 8 : 4;
    rw_put(e, o + 0, 4, sh->name);
    rw_put(e, o + 4, 4, sh->type);
    rw_put(e, o + 8, w, sh->flags);
    rw_put(e, o + 8 + w, w, sh->addr);
    rw_put(e, o + 8 + 2 * w, w, sh->offset);
    rw_put(e, o + 8 + 3 * w, w, sh->size);
    rw_put(e, o + 8 + 4 * w, 4, sh->link);
    rw_put(e, o + 12 + 4 * w, 4, sh->info);
    rw_put(e, o + 16 + 4 * w, w, sh->addralign);
    rw_put(e, o + 16 + 5 * w, w, sh->entsize);
}

void rw_encode_dyn(const rw_elf *e, int64_t tag, uint64_t val, uint8_t *o)
{
    int w = e->is64 ? 8 : 4;
    rw_put(e, o, w, (uint64_t)tag);
    rw_put(e, o + w, w, val);
}

void rw_encode_ehdr(rw_elf *e)
{
    if (e->is64) {
        rw_put(e, e->ehdr + 32, 8, e->phoff);
        rw_put(e, e->ehdr + 56, 2, e->phnum);
    } else {
        rw_put(e, e->ehdr + 28, 4, e->phoff);
        rw_put(e, e->ehdr + 44, 2, e->phnum);
    }
}

bool rw_tag_is_string(int64_t tag)
{
    return tag == DT_NEEDED || tag == DT_SONAME || tag == DT_RPATH || tag == DT_RUNPATH ||
           tag == DT_AUXILIARY || tag == DT_FILTER || tag == DT_CONFIG ||
           tag == DT_DEPAUDIT || tag == DT_AUDIT;
}

const char *rw_tag_name(int64_t tag)
{
    static const struct { int64_t tag; const char *name; } names[] = {
        {DT_NULL, "NULL"}, {DT_NEEDED, "NEEDED"}, {DT_PLTRELSZ, "PLTRELSZ"},
        {DT_PLTGOT, "PLTGOT"}, {DT_HASH, "HASH"}, {DT_STRTAB, "STRTAB"},
        {DT_SYMTAB, "SYMTAB"}, {DT_RELA, "RELA"}, {DT_RELASZ, "RELASZ"},
        {DT_RELAENT, "RELAENT"}, {DT_STRSZ, "STRSZ"}, {DT_SYMENT, "SYMENT"},
        {DT_INIT, "INIT"}, {DT_FINI, "FINI"}, {DT_SONAME, "SONAME"}, {DT_RPATH, "RPATH"},
        {DT_SYMBOLIC, "SYMBOLIC"}, {DT_REL, "REL"}, {DT_RELSZ, "RELSZ"},
        {DT_RELENT, "RELENT"}, {DT_PLTREL, "PLTREL"}, {DT_DEBUG, "DEBUG"},
        {DT_TEXTREL, "TEXTREL"}, {DT_JMPREL, "JMPREL"}, {DT_BIND_NOW, "BIND_NOW"},
        {DT_INIT_ARRAY, "INIT_ARRAY"}, {DT_FINI_ARRAY, "FINI_ARRAY"},
        {DT_INIT_ARRAYSZ, "INIT_ARRAYSZ"}, {DT_FINI_ARRAYSZ, "FINI_ARRAYSZ"},
        {DT_RUNPATH, "RUNPATH"}, {DT_FLAGS, "FLAGS"}, {DT_PREINIT_ARRAY, "PREINIT_ARRAY"},
        {DT_PREINIT_ARRAYSZ, "PREINIT_ARRAYSZ"}, {DT_GNU_HASH, "GNU_HASH"},
        {DT_VERSYM, "VERSYM"}, {DT_RELACOUNT, "RELACOUNT"}, {DT_RELCOUNT, "RELCOUNT"},
        {DT_FLAGS_1, "FLAGS_1"}, {DT_VERDEF, "VERDEF"}, {DT_VERDEFNUM, "VERDEFNUM"},
        {DT_VERNEED, "VERNEED"}, {DT_VERNEEDNUM, "VERNEEDNUM"}, {DT_AUXILIARY, "AUXILIARY"},
        {DT_FILTER, "FILTER"}, {DT_CONFIG, "CONFIG"}, {DT_DEPAUDIT, "DEPAUDIT"},
        {DT_AUDIT, "AUDIT"},
    };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (names[i].tag == tag)
            return names[i].name;
    return NULL;
}

uint64_t rw_dyn_value(const rw_elf *e, int64_t tag)
{
    uint64_t v = 0;
    for (size_t i = 0; i < e->ndyn; i++)
        if (e->dyn[i].tag == tag)
            v = e->dyn[i].val; /* the last one counts, as for ld.so */
    return v;
}

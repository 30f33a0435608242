/* New strings appended to the dynamic string table where it lies, by moving the sections that
 * follow it in its segment up into the free space before the next one. Those sections
 * (symbol versions, relocations, hash tables) are reached by the loader through dynamic
 * entries only, so they can move by a multiple of their alignment with those entries
 * adjusted. Where there is no such space, the smallest version or hash table that makes room
 * leaves for the segment the rewrite adds, and those before it move up into its place. The
 * table stays one contiguous .dynstr, as readelf and eu-elflint read it, and no copy of it
 * goes into a new segment: that copy was most of what a grown library gained. */
#include <stdlib.h>
#include <string.h>

#include "elf_rw_internal.h"

/* The tables the loader finds through a dynamic entry only: the entry, the table's section
 * type (JMPREL's is RELA or REL) and the entry holding its size (0: its version chain or its
 * section tells). */
static const struct rw_table {
    int64_t tag, size_tag;
    uint32_t type;
} rw_tables[] = {
    {DT_VERSYM, 0, SHT_GNU_versym},   {DT_VERDEF, 0, SHT_GNU_verdef},
    {DT_VERNEED, 0, SHT_GNU_verneed}, {DT_RELA, DT_RELASZ, SHT_RELA},
    {DT_REL, DT_RELSZ, SHT_REL},      {DT_JMPREL, DT_PLTRELSZ, SHT_NULL},
    {DT_RELR, DT_RELRSZ, SHT_RELR},   {DT_HASH, 0, SHT_HASH},
    {DT_GNU_HASH, 0, SHT_GNU_HASH},   {DT_SYMTAB, 0, SHT_DYNSYM},
};
enum { RW_NTABLES = sizeof rw_tables / sizeof *rw_tables };

static const struct rw_table *rw_table_of(int64_t tag)
{
    for (size_t i = 0; i < RW_NTABLES; i++)
        if (rw_tables[i].tag == tag)
            return &rw_tables[i];
    return NULL;
}

static bool rw_movable_type(uint32_t type)
{
    for (size_t i = 0; i < RW_NTABLES; i++)
        if (type != SHT_NULL && rw_tables[i].type == type)
            return true;
    return false;
}

static bool rw_movable_tag(int64_t tag)
{
    return rw_table_of(tag) != NULL;
}

/* Entries whose value is a size, count or flag word, never an address. */
static bool rw_value_tag(int64_t tag)
{
    static const int64_t tags[] = {
        DT_NULL, DT_PLTRELSZ, DT_RELASZ, DT_RELAENT, DT_STRSZ, DT_SYMENT, DT_SYMBOLIC,
        DT_RELSZ, DT_RELENT, DT_PLTREL, DT_TEXTREL, DT_BIND_NOW, DT_INIT_ARRAYSZ,
        DT_FINI_ARRAYSZ, DT_FLAGS, DT_PREINIT_ARRAYSZ, DT_RELRSZ, DT_RELRENT, DT_FLAGS_1,
        DT_VERDEFNUM, DT_VERNEEDNUM, DT_RELACOUNT, DT_RELCOUNT,
    };
    if (rw_tag_is_string(tag) || (tag >= DT_VALRNGLO && tag <= DT_VALRNGHI))
        return true;
    for (size_t i = 0; i < sizeof tags / sizeof *tags; i++)
        if (tags[i] == tag)
            return true;
    return false;
}

/* Whether the entry is an address in what moves. */
static bool rw_points_into(const rw_shift *sh, const rw_dyn *d)
{
    return sh->by && !rw_value_tag(d->tag) && d->val >= sh->vat && d->val < sh->vend;
}

static bool rw_meets(uint64_t s, uint64_t end, uint64_t lo, uint64_t hi)
{
    return s < hi && end > lo;
}

bool rw_is_dynstr(const rw_elf *e, const rw_shdr *s)
{
    return s->type == SHT_STRTAB && s->offset == e->strtab_off && s->addr == e->strtab_vaddr;
}

bool rw_shift_moves(const rw_shift *sh, const rw_shdr *s)
{
    return sh->by && (s->flags & SHF_ALLOC) && s->type != SHT_NOBITS && s->addr >= sh->vat &&
           s->addr < sh->vend;
}

static int rw_cmp_addr(const void *x, const void *y)
{
    const rw_shdr *a = *(const rw_shdr *const *)x, *b = *(const rw_shdr *const *)y;
    return a->addr < b->addr ? -1 : a->addr > b->addr;
}

/* The movable sections that follow the table in its segment, by address (indexes). */
static size_t rw_run(const rw_elf *e, const rw_phdr *load, uint64_t vat, arena *a, size_t **out)
{
    const rw_shdr **s = arena_alloc(a, (e->shnum + 1u) * sizeof *s);
    size_t n = 0, k = 0;
    for (size_t i = 0; i < e->shnum; i++)
        if ((e->sh[i].flags & SHF_ALLOC) && e->sh[i].addr >= vat &&
            e->sh[i].addr < load->vaddr + load->filesz)
            s[n++] = &e->sh[i];
    qsort(s, n, sizeof *s, rw_cmp_addr);
    size_t *run = arena_alloc(a, (n + 1) * sizeof *run);
    uint64_t delta = load->vaddr - load->offset;
    for (; k < n; k++) {
        if (!rw_movable_type(s[k]->type) || s[k]->addr - s[k]->offset != delta ||
            s[k]->addr + s[k]->size > load->vaddr + load->filesz || s[k]->addralign > 4096)
            break;
        run[k] = (size_t)(s[k] - e->sh);
    }
    *out = run;
    return k;
}

/* Whether the moved range and the space it moves into, [at, end + by) in the file and
 * [vat, vend + by) in memory, hold nothing but what moves: no other section, header table,
 * segment page or program header. */
static bool rw_room(const rw_elf *e, const rw_shift *sh, int load)
{
    uint64_t fend = sh->end + sh->by, vend = sh->vend + sh->by, page = rw_page(e);
    if (fend > e->size || vend < sh->vend)
        return false;
    for (size_t i = 0; i < e->shnum; i++) {
        const rw_shdr *s = &e->sh[i];
        if (rw_is_dynstr(e, s) || rw_shift_moves(sh, s) || (int)i == sh->evict)
            continue;
        bool tbss = s->type == SHT_NOBITS && (s->flags & SHF_TLS);
        if ((s->flags & SHF_ALLOC) && !tbss && rw_meets(s->addr, s->addr + s->size + !s->size,
                                                        sh->vat, vend))
            return false;
        if (s->type != SHT_NOBITS && s->size &&
            rw_meets(s->offset, s->offset + s->size, sh->at, fend))
            return false;
    }
    if (rw_meets(e->phoff, e->phoff + (uint64_t)e->phnum * rw_phdr_size(e), sh->at, fend) ||
        rw_meets(e->shoff, e->shoff + (uint64_t)e->shnum * rw_shdr_size(e), sh->at, fend))
        return false;
    for (size_t i = 0; i < e->phnum; i++) {
        const rw_phdr *p = &e->ph[i];
        if ((int)i == load || p->memsz == 0)
            continue;
        uint64_t lo = p->type == PT_LOAD ? p->vaddr / page * page : p->vaddr;
        if (rw_meets(lo, p->vaddr + p->memsz, sh->vat, vend) ||
            (p->type == PT_LOAD && rw_meets(p->offset, p->offset + p->filesz, sh->at, fend)))
            return false;
    }
    return true;
}

/* A program that starts without a loader of its own (the dynamic linker, a static PIE: no
 * PT_INTERP, an entry point, no DT_NEEDED or DF_1_PIE) relocates itself through link-time
 * addresses of its tables (_DYNAMIC, __rela_iplt_start): they must stay where they are. */
static bool rw_self_relocating(const rw_elf *e)
{
    for (size_t i = 0; i < e->phnum; i++)
        if (e->ph[i].type == PT_INTERP)
            return false;
    int w = e->is64 ? 8 : 4;
    return rw_get(e, e->ehdr + 24, w) != 0 &&
           (!rw_dyn_value(e, DT_NEEDED) || (rw_dyn_value(e, DT_FLAGS_1) & DF_1_PIE));
}

/* Where the table entry d points at ends, by its size entry, its version chain or the section
 * header at its address; false when nothing tells. */
static bool rw_table_end(const rw_elf *e, const rw_dyn *d, uint64_t *end)
{
    const struct rw_table *t = rw_table_of(d->tag);
    if (t->size_tag) {
        *end = d->val + rw_dyn_value(e, t->size_tag);
        return *end >= d->val;
    }
    if (d->tag == DT_VERNEED || d->tag == DT_VERDEF)
        return rw_dyn_value(e, d->tag) == d->val && rw_versions_end(e, d->tag, end);
    for (size_t i = 0; i < e->shnum; i++) {
        const rw_shdr *s = &e->sh[i];
        if (s->type == t->type && s->addr == d->val && (s->flags & SHF_ALLOC)) {
            *end = s->addr + s->size;
            return *end >= s->addr;
        }
    }
    return false;
}

/* By dynamic entry: where the table it points at ends (movable entries only), read once for
 * every plan tried; false when one cannot be told. */
static bool rw_table_ends(const rw_elf *e, arena *a, uint64_t **out)
{
    uint64_t *ends = arena_alloc(a, (e->ndyn + 1) * sizeof *ends);
    for (size_t i = 0; i < e->ndyn; i++)
        if (rw_movable_tag(e->dyn[i].tag) && !rw_table_end(e, &e->dyn[i], &ends[i]))
            return false;
    *out = ends;
    return true;
}

/* Every table the loader reaches through a movable entry lies wholly in what moves, wholly
 * in the evicted section, or clear of both and of the space they move into: section headers
 * may not tell the truth, the entries are what the loader follows. */
static bool rw_tables_fit(const rw_elf *e, const rw_shift *sh, const uint64_t *ends)
{
    const rw_shdr *ev = sh->evict >= 0 ? &e->sh[sh->evict] : NULL;
    for (size_t i = 0; i < e->ndyn; i++) {
        const rw_dyn *d = &e->dyn[i];
        uint64_t end = ends[i];
        if (!rw_movable_tag(d->tag))
            continue;
        uint64_t last = end > d->val ? end : d->val + 1;
        bool moved = d->val >= sh->vat && end <= sh->vend && d->val < sh->vend;
        bool evicted = ev && d->val == ev->addr && end <= ev->addr + ev->size;
        bool clear = !rw_meets(d->val, last, sh->vat, sh->vend + sh->by) &&
                     !(ev && rw_meets(d->val, last, ev->addr, ev->addr + ev->size));
        if (!moved && !evicted && !clear)
            return false;
    }
    return true;
}

/* Sections that may leave for the added segment: one dynamic entry points at each, and no
 * size entry spans it with a neighbour (as DT_RELASZ may span .rela.plt). */
static bool rw_evictable(const rw_shdr *s)
{
    return (s->type == SHT_GNU_versym || s->type == SHT_GNU_verdef ||
            s->type == SHT_GNU_verneed || s->type == SHT_HASH || s->type == SHT_GNU_HASH) &&
           s->addralign <= 8;
}

/* Plans moving up the first k sections of the run: all of them (k == nrun), or those before
 * section run[k], which leaves for the added segment and whose space they move into. */
static bool rw_try(const rw_elf *e, const size_t *run, size_t nrun, size_t k, int load,
                   const uint64_t *ends, rw_shift *sh)
{
    uint64_t align = 1, vend = sh->vat;
    for (size_t i = 0; i < k; i++) {
        const rw_shdr *s = &e->sh[run[i]];
        if (s->addralign > align)
            align = s->addralign;
        if (s->addr + s->size > vend)
            vend = s->addr + s->size;
    }
    sh->evict = k < nrun ? (int)run[k] : -1;
    sh->vend = k < nrun ? e->sh[run[k]].addr : vend;
    sh->end = sh->at + (sh->vend - sh->vat);
    sh->by = (sh->len + align - 1) / align * align;
    return rw_room(e, sh, load) && rw_tables_fit(e, sh, ends);
}

static bool rw_entries_movable(const rw_shift *sh, const rw_shdr *evicted, const rw_dyn *list,
                               size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const rw_dyn *d = &list[i];
        if (rw_points_into(sh, d) && !rw_movable_tag(d->tag))
            return false;
        if (evicted && !rw_value_tag(d->tag) && d->val >= evicted->addr &&
            d->val - evicted->addr < evicted->size + !evicted->size &&
            (d->val != evicted->addr || !rw_movable_tag(d->tag)))
            return false;
    }
    return true;
}

/* Whether the section header table, which a shift rewrites, lies clear of the ELF header and
 * of everything a program header describes (as linkers place it: after them all). */
static bool rw_headers_apart(const rw_elf *e)
{
    uint64_t s = e->shoff, end = s + (uint64_t)e->shnum * rw_shdr_size(e);
    if (end < s || rw_meets(s, end, 0, e->is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)) ||
        rw_meets(s, end, e->phoff, e->phoff + (uint64_t)e->phnum * rw_phdr_size(e)))
        return false;
    for (size_t i = 0; i < e->phnum; i++)
        if (rw_meets(s, end, e->ph[i].offset, e->ph[i].offset + e->ph[i].filesz))
            return false;
    return true;
}

bool rw_shift_plan(rw_elf *e, rw_dyn *list, size_t n, arena *a, rw_shift *out)
{
    memset(out, 0, sizeof *out);
    out->evict = -1;
    if (rw_self_relocating(e) || !rw_headers_apart(e))
        return false;
    const rw_shdr *table = NULL;
    for (size_t i = 0; i < e->shnum && !table; i++)
        if (rw_is_dynstr(e, &e->sh[i]) && e->sh[i].size == e->strsz &&
            (e->sh[i].flags & SHF_ALLOC))
            table = &e->sh[i];
    int load = rw_load_holding(e, e->strtab_vaddr, e->strsz);
    if (!table || load < 0 || e->ph[load].filesz != e->ph[load].memsz)
        return false;
    rw_phdr *seg = &e->ph[load];
    char *tail;
    out->len = rw_place_appended(e, list, n, e->strsz, a, &tail);
    out->strings = tail;
    out->strsz = e->strsz + out->len;
    out->vat = e->strtab_vaddr + e->strsz;
    out->at = e->strtab_off + e->strsz;
    out->load = load;
    if (!out->len) /* every string is there already: nothing moves */
        return true;
    size_t *run, nrun = rw_run(e, seg, out->vat, a, &run);
    uint64_t *ends;
    if (!rw_table_ends(e, a, &ends))
        return false;
    bool ok = rw_try(e, run, nrun, nrun, load, ends, out) &&
              rw_entries_movable(out, NULL, list, n);
    /* else the smallest section whose space is enough leaves for the added segment */
    uint64_t best = UINT64_MAX;
    size_t pick = nrun;
    for (size_t k = 0; !ok && k < nrun; k++) {
        const rw_shdr *s = &e->sh[run[k]];
        if (rw_evictable(s) && s->size < best && rw_try(e, run, nrun, k, load, ends, out) &&
            rw_entries_movable(out, s, list, n))
            best = s->size, pick = k;
    }
    if (!ok && (pick == nrun || !rw_try(e, run, nrun, pick, load, ends, out)))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (list[i].tag == DT_STRSZ)
            list[i].val = out->strsz;
        else if (rw_points_into(out, &list[i]))
            list[i].val += out->by;
    }
    if (seg->vaddr + seg->filesz < out->vend + out->by)
        seg->filesz = seg->memsz = out->vend + out->by - seg->vaddr;
    /* zeros up to `by`: one buffer in the image, no run of a few zero bytes */
    char *padded = arena_alloc(a, out->by);
    memset(padded, 0, out->by);
    memcpy(padded, tail, out->len);
    out->strings = padded;
    return true;
}

void rw_shift_place_evicted(const rw_elf *e, rw_shift *sh, rw_dyn *list, size_t n, uint64_t off,
                            uint64_t addr)
{
    uint64_t old = e->sh[sh->evict].addr;
    sh->evict_off = off;
    sh->evict_addr = addr;
    for (size_t i = 0; i < n; i++)
        if (rw_movable_tag(list[i].tag) && list[i].val == old)
            list[i].val = addr;
}

/* elf_rewrite: the edit applied in place when it fits (new strings in freed space, or after
 * the table where it lies: elf_rw_shift.c), otherwise in a segment appended to the file. The
 * appended segment starts on a page after every existing segment's memory (so mapping it
 * never replaces the last page of .data or .bss). For an executable its file offset is such
 * that its distance to its address equals the first PT_LOAD's (zeros, a hole on disk, fill
 * the gap): the kernel's AT_PHDR is then the same whether it is computed from that first
 * segment (kernels before 5.18) or from the segment holding the table. The program header
 * table moves there (it gains an entry); the old one stays in the file, unused. */
#include <stdlib.h>
#include <string.h>

#include "elf_rw_internal.h"

/* Zeros (a hole on disk) between the file and a new segment of an executable, at most. */
enum { RW_MAX_PADDING = 1 << 30 };

static uint8_t *rw_encode_dynamic(const rw_elf *e, const rw_dyn *list, size_t n, size_t slots,
                                  arena *a)
{
    uint8_t *buf = arena_alloc(a, slots * e->dyn_entsize);
    for (size_t i = 0; i < slots; i++)
        rw_encode_dyn(e, i < n ? list[i].tag : DT_NULL, i < n ? list[i].val : 0,
                      buf + i * e->dyn_entsize);
    return buf;
}

static void rw_set_dyn(rw_dyn *list, size_t n, int64_t tag, uint64_t val)
{
    for (size_t i = 0; i < n; i++)
        if (list[i].tag == tag)
            list[i].val = val;
}

static uint64_t rw_align(uint64_t v, uint64_t a)
{
    return (v + a - 1) / a * a;
}

/* The page the appended segment is aligned to: 4 KiB on x86, else the largest PT_LOAD
 * alignment up to 64 KiB (the largest page of the other architectures). */
uint64_t rw_page(const rw_elf *e)
{
    if (e->machine == EM_X86_64 || e->machine == EM_386)
        return 4096;
    uint64_t page = 4096;
    for (size_t i = 0; i < e->phnum; i++)
        if (e->ph[i].type == PT_LOAD && e->ph[i].align > page && e->ph[i].align <= 65536)
            page = e->ph[i].align;
    return page;
}

/* sh: the strings are already in the table, extended where it lies (NULL: not yet); the
 * section it evicts, if any, goes into the new segment. */
static int rw_grow(rw_elf *e, const elf_edit *ed, rw_dyn *list, size_t n, rw_shift *sh,
                   arena *a, image *im, bf_err *err)
{
    const rw_phdr *first = NULL;
    uint64_t top = 0;
    int last_load = -1;
    for (size_t i = 0; i < e->phnum; i++)
        if (e->ph[i].type == PT_LOAD) {
            if (!first)
                first = &e->ph[i];
            if (e->ph[i].vaddr + e->ph[i].memsz > top)
                top = e->ph[i].vaddr + e->ph[i].memsz;
            last_load = (int)i;
        }
    if (!first)
        return err_set(err, "%s: no PT_LOAD segment", e->name);
    uint64_t page = rw_page(e), delta = first->vaddr - first->offset;
    uint64_t x = rw_align(e->size, 8), v;
    /* Only a program the kernel starts gets AT_PHDR; a library's table is found through
     * PT_PHDR or the segment holding it, and needs no padding to line the two up. */
    bool started_by_kernel = e->type == ET_EXEC;
    for (size_t i = 0; i < e->phnum; i++)
        started_by_kernel |= e->ph[i].type == PT_INTERP;
    if (started_by_kernel && first->vaddr >= first->offset && delta % page == 0) {
        if (rw_align(top, page) - delta > x)
            x = rw_align(top, page) - delta;
        v = x + delta;
    } else {
        v = rw_align(top, page) + x % page;
    }

    size_t ph_size = rw_phdr_size(e), nph = e->phnum + 1u;
    uint64_t str_at = nph * ph_size;
    /* The strings are in the table already when rw_shift_plan made room where it lies; else
     * the table is copied here with them: readelf and eu-elflint read names through one
     * .dynstr section, and readelf and elf_parse read DT_STRSZ bytes within one segment. */
    bool copy = !sh;
    char *tail = NULL;
    uint64_t tail_len = sh ? 0 : rw_place_appended(e, list, n, e->strsz, a, &tail);
    uint64_t new_strsz = e->strsz + tail_len;
    uint64_t str_end = str_at + (copy ? e->strsz : 0) + tail_len;
    /* then the table that made room for the strings, if one left its place */
    const rw_shdr *evicted = sh && sh->evict >= 0 ? &e->sh[sh->evict] : NULL;
    uint64_t evict_at = evicted ? rw_align(str_end, evicted->addralign ? evicted->addralign : 1)
                                : str_end;
    uint64_t evict_end = evict_at + (evicted ? evicted->size : 0);
    /* The dynamic section moves too: the new segment must be writable (eu-elflint counts a
     * read-only segment just above the GOT as written by relocations whose symbol sizes
     * reach into it), and a writable segment needs a writable section. */
    uint64_t dyn_at = rw_align(evict_end, 8);
    uint64_t seg_size = dyn_at + n * e->dyn_entsize;
    uint64_t limit = e->is64 ? UINT64_MAX : UINT32_MAX; /* ELF32 fields hold 32 bits */
    if (v < top || v + seg_size < v || v + seg_size > limit || x + seg_size > limit)
        return err_set(err, "%s: no room in the address space for a new segment", e->name);
    if (x - e->size > RW_MAX_PADDING)
        return err_set(err, "%s: a new segment would start %llu bytes past the end of the file "
                            "(its segments' addresses are far apart); not rewritten",
                       e->name, (unsigned long long)(x - e->size));

    if (!sh) {
        rw_set_dyn(list, n, DT_STRTAB, v + str_at);
        rw_set_dyn(list, n, DT_STRSZ, new_strsz);
    }
    if (evicted)
        rw_shift_place_evicted(e, sh, list, n, x + evict_at, v + evict_at);

    rw_phdr *ph = arena_alloc(a, nph * sizeof *ph);
    size_t k = 0;
    for (size_t i = 0; i < e->phnum; i++) {
        ph[k] = e->ph[i];
        if (ph[k].type == PT_PHDR) {
            ph[k].offset = x;
            ph[k].vaddr = ph[k].paddr = v;
            ph[k].filesz = ph[k].memsz = nph * ph_size;
        } else if (ph[k].type == PT_DYNAMIC) {
            ph[k].offset = x + dyn_at;
            ph[k].vaddr = ph[k].paddr = v + dyn_at;
            ph[k].filesz = ph[k].memsz = n * e->dyn_entsize;
        }
        k++;
        if ((int)i == last_load)
            ph[k++] = (rw_phdr){PT_LOAD, PF_R | PF_W, x, v, v, seg_size,
                                seg_size, page};
    }
    uint8_t *phbuf = arena_alloc(a, nph * ph_size);
    for (size_t i = 0; i < nph; i++)
        rw_encode_phdr(e, &ph[i], phbuf + i * ph_size);

    rw_patch *patches = NULL;
    size_t np = 0, pcap = 0;
    e->phoff = x;
    e->phnum = (uint16_t)nph;
    rw_encode_ehdr(e);
    rw_add_patch(a, &patches, &np, &pcap, 0, e->ehdr,
                 e->is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr));
    rw_patch_verneed(e, ed, list, n, a, &patches, &np, &pcap);
    rw_patch_sections(e, (rw_section_move){copy, x + str_at, v + str_at, new_strsz},
                      (rw_section_move){true, x + dyn_at, v + dyn_at, n * e->dyn_entsize}, sh, a,
                      &patches, &np, &pcap);
    if (rw_emit(e, im, patches, np, sh, err))
        return BF_FAIL;
    image_add_zeros(im, x - e->size);
    image_add_bytes(im, phbuf, nph * ph_size);
    if (copy)
        image_add_source(im, e->strtab_off, e->strsz);
    image_add_bytes(im, tail, tail_len);
    image_add_zeros(im, evict_at - str_end);
    if (evicted)
        rw_emit_range(im, patches, np, evicted->offset, evicted->offset + evicted->size);
    image_add_zeros(im, dyn_at - evict_end);
    image_add_bytes(im, rw_encode_dynamic(e, list, n, n, a), n * e->dyn_entsize);
    return BF_OK;
}

int elf_rewrite(int fd, uint64_t size, const char *name, const elf_edit *edit, arena *a,
                image **out, elf_rewrite_result *res, bf_err *err)
{
    if ((edit->rpath != NULL) + (edit->runpath != NULL) + edit->remove_rpath > 1)
        return err_set(err, "set an RPATH, set a RUNPATH or remove both: one at a time");
    rw_elf e;
    rw_dyn *list;
    size_t n;
    if (rw_load(fd, size, name, a, &e, err) || rw_new_entries(&e, edit, a, &list, &n, err))
        return BF_FAIL;
    image *im = image_new(a, fd, name);
    rw_patch *patches = NULL;
    size_t np = 0, pcap = 0;
    bool in_place = n <= e.dyn_slots && rw_place_in_place(&e, list, n, a, &patches, &np, &pcap);
    rw_shift sh;
    bool shifted = !in_place && rw_shift_plan(&e, list, n, a, &sh);
    if (!in_place) /* what the failed attempt laid over the source */
        np = 0;
    if (in_place || (shifted && sh.evict < 0 && n <= e.dyn_slots)) {
        rw_patch_verneed(&e, edit, list, n, a, &patches, &np, &pcap);
        rw_add_patch(a, &patches, &np, &pcap, e.dyn_off,
                     rw_encode_dynamic(&e, list, n, e.dyn_slots, a), e.dyn_slots * e.dyn_entsize);
        if (shifted) {
            uint8_t *ph = arena_alloc(a, rw_phdr_size(&e));
            rw_encode_phdr(&e, &e.ph[sh.load], ph);
            rw_add_patch(a, &patches, &np, &pcap, e.phoff + (uint64_t)sh.load * rw_phdr_size(&e),
                         ph, rw_phdr_size(&e));
            rw_patch_sections(&e, (rw_section_move){0}, (rw_section_move){0}, &sh, a, &patches,
                              &np, &pcap);
        }
        if (rw_emit(&e, im, patches, np, shifted ? &sh : NULL, err))
            return BF_FAIL;
        in_place = true;
    } else if (rw_grow(&e, edit, list, n, shifted ? &sh : NULL, a, im, err)) {
        return BF_FAIL;
    }
    if (image_check(im, err))
        return BF_FAIL;
    *out = im;
    if (res)
        *res = (elf_rewrite_result){!in_place, shifted && sh.by, size, image_size(im)};
    return BF_OK;
}

int elf_rewrite_print(int fd, uint64_t size, const char *name, arena *a, const char **out,
                      bf_err *err)
{
    rw_elf e;
    if (rw_load(fd, size, name, a, &e, err))
        return BF_FAIL;
    const char *text = "";
    for (size_t i = 0; i + 1 < e.ndyn; i++) {
        const rw_dyn *d = &e.dyn[i];
        const char *tag = rw_tag_name(d->tag);
        const char *tagtext = tag ? tag : arena_printf(a, "0x%llx", (unsigned long long)d->tag);
        text = rw_tag_is_string(d->tag)
                   ? arena_printf(a, "%s%s\t%s\n", text, tagtext, e.dynstr + d->val)
                   : arena_printf(a, "%s%s\t0x%llx\n", text, tagtext, (unsigned long long)d->val);
    }
    *out = text;
    return BF_OK;
}

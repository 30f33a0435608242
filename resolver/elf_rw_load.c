/* Reads the headers the rewriter changes, with every offset and count checked against the
 * file: the input may be anything. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "elf_rw_internal.h"

enum { RW_MAX_PHNUM = 4096, RW_MAX_SHNUM = 65535, RW_MAX_DYN = 1 << 16,
       RW_MAX_STRSZ = 64u << 20 };

static int rw_pread(const rw_elf *e, void *buf, uint64_t len, uint64_t off, const char *what,
                    bf_err *err)
{
    if (off > e->size || len > e->size - off)
        return err_set(err, "%s: %s lies outside the file (offset %llu, %llu bytes, file "
                            "%llu bytes); the file is truncated or not a valid ELF file",
                       e->name, what, (unsigned long long)off, (unsigned long long)len,
                       (unsigned long long)e->size);
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t r = pread(e->fd, p, len, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return err_set(err, "%s: cannot read %s: %s", e->name, what,
                           r < 0 ? strerror(errno) : "the file is shorter than it was");
        p += r;
        off += (uint64_t)r;
        len -= (uint64_t)r;
    }
    return BF_OK;
}

int rw_load_holding(const rw_elf *e, uint64_t vaddr, uint64_t len)
{
    for (size_t i = 0; i < e->phnum; i++) {
        const rw_phdr *p = &e->ph[i];
        if (p->type == PT_LOAD && vaddr >= p->vaddr && vaddr - p->vaddr <= p->filesz &&
            len <= p->filesz - (vaddr - p->vaddr))
            return (int)i;
    }
    return -1;
}

bool rw_vaddr_to_off(const rw_elf *e, uint64_t vaddr, uint64_t len, uint64_t *off)
{
    int i = rw_load_holding(e, vaddr, len);
    if (i < 0)
        return false;
    *off = e->ph[i].offset + (vaddr - e->ph[i].vaddr);
    return true;
}

static int rw_load_ehdr(rw_elf *e, bf_err *err)
{
    if (e->size < EI_NIDENT || rw_pread(e, e->ehdr, EI_NIDENT, 0, "the ELF header", err))
        return err_set(err, "%s: not an ELF file (too short)", e->name);
    const uint8_t *id = e->ehdr;
    if (memcmp(id, ELFMAG, SELFMAG))
        return err_set(err, "%s: not an ELF file", e->name);
    if ((id[EI_CLASS] != ELFCLASS32 && id[EI_CLASS] != ELFCLASS64) ||
        (id[EI_DATA] != ELFDATA2LSB && id[EI_DATA] != ELFDATA2MSB) || id[EI_VERSION] != EV_CURRENT)
        return err_set(err, "%s: unknown ELF class, byte order or version", e->name);
    e->is64 = id[EI_CLASS] == ELFCLASS64;
    e->be = id[EI_DATA] == ELFDATA2MSB;
    size_t ehsize = e->is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
    if (rw_pread(e, e->ehdr, ehsize, 0, "the ELF header", err))
        return BF_FAIL;
    const uint8_t *h = e->ehdr;
    int w = e->is64 ? 8 : 4;
    e->type = (uint16_t)rw_get(e, h + 16, 2);
    e->machine = (uint16_t)rw_get(e, h + 18, 2);
    e->phoff = rw_get(e, h + 24 + w, w);
    e->shoff = rw_get(e, h + 24 + 2 * w, w);
    e->phentsize = (uint16_t)rw_get(e, h + 30 + 3 * w, 2);
    e->phnum = (uint16_t)rw_get(e, h + 32 + 3 * w, 2);
    e->shentsize = (uint16_t)rw_get(e, h + 34 + 3 * w, 2);
    e->shnum = (uint16_t)rw_get(e, h + 36 + 3 * w, 2);
    if (e->type != ET_EXEC && e->type != ET_DYN)
        return err_set(err, "%s: only executables and shared libraries can be rewritten "
                            "(e_type %u)", e->name, e->type);
    if (e->phnum == PN_XNUM || e->phnum > RW_MAX_PHNUM)
        return err_set(err, "%s: %u program headers: more than bundlefs rewrites", e->name,
                       e->phnum);
    if (e->phentsize != rw_phdr_size(e) || (e->shnum && e->shentsize != rw_shdr_size(e)))
        return err_set(err, "%s: program or section header entry size does not match the "
                            "ELF class", e->name);
    return BF_OK;
}

static int rw_load_phdrs(rw_elf *e, arena *a, bf_err *err)
{
    size_t n = e->phnum, sz = rw_phdr_size(e);
    uint8_t *raw = arena_alloc(a, n * sz + 1);
    if (rw_pread(e, raw, n * sz, e->phoff, "the program header table", err))
        return BF_FAIL;
    e->ph = arena_alloc(a, (n + 2) * sizeof *e->ph);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = raw + i * sz;
        rw_phdr *ph = &e->ph[i];
        ph->type = (uint32_t)rw_get(e, p, 4);
        if (e->is64) {
            ph->flags = (uint32_t)rw_get(e, p + 4, 4);
            ph->offset = rw_get(e, p + 8, 8);
            ph->vaddr = rw_get(e, p + 16, 8);
            ph->paddr = rw_get(e, p + 24, 8);
            ph->filesz = rw_get(e, p + 32, 8);
            ph->memsz = rw_get(e, p + 40, 8);
            ph->align = rw_get(e, p + 48, 8);
        } else {
            ph->offset = rw_get(e, p + 4, 4);
            ph->vaddr = rw_get(e, p + 8, 4);
            ph->paddr = rw_get(e, p + 12, 4);
            ph->filesz = rw_get(e, p + 16, 4);
            ph->memsz = rw_get(e, p + 20, 4);
            ph->flags = (uint32_t)rw_get(e, p + 24, 4);
            ph->align = rw_get(e, p + 28, 4);
        }
        if (ph->type == PT_LOAD && (ph->filesz > ph->memsz || ph->offset > e->size ||
                                    ph->filesz > e->size - ph->offset ||
                                    ph->vaddr + ph->memsz < ph->vaddr))
            return err_set(err, "%s: PT_LOAD %zu lies outside the file or its address space",
                           e->name, i);
        if (ph->type == PT_DYNAMIC) {
            if (e->dyn_ph >= 0)
                return err_set(err, "%s: two PT_DYNAMIC program headers", e->name);
            e->dyn_ph = (int)i;
        }
    }
    return BF_OK;
}

static int rw_load_shdrs(rw_elf *e, arena *a, bf_err *err)
{
    if (e->shoff == 0 || e->shnum == 0) {
        e->shnum = 0; /* none, or extended numbering: left alone */
        return BF_OK;
    }
    size_t n = e->shnum, sz = rw_shdr_size(e);
    uint8_t *raw = arena_alloc(a, n * sz + 1);
    if (rw_pread(e, raw, n * sz, e->shoff, "the section header table", err))
        return BF_FAIL;
    e->sh = arena_alloc(a, n * sizeof *e->sh);
    int w = e->is64 ? 8 : 4;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = raw + i * sz;
        rw_shdr *s = &e->sh[i];
        s->name = (uint32_t)rw_get(e, p, 4);
        s->type = (uint32_t)rw_get(e, p + 4, 4);
        s->flags = rw_get(e, p + 8, w);
        s->addr = rw_get(e, p + 8 + w, w);
        s->offset = rw_get(e, p + 8 + 2 * w, w);
        s->size = rw_get(e, p + 8 + 3 * w, w);
        s->link = (uint32_t)rw_get(e, p + 8 + 4 * w, 4);
        s->info = (uint32_t)rw_get(e, p + 12 + 4 * w, 4);
        s->addralign = rw_get(e, p + 16 + 4 * w, w);
        s->entsize = rw_get(e, p + 16 + 5 * w, w);
    }
    return BF_OK;
}

static int rw_load_dynamic(rw_elf *e, arena *a, bf_err *err)
{
    if (e->dyn_ph < 0)
        return err_set(err, "%s: no PT_DYNAMIC (a statically linked program): there is no "
                            "dynamic section to rewrite", e->name);
    const rw_phdr *d = &e->ph[e->dyn_ph];
    e->dyn_entsize = rw_dyn_size(e);
    e->dyn_off = d->offset;
    e->dyn_slots = d->filesz / e->dyn_entsize;
    if (e->dyn_slots == 0 || e->dyn_slots > RW_MAX_DYN)
        return err_set(err, "%s: PT_DYNAMIC has %zu entries", e->name, e->dyn_slots);
    uint8_t *raw = arena_alloc(a, e->dyn_slots * e->dyn_entsize);
    if (rw_pread(e, raw, e->dyn_slots * e->dyn_entsize, e->dyn_off, "the dynamic section", err))
        return BF_FAIL;
    e->dyn = arena_alloc(a, (e->dyn_slots + 1) * sizeof *e->dyn);
    int w = e->is64 ? 8 : 4;
    bool have_strtab = false, have_strsz = false;
    for (size_t i = 0; i < e->dyn_slots; i++) {
        rw_dyn *x = &e->dyn[e->ndyn++];
        uint64_t tag = rw_get(e, raw + i * e->dyn_entsize, w);
        x->tag = e->is64 ? (int64_t)tag : (int64_t)(int32_t)tag;
        x->val = rw_get(e, raw + i * e->dyn_entsize + w, w);
        if (x->tag == DT_STRTAB)
            have_strtab = true, e->strtab_vaddr = x->val;
        if (x->tag == DT_STRSZ)
            have_strsz = true, e->strsz = x->val;
        if (x->tag == DT_NULL)
            break;
    }
    if (e->dyn[e->ndyn - 1].tag != DT_NULL)
        return err_set(err, "%s: the dynamic section has no DT_NULL terminator", e->name);
    if (!have_strtab || !have_strsz || e->strsz == 0 || e->strsz > RW_MAX_STRSZ ||
        !rw_vaddr_to_off(e, e->strtab_vaddr, e->strsz, &e->strtab_off))
        return err_set(err, "%s: DT_STRTAB/DT_STRSZ missing or outside the loaded segments",
                       e->name);
    char *str = arena_alloc(a, e->strsz + 1);
    if (rw_pread(e, str, e->strsz, e->strtab_off, "the dynamic string table", err))
        return BF_FAIL;
    e->dynstr = str;
    for (size_t i = 0; i < e->ndyn; i++)
        if (rw_tag_is_string(e->dyn[i].tag) && e->dyn[i].val >= e->strsz)
            return err_set(err, "%s: a DT_%s string lies outside DT_STRSZ", e->name,
                           rw_tag_name(e->dyn[i].tag));
    return BF_OK;
}

int rw_load(int fd, uint64_t size, const char *name, arena *a, rw_elf *e, bf_err *err)
{
    memset(e, 0, sizeof *e);
    e->fd = fd;
    e->size = size;
    e->name = name;
    e->dyn_ph = -1;
    if (rw_load_ehdr(e, err) || rw_load_phdrs(e, a, err) || rw_load_shdrs(e, a, err) ||
        rw_load_dynamic(e, a, err))
        return BF_FAIL;
    return BF_OK;
}

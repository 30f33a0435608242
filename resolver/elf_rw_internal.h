/* The ELF rewriter's view of a file: every header it may change, decoded to native values,
 * and the encoders that write them back in the file's class and byte order. */
#ifndef BUNDLEFS_ELF_RW_INTERNAL_H
#define BUNDLEFS_ELF_RW_INTERNAL_H

#include <elf.h>

#include "bundlefs/elf_rewrite.h"

typedef struct rw_phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
} rw_phdr;

typedef struct rw_shdr {
    uint32_t name, type, link, info;
    uint64_t flags, addr, offset, size, addralign, entsize;
} rw_shdr;

typedef struct rw_dyn {
    int64_t tag;
    uint64_t val;
    const char *str; /* string entries of a new list: the string to place */
} rw_dyn;

typedef struct rw_elf {
    const char *name;
    int fd;
    uint64_t size;
    bool is64, be;
    uint8_t ehdr[64];  /* the raw header, re-encoded with changed fields */
    uint16_t type, machine;
    uint64_t phoff, shoff;
    uint16_t phentsize, phnum, shentsize, shnum;
    rw_phdr *ph;
    rw_shdr *sh;
    int dyn_ph;              /* index of PT_DYNAMIC */
    uint64_t dyn_off;        /* file offset of the dynamic section */
    size_t dyn_slots;        /* entries that fit in it */
    size_t dyn_entsize;
    rw_dyn *dyn;             /* entries up to and including the first DT_NULL */
    size_t ndyn;
    uint64_t strtab_vaddr, strtab_off, strsz;
    const char *dynstr;      /* strsz bytes, NUL-terminated copy */
} rw_elf;

/* New bytes laid over the source at a file offset. */
typedef struct rw_patch {
    uint64_t off;
    const uint8_t *bytes;
    size_t len;
} rw_patch;

void rw_add_patch(arena *a, rw_patch **p, size_t *n, size_t *cap, uint64_t off,
                  const void *bytes, size_t len);

/* In place: gives every changed string entry an offset (an existing copy, or space freed by
 * the edit, adding the patch that writes it); false when some string does not fit. */
bool rw_place_in_place(const rw_elf *e, rw_dyn *list, size_t n, arena *a, rw_patch **patches,
                       size_t *npatch, size_t *patchcap);
/* Grown: existing copies, else appended in *tail, at string offset base + their place in
 * it; returns the bytes appended. */
uint64_t rw_place_appended(const rw_elf *e, rw_dyn *list, size_t n, uint64_t base, arena *a,
                           char **tail);

/* The address just past the last record of the DT_VERNEED or DT_VERDEF chain (the table's
 * address when there is none); false when the chain cannot be read. */
bool rw_versions_end(const rw_elf *e, int64_t table_tag, uint64_t *end);

/* Points the version needs of each replaced DT_NEEDED at its new name. */
void rw_patch_verneed(const rw_elf *e, const elf_edit *ed, const rw_dyn *list, size_t n,
                      arena *a, rw_patch **patches, size_t *np, size_t *cap);

typedef struct rw_moved {
    uint64_t shndx, old_addr, new_addr;
} rw_moved;

/* The dynamic string table extended where it lies (elf_rw_shift.c): the file range [at, end),
 * addresses [vat, vend), moves up by `by` bytes and the new strings fill its place. */
typedef struct rw_shift {
    uint64_t at, end, vat, vend, by;
    const char *strings; /* `by` bytes: the new strings, then zeros */
    uint64_t len;        /* of the new strings */
    uint64_t strsz; /* the table's new size */
    int load;       /* the PT_LOAD holding the table, grown to hold what moved */
    int evict;      /* -1, or the section leaving for the added segment (then at end) */
    uint64_t evict_off, evict_addr; /* where it goes: set by the segment's builder */
} rw_shift;

/* Places the strings of list that the table lacks after it, moving up what follows when there
 * is room, and adjusts list (DT_STRSZ, entries pointing at what moved) and the segment in
 * e->ph; false, with nothing changed but string offsets in list, when it cannot. A plan with
 * by 0 places no new string. */
bool rw_shift_plan(rw_elf *e, rw_dyn *list, size_t n, arena *a, rw_shift *out);
bool rw_shift_moves(const rw_shift *sh, const rw_shdr *s);
/* The evicted section goes to file offset off and address addr; its entry follows. */
void rw_shift_place_evicted(const rw_elf *e, rw_shift *sh, rw_dyn *list, size_t n, uint64_t off,
                            uint64_t addr);
/* The section header of the dynamic string table (by offset and address). */
bool rw_is_dynstr(const rw_elf *e, const rw_shdr *s);

/* Emits the source with the patches laid over it, moved as sh says (NULL: not moved); sorts
 * the patches. Fails when two patches overlap. */
int rw_emit(const rw_elf *e, image *im, rw_patch *p, size_t n, const rw_shift *sh, bf_err *err);
/* Emits source [from, to) with the patches that reach into it (sorted) laid over it. */
void rw_emit_range(image *im, const rw_patch *p, size_t n, uint64_t from, uint64_t to);

/* Where a section goes: set, it moves to off/addr with size. */
typedef struct rw_section_move {
    bool set;
    uint64_t off, addr, size;
} rw_section_move;

/* Patches the section header table: the string table and dynamic section moved as given, the
 * sections sh moved or evicted (NULL: none), and every symbol defined in a moved section
 * with them. */
void rw_patch_sections(const rw_elf *e, rw_section_move strtab, rw_section_move dynamic,
                       const rw_shift *sh, arena *a, rw_patch **p, size_t *np, size_t *cap);

/* The page size a new or grown segment must respect. */
uint64_t rw_page(const rw_elf *e);

/* Moves the value of every symbol defined in a moved section along with it. */
void rw_patch_moved_symbols(const rw_elf *e, const rw_moved *moved, size_t nmoved, arena *a,
                            rw_patch **patches, size_t *np, size_t *cap);

/* Byte-order and class aware field access on raw header bytes. */
uint64_t rw_get(const rw_elf *e, const uint8_t *p, int width);
void rw_put(const rw_elf *e, uint8_t *p, int width, uint64_t v);

int rw_load(int fd, uint64_t size, const char *name, arena *a, rw_elf *e, bf_err *err);
/* The index of the first PT_LOAD whose file data holds [vaddr, vaddr+len), or -1. */
int rw_load_holding(const rw_elf *e, uint64_t vaddr, uint64_t len);
/* File offset of the vaddr range [vaddr, vaddr+len) through PT_LOAD; false if unmapped. */
bool rw_vaddr_to_off(const rw_elf *e, uint64_t vaddr, uint64_t len, uint64_t *off);

size_t rw_phdr_size(const rw_elf *e);
size_t rw_shdr_size(const rw_elf *e);
size_t rw_dyn_size(const rw_elf *e);
void rw_encode_phdr(const rw_elf *e, const rw_phdr *ph, uint8_t *out);
void rw_encode_shdr(const rw_elf *e, const rw_shdr *sh, uint8_t *out);
void rw_encode_dyn(const rw_elf *e, int64_t tag, uint64_t val, uint8_t *out);
/* Re-encodes e_phoff and e_phnum into e->ehdr. */
void rw_encode_ehdr(rw_elf *e);

/* The dynamic entries after the edit, DT_NULL-terminated; string entries carry their
 * string in str (val is the old offset where the string is unchanged). */
int rw_new_entries(const rw_elf *e, const elf_edit *ed, arena *a, rw_dyn **out, size_t *n,
                   bf_err *err);

/* The value of the file's dynamic entry tag, 0 if absent. */
uint64_t rw_dyn_value(const rw_elf *e, int64_t tag);

const char *rw_tag_name(int64_t tag);
bool rw_tag_is_string(int64_t tag);

#endif

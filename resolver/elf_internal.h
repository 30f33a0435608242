/* Shared by the elf_*.c files only: a bounds-checked view of an ELF image and byte-order-aware
 * field readers. Fields are assembled from bytes, never read through struct casts, so any
 * alignment and either byte order work. Callers check bounds before reading. */
#ifndef BUNDLEFS_ELF_INTERNAL_H
#define BUNDLEFS_ELF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bundlefs/arena.h"
#include "bundlefs/elf.h"
#include "bundlefs/err.h"

/* Values from <elf.h> that the reader needs. */
enum {
    ELF_CLASS32 = 1,
    ELF_CLASS64 = 2,
    ELF_DATA_LSB = 1,
    ELF_DATA_MSB = 2,
    ELF_PT_LOAD = 1,
    ELF_PT_DYNAMIC = 2,
    ELF_PT_INTERP = 3,
    ELF_DT_NULL = 0,
    ELF_DT_NEEDED = 1,
    ELF_DT_STRTAB = 5,
    ELF_DT_STRSZ = 10,
    ELF_DT_SONAME = 14,
    ELF_DT_RPATH = 15,
    ELF_DT_RUNPATH = 29,
    ELF_DT_FLAGS = 30,
    ELF_DT_FLAGS_1 = 0x6ffffffb,
    ELF_DT_VERNEED = 0x6ffffffe,
    ELF_DT_VERNEEDNUM = 0x6fffffff,
    ELF_DT_AUXILIARY = 0x7ffffffd,
    ELF_DT_FILTER = 0x7fffffff,
    /* Elf32_Verneed/Elf64_Verneed and Elf*_Vernaux are 16 bytes in both classes. */
    ELF_VERNEED_SIZE = 16,
    ELF_VERNAUX_SIZE = 16,
};

typedef struct elf_image {
    const uint8_t *buf; /* the whole file, unless reader is set */
    size_t len;
    /* When set, the bytes come from the reader: elf_need fetches them, elf_at finds them. */
    struct elf_reader *reader;
    unsigned skip; /* ELF_SKIP_* */
    const char *name; /* for error messages */
    bool is64;
    bool big;
    uint64_t phoff; /* program header table, checked to lie inside buf */
    size_t phnum;
} elf_image;

typedef struct elf_phdr {
    uint32_t type;
    uint64_t offset, vaddr, filesz;
} elf_phdr;

/* The dynamic string table, already bounded by DT_STRSZ and the file. */
typedef struct elf_strtab {
    uint64_t off; /* file offset of the table */
    size_t size;
    bool present;
} elf_strtab;

/* The bytes [off, off + size) of a reader-backed image, which elf_need brought in; zeros if
 * they were never asked for (a parser bug, never stale bytes of another file). */
const uint8_t *elf_reader_at(const elf_image *im, uint64_t off, uint64_t size);

/* Where the bytes at file offset off are: in buf itself, or in the reader's scratch. */
static inline const uint8_t *elf_at(const elf_image *im, uint64_t off, uint64_t size)
{
    return im->reader ? elf_reader_at(im, off, size) : im->buf + off;
}

static inline uint16_t elf_rd16(const elf_image *im, size_t off)
{
    const uint8_t *p = elf_at(im, off, 2);
    return im->big ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

static inline uint32_t elf_rd32(const elf_image *im, size_t off)
{
    const uint8_t *p = elf_at(im, off, 4);
    if (im->big)
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static inline uint64_t elf_rd64(const elf_image *im, size_t off)
{
    uint64_t hi = elf_rd32(im, off + (im->big ? 0 : 4));
    uint64_t lo = elf_rd32(im, off + (im->big ? 4 : 0));
    return hi << 32 | lo;
}

/* An address-sized field (Elf32_Addr/Off/Word vs Elf64_Addr/Off/Xword). */
static inline uint64_t elf_rdaddr(const elf_image *im, size_t off)
{
    return im->is64 ? elf_rd64(im, off) : elf_rd32(im, off);
}

/* True when [off, off + size) lies inside the image. */
static inline bool elf_in_file(const elf_image *im, uint64_t off, uint64_t size)
{
    return off <= im->len && size <= im->len - off;
}

/* True when [off, off + size) lies inside the image and its bytes are in buf: read now from
 * the descriptor of a reader-backed image. Every read of buf is preceded by this. */
bool elf_need_slow(const elf_image *im, uint64_t off, uint64_t size);

static inline bool elf_need(const elf_image *im, uint64_t off, uint64_t size)
{
    if (!elf_in_file(im, off, size))
        return false;
    return !im->reader || elf_need_slow(im, off, size);
}

/* The message of a failed read of a reader-backed image, or NULL. */
const char *elf_read_error(const elf_image *im);

/* Formats "<file>: <problem>; the file is corrupt or truncated" and returns BF_FAIL. */
int elf_corrupt(const elf_image *im, bf_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* elf_header.c: checks the identity and locates the program header table of an image whose
 * buf, len, name (and reader) are set. */
int elf_image_open(elf_image *im, elf_info *out, bf_err *err);

/* elf_parse.c: the whole parse of an opened-to-be image. */
int elf_parse_image(elf_image *im, arena *a, elf_info *out, bf_err *err);

/* elf_segments.c */
elf_phdr elf_phdr_at(const elf_image *im, size_t i);
/* Maps a virtual address to its file offset through the PT_LOAD segments; *avail is how many
 * file bytes the segment holds from there on (never past the end of the file). */
bool elf_vaddr_to_offset(const elf_image *im, uint64_t vaddr, uint64_t *off, uint64_t *avail);

/* elf_strtab.c */
int elf_strtab_locate(const elf_image *im, uint64_t vaddr, bool have_size, uint64_t size,
                      elf_strtab *st, bf_err *err);
/* Copies the NUL-terminated string at offset off into the arena; what names the referring
 * entry in error messages ("DT_NEEDED", "vn_file", ...). */
int elf_strtab_copy(const elf_image *im, const elf_strtab *st, uint64_t off, const char *what,
                    arena *a, const char **out, bf_err *err);

/* elf_dynamic.c: everything read through PT_DYNAMIC. */
int elf_dynamic_read(const elf_image *im, const elf_phdr *dyn, arena *a, elf_info *out,
                     bf_err *err);

/* elf_verneed.c */
int elf_verneed_read(const elf_image *im, const elf_strtab *st, uint64_t vaddr, bool have_num,
                     uint64_t num, arena *a, elf_info *out, bf_err *err);

#endif

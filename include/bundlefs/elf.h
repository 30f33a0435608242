/* ELF reader: what the loader and the later report need from an ELF file, read from bytes in
 * memory (ELF32/ELF64, either byte order). Every offset and size is checked against the
 * buffer; a malformed file gives an error naming the file and what is wrong. */
#ifndef BUNDLEFS_ELF_H
#define BUNDLEFS_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bundlefs/arena.h"
#include "bundlefs/err.h"

/* Values as in <elf.h>, kept here so users of this header need not include it. */
enum {
    ELF_DEP_NEEDED = 1,    /* DT_NEEDED */
    ELF_DEP_AUXILIARY = 2, /* DT_AUXILIARY */
    ELF_DEP_FILTER = 3,    /* DT_FILTER */
};

/* One dependency entry of the dynamic section, in dynamic-section order (ld.so processes
 * NEEDED, AUXILIARY and FILTER entries in one pass over the section). */
typedef struct elf_dep {
    int kind;         /* ELF_DEP_* */
    const char *name; /* the string exactly as stored (DSTs unexpanded) */
} elf_dep;

/* One Verneed entry: a file name and the version names required from it. */
typedef struct elf_verneed {
    const char *file;
    const char **versions;
    size_t nversions;
} elf_verneed;

typedef struct elf_info {
    uint8_t elf_class;  /* ELFCLASS32 / ELFCLASS64 */
    uint8_t data;       /* ELFDATA2LSB / ELFDATA2MSB */
    uint8_t osabi;      /* e_ident[EI_OSABI] */
    uint8_t abiversion; /* e_ident[EI_ABIVERSION] */
    uint16_t type;      /* e_type */
    uint16_t machine;   /* e_machine */

    const char *interp; /* PT_INTERP string, or NULL */
    bool has_dynamic;   /* a PT_DYNAMIC segment exists */

    elf_dep *deps; /* NEEDED/AUXILIARY/FILTER in section order */
    size_t ndeps;

    /* glibc keeps the last entry of a tag when it appears more than once; so do we. DT_RPATH
     * and DT_RUNPATH are both reported as stored even when both exist: dropping DT_RPATH in
     * favour of DT_RUNPATH is the loader's rule (docs/LDSO.md §2.3), not the file's. */
    const char *soname;  /* DT_SONAME or NULL */
    const char *rpath;   /* DT_RPATH or NULL (an empty string is a present, empty RPATH) */
    const char *runpath; /* DT_RUNPATH or NULL */
    uint64_t flags;      /* DT_FLAGS (0 if absent) */
    uint64_t flags_1;    /* DT_FLAGS_1 (0 if absent): DF_1_NODEFLIB, DF_1_PIE, DF_1_NOOPEN */

    elf_verneed *verneed; /* .gnu.version_r through DT_VERNEED/DT_VERNEEDNUM */
    size_t nverneed;
} elf_info;

/* Parses a whole ELF file held in buf[0..len). name is used only in error messages. Strings in
 * out point into the arena (never into buf), so buf may be unmapped afterwards. Files without
 * PT_DYNAMIC (static executables, ET_REL, cores) parse with has_dynamic false. The dynamic
 * array is read at PT_DYNAMIC's p_offset (the last non-empty PT_DYNAMIC, as glibc) up to DT_NULL or
 * p_filesz; PT_INTERP is the first one. DT_STRTAB and DT_VERNEED are mapped to file offsets
 * through PT_LOAD; a missing DT_STRSZ lets the string table run to the end of its segment.
 * Verneed records with vn_version != 1 are an error (glibc refuses to load such a file). On
 * failure *out is zeroed and err names the file and the problem. */
int elf_parse(const uint8_t *buf, size_t len, const char *name, arena *a, elf_info *out,
              bf_err *err);

/* Reads many files through their descriptors: just the parts a parse needs, with pread, into
 * one buffer reused from file to file (mapping each file costs far more: page faults and a
 * TLB flush per unmap). Released when the arena is freed. */
typedef struct elf_reader elf_reader;
elf_reader *elf_reader_new(arena *a);

/* What elf_parse_fd may leave out. */
enum { ELF_SKIP_VERNEED = 1 /* the version needs: reads all over the string table */ };

/* elf_parse of the file open on fd (size bytes long). head[0..headlen), if given, are the
 * file's first bytes already read (e.g. by elf_verify's caller). Strings go into a. skip is a
 * set of ELF_SKIP_* flags. */
int elf_parse_fd(elf_reader *r, int fd, uint64_t size, const uint8_t *head, size_t headlen,
                 unsigned skip, const char *name, arena *a, elf_info *out, bf_err *err);

/* The checks glibc 2.36's open_verify (elf/dl-load.c) makes on a candidate before mapping it,
 * in its order. buf holds the start of the file: the whole file, or at least its first 832
 * bytes (512 for a 32-bit host; glibc's read buffer). When len is below that, buf is taken to
 * be the whole file and a program header table running past its end gives glibc's "cannot
 * read file data"; with a longer buf a table beyond len is accepted (elf_parse reports it).
 * glibc 2.36 no longer skips files whose NT_GNU_ABI_TAG note asks for a newer kernel (the
 * check went with the kernel-version support), so neither do we. */
typedef enum elf_verdict {
    ELF_ACCEPT = 0,
    ELF_SKIP_CLASS,   /* wrong EI_CLASS: skipped silently, remembered for the error message */
    ELF_SKIP_MACHINE, /* wrong e_machine: skipped silently */
    ELF_FATAL,        /* anything else: the load fails; *why is glibc's message */
} elf_verdict;

typedef struct elf_host {
    uint8_t elf_class; /* ELFCLASS64 on x86_64 */
    uint8_t data;      /* ELFDATA2LSB */
    uint16_t machine;  /* EM_X86_64 */
} elf_host;

/* *why is set for ELF_FATAL to glibc's own wording, e.g. "invalid ELF header",
 * "file too short", "only ET_DYN and ET_EXEC can be loaded", "ELF file OS ABI invalid";
 * NULL otherwise. OS ABI rules are glibc's for Linux: SYSV, or GNU with EI_ABIVERSION below
 * LIBC_ABI_MAX (4 in 2.36). */
elf_verdict elf_verify(const uint8_t *buf, size_t len, const elf_host *host, const char **why);

/* The highest version among a family's version names required by the file, e.g. prefix
 * "GLIBC_" over GLIBC_2.2.5, GLIBC_2.34 gives "GLIBC_2.34" (numeric comparison per dotted
 * component); NULL if none. Only names whose text after the prefix starts with a digit count,
 * so "GLIBC_PRIVATE" is not a GLIBC_ version. The result points into info's arena. */
const char *elf_highest_version(const elf_info *info, const char *prefix);

#endif

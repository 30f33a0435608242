/* The ELF rewriter: changes the dynamic section's RPATH/RUNPATH, NEEDED and SONAME entries of
 * an ELF32/ELF64 file of either byte order (executable, PIE or shared library) and returns the
 * result as an image over the unchanged source. New strings go into space the edit frees, else
 * after the dynamic string table where it lies, the sections that follow it in its segment
 * (versions, relocations) moving up into the free space before the next segment; new entries
 * go into spare DT_NULL slots. What does not fit goes into a loadable segment added at the
 * end: the program header table, the dynamic section and, when the table could not be
 * extended where it lies, a copy of it with the new strings. */
#ifndef BUNDLEFS_ELF_REWRITE_H
#define BUNDLEFS_ELF_REWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bundlefs/arena.h"
#include "bundlefs/err.h"
#include "bundlefs/image.h"

typedef struct elf_rename {
    const char *from, *to;
} elf_rename;

typedef struct elf_edit {
    const char *rpath;   /* set DT_RPATH to this list (and drop DT_RUNPATH), or NULL */
    const char *runpath; /* set DT_RUNPATH to this list (and drop DT_RPATH), or NULL */
    bool remove_rpath;   /* drop both */
    const elf_rename *needed; /* replace DT_NEEDED entries named from by to */
    size_t nneeded;
    const char *soname; /* set DT_SONAME, or NULL */
} elf_edit;

typedef struct elf_rewrite_result {
    bool grown;         /* a segment was added */
    bool shifted;       /* the sections after the string table moved up to extend it */
    uint64_t old_size, new_size;
} elf_rewrite_result;

/* Rewrites the file open on fd (size bytes, named name in messages). Fails, naming the file
 * and the reason, for what cannot be done safely: no PT_DYNAMIC, a dynamic section or string
 * table outside the file, a DT_NEEDED to replace that is not there, ... */
int elf_rewrite(int fd, uint64_t size, const char *name, const elf_edit *edit, arena *a,
                image **out, elf_rewrite_result *res, bf_err *err);

/* One line per dynamic entry ("TAG\tvalue", strings resolved) into a string. */
int elf_rewrite_print(int fd, uint64_t size, const char *name, arena *a, const char **out,
                      bf_err *err);

#endif

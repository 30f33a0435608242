/* The dynamic string table (DT_STRTAB/DT_STRSZ) and the strings the dynamic section and the
 * version needs refer to. */
#include "elf_internal.h"

#include <string.h>

int elf_strtab_locate(const elf_image *im, uint64_t vaddr, bool have_size, uint64_t size,
                      elf_strtab *st, bf_err *err)
{
    uint64_t off, avail;
    if (!elf_vaddr_to_offset(im, vaddr, &off, &avail))
        return elf_corrupt(im, err, "DT_STRTAB 0x%llx lies outside every PT_LOAD segment",
                           (unsigned long long)vaddr);
    /* Without DT_STRSZ (never seen from a real linker) the segment's end is the only bound. */
    if (!have_size)
        size = avail;
    else if (size > avail)
        return elf_corrupt(im, err,
                           "DT_STRSZ %llu runs past the end of the data of the PT_LOAD segment "
                           "holding DT_STRTAB 0x%llx (%llu bytes left there)",
                           (unsigned long long)size, (unsigned long long)vaddr,
                           (unsigned long long)avail);
    *st = (elf_strtab){.off = off, .size = (size_t)size, .present = true};
    return BF_OK;
}

int elf_strtab_copy(const elf_image *im, const elf_strtab *st, uint64_t off, const char *what,
                    arena *a, const char **out, bf_err *err)
{
    if (!st->present)
        return elf_corrupt(im, err, "%s refers to the string table, but there is no DT_STRTAB",
                           what);
    if (off >= st->size)
        return elf_corrupt(im, err, "%s string offset %llu lies outside DT_STRTAB (DT_STRSZ %zu)",
                           what, (unsigned long long)off, st->size);
    /* Looked for a piece at a time: the table can be megabytes, the string a few bytes. Each
     * piece is asked for again with what came before, so the string ends up in one piece. */
    const uint8_t *s = NULL, *nul = NULL;
    size_t left = st->size - (size_t)off, seen = 0;
    while (!nul && seen < left) {
        size_t piece = left - seen < 256 ? left - seen : 256;
        if (!elf_need(im, st->off + off, seen + piece))
            return elf_corrupt(im, err, "%s string at offset %llu of DT_STRTAB cannot be read",
                               what, (unsigned long long)off);
        s = elf_at(im, st->off + off, seen + piece);
        nul = memchr(s + seen, '\0', piece);
        seen += piece;
    }
    if (!nul)
        return elf_corrupt(im, err,
                           "%s string at offset %llu of DT_STRTAB is not NUL-terminated before "
                           "DT_STRSZ %zu",
                           what, (unsigned long long)off, st->size);
    *out = arena_strndup(a, (const char *)s, (size_t)(nul - s));
    return BF_OK;
}

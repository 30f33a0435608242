/* Version needs (.gnu.version_r through DT_VERNEED/DT_VERNEEDNUM) and the highest version of
 * a family among them. */
#include "elf_internal.h"

#include <string.h>

/* Records live in [base, base + size) of the segment holding DT_VERNEED. The next-links are
 * unsigned, so walks only move forward and end at the segment's end; budget additionally
 * caps the total number of records at what the area can hold, so the work stays linear even
 * for overlapping records. */
typedef struct vn_walk {
    const elf_image *im;
    uint64_t base, size;
    uint64_t budget;
} vn_walk;

static int vn_over_budget(const vn_walk *w, bf_err *err)
{
    return elf_corrupt(w->im, err,
                       "the version needs hold more records than fit in the %llu bytes after "
                       "DT_VERNEED",
                       (unsigned long long)w->size);
}

static int vn_record(vn_walk *w, uint64_t rel, const char *what, bf_err *err)
{
    if (rel > w->size || w->size - rel < ELF_VERNEED_SIZE)
        return elf_corrupt(w->im, err,
                           "%s at offset %llu from DT_VERNEED runs past the end of its PT_LOAD "
                           "segment",
                           what, (unsigned long long)rel);
    if (w->budget == 0)
        return vn_over_budget(w, err);
    if (!elf_need(w->im, w->base + rel, ELF_VERNEED_SIZE))
        return elf_corrupt(w->im, err, "%s at offset %llu from DT_VERNEED cannot be read", what,
                           (unsigned long long)rel);
    w->budget--;
    return BF_OK;
}

static int vn_read_aux(vn_walk *w, const elf_strtab *st, uint64_t rel, uint16_t cnt, arena *a,
                       elf_verneed *vn, bf_err *err)
{
    /* Checked up front so that the array below is never larger than the area. */
    if (cnt > w->budget)
        return vn_over_budget(w, err);
    vn->versions = arena_alloc(a, (size_t)cnt * sizeof *vn->versions);
    for (uint16_t j = 0; j < cnt; j++) {
        if (vn_record(w, rel, "a Vernaux record", err) != BF_OK)
            return BF_FAIL;
        size_t at = (size_t)(w->base + rel);
        if (elf_strtab_copy(w->im, st, elf_rd32(w->im, at + 8), "vna_name", a,
                            &vn->versions[vn->nversions++], err) != BF_OK)
            return BF_FAIL;
        uint32_t next = elf_rd32(w->im, at + 12);
        if (next == 0)
            break;
        rel += next;
    }
    return BF_OK;
}

int elf_verneed_read(const elf_image *im, const elf_strtab *st, uint64_t vaddr, bool have_num,
                     uint64_t num, arena *a, elf_info *out, bf_err *err)
{
    vn_walk w = {.im = im};
    if (!elf_vaddr_to_offset(im, vaddr, &w.base, &w.size))
        return elf_corrupt(im, err, "DT_VERNEED 0x%llx lies outside every PT_LOAD segment",
                           (unsigned long long)vaddr);
    w.budget = w.size / ELF_VERNEED_SIZE;
    /* glibc follows vn_next until it is 0; DT_VERNEEDNUM, when present, also bounds it. */
    if (!have_num)
        num = w.budget;
    else if (num > w.budget)
        return elf_corrupt(im, err,
                           "DT_VERNEEDNUM %llu is more than the %llu bytes after DT_VERNEED can "
                           "hold",
                           (unsigned long long)num, (unsigned long long)w.size);
    size_t cap = 0;
    uint64_t rel = 0;
    for (uint64_t i = 0; i < num; i++) {
        if (vn_record(&w, rel, "a Verneed record", err) != BF_OK)
            return BF_FAIL;
        size_t at = (size_t)(w.base + rel);
        uint16_t version = elf_rd16(im, at);
        if (version != 1)
            return elf_corrupt(im, err,
                               "Verneed record %llu has vn_version %u; glibc knows only version "
                               "1 and refuses to load the file",
                               (unsigned long long)i, version);
        elf_verneed vn = {0};
        if (elf_strtab_copy(im, st, elf_rd32(im, at + 4), "vn_file", a, &vn.file, err) != BF_OK ||
            vn_read_aux(&w, st, rel + elf_rd32(im, at + 8), elf_rd16(im, at + 2), a, &vn, err) !=
                BF_OK)
            return BF_FAIL;
        arena_push(a, &out->verneed, &out->nverneed, &cap, &vn, sizeof vn);
        uint32_t next = elf_rd32(im, at + 12);
        if (next == 0)
            break;
        rel += next;
    }
    return BF_OK;
}

/* Compares version strings with runs of digits taken as numbers ("2.10" > "2.9"). */
static int elf_version_cmp(const char *x, const char *y)
{
    while (*x && *y) {
        if (*x >= '0' && *x <= '9' && *y >= '0' && *y <= '9') {
            while (*x == '0')
                x++;
            while (*y == '0')
                y++;
            size_t nx = strspn(x, "0123456789"), ny = strspn(y, "0123456789");
            if (nx != ny)
                return nx < ny ? -1 : 1;
            int c = memcmp(x, y, nx);
            if (c)
                return c;
            x += nx;
            y += ny;
        } else if (*x != *y) {
            return (unsigned char)*x < (unsigned char)*y ? -1 : 1;
        } else {
            x++;
            y++;
        }
    }
    return *x ? 1 : *y ? -1 : 0;
}

const char *elf_highest_version(const elf_info *info, const char *prefix)
{
    size_t plen = strlen(prefix);
    const char *best = NULL;
    for (size_t i = 0; i < info->nverneed; i++) {
        const elf_verneed *vn = &info->verneed[i];
        for (size_t j = 0; j < vn->nversions; j++) {
            const char *v = vn->versions[j];
            /* "GLIBC_PRIVATE" is a name, not a version of the GLIBC_ family. */
            if (strncmp(v, prefix, plen) != 0 || v[plen] < '0' || v[plen] > '9')
                continue;
            if (!best || elf_version_cmp(v + plen, best + plen) > 0)
                best = v;
        }
    }
    return best;
}

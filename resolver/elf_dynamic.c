/* The dynamic array: dependency entries, names, search paths, flags and the version needs.
 * Like glibc's elf_get_dynamic_info, a tag that appears twice keeps its last value. */
#include "elf_internal.h"

/* Where a tag's value was seen; the string tags are resolved once DT_STRTAB is known, which
 * usually comes after them in the array. */
typedef struct dyn_tag {
    bool seen;
    uint64_t val;
} dyn_tag;

typedef struct dyn_scan {
    size_t start, entsize, count; /* entries up to (not including) DT_NULL or the end */
    size_t ndeps;
    dyn_tag strtab, strsz, soname, rpath, runpath, verneed, verneednum;
} dyn_scan;

static void dyn_entry(const elf_image *im, const dyn_scan *s, size_t i, uint64_t *tag,
                      uint64_t *val)
{
    size_t at = s->start + i * s->entsize;
    *tag = elf_rdaddr(im, at);
    *val = elf_rdaddr(im, at + s->entsize / 2);
}

static int dyn_dep_kind(uint64_t tag)
{
    switch (tag) {
    case ELF_DT_NEEDED: return ELF_DEP_NEEDED;
    case ELF_DT_AUXILIARY: return ELF_DEP_AUXILIARY;
    case ELF_DT_FILTER: return ELF_DEP_FILTER;
    default: return 0;
    }
}

static void dyn_note(dyn_tag *t, uint64_t val)
{
    t->seen = true;
    t->val = val;
}

static void dyn_scan_tags(const elf_image *im, dyn_scan *s, elf_info *out)
{
    for (size_t i = 0; i < s->count; i++) {
        uint64_t tag, val;
        dyn_entry(im, s, i, &tag, &val);
        switch (tag) {
        case ELF_DT_NULL: s->count = i; return;
        case ELF_DT_STRTAB: dyn_note(&s->strtab, val); break;
        case ELF_DT_STRSZ: dyn_note(&s->strsz, val); break;
        case ELF_DT_SONAME: dyn_note(&s->soname, val); break;
        case ELF_DT_RPATH: dyn_note(&s->rpath, val); break;
        case ELF_DT_RUNPATH: dyn_note(&s->runpath, val); break;
        case ELF_DT_VERNEED: dyn_note(&s->verneed, val); break;
        case ELF_DT_VERNEEDNUM: dyn_note(&s->verneednum, val); break;
        case ELF_DT_FLAGS: out->flags = val; break;
        case ELF_DT_FLAGS_1: out->flags_1 = val; break;
        default: s->ndeps += dyn_dep_kind(tag) != 0; break;
        }
    }
}

static int dyn_read_deps(const elf_image *im, const dyn_scan *s, const elf_strtab *st,
                         arena *a, elf_info *out, bf_err *err)
{
    if (s->ndeps == 0)
        return BF_OK;
    out->deps = arena_alloc(a, s->ndeps * sizeof *out->deps);
    for (size_t i = 0; i < s->count; i++) {
        uint64_t tag, val;
        dyn_entry(im, s, i, &tag, &val);
        int kind = dyn_dep_kind(tag);
        if (!kind)
            continue;
        static const char *const names[] = {"", "DT_NEEDED", "DT_AUXILIARY", "DT_FILTER"};
        elf_dep *d = &out->deps[out->ndeps++];
        d->kind = kind;
        if (elf_strtab_copy(im, st, val, names[kind], a, &d->name, err) != BF_OK)
            return BF_FAIL;
    }
    return BF_OK;
}

static int dyn_string(const elf_image *im, const elf_strtab *st, const dyn_tag *t,
                      const char *what, arena *a, const char **out, bf_err *err)
{
    if (!t->seen)
        return BF_OK;
    return elf_strtab_copy(im, st, t->val, what, a, out, err);
}

int elf_dynamic_read(const elf_image *im, const elf_phdr *dyn, arena *a, elf_info *out,
                     bf_err *err)
{
    if (!elf_need(im, dyn->offset, dyn->filesz))
        return elf_corrupt(im, err,
                           "PT_DYNAMIC (offset 0x%llx, %llu bytes) runs past the end of the file "
                           "(%zu bytes)",
                           (unsigned long long)dyn->offset, (unsigned long long)dyn->filesz,
                           im->len);
    dyn_scan s = {.start = (size_t)dyn->offset, .entsize = im->is64 ? 16 : 8};
    s.count = (size_t)dyn->filesz / s.entsize;
    dyn_scan_tags(im, &s, out);

    elf_strtab st = {0};
    if (s.strtab.seen && elf_strtab_locate(im, s.strtab.val, s.strsz.seen, s.strsz.val, &st,
                                           err) != BF_OK)
        return BF_FAIL;
    if (dyn_read_deps(im, &s, &st, a, out, err) != BF_OK ||
        dyn_string(im, &st, &s.soname, "DT_SONAME", a, &out->soname, err) != BF_OK ||
        dyn_string(im, &st, &s.rpath, "DT_RPATH", a, &out->rpath, err) != BF_OK ||
        dyn_string(im, &st, &s.runpath, "DT_RUNPATH", a, &out->runpath, err) != BF_OK)
        return BF_FAIL;
    if (!s.verneed.seen || (im->skip & ELF_SKIP_VERNEED))
        return BF_OK;
    return elf_verneed_read(im, &st, s.verneed.val, s.verneednum.seen, s.verneednum.val, a, out,
                            err);
}

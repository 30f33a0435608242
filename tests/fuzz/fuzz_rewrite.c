/* elf_rewrite on arbitrary ELF files with arbitrary edits. The input is the ELF file itself;
 * the edit is drawn from a generator seeded by its bytes 8..15 (EI_ABIVERSION and EI_PAD,
 * which no reader looks at) and its length, so real files work as seeds unchanged and every
 * mutation of them also varies the edit. A failure must explain itself: a non-empty message
 * naming the file. A success must give a file that elf_parse reads (when it read the input)
 * with exactly the requested RPATH/RUNPATH/SONAME/NEEDED and everything else it reports
 * unchanged, and with the same program headers by type but one PT_LOAD more when grown. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundlefs/elf.h"
#include "bundlefs/elf_rewrite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { PT_LOAD_TYPE = 1, FZ_MAX_PH = 4096, FZ_MAX_TYPES = FZ_MAX_PH, FZ_MAX_GROWTH = 64 << 20 };

/* A broken promise: says which one before the crash, so a crashing input explains itself. */
#define FZ_ASSERT(cond)                                                                    \
    do {                                                                                   \
        if (!(cond))                                                                       \
            fz_fail(__LINE__, #cond);                                                      \
    } while (0)

static void fz_fail(int line, const char *what);

/* ---- The edit, drawn from a generator seeded by the input */

static uint64_t fz_state;

/* splitmix64 */
static uint64_t fz_rnd(void)
{
    uint64_t z = (fz_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* A name the input already has (or a tail of one, which a linker may share), so reuse of
 * existing strings is exercised, or a fresh one: short, empty (when allowed) or long enough
 * to force growth. */
static const char *fz_string(arena *a, const elf_info *in, bool parsed, bool allow_empty)
{
    static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789._-/:$ORIGIN";
    uint64_t mode = fz_rnd() % 5;
    if (mode == 0 && parsed) {
        const char *pool[4 + 8];
        size_t n = 0;
        const char *single[] = {in->soname, in->rpath, in->runpath, in->interp};
        for (size_t i = 0; i < 4; i++)
            if (single[i])
                pool[n++] = single[i];
        for (size_t i = 0; i < in->ndeps && n < sizeof pool / sizeof *pool; i++)
            pool[n++] = in->deps[i].name;
        if (n) {
            const char *s = pool[fz_rnd() % n];
            size_t len = strlen(s), skip = fz_rnd() % 2 ? fz_rnd() % (len + 1) : 0;
            if (len - skip > 0 || allow_empty)
                return s + skip;
        }
    }
    size_t len = mode == 4 ? 100 + fz_rnd() % 200 : fz_rnd() % 24;
    if (len == 0 && !allow_empty)
        len = 1;
    char *s = arena_alloc(a, len + 1);
    for (size_t i = 0; i < len; i++)
        s[i] = chars[fz_rnd() % (sizeof chars - 1)];
    return s;
}

typedef struct fz_plan {
    elf_edit ed;
    elf_rename ren;
    bool replace_known; /* the NEEDED to replace is one of the input's */
} fz_plan;

static void fz_make_edit(fz_plan *p, const uint8_t *data, size_t size, arena *a,
                         const elf_info *in, bool parsed)
{
    fz_state = size * 0x9e3779b97f4a7c15u;
    for (size_t i = 8; i < 16 && i < size; i++)
        fz_state ^= (uint64_t)data[i] << (8 * (i - 8));
    *p = (fz_plan){0};
    switch (fz_rnd() % 4) {
    case 0: p->ed.rpath = fz_string(a, in, parsed, true); break;
    case 1: p->ed.runpath = fz_string(a, in, parsed, true); break;
    case 2: p->ed.remove_rpath = true; break;
    default: break;
    }
    if (fz_rnd() % 2)
        p->ed.soname = fz_string(a, in, parsed, false);
    if (fz_rnd() % 2) {
        size_t nneeded = 0;
        for (size_t i = 0; parsed && i < in->ndeps; i++)
            nneeded += in->deps[i].kind == ELF_DEP_NEEDED;
        /* Mostly an existing name; sometimes one that is not there, which must be refused. */
        if (nneeded && fz_rnd() % 8) {
            size_t pick = fz_rnd() % nneeded;
            for (size_t i = 0; i < in->ndeps; i++)
                if (in->deps[i].kind == ELF_DEP_NEEDED && pick-- == 0)
                    p->ren.from = in->deps[i].name;
            p->replace_known = true;
        } else {
            p->ren.from = arena_printf(a, "fuzz-absent-%llu.so",
                                      (unsigned long long)(fz_rnd() % 1000));
        }
        p->ren.to = fz_string(a, in, parsed, false);
        p->ed.needed = &p->ren;
        p->ed.nneeded = 1;
    }
}

/* ---- Program header types, counted straight from the bytes */

typedef struct fz_types {
    uint32_t type[FZ_MAX_TYPES];
    size_t count[FZ_MAX_TYPES];
    size_t n;
    bool ok;
} fz_types;

static uint64_t fz_get(const uint8_t *p, int width, bool be)
{
    uint64_t v = 0;
    for (int i = 0; i < width; i++)
        v |= (uint64_t)p[be ? width - 1 - i : i] << (8 * i);
    return v;
}

static fz_types fz_count_types(const uint8_t *buf, size_t len)
{
    fz_types t = {.ok = false};
    if (len < 52 || (buf[4] != 1 && buf[4] != 2))
        return t;
    bool is64 = buf[4] == 2, be = buf[5] == 2;
    int w = is64 ? 8 : 4;
    if (is64 && len < 64)
        return t;
    uint64_t phoff = fz_get(buf + 24 + w, w, be);
    uint64_t entsize = fz_get(buf + 30 + 3 * w, 2, be), phnum = fz_get(buf + 32 + 3 * w, 2, be);
    if (entsize != (is64 ? 56u : 32u) || phnum > FZ_MAX_PH || phoff > len ||
        phnum * entsize > len - phoff)
        return t;
    for (size_t i = 0; i < phnum; i++) {
        uint32_t type = (uint32_t)fz_get(buf + phoff + i * entsize, 4, be);
        size_t k = 0;
        while (k < t.n && t.type[k] != type)
            k++;
        if (k == t.n) {
            if (t.n == FZ_MAX_TYPES)
                return t;
            t.type[t.n++] = type;
        }
        t.count[k]++;
    }
    t.ok = true;
    return t;
}

static size_t fz_type_count(const fz_types *t, uint32_t type)
{
    for (size_t k = 0; k < t->n; k++)
        if (t->type[k] == type)
            return t->count[k];
    return 0;
}

/* Every type as often as before; PT_LOAD once more when a segment was added. */
static void fz_check_types(const fz_types *before, const fz_types *after, bool grown)
{
    FZ_ASSERT(before->ok && after->ok);
    for (size_t k = 0; k < before->n; k++)
        FZ_ASSERT(fz_type_count(after, before->type[k]) ==
                  before->count[k] + (grown && before->type[k] == PT_LOAD_TYPE));
    for (size_t k = 0; k < after->n; k++)
        FZ_ASSERT(fz_type_count(before, after->type[k]) > 0);
}

/* ---- The output against the input and the edit */

static bool fz_same(const char *x, const char *y)
{
    return (!x) == (!y) && (!x || strcmp(x, y) == 0);
}

static void fz_check_info(const elf_info *in, const elf_info *out, const elf_edit *ed)
{
    FZ_ASSERT(out->has_dynamic);
    bool path_edit = ed->rpath || ed->runpath || ed->remove_rpath;
    FZ_ASSERT(fz_same(out->rpath, path_edit ? ed->rpath : in->rpath));
    FZ_ASSERT(fz_same(out->runpath, path_edit ? ed->runpath : in->runpath));
    FZ_ASSERT(fz_same(out->soname, ed->soname ? ed->soname : in->soname));
    FZ_ASSERT(fz_same(out->interp, in->interp));
    FZ_ASSERT(out->type == in->type && out->machine == in->machine);
    FZ_ASSERT(out->flags == in->flags && out->flags_1 == in->flags_1);
    FZ_ASSERT(out->ndeps == in->ndeps);
    for (size_t i = 0; i < in->ndeps; i++) {
        bool renamed = ed->nneeded && in->deps[i].kind == ELF_DEP_NEEDED &&
                       !strcmp(in->deps[i].name, ed->needed[0].from);
        FZ_ASSERT(out->deps[i].kind == in->deps[i].kind);
        FZ_ASSERT(fz_same(out->deps[i].name, renamed ? ed->needed[0].to : in->deps[i].name));
    }
    /* The version needs follow a renamed NEEDED; their version names do not change. */
    FZ_ASSERT(out->nverneed == in->nverneed);
    for (size_t i = 0; i < in->nverneed; i++) {
        const elf_verneed *a = &in->verneed[i], *b = &out->verneed[i];
        bool renamed = ed->nneeded && !strcmp(a->file, ed->needed[0].from);
        FZ_ASSERT(fz_same(b->file, renamed ? ed->needed[0].to : a->file));
        FZ_ASSERT(a->nversions == b->nversions);
        for (size_t j = 0; j < a->nversions; j++)
            FZ_ASSERT(fz_same(a->versions[j], b->versions[j]));
    }
}

static bool fz_has_needed(const elf_info *in, bool parsed, const char *name)
{
    for (size_t i = 0; parsed && i < in->ndeps; i++)
        if (in->deps[i].kind == ELF_DEP_NEEDED && !strcmp(in->deps[i].name, name))
            return true;
    return false;
}

/* ---- The per-process temporary folder */

static char fz_dir[64];
static char fz_path[96];

static void fz_cleanup(void)
{
    unlink(fz_path);
    rmdir(fz_dir);
}

static int fz_write_input(const uint8_t *data, size_t size)
{
    if (!fz_dir[0]) {
        snprintf(fz_dir, sizeof fz_dir, "/tmp/bundlefs-fuzz-rewrite-XXXXXX");
        FZ_ASSERT(mkdtemp(fz_dir) != NULL);
        snprintf(fz_path, sizeof fz_path, "%s/input.so", fz_dir);
        atexit(fz_cleanup);
    }
    int fd = open(fz_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FZ_ASSERT(fd >= 0);
    for (size_t done = 0; done < size;) {
        ssize_t w = write(fd, data + done, size - done);
        FZ_ASSERT(w > 0);
        done += (size_t)w;
    }
    return fd;
}

/* The whole image, read through image_read as the file system serves it. */
static uint8_t *fz_materialize(const image *im, size_t *len)
{
    uint64_t n = image_size(im);
    uint8_t *buf = malloc(n ? n : 1);
    size_t got;
    bf_err err;
    FZ_ASSERT(buf != NULL);
    int rc = image_read(im, 0, buf, n, &got, &err);
    if (rc != BF_OK)
        fprintf(stderr, "image_read: %s\n", err.msg);
    FZ_ASSERT(rc == BF_OK && got == n);
    *len = n;
    return buf;
}

/* The edit of the input being run, shown when a check fails. */
static const elf_edit *fz_current;

static void fz_fail(int line, const char *what)
{
    const elf_edit *ed = fz_current;
    fprintf(stderr, "fuzz_rewrite.c:%d: check failed: %s\n", line, what);
    if (ed)
        fprintf(stderr, "edit: rpath=%s runpath=%s remove_rpath=%d soname=%s needed=%s->%s\n",
                ed->rpath ? ed->rpath : "(none)", ed->runpath ? ed->runpath : "(none)",
                ed->remove_rpath, ed->soname ? ed->soname : "(none)",
                ed->nneeded ? ed->needed[0].from : "(none)",
                ed->nneeded ? ed->needed[0].to : "(none)");
    /* abort skips the atexit clean-up, so the input stays for a replay */
    fprintf(stderr, "input: %s\n", fz_path);
    abort();
}

static void fz_check_failure(const fz_plan *p, const elf_info *in, bool parsed, int fd,
                             size_t size, arena *a, const bf_err *err)
{
    FZ_ASSERT(err->msg[0] != '\0' && strstr(err->msg, fz_path) != NULL);
    /* A file the rewriter can read (its listing works) with a NEEDED name that is not there
     * is refused by that name. */
    const char *listing;
    bf_err perr;
    if (p->ed.nneeded && !p->replace_known && parsed && !fz_has_needed(in, parsed, p->ren.from) &&
        elf_rewrite_print(fd, size, fz_path, a, &listing, &perr) == BF_OK)
        FZ_ASSERT(strstr(err->msg, p->ren.from) != NULL);
}

static void fz_check_success(const fz_plan *p, const elf_info *in, bool parsed,
                             const uint8_t *data, size_t size, const image *im,
                             const elf_rewrite_result *res, arena *a)
{
    /* An absent NEEDED name cannot have been replaced. */
    FZ_ASSERT(!p->ed.nneeded || !parsed || fz_has_needed(in, parsed, p->ren.from));
    /* A success is a usable image: the rewriter refuses what it cannot lay out. */
    bf_err ierr;
    if (image_check(im, &ierr) != BF_OK)
        fprintf(stderr, "image_check: %s\n", ierr.msg);
    FZ_ASSERT(image_check(im, &ierr) == BF_OK);
    FZ_ASSERT(res->old_size == size && res->new_size == image_size(im));
    /* The added segment's file offset follows its address, which follows the highest
     * segment end: a file whose segments span a huge range gives a huge, mostly hole image.
     * Not materialized (it would not fit in memory). */
    FZ_ASSERT(image_size(im) >= size);
    if (image_size(im) - size > FZ_MAX_GROWTH)
        return;
    size_t len;
    uint8_t *out_bytes = fz_materialize(im, &len);
    FZ_ASSERT(res->grown || len == size);
    fz_types before = fz_count_types(data, size), after = fz_count_types(out_bytes, len);
    fz_check_types(&before, &after, res->grown);
    elf_info out;
    bf_err err;
    bool out_parsed = elf_parse(out_bytes, len, "fuzz-output", a, &out, &err) == BF_OK;
    /* elf_parse and the rewriter accept slightly different inputs; the comparison is only
     * meaningful where elf_parse read the input. */
    if (parsed) {
        if (!out_parsed)
            fprintf(stderr, "elf_parse of the output: %s\n", err.msg);
        FZ_ASSERT(out_parsed);
        fz_check_info(in, &out, &p->ed);
    }
    free(out_bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena *a = arena_new();
    elf_info in;
    bf_err err;
    bool parsed = elf_parse(data, size, "fuzz-input", a, &in, &err) == BF_OK;
    fz_plan p;
    fz_make_edit(&p, data, size, a, &in, parsed);
    fz_current = &p.ed;

    int fd = fz_write_input(data, size);
    image *im;
    elf_rewrite_result res;
    err.msg[0] = '\0';
    if (elf_rewrite(fd, size, fz_path, &p.ed, a, &im, &res, &err) != BF_OK)
        fz_check_failure(&p, &in, parsed, fd, size, a, &err);
    else
        fz_check_success(&p, &in, parsed, data, size, im, &res, a);
    fz_current = NULL;
    close(fd);
    arena_free(a);
    return 0;
}

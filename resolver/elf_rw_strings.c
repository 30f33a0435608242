/* Where the new strings of a rewrite go. A string already in the dynamic string table is
 * reused where it is (linkers share tails the same way). In place, the others go into the
 * space of strings the edit drops, when nothing else points into that space: dynamic
 * entries, symbol names and version names all index the same table, so all are checked;
 * without section headers the symbols cannot be found and no space is reused. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf_rw_internal.h"

enum { RW_MAX_SYMS = 1 << 22, RW_MAX_VERS = 1 << 16 };

typedef struct rw_refs {
    uint64_t *off;
    size_t n, cap;
    bool complete; /* every reference is known */
} rw_refs;

static void rw_ref(arena *a, rw_refs *r, uint64_t off)
{
    arena_push(a, &r->off, &r->n, &r->cap, &off, sizeof off);
}

static bool rw_read(const rw_elf *e, void *buf, uint64_t len, uint64_t off)
{
    if (off > e->size || len > e->size - off)
        return false;
    return pread(e->fd, buf, len, (off_t)off) == (ssize_t)len;
}

/* Reads through a window of the file: a version chain is many small records close together,
 * one pread each would be most of a rewrite's system calls. */
typedef struct rw_window {
    uint8_t buf[4096];
    uint64_t off, len;
} rw_window;

static bool rw_window_read(const rw_elf *e, rw_window *w, void *buf, uint64_t len, uint64_t off)
{
    if (off > e->size || len > e->size - off || len > sizeof w->buf)
        return false;
    if (off < w->off || off + len > w->off + w->len) {
        uint64_t n = e->size - off < sizeof w->buf ? e->size - off : sizeof w->buf;
        if (!rw_read(e, w->buf, n, off))
            return false;
        w->off = off;
        w->len = n;
    }
    memcpy(buf, w->buf + (off - w->off), len);
    return true;
}

static bool rw_refs_symbols(const rw_elf *e, arena *a, rw_refs *r)
{
    bool found = false;
    for (size_t i = 0; i < e->shnum; i++) {
        const rw_shdr *s = &e->sh[i];
        if (s->type != SHT_DYNSYM)
            continue;
        found = true;
        size_t ent = e->is64 ? sizeof(Elf64_Sym) : sizeof(Elf32_Sym);
        if (s->size / ent > RW_MAX_SYMS)
            return false;
        uint8_t *raw = malloc(s->size ? s->size : 1);
        bool ok = raw && rw_read(e, raw, s->size, s->offset);
        for (size_t k = 0; ok && k < s->size / ent; k++)
            rw_ref(a, r, rw_get(e, raw + k * ent, 4));
        free(raw);
        if (!ok)
            return false;
    }
    return found;
}

/* The names in the verneed (file and version names) or verdef (version names) chain, pushed
 * on r (r NULL: none), and in *end the address just past the last record the walk read. */
static bool rw_walk_versions(const rw_elf *e, arena *a, rw_refs *r, int64_t table_tag,
                             uint64_t *end)
{
    bool need = table_tag == DT_VERNEED;
    uint64_t vaddr = rw_dyn_value(e, table_tag), off, start;
    *end = vaddr;
    if (!vaddr)
        return true;
    if (!rw_vaddr_to_off(e, vaddr, 16, &off))
        return false;
    start = off;
    size_t budget = RW_MAX_VERS;
    rw_window w = {.len = 0};
    /* glibc follows the chain to a zero next link and ignores the count entries */
    for (uint64_t k = 0; k < RW_MAX_VERS; k++) {
        uint8_t v[20]; /* Elf_Verneed is 16 bytes, Elf_Verdef 20 */
        if (!rw_window_read(e, &w, v, need ? 16 : 20, off))
            return false;
        if (off + (need ? 16 : 20) - start + vaddr > *end)
            *end = off + (need ? 16 : 20) - start + vaddr;
        uint64_t cnt = rw_get(e, v + 2, 2), aux;
        if (need) {
            if (r)
                rw_ref(a, r, rw_get(e, v + 4, 4));
            aux = off + rw_get(e, v + 8, 4);
        } else {
            aux = off + rw_get(e, v + 12, 4);
        }
        for (uint64_t j = 0; j < cnt; j++) {
            uint8_t x[16]; /* Elf_Vernaux is 16 bytes, Elf_Verdaux 8 */
            uint64_t size = need ? 16 : 8;
            if (!budget-- || !rw_window_read(e, &w, x, size, aux))
                return false;
            if (aux + size - start + vaddr > *end)
                *end = aux + size - start + vaddr;
            if (r)
                rw_ref(a, r, rw_get(e, x + (need ? 8 : 0), 4));
            uint64_t next = rw_get(e, x + (need ? 12 : 4), 4);
            if (!next)
                break;
            aux += next;
        }
        uint64_t next = rw_get(e, v + (need ? 12 : 16), 4);
        if (!next)
            break;
        off += next;
    }
    return true;
}

bool rw_versions_end(const rw_elf *e, int64_t table_tag, uint64_t *end)
{
    return rw_walk_versions(e, NULL, NULL, table_tag, end);
}

/* Every string reference of the file other than the dynamic entries in keep. */
static rw_refs rw_collect_refs(const rw_elf *e, const rw_dyn *keep, size_t nkeep, arena *a)
{
    rw_refs r = {0};
    for (size_t i = 0; i < nkeep; i++)
        if (keep[i].str && keep[i].val < e->strsz && !strcmp(e->dynstr + keep[i].val, keep[i].str))
            rw_ref(a, &r, keep[i].val);
    uint64_t end;
    r.complete = rw_refs_symbols(e, a, &r) && rw_walk_versions(e, a, &r, DT_VERNEED, &end) &&
                 rw_walk_versions(e, a, &r, DT_VERDEF, &end);
    return r;
}

static bool rw_overlaps(const rw_elf *e, const rw_refs *r, uint64_t s, uint64_t end)
{
    for (size_t i = 0; i < r->n; i++) {
        uint64_t o = r->off[i];
        if (o >= e->strsz)
            continue;
        uint64_t oend = o + strnlen(e->dynstr + o, e->strsz - o) + 1;
        if (o < end && oend > s)
            return true;
    }
    return false;
}

/* The offset of an existing copy of s (with its NUL) in the table, or UINT64_MAX. */
static uint64_t rw_find(const rw_elf *e, const char *s)
{
    size_t n = strlen(s) + 1;
    const char *p = memmem(e->dynstr, e->strsz, s, n);
    return p ? (uint64_t)(p - e->dynstr) : UINT64_MAX;
}

bool rw_place_in_place(const rw_elf *e, rw_dyn *list, size_t n, arena *a, rw_patch **patches,
                       size_t *npatch, size_t *patchcap)
{
    /* the ranges freed: old strings of string entries the new list no longer has */
    uint64_t (*fr)[3] = NULL; /* next free byte, end, start */
    size_t nfr = 0, frcap = 0;
    rw_refs refs = rw_collect_refs(e, list, n, a);
    for (size_t i = 0; refs.complete && i < e->ndyn; i++) {
        if (!rw_tag_is_string(e->dyn[i].tag))
            continue;
        uint64_t s = e->dyn[i].val, end = s + strlen(e->dynstr + s) + 1;
        bool dup = false;
        for (size_t k = 0; k < nfr; k++)
            dup |= fr[k][0] == s;
        if (!dup && end - s > 1 && !rw_overlaps(e, &refs, s, end)) {
            uint64_t r[3] = {s, end, s};
            arena_push(a, &fr, &nfr, &frcap, r, sizeof r);
        }
    }
    for (size_t i = 0; i < n; i++) {
        rw_dyn *d = &list[i];
        if (!d->str || (d->val < e->strsz && !strcmp(e->dynstr + d->val, d->str)))
            continue;
        uint64_t at = rw_find(e, d->str);
        /* a freed range may already hold new strings: test against where it started */
        bool clash = false;
        for (size_t k = 0; at != UINT64_MAX && k < nfr; k++)
            clash |= at < fr[k][1] && at + strlen(d->str) + 1 > fr[k][2];
        if (at != UINT64_MAX && !clash) {
            d->val = at;
            continue;
        }
        size_t need = strlen(d->str) + 1, k = 0;
        while (k < nfr && fr[k][1] - fr[k][0] < need)
            k++;
        if (k == nfr)
            return false;
        d->val = fr[k][0];
        rw_add_patch(a, patches, npatch, patchcap, e->strtab_off + fr[k][0], d->str, need);
        fr[k][0] += need;
    }
    return true;
}

uint64_t rw_place_appended(const rw_elf *e, rw_dyn *list, size_t n, uint64_t base, arena *a,
                           char **tail)
{
    size_t len = 0, cap = 256;
    char *buf = arena_alloc(a, cap);
    for (size_t i = 0; i < n; i++) {
        rw_dyn *d = &list[i];
        if (!d->str || (d->val < e->strsz && !strcmp(e->dynstr + d->val, d->str)))
            continue;
        uint64_t at = rw_find(e, d->str);
        if (at != UINT64_MAX) {
            d->val = at;
            continue;
        }
        size_t need = strlen(d->str) + 1;
        if (len + need > cap) {
            buf = arena_grow(a, buf, len, (len + need) * 2, 1);
            cap = (len + need) * 2;
        }
        memcpy(buf + len, d->str, need);
        d->val = base + len;
        len += need;
    }
    *tail = buf;
    return len;
}

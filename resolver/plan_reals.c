/* From nodes to reals: every source is hashed, binaries with the same content become one real
 * (two copies of a library in one process break programs), each real gets its name, its
 * symlinks/<real>/ folder holding exactly the names it asks for, the DT_RPATH that finds that
 * folder from every depth it is reached at, and its other names as symlinks. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bundlefs/progress.h"
#include "plan_internal.h"

static void plan_progress_step(void *ctx, uint64_t n)
{
    if (ctx)
        progress_add(ctx, n);
}

static int plan_hash_source(const char *path, const struct stat *want, char hex[33],
                            progress *bar, bf_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(err, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    int rc = fstat(fd, &st) == 0 ? BF_OK : err_set(err, "cannot examine %s", path);
    if (rc == BF_OK && want &&
        (st.st_size != want->st_size || plan_mtime_ns(&st) != plan_mtime_ns(want)))
        rc = err_set(err, "%s changed while the bundle was being planned; run bundlefs build "
                          "again once it is stable",
                     path);
    if (rc == BF_OK)
        rc = plan_hash_fd(fd, path, hex, plan_progress_step, bar, err);
    close(fd);
    return rc;
}

static int plan_hash_all(plan *p, bf_err *err)
{
    uint64_t total = 0;
    for (size_t i = 0; i < p->nnodes; i++)
        total += (uint64_t)p->nodes[i]->st.st_size;
    for (size_t i = 0; i < p->nentries; i++)
        if (p->entries[i]->type == LAYOUT_FILE)
            total += p->entries[i]->size;
    progress *bar = p->o->progress ? progress_new(p->a, "hashing", total) : NULL;
    int rc = BF_OK;
    for (size_t i = 0; rc == BF_OK && i < p->nnodes; i++)
        rc = plan_hash_source(p->nodes[i]->source, &p->nodes[i]->st, p->nodes[i]->hash, bar, err);
    for (size_t i = 0; rc == BF_OK && i < p->nentries; i++) {
        layout_entry *e = p->entries[i];
        if (e->type != LAYOUT_FILE)
            continue;
        struct stat want = {.st_size = (off_t)e->size};
        want.st_mtim.tv_sec = e->mtime_ns / 1000000000;
        want.st_mtim.tv_nsec = e->mtime_ns % 1000000000;
        if (want.st_mtim.tv_nsec < 0) {
            want.st_mtim.tv_nsec += 1000000000;
            want.st_mtim.tv_sec -= 1;
        }
        rc = plan_hash_source(e->source, &want, e->hash, bar, err);
    }
    if (bar)
        progress_end(bar);
    return rc;
}

static long plan_rep(const plan *p, long i)
{
    while (p->nodes[i]->same_as >= 0)
        i = p->nodes[i]->same_as;
    return i;
}

/* Nodes with one content become one: the first keeps the names, roots and dependencies of
 * all. */
static void plan_dedupe(plan *p)
{
    strmap *by_hash = arena_alloc(p->a, sizeof *by_hash); /* lives as long as its arena */
    strmap_init(by_hash, p->a);
    for (size_t i = 0; i < p->nnodes; i++) {
        void *first = strmap_put_first(by_hash, p->nodes[i]->hash, (void *)(uintptr_t)(i + 1));
        long r = (long)(uintptr_t)first - 1;
        p->nodes[i]->same_as = r == (long)i ? -1 : r;
    }
    for (size_t i = 0; i < p->nnodes; i++)
        for (size_t k = 0; k < p->nodes[i]->ndeps; k++)
            if (p->nodes[i]->deps[k].status == LAYOUT_DEP_BUNDLED)
                p->nodes[i]->deps[k].target = plan_rep(p, p->nodes[i]->deps[k].target);
    for (size_t i = 0; i < p->nnodes; i++) {
        plan_node *n = p->nodes[i];
        if (n->same_as < 0)
            continue;
        plan_node *rep = p->nodes[n->same_as];
        for (size_t k = 0; k < n->naliases; k++)
            arena_push(p->a, &rep->aliases, &rep->naliases, &rep->capaliases, &n->aliases[k],
                       sizeof n->aliases[k]);
        rep->depths |= n->depths;
        rep->program |= n->program;
        if (!rep->root)
            rep->root = n->root;
        for (size_t k = 0; k < n->ndeps; k++)
            plan_node_add_dep(p, rep, &n->deps[k]);
    }
}

static const char *plan_leaf(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static int plan_name_reals(plan *p, bf_err *err)
{
    strmap *names = arena_alloc(p->a, sizeof *names); /* lives as long as its arena */
    strmap_init(names, p->a);
    for (size_t i = 0; i < p->nnodes; i++) {
        plan_node *n = p->nodes[i];
        if (n->same_as >= 0)
            continue;
        n->real = arena_printf(p->a, "reals/r/%s",
                               plan_real_name(p->a, plan_leaf(n->source), n->hash));
        plan_node *other = strmap_put_first(names, n->real, n);
        if (other != n)
            return err_set(err, "%s and %s have different contents but the same first 64 bits of "
                                "their hash; the bundle cannot name both (report this)",
                           other->source, n->source);
    }
    return BF_OK;
}

/* The symlinks/<real>/ folder: the name each dependency is asked for, pointing at its real. */
static size_t plan_links(plan *p, plan_node *n, const char *dir, elf_rename **renames,
                         size_t *nrenames)
{
    size_t links = 0, cap = 0;
    for (size_t i = 0; i < n->ndeps; i++) {
        const layout_dep *d = &n->deps[i];
        if (d->status != LAYOUT_DEP_BUNDLED)
            continue;
        const char *name = d->name;
        if (strchr(name, '/')) {
            if (strcmp(d->kind, "needed") != 0)
                continue; /* a dlopen by path opens that path; nothing to link */
            name = plan_leaf(name);
            elf_rename r = {d->name, name};
            arena_push(p->a, renames, nrenames, &cap, &r, sizeof r);
        }
        if (!*name)
            continue;
        const char *path = arena_printf(p->a, "%s/%s", dir, name);
        const char *dest = p->nodes[d->target]->real;
        layout_entry *e = strmap_get(&p->entries_by_path, path);
        if (e) {
            if (e->type != LAYOUT_SYMLINK ||
                strcmp(e->target, plan_relative(p->a, dir, dest)) != 0)
                plan_warn(p, "%s asks for two different libraries as %s; the bundle links the "
                             "first",
                          n->source, name);
            continue;
        }
        plan_entry_symlink(p, path, dest);
        links++;
    }
    return links;
}

static const char *plan_rpath(plan *p, const plan_node *n, const char *realname)
{
    uint64_t depths = n->depths | ((uint64_t)1 << 2);
    char *out = arena_printf(p->a, "$ORIGIN/../../symlinks/%s", realname);
    for (int d = 0; d < 64; d++) {
        if (d == 2 || !(depths & ((uint64_t)1 << d)))
            continue;
        char *ups = arena_alloc(p->a, (size_t)d * 3 + 1);
        for (int k = 0; k < d; k++)
            memcpy(ups + k * 3, "../", 3);
        out = arena_printf(p->a, "%s:$ORIGIN/%ssymlinks/%s", out, ups, realname);
    }
    return out;
}

static int plan_real_entries(plan *p, plan_node *n, int64_t now, bf_err *err)
{
    const char *realname = plan_leaf(n->real);
    const char *dir = arena_printf(p->a, "symlinks/%s", realname);
    elf_rename *renames = NULL;
    size_t nrenames = 0;
    size_t links = plan_links(p, n, dir, &renames, &nrenames);
    plan_entry_parents(p, n->real, now);
    layout_entry *e = plan_entry_add(p, n->real, LAYOUT_FILE);
    if (!e)
        return err_set(err, "internal error: %s is planned twice", n->real);
    e->source = n->source;
    e->size = (uint64_t)n->st.st_size;
    e->mtime_ns = plan_mtime_ns(&n->st);
    e->mode = n->st.st_mode & 07777;
    memcpy(e->hash, n->hash, sizeof e->hash);
    if (links)
        e->edit.rpath = plan_rpath(p, n, realname);
    else if (n->elf.rpath || n->elf.runpath)
        e->edit.remove_rpath = true;
    e->edit.needed = renames;
    e->edit.nneeded = nrenames;
    e->has_edit = e->edit.rpath || e->edit.remove_rpath || nrenames;
    for (size_t i = 0; i < n->naliases; i++) {
        if (strmap_get(&p->entries_by_path, n->aliases[i]))
            continue; /* lib/l names asked for twice */
        plan_entry_symlink(p, n->aliases[i], n->real);
    }
    if (n->program) {
        const char *bin = arena_printf(p->a, "bin/b/%s", plan_leaf(n->source));
        layout_entry *b = strmap_get(&p->entries_by_path, bin);
        if (b && strcmp(b->target, plan_relative(p->a, "bin/b", n->real)) != 0)
            plan_warn(p, "two different programs are named %s; bin/b holds the first",
                      plan_leaf(n->source));
        else if (!b)
            plan_entry_symlink(p, bin, n->real);
    }
    if (n->opened_by_path && !n->naliases)
        plan_warn(p, "%s was dlopen'd by the path %s; the bundled program will still open that "
                     "path, which the target may not have",
                  n->source, n->opened_by_path);
    return BF_OK;
}

int plan_reals(plan *p, bf_err *err)
{
    if (plan_hash_all(p, err) != BF_OK)
        return BF_FAIL;
    plan_dedupe(p);
    if (plan_name_reals(p, err) != BF_OK)
        return BF_FAIL;
    int64_t now = (int64_t)time(NULL) * 1000000000;
    for (size_t i = 0; i < p->nnodes; i++)
        if (p->nodes[i]->same_as < 0 && plan_real_entries(p, p->nodes[i], now, err) != BF_OK)
            return BF_FAIL;
    return BF_OK;
}

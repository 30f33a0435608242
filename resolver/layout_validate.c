/* The rules a layout must follow before anything is written or served from it (the entry
 * paths and symlink targets come from a file anyone may have edited), and the check that a
 * source file is still the one the layout was planned from. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bundlefs/strmap.h"
#include "layout_internal.h"

bool layout_hash_valid(const char *hash)
{
    for (int i = 0; i < 32; i++)
        if (!((hash[i] >= '0' && hash[i] <= '9') || (hash[i] >= 'a' && hash[i] <= 'f')))
            return false;
    return hash[32] == '\0';
}

static bool layout_one_of(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (!strcmp(s, *set))
            return true;
    return false;
}

static bool layout_is_dots(const char *c, size_t n, size_t dots)
{
    return n == dots && !strncmp(c, "..", dots);
}

/* Why path cannot be an entry path, or NULL. A name longer than NAME_MAX or a path longer
 * than PATH_MAX could be neither materialized nor served. */
static const char *layout_path_problem(const char *path)
{
    if (!*path)
        return "is empty";
    if (*path == '/')
        return "is absolute (entry paths are relative to the bundle root)";
    if (strlen(path) >= PATH_MAX)
        return "is longer than PATH_MAX";
    for (const char *c = path;; c++) {
        size_t n = strcspn(c, "/");
        if (n == 0)
            return "has an empty component (\"a//b\" or a trailing \"/\")";
        if (layout_is_dots(c, n, 1) || layout_is_dots(c, n, 2))
            return "has a \".\" or \"..\" component";
        if (n > NAME_MAX)
            return "has a component longer than NAME_MAX (255 bytes)";
        c += n;
        if (!*c)
            return NULL;
    }
}

/* Why target cannot be the target of a symlink at path, or NULL. ".." is taken only before
 * the first name: there the folders walked up are real directory entries of the bundle, so
 * the lexical walk is what the kernel does; after a name that is itself a symlink, ".." would
 * leave from wherever that symlink points. */
static const char *layout_target_problem(const char *path, const char *target)
{
    if (!*target)
        return "is empty";
    if (*target == '/')
        return "is absolute (a target must be relative, so the bundle works wherever it is)";
    if (strlen(target) >= PATH_MAX)
        return "is longer than PATH_MAX";
    size_t depth = 0, up = 0;
    for (const char *c = path; *c; c++)
        depth += *c == '/';
    bool named = false;
    for (const char *c = target;; c++) {
        size_t n = strcspn(c, "/");
        if (n == 0 || layout_is_dots(c, n, 1))
            return "has an empty or \".\" component";
        if (layout_is_dots(c, n, 2)) {
            if (named)
                return "has \"..\" after a name (\"..\" may only lead the target)";
            if (++up > depth)
                return "leaves the bundle";
        } else if (n > NAME_MAX) {
            return "has a component longer than NAME_MAX (255 bytes)";
        } else {
            named = true;
        }
        c += n;
        if (!*c)
            return NULL;
    }
}

static int layout_entry_fail(bf_err *err, const char *name, size_t i, const char *path,
                             const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int layout_entry_fail(bf_err *err, const char *name, size_t i, const char *path,
                             const char *fmt, ...)
{
    char what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return err_set(err, "%s: entries[%zu] (%s): %s", name, i, path, what);
}

static int layout_validate_file(const layout_entry *e, size_t i, const char *name, bf_err *err)
{
    if (!e->source || e->source[0] != '/')
        return layout_entry_fail(err, name, i, e->path, "its source must be an absolute path");
    if (!layout_hash_valid(e->hash))
        return layout_entry_fail(err, name, i, e->path, "its hash must be 32 lowercase hex "
                                 "digits (XXH3-128 of the source)");
    if (e->size > INT64_MAX)
        return layout_entry_fail(err, name, i, e->path, "size %llu is larger than any file",
                                 (unsigned long long)e->size);
    for (size_t k = 0; e->has_edit && k < e->edit.nneeded; k++)
        if (!e->edit.needed || !e->edit.needed[k].from || !e->edit.needed[k].to)
            return layout_entry_fail(err, name, i, e->path, "its edit renames a NEEDED entry "
                                     "without a from or a to");
    return BF_OK;
}

static int layout_validate_entry(const layout *l, size_t i, strmap *paths, const char *name,
                                 bf_err *err)
{
    const layout_entry *e = &l->entries[i];
    if (!e->path)
        return err_set(err, "%s: entries[%zu]: no path", name, i);
    const char *why = layout_path_problem(e->path);
    if (why)
        return layout_entry_fail(err, name, i, e->path, "the path %s", why);
    if ((unsigned)e->type > LAYOUT_GENERATED)
        return layout_entry_fail(err, name, i, e->path, "unknown type %d", (int)e->type);
    const char *slash = strrchr(e->path, '/');
    if (slash) {
        char folder[PATH_MAX]; /* the path is shorter, as checked */
        memcpy(folder, e->path, (size_t)(slash - e->path));
        folder[slash - e->path] = '\0';
        const layout_entry *parent = strmap_get(paths, folder);
        if (!parent || parent->type != LAYOUT_DIR)
            return layout_entry_fail(err, name, i, e->path, "its folder \"%s\" is not a "
                                     "directory entry listed before it", folder);
    }
    const layout_entry *first = strmap_put_first(paths, e->path, (void *)e);
    if (first != e)
        return layout_entry_fail(err, name, i, e->path, "the path appears twice (also "
                                 "entries[%zu])", (size_t)(first - l->entries));
    if (e->type != LAYOUT_SYMLINK && e->mode > 07777)
        return layout_entry_fail(err, name, i, e->path, "mode %#o is more than permission "
                                 "bits (07777)", (unsigned)e->mode);
    switch (e->type) {
    case LAYOUT_FILE: return layout_validate_file(e, i, name, err);
    case LAYOUT_SYMLINK:
        if (!e->target)
            return layout_entry_fail(err, name, i, e->path, "a symlink without a target");
        why = layout_target_problem(e->path, e->target);
        if (why)
            return layout_entry_fail(err, name, i, e->path, "symlink target \"%s\" %s",
                                     e->target, why);
        return BF_OK;
    case LAYOUT_GENERATED:
        if (!e->content)
            return layout_entry_fail(err, name, i, e->path, "generated without content");
        return BF_OK;
    case LAYOUT_DIR: return BF_OK;
    }
    return BF_OK;
}

/* Why dependency d cannot be, or NULL. */
/* Why dependency d cannot be, or NULL. */
static const char *layout_dep_problem(const layout *l, const layout_dep *d, arena *a)
{
    static const char *const kinds[] = {"needed", "dlopen", NULL};
    static const char *const origins[] = {"trace", "static", NULL};
    if (!d->name)
        return "no name";
    if (!d->kind || !layout_one_of(d->kind, kinds))
        return "\"kind\" must be \"needed\" or \"dlopen\"";
    if (!d->origin || !layout_one_of(d->origin, origins))
        return "\"origin\" must be \"trace\" or \"static\"";
    if ((unsigned)d->status > LAYOUT_DEP_MISSING)
        return arena_printf(a, "unknown status %d", (int)d->status);
    if (d->status == LAYOUT_DEP_BUNDLED && (d->target < 0 || (size_t)d->target >= l->nobjects))
        return arena_printf(a, "target %ld is not an object index (the layout has %zu "
                               "objects)", d->target, l->nobjects);
    if (d->status != LAYOUT_DEP_BUNDLED && d->target != -1)
        return "a dependency that is not bundled has no target";
    return NULL;
}

static int layout_validate_object(const layout *l, size_t i, strmap *paths, strmap *reals,
                                  const char *name, bf_err *err)
{
    static const char *const roots[] = {"program", "trace", "python", NULL};
    const layout_object *o = &l->objects[i];
    if (!o->real)
        return err_set(err, "%s: objects[%zu]: no real", name, i);
    char where[1024];
    snprintf(where, sizeof where, "%s: objects[%zu] (%s)", name, i, o->real);
    const layout_entry *e = strmap_get(paths, o->real);
    if (!e || e->type != LAYOUT_FILE)
        return err_set(err, "%s: the real is not a file entry of the layout", where);
    const layout_object *first = strmap_put_first(reals, o->real, (void *)o);
    if (first != o)
        return err_set(err, "%s: the real is also objects[%zu]", where,
                       (size_t)(first - l->objects));
    if (!o->source || o->source[0] != '/')
        return err_set(err, "%s: its source must be an absolute path", where);
    if (!layout_hash_valid(o->hash))
        return err_set(err, "%s: its hash must be 32 lowercase hex digits", where);
    if (o->size > INT64_MAX)
        return err_set(err, "%s: size %llu is larger than any file", where,
                       (unsigned long long)o->size);
    if (o->root && !layout_one_of(o->root, roots))
        return err_set(err, "%s: \"root\" must be \"program\", \"trace\", \"python\" or null",
                       where);
    for (size_t k = 0; k < o->ndeps; k++) {
        const char *why = layout_dep_problem(l, &o->deps[k], paths->a);
        if (why)
            return err_set(err, "%s: deps[%zu] (%s): %s", where, k,
                           o->deps[k].name ? o->deps[k].name : "no name", why);
    }
    for (size_t k = 0; k < o->naliases; k++) {
        const layout_entry *alias = o->aliases[k] ? strmap_get(paths, o->aliases[k]) : NULL;
        if (!alias || alias->type != LAYOUT_SYMLINK)
            return err_set(err, "%s: alias \"%s\" is not a symlink entry of the layout", where,
                           o->aliases[k] ? o->aliases[k] : "(null)");
    }
    return BF_OK;
}

static bool layout_all_set(const char *const *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!items[i])
            return false;
    return true;
}

/* The lists that only explain: what they hold is shown, never followed. */
static int layout_validate_notes(const layout *l, const char *name, bf_err *err)
{
    for (size_t i = 0; i < l->nexcluded; i++) {
        const layout_excluded *x = &l->excluded[i];
        if (!x->name || !x->path || !x->rule)
            return err_set(err, "%s: excluded[%zu]: needs a name, a path and a rule", name, i);
    }
    for (size_t i = 0; i < l->nmissing; i++) {
        const layout_missing *m = &l->missing[i];
        if (!m->requester || !m->name || !layout_all_set(m->tried, m->ntried))
            return err_set(err, "%s: missing[%zu]: needs a requester, a name and no null in "
                                "\"tried\"", name, i);
    }
    if (!layout_all_set(l->warnings, l->nwarnings))
        return err_set(err, "%s: \"warnings\" holds a null", name);
    return BF_OK;
}

static int layout_validate_all(const layout *l, const char *name, arena *a, bf_err *err)
{
    if (!l->name || !l->platform)
        return err_set(err, "%s: the layout needs a name and a platform", name);
    /* the maps must outlive the arena's clean-up, which releases their tables */
    strmap *paths = arena_alloc(a, sizeof *paths), *reals = arena_alloc(a, sizeof *reals);
    strmap_init(paths, a);
    strmap_init(reals, a);
    for (size_t i = 0; i < l->nentries; i++)
        if (layout_validate_entry(l, i, paths, name, err))
            return BF_FAIL;
    if (l->launcher && !strmap_get(paths, l->launcher))
        return err_set(err, "%s: the launcher \"%s\" is not an entry of the layout", name,
                       l->launcher);
    for (size_t i = 0; i < l->nobjects; i++)
        if (layout_validate_object(l, i, paths, reals, name, err))
            return BF_FAIL;
    return layout_validate_notes(l, name, err);
}

int layout_validate(const layout *l, const char *name, bf_err *err)
{
    arena *a = arena_new();
    int rc = layout_validate_all(l, name, a, err);
    arena_free(a);
    return rc;
}

int layout_check_source(const layout_entry *e, const struct stat *st, bf_err *err)
{
    if (e->type != LAYOUT_FILE)
        return err_set(err, "%s: not a file entry, so it has no source to check", e->path);
    if (!S_ISREG(st->st_mode))
        return err_set(err, "%s is no longer a regular file since the bundle was planned: run "
                            "bundlefs build again", e->source);
    /* compared as seconds and nanoseconds: a hostile time must not overflow */
    int64_t sec = e->mtime_ns / 1000000000, nsec = e->mtime_ns % 1000000000;
    if (nsec < 0) {
        nsec += 1000000000;
        sec--;
    }
    bool size_same = (uint64_t)st->st_size == e->size;
    bool time_same = st->st_mtim.tv_sec == sec && st->st_mtim.tv_nsec == nsec;
    if (size_same && time_same)
        return BF_OK;
    char size_text[96] = "", time_text[128] = "";
    if (!size_same)
        snprintf(size_text, sizeof size_text, "size %llu -> %lld",
                 (unsigned long long)e->size, (long long)st->st_size);
    if (!time_same)
        snprintf(time_text, sizeof time_text, "mtime %lld.%09lld -> %lld.%09ld", (long long)sec,
                 (long long)nsec, (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
    return err_set(err, "%s changed since the bundle was planned (%s%s%s): run bundlefs build "
                        "again", e->source, size_text, size_same || time_same ? "" : ", ",
                   time_text);
}

/* The layout's entries while they are being made: one per bundle path, parents added on
 * demand, symlinks made relative to their folder. */
#include <string.h>
#include <time.h>

#include "plan_internal.h"

int64_t plan_mtime_ns(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

layout_entry *plan_entry_add(plan *p, const char *path, enum layout_type type)
{
    layout_entry *e = strmap_get(&p->entries_by_path, path);
    if (e)
        return e->type == type ? e : NULL;
    e = arena_alloc(p->a, sizeof *e);
    e->path = arena_strdup(p->a, path);
    e->type = type;
    e->mode = type == LAYOUT_DIR ? 0755 : 0644;
    strmap_set(&p->entries_by_path, e->path, e);
    arena_push(p->a, &p->entries, &p->nentries, &p->capentries, &e, sizeof e);
    return e;
}

void plan_entry_parents(plan *p, const char *path, int64_t mtime_ns)
{
    char *dir = arena_strdup(p->a, path);
    for (char *s = strchr(dir, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        layout_entry *e = strmap_get(&p->entries_by_path, dir);
        if (!e) {
            e = plan_entry_add(p, dir, LAYOUT_DIR);
            e->mtime_ns = mtime_ns;
        }
        *s = '/';
    }
}

/* The path of `to` relative to the folder from_dir (both bundle paths, "" is the root):
 * the components they share are dropped, each other one of from_dir becomes "..". */
const char *plan_relative(arena *a, const char *from_dir, const char *to)
{
    /* shared: bytes of `to` in the whole components both start with (with their '/');
     * kept: where the components of from_dir that are not shared start. They differ when
     * from_dir is all shared: `to` then goes on past a '/' from_dir does not have. */
    size_t shared = 0, kept = 0;
    for (size_t i = 0;; i++) {
        char f = from_dir[i], t = to[i];
        if (f == '\0' && (t == '/' || t == '\0')) {
            kept = i;
            shared = t == '/' ? i + 1 : i;
            break;
        }
        if (f != t)
            break;
        if (f == '/')
            kept = shared = i + 1;
    }
    size_t ups = 0;
    const char *rest = from_dir + kept;
    if (*rest)
        for (ups = 1; *rest; rest++)
            ups += *rest == '/';
    const char *tail = to + shared;
    char *out = arena_alloc(a, ups * 3 + strlen(tail) + 1);
    for (size_t i = 0; i < ups; i++)
        memcpy(out + i * 3, "../", 3);
    strcpy(out + ups * 3, tail);
    return out;
}

void plan_entry_symlink(plan *p, const char *path, const char *dest)
{
    const char *slash = strrchr(path, '/');
    const char *dir = slash ? arena_strndup(p->a, path, (size_t)(slash - path)) : "";
    plan_entry_parents(p, path, (int64_t)time(NULL) * 1000000000);
    layout_entry *e = plan_entry_add(p, path, LAYOUT_SYMLINK);
    if (e)
        e->target = plan_relative(p->a, dir, dest);
}

/* Loaded objects: reading an accepted file into an ldso_obj and placing it in the namespace. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ldso_internal.h"

/* $ORIGIN of a library: the directory of its l_name, made absolute with the cwd, with no
 * symlink resolved (docs/LDSO.md §3.1). "/libx.so" has origin "/". NULL if the cwd cannot be
 * read (the loader then has no origin either). */
const char *ldso_path_origin(arena *a, const char *l_name)
{
    const char *full = l_name;
    if (l_name[0] != '/') {
        char cwd[4096];
        if (!getcwd(cwd, sizeof cwd))
            return NULL;
        size_t cl = strlen(cwd);
        full = arena_printf(a, "%s%s%s", cwd, cl && cwd[cl - 1] == '/' ? "" : "/", l_name);
    }
    const char *slash = strrchr(full, '/');
    return arena_strndup(a, full, slash == full ? 1 : (size_t)(slash - full));
}

ldso_obj *ldso_obj_new(ldso_session *s, int kind, const char *l_name, const ldso_cand *c)
{
    ldso_obj *o = arena_alloc(s->a, sizeof *o);
    o->elf = c->elf;
    o->kind = kind;
    o->l_name = l_name;
    o->origin = kind == LDSO_OBJ_LIB ? ldso_path_origin(s->a, o->l_name) : NULL;
    o->dev = c->st.st_dev;
    o->ino = c->st.st_ino;
    o->has_file_id = true;
    ldso_obj_append(s, o);
    return o;
}

void ldso_obj_append(ldso_session *s, ldso_obj *o)
{
    o->index = s->nobjs;
    arena_push(s->a, &s->objs, &s->nobjs, &s->capobjs, &o, sizeof o);
    strmap_put_first(&s->byname, o->l_name, o);
    if (o->elf.soname)
        strmap_put_first(&s->byname, o->elf.soname, o);
}

void ldso_remove_from(ldso_session *s, size_t first)
{
    for (size_t i = first; i < s->nobjs; i++)
        s->objs[i]->removed = true;
    /* Names are unique to one object, so the map is rebuilt in any order of the rest. */
    strmap_clear(&s->byname);
    for (size_t i = 0; i < s->nobjs; i++) {
        ldso_obj *o = s->objs[i];
        if (o->removed)
            continue;
        strmap_put_first(&s->byname, o->l_name, o);
        if (o->elf.soname)
            strmap_put_first(&s->byname, o->elf.soname, o);
        for (size_t k = 0; k < o->nnames; k++)
            strmap_put_first(&s->byname, o->names[k], o);
    }
}

static const char *ldso_rtld_strerror(arena *a, int errnum)
{
    switch (errnum) {
    case ENOMEM:
    case EINVAL:
    case ENOENT:
    case EPERM:
    case EIO:
    case EACCES: return strerror(errnum);
    default: return arena_printf(a, "Error %d", errnum);
    }
}

const char *ldso_fail_text(arena *a, const ldso_fail *f, bool at_startup)
{
    if (f->errnum)
        return arena_printf(a, "%s: %s: %s", f->objname, f->msg,
                            at_startup ? ldso_rtld_strerror(a, f->errnum) : strerror(f->errnum));
    return arena_printf(a, "%s: %s", f->objname, f->msg);
}

ldso_edge *ldso_edge_new(ldso_session *s, int kind, const ldso_obj *requester, const char *name)
{
    ldso_edge *e = arena_alloc(s->a, sizeof *e);
    e->kind = kind;
    e->requester = requester;
    e->name = name;
    e->expanded = name;
    arena_push(s->a, &s->edges, &s->nedges, &s->capedges, &e, sizeof e);
    return e;
}

const char *ldso_edge_try(ldso_session *s, ldso_edge *e, const char *path, int step,
                          int outcome, int errnum)
{
    ldso_try t = {arena_strdup(s->a, path), step, outcome, errnum};
    arena_push(s->a, &e->tried, &e->ntried, &e->captried, &t, sizeof t);
    return t.path;
}

const ldso_obj *ldso_find(const ldso_session *s, const char *name)
{
    for (size_t i = 0; i < s->nobjs; i++) {
        const ldso_obj *o = s->objs[i];
        if (o->removed)
            continue;
        if (strcmp(o->l_name, name) == 0 || (o->elf.soname && strcmp(o->elf.soname, name) == 0))
            return o;
        for (size_t k = 0; k < o->nnames; k++)
            if (strcmp(o->names[k], name) == 0)
                return o;
    }
    /* Last, by file: a path naming the same file as an object's l_name. */
    struct stat st;
    if (stat(name, &st) != 0)
        return NULL;
    for (size_t i = 0; i < s->nobjs; i++) {
        const ldso_obj *o = s->objs[i];
        if (!o->removed && o->has_file_id && o->dev == st.st_dev && o->ino == st.st_ino)
            return o;
    }
    return NULL;
}

const ldso_obj *const *ldso_objects(const ldso_session *s, size_t *count)
{
    *count = s->nobjs;
    return (const ldso_obj *const *)s->objs;
}

const ldso_edge *const *ldso_edges(const ldso_session *s, size_t *count)
{
    *count = s->nedges;
    return (const ldso_edge *const *)s->edges;
}

const char *ldso_start_error(const ldso_session *s)
{
    return s->start_error;
}

const char *ldso_step_name(int step)
{
    static const char *const names[] = {
        [LDSO_STEP_NONE] = "none",        [LDSO_STEP_LOADED] = "loaded",
        [LDSO_STEP_IDENTITY] = "same-file", [LDSO_STEP_PATH] = "path",
        [LDSO_STEP_RPATH] = "rpath",      [LDSO_STEP_EXE_RPATH] = "exe-rpath",
        [LDSO_STEP_LIBPATH] = "LD_LIBRARY_PATH", [LDSO_STEP_RUNPATH] = "runpath",
        [LDSO_STEP_CACHE] = "ld.so.cache", [LDSO_STEP_SYSTEM] = "system",
    };
    return step >= 0 && step <= LDSO_STEP_SYSTEM ? names[step] : "?";
}

const char *ldso_outcome_name(int outcome)
{
    static const char *const names[] = {
        [LDSO_TRY_MISSING] = "missing",         [LDSO_TRY_NOACCESS] = "no-access",
        [LDSO_TRY_OPEN_ERROR] = "open-error",   [LDSO_TRY_WRONG_CLASS] = "wrong-class",
        [LDSO_TRY_WRONG_MACHINE] = "wrong-machine", [LDSO_TRY_NOT_SETUID] = "not-setuid",
        [LDSO_TRY_NODEFLIB] = "nodeflib",       [LDSO_TRY_FATAL] = "bad-file",
        [LDSO_TRY_ACCEPTED] = "accepted",
    };
    return outcome >= 0 && outcome <= LDSO_TRY_ACCEPTED ? names[outcome] : "?";
}

/* One name to one object, as glibc's _dl_map_object, open_path and open_verify decide it
 * (docs/LDSO.md §2, §5, §7, §9). */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "ldso_internal.h"

/* State of one lookup. */
typedef struct ldso_lookup {
    ldso_session *s;
    ldso_edge *edge;
    const char *name;
    int mode;
    bool other_class; /* a wrong-class candidate was skipped: changes the final message */
    bool fatal;
    ldso_fail fail;
    /* The accepted candidate. */
    const ldso_cand *cand;
    const char *realname;
    int step;
    const ldso_obj *owner;
    ldso_cand own; /* last: a read of the session's own, not cleared per lookup */
} ldso_lookup;

enum { LDSO_DIR_UNKNOWN = 0, LDSO_DIR_EXISTS = 1, LDSO_DIR_MISSING = 2 };

/* open_verify: the candidate if it is acceptable, NULL otherwise (lk->fatal set when the file
 * is bad in a way that stops the whole load). */
static const ldso_cand *ldso_probe(ldso_lookup *lk, const char *path, int step)
{
    ldso_session *s = lk->s;
    const ldso_cand *c = &lk->own;
    ldso_cand_read(s->reader, s->a, s->host, path, &lk->own);
    if (c->open_errno) {
        int e = c->open_errno;
        s->errno_state = e;
        int outcome = e == ENOENT ? LDSO_TRY_MISSING
                      : e == EACCES ? LDSO_TRY_NOACCESS
                                    : LDSO_TRY_OPEN_ERROR;
        ldso_edge_try(s, lk->edge, path, step, outcome, e);
        return NULL;
    }
    if (c->verdict == ELF_ACCEPT) {
        lk->realname = ldso_edge_try(s, lk->edge, path, step, LDSO_TRY_ACCEPTED, 0);
        return c;
    }
    if (c->verdict == ELF_FATAL) {
        lk->fatal = true;
        lk->fail = (ldso_fail){arena_strdup(s->a, path), c->why, c->why_errno};
        ldso_edge_try(s, lk->edge, path, step, LDSO_TRY_FATAL, c->why_errno);
        return NULL;
    }
    if (c->verdict == ELF_SKIP_CLASS)
        lk->other_class = true;
    s->errno_state = ENOENT; /* what open_verify leaves after skipping a file */
    ldso_edge_try(s, lk->edge, path, step,
                  c->verdict == ELF_SKIP_CLASS ? LDSO_TRY_WRONG_CLASS : LDSO_TRY_WRONG_MACHINE,
                  0);
    return NULL;
}

/* Whether dir (ending in '/') can hold files; remembered as glibc remembers it per directory,
 * so missing directories are not probed again. Relative directories always count as present. */
static int ldso_dir_status(ldso_session *s, char *dir)
{
    if (dir[0] != '/')
        return LDSO_DIR_EXISTS;
    return (int)(intptr_t)strmap_get(&s->dirstat, dir);
}

static void ldso_dir_learn(ldso_session *s, char *dir)
{
    struct stat st;
    int rc = stat(dir, &st);
    if (rc != 0)
        s->errno_state = errno;
    int status = rc == 0 && S_ISDIR(st.st_mode) ? LDSO_DIR_EXISTS : LDSO_DIR_MISSING;
    strmap_set(&s->dirstat, arena_strdup(s->a, dir), (void *)(intptr_t)status);
}

/* open_path: every directory of the list, each with the hwcaps subdirectories first. */
static bool ldso_open_path(ldso_lookup *lk, const struct ldso_dirlist *list, int step,
                           const ldso_obj *owner)
{
    ldso_session *s = lk->s;
    size_t nlen = strlen(lk->name);
    char buf[PATH_MAX * 2];
    for (size_t d = 0; d < list->ndirs; d++) {
        const char *dir = list->dirs[d];
        size_t dlen = strlen(dir);
        for (size_t k = 0; k < s->ncapstr; k++) {
            size_t clen = strlen(s->capstr[k]);
            if (dlen + clen + nlen + 1 > sizeof buf)
                continue; /* longer than any path the kernel would open */
            memcpy(buf, dir, dlen);
            memcpy(buf + dlen, s->capstr[k], clen);
            buf[dlen + clen] = '\0';
            int status = ldso_dir_status(s, buf);
            if (status == LDSO_DIR_MISSING)
                continue;
            memcpy(buf + dlen + clen, lk->name, nlen + 1);
            const ldso_cand *c = ldso_probe(lk, buf, step);
            if (lk->fatal)
                return false;
            if (!c && status == LDSO_DIR_UNKNOWN) {
                buf[dlen + clen] = '\0';
                ldso_dir_learn(s, buf);
            }
            if (c && (lk->mode & LDSO_M_SECURE) && s->opts.secure && !(c->st.st_mode & S_ISUID)) {
                /* A secure-mode preload found by a search must be set-uid itself. */
                c = NULL;
                lk->edge->tried[lk->edge->ntried - 1].outcome = LDSO_TRY_NOT_SETUID;
            }
            if (c) {
                lk->cand = c;
                lk->step = step;
                lk->owner = owner;
                return true;
            }
        }
        /* An error other than "missing" or "no access" ends this list (not the search). A path
         * through a file (ENOTDIR) counts as missing: Debian's 2.36 loader has glibc's later
         * fix for that (BZ 31035), as the scenario rpath_file_as_dir shows. */
        int e = s->errno_state;
        if (e && e != ENOENT && e != EACCES && e != ENOTDIR)
            return false;
    }
    return false;
}

static bool ldso_in_system_dir(const ldso_session *s, const char *path)
{
    for (size_t i = 0; i < s->host->nsystem_dirs; i++) {
        const char *d = s->host->system_dirs[i];
        if (strncmp(path, d, strlen(d)) == 0)
            return true;
    }
    return false;
}

/* The search of §2.3 for a name without '/'. */
static void ldso_search(ldso_lookup *lk, ldso_obj *loader)
{
    ldso_session *s = lk->s;
    ldso_obj *main = s->main;
    if (!loader || !loader->elf.runpath) {
        bool did_main = false;
        for (ldso_obj *l = loader; l; l = l->loader) {
            const struct ldso_dirlist *d = ldso_rpath_of(s, l);
            if (!d)
                continue;
            if (ldso_open_path(lk, d, LDSO_STEP_RPATH, l) || lk->fatal)
                return;
            did_main |= l == main;
        }
        const struct ldso_dirlist *d;
        if (!did_main && main && (d = ldso_rpath_of(s, main)) &&
            (ldso_open_path(lk, d, LDSO_STEP_EXE_RPATH, main) || lk->fatal))
            return;
    }
    if (s->llp_set && (ldso_open_path(lk, &s->llp, LDSO_STEP_LIBPATH, NULL) || lk->fatal))
        return;
    const struct ldso_dirlist *rp;
    if (loader && (rp = ldso_runpath_of(s, loader)) &&
        (ldso_open_path(lk, rp, LDSO_STEP_RUNPATH, loader) || lk->fatal))
        return;
    const ldso_obj *flagged = loader ? loader : main;
    bool nodeflib = flagged && (flagged->elf.flags_1 & 0x800 /* DF_1_NODEFLIB */);
    if (s->opts.cache && !((lk->mode & LDSO_M_SECURE) && s->opts.secure)) {
        const char *cached = ldcache_lookup(s->opts.cache, lk->name, s->host);
        if (cached && nodeflib && ldso_in_system_dir(s, cached)) {
            ldso_edge_try(s, lk->edge, cached, LDSO_STEP_CACHE, LDSO_TRY_NODEFLIB, 0);
        } else if (cached) {
            const ldso_cand *c = ldso_probe(lk, cached, LDSO_STEP_CACHE);
            if (lk->fatal)
                return;
            if (c) {
                lk->cand = c;
                lk->step = LDSO_STEP_CACHE;
                return;
            }
        }
    }
    if (!nodeflib)
        ldso_open_path(lk, &s->sysdirs, LDSO_STEP_SYSTEM, NULL);
}

ldso_obj *ldso_match_loaded(ldso_session *s, const char *name)
{
    ldso_obj *o = strmap_get(&s->byname, name);
    if (o && o->elf.soname && strcmp(o->elf.soname, name) == 0)
        ldso_add_name(s, o, name); /* glibc records a SONAME match among the names */
    return o;
}

void ldso_add_name(ldso_session *s, ldso_obj *o, const char *name)
{
    for (size_t k = 0; k < o->nnames; k++)
        if (strcmp(o->names[k], name) == 0)
            return;
    arena_push(s->a, &o->names, &o->nnames, &o->capnames, &name, sizeof name);
    strmap_put_first(&s->byname, name, o);
}

static ldso_obj *ldso_same_file(ldso_session *s, const struct stat *st)
{
    for (size_t i = 0; i < s->nobjs; i++) {
        ldso_obj *o = s->objs[i];
        if (!o->removed && o->has_file_id && o->dev == st->st_dev && o->ino == st->st_ino)
            return o;
    }
    return NULL;
}

ldso_obj *ldso_map_object(ldso_session *s, ldso_obj *loader, const char *name, int mode,
                          ldso_edge *edge, ldso_fail *fail)
{
    ldso_obj *o = ldso_match_loaded(s, name);
    if (o) {
        edge->step = LDSO_STEP_LOADED;
        return o;
    }
    /* The reason glibc appends to "cannot open shared object file" comes from the failed opens
     * of this search alone: none, none appended (scenarios nodeflib/error_*). */
    s->errno_state = 0;
    /* Field by field: an initializer would also clear the spare candidate every lookup. */
    ldso_lookup lk;
    memset(&lk, 0, offsetof(ldso_lookup, own));
    lk.s = s;
    lk.edge = edge;
    lk.name = name;
    lk.mode = mode;
    if (strchr(name, '/')) {
        const char *real = loader ? ldso_dst_expand(s, loader, name) : name;
        if (real) {
            lk.cand = ldso_probe(&lk, real, LDSO_STEP_PATH);
            lk.step = LDSO_STEP_PATH;
        }
    } else {
        ldso_search(&lk, loader);
    }
    if (lk.fatal) {
        *fail = lk.fail;
        return NULL;
    }
    if (!lk.cand) {
        *fail = lk.other_class
                    ? (ldso_fail){name, s->host->elf.elf_class == 2 ? "wrong ELF class: ELFCLASS32"
                                                                      : "wrong ELF class: ELFCLASS64",
                                  0}
                    : (ldso_fail){name, "cannot open shared object file", s->errno_state};
        return NULL;
    }
    edge->step = lk.step;
    edge->step_owner = lk.owner;
    if ((o = ldso_same_file(s, &lk.cand->st))) {
        ldso_add_name(s, o, name);
        edge->step = LDSO_STEP_IDENTITY;
        return o;
    }
    if (!lk.cand->parsed) {
        *fail = (ldso_fail){name, lk.cand->parse_error, 0};
        return NULL;
    }
    o = ldso_obj_new(s, LDSO_OBJ_LIB, lk.realname, lk.cand);
    const char *refusal = NULL;
    if (o->elf.type != 3 /* ET_DYN */)
        refusal = "cannot dynamically load executable";
    else if (o->elf.flags_1 & 0x08000000 /* DF_1_PIE */)
        refusal = "cannot dynamically load position-independent executable";
    else if ((o->elf.flags_1 & 0x40 /* DF_1_NOOPEN */) && (mode & LDSO_M_DLOPEN))
        refusal = "shared object cannot be dlopen()ed";
    if (refusal) {
        ldso_remove_from(s, o->index);
        *fail = (ldso_fail){name, refusal, 0};
        return NULL;
    }
    ldso_add_name(s, o, name);
    o->loader = (mode & LDSO_M_CALLMAP) ? NULL : loader;
    return o;
}

/* The Python universe of a traced CPython: the standard library and lib-dynload under
 * python/ (the bundle's PYTHONHOME), the main script's folder under app/, and every other
 * sys.path entry under site/<k>-<name>/, file by file. Binaries in them become reals with a
 * symlink at their package path; __pycache__ files of other interpreters, VCS folders, the
 * layout being written and bundles are left out. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "plan_internal.h"

enum { PLAN_MAX_DEPTH = 48 };

typedef struct plan_root {
    const char *canon; /* the folder's canonical path */
    const char *dest;  /* its bundle folder */
} plan_root;

typedef struct plan_walk {
    plan *p;
    const plan_root *root;
    const char *pyc_tag;     /* ".cpython-311." */
    const char *output;      /* canonical path of the layout being written, or NULL */
} plan_walk;

static bool plan_under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == '\0' || !strcmp(dir, "/"));
}

static int plan_bundle_depth(const char *dest)
{
    int d = 0;
    for (const char *s = dest; *s; s++)
        d += *s == '/';
    return d;
}

static int plan_walk_dir(plan_walk *w, const char *src, const char *dest, int depth,
                         bool pycache, bf_err *err);

/* A binary of the universe: a real, with this path as one of its names. */
static bool plan_universe_binary(plan_walk *w, const char *src, const char *dest, bf_err *err)
{
    plan *p = w->p;
    const char *canon = plan_canonical(p, src);
    bf_err perr;
    long id = canon ? plan_node_get(p, canon, &perr) : -1;
    if (id < 0) {
        plan_warn(p, "%s looks like ELF but cannot be read as a binary (%s); it is copied as is",
                  src, canon ? perr.msg : "no canonical path");
        return false;
    }
    plan_node *n = p->nodes[id];
    if (!n->elf.has_dynamic)
        return false; /* static programs, objects, kernel modules: plain files */
    if (!n->root)
        n->root = "python";
    const char *alias = arena_strdup(p->a, dest);
    arena_push(p->a, &n->aliases, &n->naliases, &n->capaliases, &alias, sizeof alias);
    int d = plan_bundle_depth(dest);
    if (d < 64)
        n->depths |= (uint64_t)1 << d;
    (void)err;
    return true;
}

static int plan_walk_file(plan_walk *w, const char *src, const char *dest, const struct stat *st,
                          bf_err *err)
{
    plan *p = w->p;
    if (plan_policy_skips_file(p, src))
        return BF_OK;
    int fd = open(src, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        plan_warn(p, "cannot open %s (%s); it is left out", src, strerror(errno));
        return BF_OK;
    }
    unsigned char magic[4] = {0};
    ssize_t n = pread(fd, magic, 4, 0);
    close(fd);
    if (n == 4 && !memcmp(magic, "\x7f" "ELF", 4) && plan_universe_binary(w, src, dest, err))
        return BF_OK;
    plan_entry_parents(p, dest, plan_mtime_ns(st));
    layout_entry *e = plan_entry_add(p, dest, LAYOUT_FILE);
    if (!e)
        return err_set(err, "%s and another file both map to %s in the bundle", src, dest);
    e->source = arena_strdup(p->a, src);
    e->size = (uint64_t)st->st_size;
    e->mtime_ns = plan_mtime_ns(st);
    e->mode = st->st_mode & 07777;
    return BF_OK;
}

static bool plan_skipped_dir(const char *name)
{
    static const char *const vcs[] = {".git", ".hg", ".svn", ".bzr", "CVS", "_darcs"};
    for (size_t i = 0; i < sizeof vcs / sizeof vcs[0]; i++)
        if (!strcmp(name, vcs[i]))
            return true;
    return false;
}

static int plan_walk_entry(plan_walk *w, const char *src, const char *dest, const char *name,
                           int depth, bool pycache, bf_err *err)
{
    plan *p = w->p;
    struct stat st;
    if (lstat(src, &st) != 0)
        return BF_OK;
    if (S_ISLNK(st.st_mode)) {
        const char *target = plan_canonical(p, src);
        if (!target)
            return BF_OK; /* dangling: nothing a program could load */
        if (plan_under(target, w->root->canon) && strcmp(target, w->root->canon) != 0) {
            const char *rest = target + strlen(w->root->canon) + 1;
            plan_entry_symlink(p, dest, arena_printf(p->a, "%s/%s", w->root->dest, rest));
            return BF_OK;
        }
        if (stat(src, &st) != 0)
            return BF_OK;
    }
    if (S_ISDIR(st.st_mode)) {
        if (plan_skipped_dir(name))
            return BF_OK;
        const char *canon = plan_canonical(p, src);
        bf_err berr;
        if (canon && plan_check_dir_not_bundle(p, canon, &berr) != BF_OK) {
            plan_warn(p, "%s is a bundle (it holds a bundlefs bundle.json); it is left out", src);
            return BF_OK;
        }
        plan_entry_parents(p, dest, plan_mtime_ns(&st));
        layout_entry *e = plan_entry_add(p, dest, LAYOUT_DIR);
        if (!e)
            return err_set(err, "%s and a file both map to %s in the bundle", src, dest);
        e->mode = st.st_mode & 07777;
        e->mtime_ns = plan_mtime_ns(&st);
        return plan_walk_dir(w, src, dest, depth + 1, !strcmp(name, "__pycache__"), err);
    }
    if (!S_ISREG(st.st_mode))
        return BF_OK;
    if (pycache && !strstr(name, w->pyc_tag))
        return BF_OK; /* compiled by another interpreter */
    if (w->output && !strcmp(plan_canonical(p, src) ? plan_canonical(p, src) : "", w->output))
        return BF_OK;
    return plan_walk_file(w, src, dest, &st, err);
}

static int plan_walk_dir(plan_walk *w, const char *src, const char *dest, int depth,
                         bool pycache, bf_err *err)
{
    if (depth > PLAN_MAX_DEPTH) {
        plan_warn(w->p, "%s is more than %d folders deep (a symlink loop?); its content is left "
                        "out",
                  src, PLAN_MAX_DEPTH);
        return BF_OK;
    }
    DIR *d = opendir(src);
    if (!d) {
        plan_warn(w->p, "cannot read the folder %s (%s); it is left out", src, strerror(errno));
        return BF_OK;
    }
    int rc = BF_OK;
    for (struct dirent *de; rc == BF_OK && (de = readdir(d));) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        const char *csrc = arena_printf(w->p->a, "%s/%s", src, de->d_name);
        const char *cdest = arena_printf(w->p->a, "%s/%s", dest, de->d_name);
        rc = plan_walk_entry(w, csrc, cdest, de->d_name, depth, pycache, err);
    }
    closedir(d);
    return rc;
}

/* Adds the folder or file src (a sys.path entry) at dest. */
static int plan_add_root(plan *p, const char *src, const char *dest, bf_err *err)
{
    plan_root r = {plan_canonical(p, src), dest};
    if (!r.canon)
        return BF_OK;
    plan_walk w = {p, &r, NULL, p->o->output ? plan_canonical(p, p->o->output) : NULL};
    w.pyc_tag = arena_printf(p->a, ".%s.", p->py->cache_tag ? p->py->cache_tag : "none");
    struct stat st;
    if (stat(r.canon, &st) != 0)
        return BF_OK;
    if (plan_check_dir_not_bundle(p, r.canon, err) != BF_OK)
        return BF_FAIL;
    plan_entry_parents(p, dest, plan_mtime_ns(&st));
    if (!S_ISDIR(st.st_mode))
        return S_ISREG(st.st_mode) ? plan_walk_file(&w, r.canon, dest, &st, err) : BF_OK;
    layout_entry *e = plan_entry_add(p, dest, LAYOUT_DIR);
    if (!e)
        return err_set(err, "%s maps to %s, which is already a file in the bundle", src, dest);
    e->mode = st.st_mode & 07777;
    e->mtime_ns = plan_mtime_ns(&st);
    return plan_walk_dir(&w, r.canon, dest, 0, false, err);
}

/* dir relative to prefix, under python/; fallback when dir is elsewhere. */
static const char *plan_python_dest(plan *p, const char *dir, const char *prefix,
                                    const char *fallback)
{
    if (prefix && *prefix && plan_under(dir, prefix) && strcmp(dir, prefix) != 0)
        return arena_printf(p->a, "python%s", dir + (strcmp(prefix, "/") ? strlen(prefix) : 0));
    return fallback;
}

static const char *plan_leaf(const char *path)
{
    const char *s = strrchr(path, '/');
    return s && s[1] ? s + 1 : path;
}

static bool plan_is_file(const char *path)
{
    struct stat st;
    return path && path[0] == '/' && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* One sys.path entry. One inside a folder already in the bundle is not copied again; if that
 * folder is a site/ entry, its place there goes on PYTHONPATH (python/ and app/ are found by
 * the interpreter itself). */
static int plan_sys_path(plan *p, const char *entry, plan_root *done, size_t *ndone, int *k,
                         bf_err *err)
{
    const trace_python *py = p->py;
    if (!entry || !*entry)
        return BF_OK; /* the current folder of a -c or -m run: not the program's */
    const char *abs = entry[0] == '/' ? entry
                                      : arena_printf(p->a, "%s/%s", py->cwd ? py->cwd : "", entry);
    const char *canon = plan_canonical(p, abs);
    if (!canon)
        return BF_OK;
    for (size_t i = 0; i < *ndone; i++) {
        if (!plan_under(canon, done[i].canon))
            continue;
        if (!strncmp(done[i].dest, "site/", 5) && strcmp(canon, done[i].canon) != 0) {
            const char *dest = arena_printf(p->a, "%s%s", done[i].dest,
                                            canon + strlen(done[i].canon));
            arena_push(p->a, &p->pythonpath, &p->npythonpath, &p->cappythonpath, &dest,
                       sizeof dest);
        }
        return BF_OK;
    }
    const char *dest = arena_printf(p->a, "site/%d-%s", (*k)++, plan_leaf(canon));
    done[(*ndone)++] = (plan_root){canon, dest};
    arena_push(p->a, &p->pythonpath, &p->npythonpath, &p->cappythonpath, &dest, sizeof dest);
    return plan_add_root(p, canon, dest, err);
}

int plan_python_universe(plan *p, bf_err *err)
{
    const trace_python *py = p->py;
    if (!py)
        return BF_OK;
    if (!py->stdlib)
        return err_set(err, "the trace's Python facts name no standard library folder; trace "
                            "the program again with this version of bundlefs");
    const char *ver = py->version_info.count >= 2
                          ? arena_printf(p->a, "python%s.%s", py->version_info.items[0],
                                         py->version_info.items[1])
                          : "python3";
    const char *stdlib = plan_canonical(p, py->stdlib);
    if (!stdlib)
        return err_set(err, "the standard library %s of the traced Python is gone", py->stdlib);
    const char *base = py->base_prefix ? plan_canonical(p, py->base_prefix) : NULL;
    const char *std_dest =
        plan_python_dest(p, stdlib, base, arena_printf(p->a, "python/lib/%s", ver));
    plan_root *done = arena_alloc(p->a, (py->path_start.count + py->path_exit.count + 4) *
                                            sizeof *done);
    size_t ndone = 0;
    done[ndone++] = (plan_root){stdlib, std_dest};
    if (plan_add_root(p, stdlib, std_dest, err) != BF_OK)
        return BF_FAIL;
    const char *dyn = py->lib_dynload ? plan_canonical(p, py->lib_dynload) : NULL;
    if (dyn && !plan_under(dyn, stdlib)) {
        const char *eb = py->base_exec_prefix ? plan_canonical(p, py->base_exec_prefix) : NULL;
        const char *dest = plan_python_dest(p, dyn, eb,
                                            arena_printf(p->a, "%s/lib-dynload", std_dest));
        done[ndone++] = (plan_root){dyn, dest};
        if (plan_add_root(p, dyn, dest, err) != BF_OK)
            return BF_FAIL;
    }
    if (plan_is_file(py->main_script)) {
        const char *dir = plan_canonical(p, py->main_script);
        dir = dir ? arena_strndup(p->a, dir, (size_t)(strrchr(dir, '/') - dir)) : NULL;
        if (dir && *dir) {
            done[ndone++] = (plan_root){dir, "app"};
            p->app_dir = "app";
            if (plan_add_root(p, dir, "app", err) != BF_OK)
                return BF_FAIL;
        }
    }
    int k = 1;
    for (size_t i = 0; i < py->path_start.count; i++)
        if (plan_sys_path(p, py->path_start.items[i], done, &ndone, &k, err) != BF_OK)
            return BF_FAIL;
    for (size_t i = 0; i < py->path_exit.count; i++)
        if (plan_sys_path(p, py->path_exit.items[i], done, &ndone, &k, err) != BF_OK)
            return BF_FAIL;
    return BF_OK;
}

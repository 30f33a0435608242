/* Shared by the planner's parts: the object graph, the static emulation's answers, the
 * policy, the Python universe and the entries of the layout being made. */
#ifndef BUNDLEFS_PLAN_INTERNAL_H
#define BUNDLEFS_PLAN_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "bundlefs/elf.h"
#include "bundlefs/host.h"
#include "bundlefs/layout.h"
#include "bundlefs/ldcache.h"
#include "bundlefs/ldso.h"
#include "bundlefs/plan.h"
#include "bundlefs/strmap.h"

/* One binary of the closure (before deduplication by content, one per canonical path). */
typedef struct plan_node {
    const char *source; /* canonical path */
    struct stat st;
    elf_info elf;
    char hash[33];
    const char *real;   /* "reals/r/<stem>-<h><ext>" */
    const char *root;   /* see layout_object.root */
    layout_dep *deps;   /* target: node index until the layout is made */
    size_t ndeps, capdeps;
    const char **aliases; /* bundle paths that are symlinks to the real */
    size_t naliases, capaliases;
    uint64_t depths;    /* bit d: $ORIGIN is d folders below the bundle root */
    bool program;       /* the executable of a traced process: in bin/b */
    bool expanded;      /* its dependencies have been resolved */
    bool asked;         /* the emulation was asked to load it */
    const char *opened_by_path; /* a path it was dlopen'd by in the trace */
    long same_as;       /* another node with the same content, or -1 */
} plan_node;

/* What the static emulation answered for one (requester, name). */
typedef struct plan_answer {
    const char *found; /* l_name of the result, NULL on error */
    const char *canon; /* its canonical path */
    const char *step;
    const char *error;
    const char **tried;
    size_t ntried;
} plan_answer;

typedef struct plan {
    arena *a;
    const plan_opts *o;
    const trace *t;
    host_info host;
    ldcache *cache;
    elf_reader *reader;
    plan_node **nodes;
    size_t nnodes, capnodes;
    strmap by_source;  /* canonical path -> node index + 1 */
    strmap canon;      /* path -> canonical path ("" when it does not exist) */
    strmap answers;    /* plan_key(requester, name) -> plan_answer */
    struct plan_session *main_session; /* the process whose dlopens the universe replays */
    layout_excluded *excluded;
    size_t nexcluded, capexcluded;
    strmap excluded_seen;
    layout_missing *missing;
    size_t nmissing, capmissing;
    const char **warnings;
    size_t nwarnings, capwarnings;
    strmap bundle_dirs; /* folder -> "y"/"n": holds a bundle.json of bundlefs */
    /* The layout's entries, by path. */
    strmap entries_by_path;
    layout_entry **entries;
    size_t nentries, capentries;
    /* Python */
    const trace_python *py;
    const trace_process *py_process;
    const char **pythonpath; /* bundle folders, in sys.path order */
    size_t npythonpath, cappythonpath;
    const char *app_dir;     /* the main script's folder in the bundle, or NULL */
    const char *lib_l_used;  /* non-NULL once lib/l holds a name */
} plan;

void plan_warn(plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The canonical path of path (cached), or NULL when it does not resolve. */
const char *plan_canonical(plan *p, const char *path);
const char *plan_key(plan *p, const char *requester, const char *name);

/* plan_policy.c: the rule excluding a library asked for as name and found at path, or NULL. */
const char *plan_policy_rule(const plan *p, const char *name, const char *path);
/* Whether a file of the Python universe is left out by --exclude (and not --include). */
bool plan_policy_skips_file(const plan *p, const char *path);
void plan_note_excluded(plan *p, const char *name, const char *path, const char *rule);

/* plan_graph.c */
/* The node of the binary at canonical path, made (and parsed) on first use; -1 with err set
 * when it cannot be read. */
long plan_node_get(plan *p, const char *canon, bf_err *err);
/* Adds a dependency unless the node already has one for (name, kind): the first answer, the
 * trace's, wins; a static answer that disagrees becomes a warning. */
void plan_node_add_dep(plan *p, plan_node *n, const layout_dep *d);
/* Resolves the dependencies of every node reachable from the roots. */
int plan_graph_expand(plan *p, bf_err *err);

/* plan_trace.c: roots and bindings the trace shows. */
int plan_from_trace(plan *p, bf_err *err);

/* plan_static.c: emulated processes; their answers go into p->answers. */
int plan_static_processes(plan *p, bf_err *err);
/* Asks the emulation about a binary no process loaded (dlopen'd by path from the main
 * program of the Python process, or the first process). */
void plan_static_dlopen(plan *p, const plan_node *n);

/* plan_python.c: the Python universe (files and binaries) of the traced interpreter. */
int plan_python_universe(plan *p, bf_err *err);

/* plan_bundle_check.c: fails when path lies inside a materialized bundle. */
int plan_check_not_bundle(plan *p, const char *path, bf_err *err);
int plan_check_dir_not_bundle(plan *p, const char *dir, bf_err *err);

/* plan_hash.c */
int plan_hash_fd(int fd, const char *name, char hex[33], void (*step)(void *, uint64_t),
                 void *ctx, bf_err *err);
/* "<stem>-<first 16 hex of hash><ext>", the hash going before the first ".so", ".dylib",
 * ".node" or ".bundle" suffix (followed by '.' or the end), else appended. */
const char *plan_real_name(arena *a, const char *file_name, const char *hash);

/* plan_entries.c: the layout's entries. */
layout_entry *plan_entry_add(plan *p, const char *path, enum layout_type type);
/* Adds the directory entries of path's parents that are missing (mode 0755). */
void plan_entry_parents(plan *p, const char *path, int64_t mtime_ns);
/* A symlink at path pointing at the bundle path dest (made relative). */
void plan_entry_symlink(plan *p, const char *path, const char *dest);
const char *plan_relative(arena *a, const char *from_dir, const char *to);
int64_t plan_mtime_ns(const struct stat *st);

/* plan_reals.c: hashing, deduplication, naming, symlink folders and edits. */
int plan_reals(plan *p, bf_err *err);

/* plan_launcher.c */
int plan_launcher(plan *p, const char *name, bf_err *err);

#endif

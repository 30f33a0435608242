/* A static emulation of glibc 2.36's ld.so (docs/LDSO.md): which file the loader binds for
 * every DT_NEEDED, preload and dlopen name, without running anything. A session holds one
 * emulated process: its loaded objects in load order and every resolution made. */
#ifndef BUNDLEFS_LDSO_H
#define BUNDLEFS_LDSO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "bundlefs/arena.h"
#include "bundlefs/elf.h"
#include "bundlefs/err.h"
#include "bundlefs/host.h"
#include "bundlefs/ldcache.h"

typedef struct ldso_opts {
    const host_info *host;      /* required */
    const ldcache *cache;       /* NULL: no usable cache (missing, corrupt or inhibited) */
    const char *library_path;   /* LD_LIBRARY_PATH or --library-path; NULL: unset */
    const char *inhibit_rpath;  /* --inhibit-rpath list (matched against l_name), or NULL */
    const char *preload_env;    /* LD_PRELOAD, or NULL */
    const char *preload_opt;    /* --preload list, or NULL */
    const char *preload_file;   /* contents of /etc/ld.so.preload, or NULL */
    const char *origin_path;    /* LD_ORIGIN_PATH (used only if the exe's origin is unknown) */
    bool secure;                /* AT_SECURE: set-uid/set-gid/capabilities */
    /* `ld.so [options] PROGRAM` rather than an exec of PROGRAM: $ORIGIN of the program is the
     * directory of its path as given (not canonicalized) and it has a file identity. */
    bool explicit_invocation;
} ldso_opts;

enum ldso_obj_kind { LDSO_OBJ_MAIN, LDSO_OBJ_RTLD, LDSO_OBJ_VDSO, LDSO_OBJ_LIB };

typedef struct ldso_obj {
    int kind;            /* enum ldso_obj_kind */
    size_t index;        /* position in load order */
    const char *l_name;  /* "" for the main program */
    const char *origin;  /* $ORIGIN, or NULL when unknown */
    const char **names;  /* l_libname: every name it was requested by */
    size_t nnames, capnames;
    dev_t dev;
    ino_t ino;
    bool has_file_id;
    elf_info elf;
    struct ldso_obj *loader; /* l_loader: the object that first caused it to be mapped */
    bool removed;            /* unloaded after a failed dlopen */
    /* Search lists decomposed on first use (cache_rpath); private to the emulation. */
    struct ldso_dirlist *rpath_dirs, *runpath_dirs;
    bool rpath_done, runpath_done;
    unsigned bfs_mark; /* private: in the breadth-first list being built */
} ldso_obj;

/* Which part of the search found a candidate (the order of docs/LDSO.md §2.3). */
enum ldso_step {
    LDSO_STEP_NONE = 0,
    LDSO_STEP_LOADED,    /* already loaded: matched by l_name, a requested name or SONAME */
    LDSO_STEP_IDENTITY,  /* a search opened a file already loaded (same dev/ino) */
    LDSO_STEP_PATH,      /* the name contains '/' and was opened as is */
    LDSO_STEP_RPATH,     /* DT_RPATH of the loader or one of its l_loader ancestors */
    LDSO_STEP_EXE_RPATH, /* DT_RPATH of the main program */
    LDSO_STEP_LIBPATH,   /* LD_LIBRARY_PATH / --library-path */
    LDSO_STEP_RUNPATH,   /* DT_RUNPATH of the loader */
    LDSO_STEP_CACHE,     /* /etc/ld.so.cache */
    LDSO_STEP_SYSTEM,    /* compiled-in default directories */
};

enum ldso_outcome {
    LDSO_TRY_MISSING,      /* open failed with ENOENT */
    LDSO_TRY_NOACCESS,     /* open failed with EACCES */
    LDSO_TRY_OPEN_ERROR,   /* another errno: the rest of that search list is abandoned */
    LDSO_TRY_WRONG_CLASS,  /* skipped */
    LDSO_TRY_WRONG_MACHINE,/* skipped */
    LDSO_TRY_NOT_SETUID,   /* secure-mode preload without the set-uid bit: skipped */
    LDSO_TRY_NODEFLIB,     /* cache result in a system dir discarded for DF_1_NODEFLIB */
    LDSO_TRY_FATAL,        /* a bad file: the load fails */
    LDSO_TRY_ACCEPTED,
};

typedef struct ldso_try {
    const char *path;
    int step;    /* enum ldso_step */
    int outcome; /* enum ldso_outcome */
    int err;     /* errno for LDSO_TRY_OPEN_ERROR */
} ldso_try;

enum ldso_edge_kind {
    LDSO_EDGE_NEEDED,
    LDSO_EDGE_AUXILIARY,
    LDSO_EDGE_FILTER,
    LDSO_EDGE_DLOPEN,
    LDSO_EDGE_PRELOAD_ENV,  /* LD_PRELOAD */
    LDSO_EDGE_PRELOAD_OPT,  /* --preload */
    LDSO_EDGE_PRELOAD_FILE, /* /etc/ld.so.preload */
};

typedef struct ldso_edge {
    int kind;                  /* enum ldso_edge_kind */
    const ldso_obj *requester; /* the loader (main program for preloads) */
    const char *name;          /* as stored or passed (DSTs unexpanded) */
    const char *expanded;      /* after DST expansion: what was looked up */
    const ldso_obj *result;    /* NULL on error */
    const char *error;         /* glibc's message ("NAME: cannot open shared object file: ...") */
    int step;                  /* enum ldso_step that produced result */
    const ldso_obj *step_owner;/* for RPATH steps: whose DT_RPATH */
    ldso_try *tried;
    size_t ntried, captried;
} ldso_edge;

typedef struct ldso_session ldso_session;

int ldso_session_new(const ldso_opts *opts, arena *a, ldso_session **out, bf_err *err);

/* Loads `path` as the main program and everything it needs, as at process start. Returns
 * BF_FAIL only when the tool itself cannot proceed (path unreadable, not ELF, statically
 * linked); a program that would fail to start returns BF_OK with ldso_start_error() set. */
int ldso_start(ldso_session *s, const char *path, bf_err *err);

/* The message ld.so would print after "error while loading shared libraries: ", or NULL. */
const char *ldso_start_error(const ldso_session *s);

/* dlopen(name) called from `caller` (NULL: the main program). Returns the object or NULL
 * (then the edge recorded carries dlerror()'s text). Objects mapped by a failed dlopen are
 * removed again, as glibc does. Only valid after a successful start. */
const ldso_obj *ldso_dlopen(ldso_session *s, const ldso_obj *caller, const char *name);

/* A loaded object by l_name, by any requested name or SONAME, or by real path; NULL if none. */
const ldso_obj *ldso_find(const ldso_session *s, const char *name);

const ldso_obj *const *ldso_objects(const ldso_session *s, size_t *count);
const ldso_edge *const *ldso_edges(const ldso_session *s, size_t *count);

const char *ldso_step_name(int step);
const char *ldso_outcome_name(int outcome);

#endif

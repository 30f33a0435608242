/* Private to the ld.so emulation (resolver/ldso_*.c). */
#ifndef BUNDLEFS_LDSO_INTERNAL_H
#define BUNDLEFS_LDSO_INTERNAL_H

#include "bundlefs/ldso.h"
#include "bundlefs/strmap.h"

#include <sys/stat.h>

/* A decomposed search list: each directory ends in '/', or is "" (the current directory). */
struct ldso_dirlist {
    const char **dirs;
    size_t ndirs;
};

/* A load failure as glibc reports it: "<objname>: <msg>[: <strerror(errnum)>]". */
typedef struct ldso_fail {
    const char *objname;
    const char *msg;
    int errnum;
} ldso_fail;

struct ldso_session {
    arena *a;
    ldso_opts opts;
    const host_info *host;
    ldso_obj **objs; /* the namespace list: main, ld.so, vDSO, then in load order */
    size_t nobjs, capobjs;
    ldso_edge **edges;
    size_t nedges, capedges;
    ldso_obj *main;
    ldso_obj *rtld;
    struct ldso_dirlist llp; /* LD_LIBRARY_PATH; llp_set false when unset or empty */
    bool llp_set;
    struct ldso_dirlist sysdirs;
    const char **capstr; /* hwcaps subdirs, legacy subdirs, then "" */
    size_t ncapstr;
    strmap dirstat;
    strmap byname;       /* every l_name, requested name and SONAME -> first object with it */      /* "dir/sub/" -> status, as glibc's r_search_path_elem status */
    ldso_obj *vdso;
    unsigned bfs_gen;
    /* The loader's errno as the emulated calls leave it: whether and which reason follows
     * "cannot open shared object file" depends on it. */
    int errno_state;
    elf_reader *reader;
    const char *start_error;
    bool started;
};

/* glibc's mode bits that change how one name is mapped. */
enum {
    LDSO_M_SECURE = 1,  /* __RTLD_SECURE: preloads (no cache, set-uid check in secure mode) */
    LDSO_M_CALLMAP = 2, /* __RTLD_CALLMAP: the new object gets no l_loader (dlopen) */
    LDSO_M_DLOPEN = 4,  /* __RTLD_DLOPEN: DF_1_NOOPEN objects are refused */
};

/* Maps one name as _dl_map_object does: already-loaded check, then the search; records the
 * step and candidates in edge. On failure returns NULL and fills *fail. */
ldso_obj *ldso_map_object(ldso_session *s, ldso_obj *loader, const char *name, int mode,
                          ldso_edge *edge, ldso_fail *fail);

/* What reading one candidate gave (ldso_cand_read). */
typedef struct ldso_cand {
    int open_errno;      /* open failed with this errno; nothing below is set */
    elf_verdict verdict; /* open_verify's answer */
    const char *why;     /* ELF_FATAL: glibc's message */
    int why_errno;       /* ELF_FATAL: the errno glibc appends, or 0 */
    struct stat st;      /* ELF_ACCEPT */
    bool parsed;         /* ELF_ACCEPT: elf is valid; else parse_error says why */
    const char *parse_error;
    elf_info elf;        /* last: not cleared */
} ldso_cand;

/* Opens path and reads it as the loader would, parsing an acceptable file with r into a. */
void ldso_cand_read(elf_reader *r, arena *a, const host_info *h, const char *path,
                    ldso_cand *c);

/* A new object from an accepted, parsed candidate, appended to the namespace list. l_name must
 * live as long as the session. */
ldso_obj *ldso_obj_new(ldso_session *s, int kind, const char *l_name, const ldso_cand *c);

/* Appends o to the namespace list and indexes its names. */
void ldso_obj_append(ldso_session *s, ldso_obj *o);
/* Removes the objects from index first on (a failed dlopen unmaps what it mapped). */
void ldso_remove_from(ldso_session *s, size_t first);

/* The first loaded object (in namespace order) that answers to name; NULL if none. */
ldso_obj *ldso_match_loaded(ldso_session *s, const char *name);
void ldso_add_name(ldso_session *s, ldso_obj *o, const char *name);

/* DST expansion (_dl_dst_substitute): NULL when a known token has no value or is refused in
 * secure mode (the element or name is then dropped). */
const char *ldso_dst_expand(ldso_session *s, const ldso_obj *o, const char *in);
bool ldso_has_dst(const char *s);

/* Splits a path list on any of `seps`, expanding DSTs against o, dropping failed elements and
 * duplicates (fillin_rpath). */
void ldso_dirlist_parse(ldso_session *s, const ldso_obj *o, const char *list, const char *seps,
                        struct ldso_dirlist *out);

/* The decomposed DT_RPATH / DT_RUNPATH of o (NULL if absent, inhibited or empty). */
const struct ldso_dirlist *ldso_rpath_of(ldso_session *s, ldso_obj *o);
const struct ldso_dirlist *ldso_runpath_of(ldso_session *s, ldso_obj *o);

/* Preloads and the closure of the main program, once the session holds main, ld.so and vDSO. */
int ldso_closure_start(ldso_session *s);

/* The directory of path, made absolute with the cwd, symlinks untouched ($ORIGIN rules). */
const char *ldso_path_origin(arena *a, const char *path);

/* The formatted message of a failure, as ld.so prints it. During start-up ld.so names only a
 * few errno values (its own minimal strerror, elf/dl-minimal.c) and prints "Error N" for the
 * rest; dlerror() after start-up uses libc's strerror. */
const char *ldso_fail_text(arena *a, const ldso_fail *f, bool at_startup);

/* Records a candidate; returns the arena copy of path. */
const char *ldso_edge_try(ldso_session *s, ldso_edge *e, const char *path, int step,
                          int outcome, int errnum);
/* name must live as long as the session (it is not copied). */
ldso_edge *ldso_edge_new(ldso_session *s, int kind, const ldso_obj *requester, const char *name);

#endif

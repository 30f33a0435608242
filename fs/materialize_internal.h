/* What the parts of materialize share: one job, checked (materialize_check.c), written into a
 * temporary folder (materialize_tree.c) that is then swapped into place or removed
 * (materialize_swap.c), driven by materialize.c. */
#ifndef BUNDLEFS_FS_MATERIALIZE_INTERNAL_H
#define BUNDLEFS_FS_MATERIALIZE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "bundlefs/arena.h"
#include "bundlefs/err.h"
#include "bundlefs/layout.h"
#include "bundlefs/materialize.h"
#include "bundlefs/progress.h"

typedef struct fs_mat_job {
    const layout *l;
    const fs_materialize_opts *opts;
    arena *a;
    const char *dest;     /* as the user named it, without trailing slashes: for messages */
    const char *parent;   /* its folder */
    const char *base;     /* its name in that folder */
    const char *tmp;      /* the temporary sibling being written; NULL until made */
    int root_fd;          /* open on tmp; -1 until then */
    bool dest_exists;
    mode_t umask;
    int layout_fd;        /* opts->layout_path open since the check; -1 without one */
    uint64_t total;       /* the bytes to write, for the progress bar */
    progress *prog;
    fs_materialize_stats *stats;
} fs_mat_job;

/* Opens a LAYOUT_FILE entry's source and checks it is the file the layout was made from. */
int fs_mat_open_source(const layout_entry *e, int *fd, bf_err *err);

/* Everything that can be known to fail before writing: the layout's rules, every source, the
 * layout file to copy. Fills job->total and job->layout_fd. */
int fs_mat_check(fs_mat_job *job, bf_err *err);

/* Splits job->dest, refuses an existing one without force, and makes the temporary sibling
 * (job->tmp, job->root_fd). */
int fs_mat_prepare(fs_mat_job *job, bf_err *err);

/* Writes every entry into the temporary folder, then bundle.json, then the folders' modes and
 * times (deepest first: writing a child changes its folder's time). */
int fs_mat_write_tree(fs_mat_job *job, bf_err *err);

/* Puts the temporary folder in DEST's place (exchanging it with an existing DEST under force,
 * then removing the old tree). */
int fs_mat_commit(fs_mat_job *job, bf_err *err);

/* Removes the temporary folder after a failure; DEST is untouched. */
void fs_mat_abort(fs_mat_job *job);

/* Removes path and everything below it without following symlinks or crossing mounts. */
int fs_mat_remove_tree(const char *path, bf_err *err);

#endif

/* Writes a layout to disk: the same bytes the mount serves (each entry's image), into a
 * temporary sibling of the destination renamed into place at the end, so an interrupted run
 * leaves no partial destination. */
#ifndef BUNDLEFS_MATERIALIZE_H
#define BUNDLEFS_MATERIALIZE_H

#include <stdbool.h>
#include <stdint.h>

#include "bundlefs/err.h"
#include "bundlefs/layout.h"

typedef struct fs_materialize_opts {
    bool force;          /* replace an existing destination (only once the new tree is complete) */
    bool progress;       /* draw a progress bar (when standard error is a terminal) */
    const char *layout_path; /* copied to DEST/bundle.json: a bundle describes itself */
} fs_materialize_opts;

typedef struct fs_materialize_stats {
    uint64_t files, dirs, symlinks, bytes;
} fs_materialize_stats;

/* Validates l (layout_validate) and checks every source's size and mtime before writing
 * anything; a changed source fails naming it. Preserves modes and mtimes. */
int fs_materialize(const layout *l, const char *dest, const fs_materialize_opts *opts,
                   fs_materialize_stats *stats, bf_err *err);

#endif

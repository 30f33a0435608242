/* Removing a tree: the temporary folder after a failure, or the old DEST after it was
 * swapped out. */
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "materialize_internal.h"

enum { FS_MAT_REMOVE_FDS = 32 };

/* A folder written with a read-only mode (a bundle of read-only sources) cannot lose its
 * entries: make the folder holding path writable once and try again. */
static int fs_mat_unlock_parent(const char *path, int base)
{
    char *parent = strndup(path, (size_t)base);
    struct stat st;
    int rc = parent && stat(parent, &st) == 0 ? chmod(parent, (st.st_mode & 07777) | 0700) : -1;
    free(parent);
    return rc;
}

static int fs_mat_remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    int (*rm)(const char *) = flag == FTW_DP || flag == FTW_DNR ? rmdir : unlink;
    if (rm(path) == 0)
        return 0;
    if ((errno == EACCES || errno == EPERM) && ftw->base > 0 &&
        fs_mat_unlock_parent(path, ftw->base) == 0 && rm(path) == 0)
        return 0;
    /* Stops the walk; nftw returns it. */
    return errno ? errno : EIO;
}

int fs_mat_remove_tree(const char *path, bf_err *err)
{
    /* FTW_PHYS: a symlink is removed, never followed; FTW_MOUNT: nothing mounted below (a
     * live mount of an earlier bundle) is entered, so its folder stays and the removal fails
     * instead of reaching into it. */
    int rc = nftw(path, fs_mat_remove_one, FS_MAT_REMOVE_FDS, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
    if (rc == 0)
        return BF_OK;
    return err_set(err, "cannot remove %s: %s", path, strerror(rc > 0 ? rc : errno));
}

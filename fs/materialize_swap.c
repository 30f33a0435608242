/* The temporary sibling of DEST and the swap that puts it in DEST's place. The sibling lives in
 * DEST's folder so the final rename stays within one file system and is atomic. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "materialize_internal.h"

/* renameat2 flags the file system (or an old kernel) does not know. */
static bool fs_mat_flag_unsupported(int e)
{
    return e == EINVAL || e == ENOSYS;
}

static int fs_mat_split_dest(fs_mat_job *job, const char *dest, bf_err *err)
{
    size_t n = strlen(dest);
    while (n > 1 && dest[n - 1] == '/')
        n--;
    char *d = arena_strndup(job->a, dest, n);
    char *slash = strrchr(d, '/');
    job->dest = d;
    job->base = slash ? slash + 1 : d;
    job->parent = !slash ? "." : slash == d ? "/" : arena_strndup(job->a, d, (size_t)(slash - d));
    if (!*job->base || !strcmp(job->base, ".") || !strcmp(job->base, ".."))
        return err_set(err, "%s: name the folder to write, not '/', '.' or '..'", dest);
    return BF_OK;
}

int fs_mat_prepare(fs_mat_job *job, bf_err *err)
{
    if (fs_mat_split_dest(job, job->dest, err) != BF_OK)
        return BF_FAIL;
    struct stat st;
    if (lstat(job->dest, &st) == 0)
        job->dest_exists = true;
    else if (errno != ENOENT)
        return err_set(err, "%s: cannot check whether it exists: %s", job->dest, strerror(errno));
    if (job->dest_exists && !job->opts->force)
        return err_set(err, "%s already exists; use --force to replace it", job->dest);
    char *tmp = arena_printf(job->a, "%s/.%s.bundlefs-XXXXXX", job->parent, job->base);
    if (!mkdtemp(tmp))
        return err_set(err, "%s: cannot create a temporary folder in %s to write it: %s "
                            "(check that the folder exists and is writable)",
                       job->dest, job->parent, strerror(errno));
    job->tmp = tmp;
    job->root_fd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (job->root_fd < 0)
        return err_set(err, "%s: cannot open the temporary folder %s: %s", job->dest, tmp,
                       strerror(errno));
    return BF_OK;
}

/* DEST does not exist: the new tree takes the name, unless someone took it meanwhile. Returns
 * 0 or an errno. */
static int fs_mat_place(const fs_mat_job *job)
{
    if (renameat2(AT_FDCWD, job->tmp, AT_FDCWD, job->dest, RENAME_NOREPLACE) == 0)
        return 0;
    if (!fs_mat_flag_unsupported(errno))
        return errno;
    /* A plain rename would silently replace an empty folder (or a file) at DEST. */
    struct stat st;
    if (lstat(job->dest, &st) == 0)
        return EEXIST;
    return rename(job->tmp, job->dest) == 0 ? 0 : errno;
}

/* Where RENAME_EXCHANGE is not known: DEST is moved aside, the new tree renamed in, and DEST
 * moved back if that fails. *old is where DEST's old contents are afterwards. */
static int fs_mat_replace_aside(const fs_mat_job *job, const char **old, bf_err *err)
{
    const char *aside = arena_printf(job->a, "%s.old", job->tmp);
    if (rename(job->dest, aside) != 0)
        return err_set(err, "%s: cannot move it aside to replace it: %s", job->dest,
                       strerror(errno));
    if (rename(job->tmp, job->dest) == 0) {
        *old = aside;
        return BF_OK;
    }
    int e = errno;
    if (rename(aside, job->dest) != 0)
        return err_set(err, "%s: cannot put the new tree in its place (%s), nor move it back "
                            "from %s (%s); rename that folder to %s by hand",
                       job->dest, strerror(e), aside, strerror(errno), job->dest);
    return err_set(err, "%s: cannot put the new tree in its place: %s", job->dest, strerror(e));
}

/* DEST exists and --force was given: swap the two trees at once, so DEST is never missing. */
static int fs_mat_exchange(const fs_mat_job *job, const char **old, bf_err *err)
{
    if (renameat2(AT_FDCWD, job->tmp, AT_FDCWD, job->dest, RENAME_EXCHANGE) == 0) {
        *old = job->tmp;
        return BF_OK;
    }
    if (fs_mat_flag_unsupported(errno))
        return fs_mat_replace_aside(job, old, err);
    return err_set(err, "%s: cannot replace it with the new tree: %s", job->dest,
                   strerror(errno));
}

int fs_mat_commit(fs_mat_job *job, bf_err *err)
{
    close(job->root_fd);
    job->root_fd = -1;
    bool replace = job->dest_exists;
    if (!replace) {
        int e = fs_mat_place(job);
        if (e == EEXIST || e == ENOTEMPTY) {
            if (!job->opts->force)
                return err_set(err, "%s already exists; use --force to replace it", job->dest);
            replace = true;
        } else if (e) {
            return err_set(err, "%s: cannot rename the new tree %s to it: %s", job->dest,
                           job->tmp, strerror(e));
        }
    }
    if (!replace) {
        job->tmp = NULL;
        return BF_OK;
    }
    const char *old = NULL;
    if (fs_mat_exchange(job, &old, err) != BF_OK)
        return BF_FAIL;
    job->tmp = NULL;
    bf_err why;
    if (fs_mat_remove_tree(old, &why) != BF_OK)
        return err_set(err, "%s was replaced, but its old contents, moved to %s, could not all "
                            "be removed (%s); remove that folder by hand",
                       job->dest, old, why.msg);
    return BF_OK;
}

void fs_mat_abort(fs_mat_job *job)
{
    if (job->root_fd >= 0)
        close(job->root_fd);
    job->root_fd = -1;
    if (job->tmp)
        fs_mat_remove_tree(job->tmp, NULL);
    job->tmp = NULL;
}

/* Writing the entries of a layout into the temporary folder, relative to its descriptor (no
 * long paths are built or resolved from the root for each of 100k entries). Folders stay
 * owner-writable until every entry is in them; their modes and times are set last. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "materialize_internal.h"

static const char *fs_mat_space_hint(int e)
{
    return e == ENOSPC || e == EDQUOT ? " (free some space and try again)" : "";
}

static int fs_mat_failed(const fs_mat_job *job, const char *path, const char *what, int e,
                         bf_err *err)
{
    return err_set(err, "%s/%s: cannot %s: %s%s", job->dest, path, what, strerror(e),
                   fs_mat_space_hint(e));
}

/* Nanoseconds since the epoch, possibly negative, as a timespec (tv_nsec in [0, 1e9)). */
static struct timespec fs_mat_time(int64_t ns)
{
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000), .tv_nsec = (long)(ns % 1000000000)};
    if (ts.tv_nsec < 0) {
        ts.tv_nsec += 1000000000;
        ts.tv_sec--;
    }
    return ts;
}

/* Creates path (relative to the temporary root) with the image's bytes, then its mode (after
 * the write: the umask must not apply) and its time. */
static int fs_mat_write_image(fs_mat_job *job, const char *path, const image *im, uint32_t mode,
                              struct timespec mtime, arena *a, bf_err *err)
{
    int fd = openat(job->root_fd, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    0600);
    if (fd < 0)
        return fs_mat_failed(job, path, "create it", errno, err);
    const char *name = arena_printf(a, "%s/%s", job->dest, path);
    int rc = image_write_fd(im, fd, name, err);
    if (rc == BF_OK && fchmod(fd, mode & 07777) != 0)
        rc = fs_mat_failed(job, path, "set its mode", errno, err);
    if (rc == BF_OK && futimens(fd, (const struct timespec[2]){mtime, mtime}) != 0)
        rc = fs_mat_failed(job, path, "set its time", errno, err);
    /* Some file systems (NFS) report a failed write only when the file is closed. */
    if (close(fd) != 0 && rc == BF_OK)
        rc = fs_mat_failed(job, path, "write it", errno, err);
    return rc;
}

/* A file or generated entry. Each gets its own arena: a rewrite's working memory is dropped
 * as soon as its bytes are on disk, however many files the layout has. */
static int fs_mat_write_bytes(fs_mat_job *job, const layout_entry *e, bf_err *err)
{
    int src_fd = -1;
    if (e->type == LAYOUT_FILE && fs_mat_open_source(e, &src_fd, err) != BF_OK)
        return BF_FAIL;
    arena *a = arena_new();
    image *im;
    int rc = layout_entry_image(e, src_fd, a, &im, err);
    if (rc == BF_OK)
        rc = fs_mat_write_image(job, e->path, im, e->mode, fs_mat_time(e->mtime_ns), a, err);
    if (rc == BF_OK) {
        job->stats->files++;
        job->stats->bytes += image_size(im);
        progress_add(job->prog, e->type == LAYOUT_FILE ? e->size : e->content_len);
    }
    arena_free(a);
    if (src_fd >= 0)
        close(src_fd);
    return rc;
}

static int fs_mat_write_entry(fs_mat_job *job, const layout_entry *e, bf_err *err)
{
    switch (e->type) {
    case LAYOUT_DIR:
        if (mkdirat(job->root_fd, e->path, 0700) != 0)
            return fs_mat_failed(job, e->path, "create the folder", errno, err);
        job->stats->dirs++;
        return BF_OK;
    case LAYOUT_SYMLINK:
        if (symlinkat(e->target, job->root_fd, e->path) != 0)
            return fs_mat_failed(job, e->path, "create the symlink", errno, err);
        job->stats->symlinks++;
        return BF_OK;
    case LAYOUT_FILE:
    case LAYOUT_GENERATED:
        return fs_mat_write_bytes(job, e, err);
    }
    return err_set(err, "%s/%s: unknown entry type %d", job->dest, e->path, (int)e->type);
}

/* bundle.json: the layout file as read, with its own time, so two runs give the same tree. */
static int fs_mat_copy_layout(fs_mat_job *job, bf_err *err)
{
    struct stat st;
    if (fstat(job->layout_fd, &st) != 0)
        return err_set(err, "%s: cannot read it: %s", job->opts->layout_path, strerror(errno));
    arena *a = arena_new();
    image *im = image_new(a, job->layout_fd, job->opts->layout_path);
    image_add_source(im, 0, (uint64_t)st.st_size);
    int rc = fs_mat_write_image(job, "bundle.json", im, 0644, st.st_mtim, a, err);
    arena_free(a);
    return rc;
}

/* Children first: a folder's time must be set after the last change inside it, and a folder
 * without write or search permission must get that mode only once nothing is left to do in it. */
static int fs_mat_finish_dirs(fs_mat_job *job, bf_err *err)
{
    for (size_t i = job->l->nentries; i-- > 0;) {
        const layout_entry *e = &job->l->entries[i];
        if (e->type != LAYOUT_DIR)
            continue;
        struct timespec t = fs_mat_time(e->mtime_ns);
        if (utimensat(job->root_fd, e->path, (const struct timespec[2]){t, t},
                      AT_SYMLINK_NOFOLLOW) != 0)
            return fs_mat_failed(job, e->path, "set the folder's time", errno, err);
        if (fchmodat(job->root_fd, e->path, e->mode & 07777, 0) != 0)
            return fs_mat_failed(job, e->path, "set the folder's mode", errno, err);
    }
    /* The root has no entry: it gets the mode mkdir would have given it. */
    if (fchmod(job->root_fd, 0777 & ~job->umask) != 0)
        return err_set(err, "%s: cannot set its mode: %s", job->tmp, strerror(errno));
    return BF_OK;
}

int fs_mat_write_tree(fs_mat_job *job, bf_err *err)
{
    for (size_t i = 0; i < job->l->nentries; i++)
        if (fs_mat_write_entry(job, &job->l->entries[i], err) != BF_OK)
            return BF_FAIL;
    if (job->layout_fd >= 0 && fs_mat_copy_layout(job, err) != BF_OK)
        return BF_FAIL;
    return fs_mat_finish_dirs(job, err);
}

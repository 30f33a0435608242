/* fs_materialize: check everything, write into a temporary sibling of DEST, swap it in. Any
 * failure before the swap removes the temporary folder, so DEST is either as it was or whole. */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundlefs/materialize.h"
#include "materialize_internal.h"

/* A write failure names the file; the user also needs to know that DEST was not touched. */
static int fs_mat_untouched(const fs_mat_job *job, bf_err *err)
{
    if (err) {
        char why[sizeof err->msg];
        memcpy(why, err->msg, sizeof why);
        err_set(err, "%s; %s %s", why, job->dest,
                job->dest_exists ? "was left as it was" : "was not created");
    }
    return BF_FAIL;
}

int fs_materialize(const layout *l, const char *dest, const fs_materialize_opts *opts,
                   fs_materialize_stats *stats, bf_err *err)
{
    static const fs_materialize_opts no_opts;
    fs_materialize_stats ignored;
    if (!stats)
        stats = &ignored;
    *stats = (fs_materialize_stats){0};
    fs_mat_job job = {
        .l = l,
        .opts = opts ? opts : &no_opts,
        .a = arena_new(),
        .dest = dest,
        .root_fd = -1,
        .layout_fd = -1,
        .stats = stats,
    };
    /* The only way to read the umask is to set it; the root folder has no entry and gets the
     * mode mkdir would give it. */
    job.umask = umask(022);
    umask(job.umask);
    int rc = fs_mat_check(&job, err);
    if (rc == BF_OK)
        rc = fs_mat_prepare(&job, err);
    if (rc == BF_OK) {
        if (job.opts->progress)
            job.prog = progress_new(job.a, "materializing", job.total);
        rc = fs_mat_write_tree(&job, err);
        progress_end(job.prog);
        if (rc != BF_OK)
            fs_mat_untouched(&job, err);
    }
    if (rc == BF_OK)
        rc = fs_mat_commit(&job, err);
    if (rc != BF_OK)
        fs_mat_abort(&job);
    if (job.layout_fd >= 0)
        close(job.layout_fd);
    arena_free(job.a);
    return rc;
}

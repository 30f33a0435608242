/* Everything materialize can find wrong before it writes a byte: a layout that breaks its
 * rules, a source that is gone or changed, a layout file that cannot be read. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "materialize_internal.h"

int fs_mat_open_source(const layout_entry *e, int *fd, bf_err *err)
{
    /* O_NONBLOCK: a source replaced by a FIFO must fail the check, not hang the open. */
    *fd = open(e->source, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (*fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return err_set(err, "%s is missing (the source of %s): it was moved or removed "
                                "since the bundle was planned: run bundlefs build again",
                           e->source, e->path);
        return err_set(err, "%s: cannot open it (the source of %s): %s", e->source, e->path,
                       strerror(errno));
    }
    struct stat st;
    int rc = fstat(*fd, &st) != 0
                 ? err_set(err, "%s: cannot read it (the source of %s): %s", e->source, e->path,
                           strerror(errno))
                 : layout_check_source(e, &st, err);
    if (rc != BF_OK) {
        close(*fd);
        *fd = -1;
    }
    return rc;
}

static uint64_t fs_mat_add_saturated(uint64_t a, uint64_t b)
{
    return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

static int fs_mat_open_layout(fs_mat_job *job, bf_err *err)
{
    const char *path = job->opts->layout_path;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return err_set(err, "%s: cannot open it to copy it into the bundle: %s", path,
                       strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return err_set(err, "%s: not a regular file, so it cannot be copied into the bundle",
                       path);
    }
    job->layout_fd = fd;
    return BF_OK;
}

int fs_mat_check(fs_mat_job *job, bf_err *err)
{
    const layout *l = job->l;
    const char *layout_path = job->opts->layout_path;
    if (layout_validate(l, layout_path ? layout_path : "the layout", err) != BF_OK)
        return BF_FAIL;
    for (size_t i = 0; i < l->nentries; i++) {
        const layout_entry *e = &l->entries[i];
        if (layout_path && strcmp(e->path, "bundle.json") == 0)
            return err_set(err, "%s: its entry bundle.json would be overwritten by the copy "
                                "of the layout itself; rename that entry", layout_path);
        if (e->type == LAYOUT_FILE) {
            int fd;
            if (fs_mat_open_source(e, &fd, err) != BF_OK)
                return BF_FAIL;
            close(fd);
            job->total = fs_mat_add_saturated(job->total, e->size);
        } else if (e->type == LAYOUT_GENERATED) {
            job->total = fs_mat_add_saturated(job->total, e->content_len);
        }
    }
    return layout_path ? fs_mat_open_layout(job, err) : BF_OK;
}

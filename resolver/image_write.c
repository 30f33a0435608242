/* Writing an image to a file: what materialize does. Source extents go through
 * copy_file_range, so a CoW file system shares the blocks instead of copying them. */
#include "bundlefs/image.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    /* Bounded so one call never asks the kernel for more than it returns in one go anyway. */
    IMAGE_COPY_CHUNK = 1 << 30,
    IMAGE_HAND_BUF = 128 * 1024,
    IMAGE_ZERO_BUF = 64 * 1024,
    IMAGE_TMP_ATTEMPTS = 100,
};

typedef struct image_writer {
    const image *im;
    int fd;
    const char *name;
    bool try_copy_range; /* until copy_file_range says it cannot copy between these files */
    unsigned char *buf;  /* for copies by hand, allocated on first need */
    bool hole_at_end;    /* the last extent was skipped with lseek, so the size is not set yet */
} image_writer;

static const char *image_space_hint(int e)
{
    return e == ENOSPC || e == EDQUOT ? " (free some space and try again)" : "";
}

/* errno 0: the output took nothing although it reported no error. */
static int image_write_failed(const image_writer *w, int e, bf_err *err)
{
    return err_set(err, "%s: cannot write the rewritten %s: %s%s", w->name,
                   image_source_path(w->im), e ? strerror(e) : "the output accepts no more bytes",
                   image_space_hint(e));
}

static int image_write_all(image_writer *w, const unsigned char *p, size_t len, bf_err *err)
{
    while (len > 0) {
        ssize_t n = write(w->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return image_write_failed(w, n < 0 ? errno : 0, err);
        p += n;
        len -= (size_t)n;
    }
    return BF_OK;
}

/* Image bytes [off, off + len) through a buffer: for what copy_file_range cannot copy. The
 * reader checks that the source still holds them. */
static int image_copy_by_hand(image_writer *w, uint64_t off, uint64_t len, bf_err *err)
{
    if (len > 0 && !w->buf && !(w->buf = malloc(IMAGE_HAND_BUF)))
        return err_set(err, "%s: out of memory while writing it", w->name);
    while (len > 0) {
        size_t got;
        size_t want = len < IMAGE_HAND_BUF ? (size_t)len : IMAGE_HAND_BUF;
        if (image_read(w->im, off, w->buf, want, &got, err) != BF_OK)
            return BF_FAIL;
        if (image_write_all(w, w->buf, got, err) != BF_OK)
            return BF_FAIL;
        off += got;
        len -= got;
    }
    return BF_OK;
}

/* The kernel cannot copy between these two files (other file systems, special files, an old
 * kernel): the same will hold for every later extent. */
static bool image_copy_range_unsupported(int e)
{
    return e == EXDEV || e == EINVAL || e == ENOSYS || e == EOPNOTSUPP;
}

static int image_copy_source(image_writer *w, const image_extent *e, bf_err *err)
{
    uint64_t done = 0;
    while (w->try_copy_range && done < e->len) {
        loff_t in = (loff_t)(e->src_off + done);
        size_t want = e->len - done < IMAGE_COPY_CHUNK ? (size_t)(e->len - done) : IMAGE_COPY_CHUNK;
        ssize_t n = copy_file_range(image_source_fd(w->im), &in, w->fd, NULL, want, 0);
        if (n > 0) {
            done += (uint64_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        /* Nothing copied before the end: either a file system that copies nothing (procfs)
         * or a source that shrank; the copy by hand tells which. */
        if (n == 0 || image_copy_range_unsupported(errno)) {
            w->try_copy_range = false;
            break;
        }
        return err_set(err, "%s: cannot copy bytes of %s into it: %s%s", w->name,
                       image_source_path(w->im), strerror(errno), image_space_hint(errno));
    }
    return image_copy_by_hand(w, e->start + done, e->len - done, err);
}

static int image_write_zeros(image_writer *w, uint64_t len, bf_err *err)
{
    if (lseek(w->fd, (off_t)len, SEEK_CUR) >= 0) {
        w->hole_at_end = true;
        return BF_OK;
    }
    if (errno != ESPIPE)
        return image_write_failed(w, errno, err);
    static const unsigned char zeros[IMAGE_ZERO_BUF];
    while (len > 0) {
        size_t n = len < sizeof zeros ? (size_t)len : sizeof zeros;
        if (image_write_all(w, zeros, n, err) != BF_OK)
            return BF_FAIL;
        len -= n;
    }
    return BF_OK;
}

static int image_write_extent(image_writer *w, const image_extent *e, bf_err *err)
{
    w->hole_at_end = false;
    switch (e->kind) {
    case IMAGE_SOURCE:
        return image_copy_source(w, e, err);
    case IMAGE_BYTES:
        return image_write_all(w, e->bytes, (size_t)e->len, err);
    case IMAGE_ZEROS:
        return image_write_zeros(w, e->len, err);
    }
    return BF_OK;
}

int image_write_fd(const image *im, int out_fd, const char *out_name, bf_err *err)
{
    if (image_check(im, err) != BF_OK)
        return BF_FAIL;
    image_writer w = {.im = im, .fd = out_fd, .name = out_name, .try_copy_range = true};
    int rc = BF_OK;
    for (size_t i = 0; rc == BF_OK && i < image_extent_count(im); i++)
        rc = image_write_extent(&w, image_extent_at(im, i), err);
    /* A seek past the end makes no byte: without this a trailing hole would be missing. */
    if (rc == BF_OK && w.hole_at_end && ftruncate(out_fd, (off_t)image_size(im)) != 0)
        rc = image_write_failed(&w, errno, err);
    free(w.buf);
    return rc;
}

/* Opens a new file next to path; returns its fd, or BF_FAIL with err filled. The name is one no
 * one else uses: the pid tells processes apart, the counter the threads of one, and O_EXCL
 * any leftover of an earlier process with the same pid. */
static int image_create_temp(const char *path, mode_t mode, char *tmp, size_t size, bf_err *err)
{
    static atomic_uint counter;
    for (int attempt = 0;; attempt++) {
        int k = snprintf(tmp, size, "%s.tmp-%ld-%u", path, (long)getpid(),
                         atomic_fetch_add(&counter, 1));
        if (k < 0 || (size_t)k >= size)
            return err_set(err, "%s: path too long", path);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (fd >= 0)
            return fd;
        if (errno != EEXIST || attempt + 1 == IMAGE_TMP_ATTEMPTS)
            return err_set(err, "%s: cannot create the temporary file %s to write it: %s "
                                "(check that the folder exists and is writable)", path, tmp,
                           strerror(errno));
    }
}

int image_write_file(const image *im, const char *path, mode_t mode, bf_err *err)
{
    if (image_check(im, err) != BF_OK)
        return BF_FAIL;
    char tmp[PATH_MAX + 64];
    int fd = image_create_temp(path, mode, tmp, sizeof tmp, err);
    if (fd < 0)
        return BF_FAIL;
    int rc = image_write_fd(im, fd, path, err);
    /* Some file systems (NFS) report a failed write only when the file is closed. */
    if (close(fd) != 0 && rc == BF_OK)
        rc = err_set(err, "%s: cannot write it: %s", path, strerror(errno));
    if (rc == BF_OK && rename(tmp, path) != 0)
        rc = err_set(err, "%s: cannot put the written file %s in its place: %s", path, tmp,
                     strerror(errno));
    if (rc != BF_OK)
        unlink(tmp);
    return rc;
}

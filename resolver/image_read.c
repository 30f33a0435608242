/* Reading any byte range of an image: what the FUSE read of a rewritten file serves. */
#include "bundlefs/image.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* Exactly len bytes of the source at off. The extents were planned from the source as it was
 * then, so running out of it means the file shrank since. */
static int image_read_source(const image *im, uint64_t off, unsigned char *dst, size_t len,
                             bf_err *err)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(image_source_fd(im), dst + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return err_set(err, "%s: cannot read %zu bytes at offset %llu: %s",
                           image_source_path(im), len - done,
                           (unsigned long long)(off + done), strerror(errno));
        if (n == 0)
            return err_set(err, "%s: changed since the bundle was planned: it ends at byte "
                                "%llu, but the bundle takes bytes up to %llu from it; plan "
                                "the bundle again", image_source_path(im),
                           (unsigned long long)(off + done), (unsigned long long)(off + len));
        done += (size_t)n;
    }
    return BF_OK;
}

int image_read(const image *im, uint64_t off, void *dst, size_t len, size_t *got, bf_err *err)
{
    *got = 0;
    if (image_check(im, err) != BF_OK)
        return BF_FAIL;
    uint64_t size = image_size(im);
    if (off >= size)
        return BF_OK;
    size_t want = size - off < len ? (size_t)(size - off) : len;
    unsigned char *out = dst;
    size_t done = 0;
    for (size_t i = image_extent_find(im, off); done < want; i++) {
        const image_extent *e = image_extent_at(im, i);
        uint64_t within = off + done - e->start;
        size_t n = e->len - within < want - done ? (size_t)(e->len - within) : want - done;
        switch (e->kind) {
        case IMAGE_SOURCE:
            if (image_read_source(im, e->src_off + within, out + done, n, err) != BF_OK)
                return BF_FAIL;
            break;
        case IMAGE_BYTES:
            memcpy(out + done, e->bytes + within, n);
            break;
        case IMAGE_ZEROS:
            memset(out + done, 0, n);
            break;
        }
        done += n;
    }
    *got = want;
    return BF_OK;
}

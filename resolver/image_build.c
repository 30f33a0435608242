/* Building an image, extent by extent, and the accessors its reader and writer use. */
#include "bundlefs/image.h"

#include <string.h>

struct image {
    arena *a;
    int src_fd;
    const char *src_path;
    image_extent *ext;
    size_t count, cap;
    uint64_t size;
    const char *invalid; /* why an addition was refused; NULL while the image is whole */
};

/* File offsets are off_t: nothing may end past INT64_MAX, or pread, lseek and ftruncate
 * would be handed negative offsets. */
#define IMAGE_MAX_OFFSET ((uint64_t)INT64_MAX)

image *image_new(arena *a, int src_fd, const char *src_path)
{
    image *im = arena_alloc(a, sizeof *im);
    im->a = a;
    im->src_fd = src_fd;
    im->src_path = arena_strdup(a, src_path ? src_path : "(no source file)");
    return im;
}

/* Keeps the first reason: later refusals are usually its consequences. */
static void image_refuse(image *im, const char *why)
{
    if (!im->invalid)
        im->invalid = why;
}

/* The last extent, if it has the given kind, else NULL. */
static image_extent *image_last_of_kind(image *im, enum image_kind kind)
{
    if (im->count == 0 || im->ext[im->count - 1].kind != kind)
        return NULL;
    return &im->ext[im->count - 1];
}

/* Makes room for len more bytes, or refuses them. */
static int image_grow_size(image *im, uint64_t len)
{
    if (len > IMAGE_MAX_OFFSET - im->size) {
        image_refuse(im, "the image would be larger than the largest possible file");
        return BF_FAIL;
    }
    return BF_OK;
}

static void image_append(image *im, const image_extent *e)
{
    arena_push(im->a, &im->ext, &im->count, &im->cap, e, sizeof *e);
    im->size += e->len;
}

void image_add_source(image *im, uint64_t off, uint64_t len)
{
    if (len == 0)
        return;
    if (im->src_fd < 0) {
        image_refuse(im, "a range of the source was added to an image that has no source");
        return;
    }
    if (off > IMAGE_MAX_OFFSET || len > IMAGE_MAX_OFFSET - off) {
        image_refuse(im, "a source range ends past the largest possible file offset");
        return;
    }
    if (image_grow_size(im, len) != BF_OK)
        return;
    image_extent *last = image_last_of_kind(im, IMAGE_SOURCE);
    if (last && last->src_off + last->len == off) {
        last->len += len;
        im->size += len;
        return;
    }
    image_append(im, &(image_extent){.kind = IMAGE_SOURCE, .start = im->size, .len = len,
                                     .src_off = off});
}

void image_add_bytes(image *im, const void *buf, size_t len)
{
    if (len == 0 || image_grow_size(im, len) != BF_OK)
        return;
    unsigned char *copy = arena_alloc(im->a, len);
    memcpy(copy, buf, len);
    image_append(im, &(image_extent){.kind = IMAGE_BYTES, .start = im->size, .len = len,
                                     .bytes = copy});
}

void image_add_zeros(image *im, uint64_t len)
{
    if (len == 0 || image_grow_size(im, len) != BF_OK)
        return;
    image_extent *last = image_last_of_kind(im, IMAGE_ZEROS);
    if (last) {
        last->len += len;
        im->size += len;
        return;
    }
    image_append(im, &(image_extent){.kind = IMAGE_ZEROS, .start = im->size, .len = len});
}

uint64_t image_size(const image *im)
{
    return im->size;
}

size_t image_extent_count(const image *im)
{
    return im->count;
}

const image_extent *image_extent_at(const image *im, size_t i)
{
    return &im->ext[i];
}

size_t image_extent_find(const image *im, uint64_t off)
{
    if (off >= im->size)
        return im->count;
    /* The last extent starting at or before off: starts are strictly increasing (no extent
     * is empty), and the first one starts at 0. */
    size_t lo = 0, hi = im->count;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (im->ext[mid].start <= off)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

int image_source_fd(const image *im)
{
    return im->src_fd;
}

const char *image_source_path(const image *im)
{
    return im->src_path;
}

int image_check(const image *im, bf_err *err)
{
    if (im->invalid)
        return err_set(err, "%s: the rewritten image of this file is unusable: %s (a bug in "
                            "bundlefs; please report it)", im->src_path, im->invalid);
    return BF_OK;
}

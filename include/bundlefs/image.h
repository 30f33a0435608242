/* An image is the bytes of a rewritten file, described rather than stored: an ordered list of
 * extents (a range of ONE source file, a buffer of new bytes, or a run of zero bytes) that
 * together are the output file. The FUSE read serves any range of it and materialize writes it
 * with copy_file_range, so the mount and the disk hold the same bytes by construction.
 *
 * An image lives in the arena it was made with. Building is single-threaded; once built, an
 * image is never changed by reading or writing it, so any number of threads may call
 * image_read and image_write_* on it at once (the source is read with pread only). */
#ifndef BUNDLEFS_IMAGE_H
#define BUNDLEFS_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bundlefs/arena.h"
#include "bundlefs/err.h"

typedef struct image image;

enum image_kind { IMAGE_SOURCE, IMAGE_BYTES, IMAGE_ZEROS };

typedef struct image_extent {
    enum image_kind kind;
    uint64_t start;             /* offset of the extent in the image */
    uint64_t len;               /* never 0 */
    uint64_t src_off;           /* IMAGE_SOURCE: offset in the source file */
    const unsigned char *bytes; /* IMAGE_BYTES: len bytes, owned by the image's arena */
} image_extent;

/* src_fd may be -1 (no source); the image does not own or close it. src_path names the source
 * in error messages (NULL when there is none). */
image *image_new(arena *a, int src_fd, const char *src_path);

/* Appending. A length of 0 adds nothing. A source range that continues the previous extent's
 * range, and a zero run after a zero run, extend that extent instead of adding one.
 * These cannot fail: an impossible addition (a source range without a source, an image or a
 * source range ending past 2^63 - 1, the largest file offset) is left out and marks the image
 * invalid, which image_check, image_read and image_write_* then report. */
void image_add_source(image *im, uint64_t off, uint64_t len);
void image_add_bytes(image *im, const void *buf, size_t len); /* copied into the arena */
void image_add_zeros(image *im, uint64_t len); /* written as a hole where the FS allows it */

uint64_t image_size(const image *im);
size_t image_extent_count(const image *im);
/* Extent i (i < image_extent_count). */
const image_extent *image_extent_at(const image *im, size_t i);
/* The index of the extent holding byte off (binary search), or image_extent_count when off
 * is at or past the end. */
size_t image_extent_find(const image *im, uint64_t off);
int image_source_fd(const image *im);
const char *image_source_path(const image *im);

/* BF_FAIL with the reason when an addition was refused (see above). */
int image_check(const image *im, bf_err *err);

/* Reads up to len bytes at off into dst; *got is the count read, less than len only at the end
 * of the image (0 at or past it). A source shorter than its extents claim is an error naming
 * the source ("changed since the bundle was planned"). On failure *got is 0 and dst may hold
 * part of the range. */
int image_read(const image *im, uint64_t off, void *dst, size_t len, size_t *got, bf_err *err);

/* Writes the whole image to out_fd, which must be an empty file at offset 0 opened without
 * O_APPEND: source extents with copy_file_range (a reflink where the FS can; pread + write
 * where it cannot), buffers with write, zero runs with lseek, so they become holes (where
 * lseek is impossible, as on a pipe, zeros are written). A trailing zero run is made part of
 * the file with ftruncate. out_name names the output in error messages. On failure the file
 * holds part of the image. */
int image_write_fd(const image *im, int out_fd, const char *out_name, bf_err *err);

/* Writes the image to path through a temporary file in the same folder (created with O_EXCL
 * and mode, less the umask, as open does), renamed over path only once it is complete; on
 * failure the temporary file is removed and an existing file at path is left as it was.
 * Not fsync'ed. */
int image_write_file(const image *im, const char *path, mode_t mode, bf_err *err);

#endif

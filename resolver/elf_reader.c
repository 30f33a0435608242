/* Parsing files through their descriptors: only the parts the parse touches are read, with
 * pread, into a scratch area reused for every file. Mapping each file instead costs page
 * faults and a TLB flush per unmap, about 100 µs a file here, against a few µs for the reads;
 * for a closure of hundreds of libraries that is most of the run. The scratch area starts
 * over for each file, so its pages fault in once and then stay warm. */
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "elf_internal.h"

/* What one file's parse may need at once (hostile files ask for more and get an error). The
 * area starts small and grows to what a file needed; a few pages in practice. */
static const size_t elf_scratch_size = (size_t)1 << 30;
enum { ELF_SCRATCH_START = 64 * 1024 };
enum { ELF_PAGE = 4096, ELF_MAX_RANGES = 32 };

typedef struct elf_range {
    uint64_t lo, hi; /* file bytes [lo, hi) ... */
    size_t pos;      /* ... are at scratch + pos */
} elf_range;

struct elf_reader {
    uint8_t *scratch;
    size_t used, cap;
    int fd;
    elf_range have[ELF_MAX_RANGES];
    size_t nhave;
    int read_errno;
};

static const uint8_t elf_zeros[ELF_PAGE];

static void elf_reader_release(void *ctx)
{
    elf_reader *r = ctx;
    free(r->scratch);
}

elf_reader *elf_reader_new(arena *a)
{
    elf_reader *r = arena_alloc(a, sizeof *r);
    arena_on_free(a, elf_reader_release, r);
    return r;
}

/* Room for n more bytes; the area moves, which is fine as no pointer into it is kept. */
static bool elf_reader_room(elf_reader *r, size_t n)
{
    if (n <= r->cap - r->used)
        return true;
    size_t ncap = r->cap ? r->cap : ELF_SCRATCH_START;
    while (ncap - r->used < n)
        ncap *= 2;
    uint8_t *p = realloc(r->scratch, ncap);
    if (!p) {
        r->read_errno = ENOMEM;
        return false;
    }
    r->scratch = p;
    r->cap = ncap;
    return true;
}

const char *elf_read_error(const elf_image *im)
{
    if (!im->reader || !im->reader->read_errno)
        return NULL;
    return strerror(im->reader->read_errno);
}

/* The newest range holding all of [off, off + size), or NULL. */
static const elf_range *elf_reader_find(const elf_reader *r, uint64_t off, uint64_t size)
{
    for (size_t i = r->nhave; i-- > 0;)
        if (r->have[i].lo <= off && size <= r->have[i].hi - off && off < r->have[i].hi)
            return &r->have[i];
    return NULL;
}

const uint8_t *elf_reader_at(const elf_image *im, uint64_t off, uint64_t size)
{
    const elf_reader *r = im->reader;
    const elf_range *g = elf_reader_find(r, off, size);
    if (g)
        return r->scratch + g->pos + (off - g->lo);
    return size <= sizeof elf_zeros ? elf_zeros : NULL;
}

static bool elf_reader_fill(elf_reader *r, uint8_t *dst, uint64_t lo, uint64_t hi)
{
    while (lo < hi) {
        ssize_t n = pread(r->fd, dst, (size_t)(hi - lo), (off_t)lo);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            /* A file that shrank under us reads short: an error, never stale bytes. */
            r->read_errno = n < 0 ? errno : EIO;
            return false;
        }
        lo += (uint64_t)n;
        dst += n;
    }
    return true;
}

bool elf_need_slow(const elf_image *im, uint64_t off, uint64_t size)
{
    elf_reader *r = im->reader;
    if (elf_reader_find(r, off, size))
        return true;
    if (r->read_errno)
        return false;
    /* Whole pages: the neighbours of what is asked for are usually asked for next. */
    uint64_t lo = off & ~(uint64_t)(ELF_PAGE - 1);
    uint64_t hi = (off + size + ELF_PAGE - 1) & ~(uint64_t)(ELF_PAGE - 1);
    if (hi > im->len)
        hi = im->len;
    if (hi - lo > elf_scratch_size) {
        r->read_errno = EFBIG;
        return false;
    }
    /* No pointer into the scratch area is kept across calls, so when the list is full
     * everything fetched so far can be forgotten (and read again if needed). */
    if (r->nhave == ELF_MAX_RANGES || r->used + (hi - lo) > elf_scratch_size) {
        r->nhave = 0;
        r->used = 0;
    }
    if (!elf_reader_room(r, (size_t)(hi - lo)) ||
        !elf_reader_fill(r, r->scratch + r->used, lo, hi))
        return false;
    r->have[r->nhave++] = (elf_range){lo, hi, r->used};
    r->used += (size_t)(hi - lo);
    return true;
}

int elf_parse_fd(elf_reader *r, int fd, uint64_t size, const uint8_t *head, size_t headlen,
                 unsigned skip, const char *name, arena *a, elf_info *out, bf_err *err)
{
    r->fd = fd;
    r->nhave = 0;
    r->used = 0;
    r->read_errno = 0;
    if (headlen > size)
        headlen = (size_t)size;
    if (head && headlen && elf_reader_room(r, headlen)) {
        memcpy(r->scratch, head, headlen);
        r->have[0] = (elf_range){0, headlen, 0};
        r->nhave = 1;
        r->used = (headlen + ELF_PAGE - 1) & ~(size_t)(ELF_PAGE - 1);
    }
    elf_image im = {.len = (size_t)size, .name = name, .reader = r, .skip = skip};
    return elf_parse_image(&im, a, out, err);
}

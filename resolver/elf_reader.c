/* Parsing files through their descriptors: only the parts the parse touches are read, with
 * pread, into one buffer reused for every file. Mapping each file instead costs page faults
 * and a TLB flush per unmap, about 100 µs a file here, against a few µs for the reads; for a
 * closure of hundreds of libraries that is most of the run. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "elf_internal.h"

/* Address space only (PROT_NONE is never used: pages appear when first written, and stay for
 * the next file). Files larger than this are mapped instead. */
static const size_t elf_zone_size = (size_t)1 << 36;
enum { ELF_PAGE = 4096, ELF_MAX_RANGES = 32 };

struct elf_reader {
    uint8_t *zone;
    int fd;
    /* Page-aligned ranges of the current file that are in zone. */
    struct { uint64_t lo, hi; } have[ELF_MAX_RANGES];
    size_t nhave;
    int read_errno;
};

static void elf_reader_release(void *ctx)
{
    elf_reader *r = ctx;
    if (r->zone)
        munmap(r->zone, elf_zone_size);
}

elf_reader *elf_reader_new(arena *a)
{
    elf_reader *r = arena_alloc(a, sizeof *r);
    void *p = mmap(NULL, elf_zone_size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    r->zone = p == MAP_FAILED ? NULL : p;
    arena_on_free(a, elf_reader_release, r);
    return r;
}

const char *elf_read_error(const elf_image *im)
{
    if (!im->reader || !im->reader->read_errno)
        return NULL;
    return strerror(im->reader->read_errno);
}

static bool elf_reader_fill(elf_reader *r, uint64_t lo, uint64_t hi)
{
    while (lo < hi) {
        ssize_t n = pread(r->fd, r->zone + lo, (size_t)(hi - lo), (off_t)lo);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            /* A file that shrank under us reads short: an error, never stale bytes. */
            r->read_errno = n < 0 ? errno : EIO;
            return false;
        }
        lo += (uint64_t)n;
    }
    return true;
}

bool elf_need_slow(const elf_image *im, uint64_t off, uint64_t size)
{
    elf_reader *r = im->reader;
    uint64_t lo = off & ~(uint64_t)(ELF_PAGE - 1);
    uint64_t hi = (off + size + ELF_PAGE - 1) & ~(uint64_t)(ELF_PAGE - 1);
    if (hi > im->len)
        hi = im->len;
    for (size_t i = 0; i < r->nhave; i++)
        if (r->have[i].lo <= off && off + size <= r->have[i].hi)
            return true;
    if (r->read_errno || !elf_reader_fill(r, lo, hi))
        return false;
    /* When the list is full the oldest range is forgotten: it is read again if needed. */
    if (r->nhave == ELF_MAX_RANGES) {
        memmove(&r->have[0], &r->have[1], sizeof r->have[0] * (ELF_MAX_RANGES - 1));
        r->nhave--;
    }
    r->have[r->nhave].lo = lo;
    r->have[r->nhave].hi = hi;
    r->nhave++;
    return true;
}

int elf_parse_fd(elf_reader *r, int fd, uint64_t size, const uint8_t *head, size_t headlen,
                 const char *name, arena *a, elf_info *out, bf_err *err)
{
    if (!r->zone || size > elf_zone_size) {
        void *map = size ? mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
        if (size && map == MAP_FAILED)
            return err_set(err, "%s: cannot map the file: %s", name, strerror(errno));
        int rc = elf_parse(map, (size_t)size, name, a, out, err);
        if (map)
            munmap(map, (size_t)size);
        return rc;
    }
    r->fd = fd;
    r->nhave = 0;
    r->read_errno = 0;
    if (headlen > size)
        headlen = (size_t)size;
    if (head && headlen) {
        memcpy(r->zone, head, headlen);
        r->have[0].lo = 0;
        r->have[0].hi = headlen;
        r->nhave = 1;
    }
    elf_image im = {.buf = r->zone, .len = (size_t)size, .name = name, .reader = r};
    return elf_parse_image(&im, a, out, err);
}

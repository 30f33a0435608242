/* Images against a reference: every image a test builds is also assembled in memory, byte by
 * byte, from the same source file, and whatever image_read returns or image_write_* puts on
 * disk must equal it. Random images and reads use a fixed seed, so a failure repeats. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bundlefs/image.h"
#include "test_util.h"

enum { SRC_LEN = 1 << 20 };

static char *base;           /* every file of the tests, removed at the end */
static char *src_path;       /* SRC_LEN random bytes */
static unsigned char *src;   /* the same bytes in memory */
static int src_fd;
static uint64_t rng = 0x9e3779b97f4a7c15u;

/* splitmix64: the same sequence on every machine, unlike rand(). */
static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Uniform enough in [lo, hi]. */
static uint64_t rnd_in(uint64_t lo, uint64_t hi)
{
    return lo + rnd() % (hi - lo + 1);
}

static void rnd_fill(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)rnd();
}

static char *path_in_base(const char *name)
{
    char *p = NULL;
    assert_true(asprintf(&p, "%s/%s", base, name) > 0);
    return p;
}

static int setup(void **state)
{
    umask(022);
    base = test_tmpdir("image");
    src_path = path_in_base("src");
    src = malloc(SRC_LEN);
    rnd_fill(src, SRC_LEN);
    test_write_file(src_path, src, SRC_LEN);
    src_fd = open(src_path, O_RDONLY);
    return src_fd < 0;
}

static int teardown(void **state)
{
    close(src_fd);
    free(src);
    free(src_path);
    test_rmdir(base);
    return 0;
}

/* ---- The reference: the image's bytes, assembled in memory */

typedef struct ref {
    unsigned char *b;
    size_t n, cap;
} ref;

static unsigned char *ref_room(ref *r, size_t len)
{
    if (r->n + len > r->cap) {
        r->cap = (r->n + len) * 2;
        r->b = realloc(r->b, r->cap);
        assert_non_null(r->b);
    }
    r->n += len;
    return r->b + r->n - len;
}

static void add_source(image *im, ref *r, uint64_t off, uint64_t len)
{
    image_add_source(im, off, len);
    memcpy(ref_room(r, len), src + off, len);
}

static void add_bytes(image *im, ref *r, size_t len)
{
    unsigned char *p = ref_room(r, len);
    rnd_fill(p, len);
    image_add_bytes(im, p, len);
}

static void add_zeros(image *im, ref *r, uint64_t len)
{
    image_add_zeros(im, len);
    memset(ref_room(r, len), 0, len);
}

/* nparts random extents of at most maxlen bytes, some of them source ranges that continue
 * the previous one (so merging is exercised too). */
static image *random_image(arena *a, ref *r, int nparts, uint64_t maxlen)
{
    image *im = image_new(a, src_fd, src_path);
    uint64_t next_src = SRC_LEN;
    for (int i = 0; i < nparts; i++) {
        uint64_t len = rnd_in(1, maxlen);
        switch (rnd() % 4) {
        case 0:
            if (next_src + len <= SRC_LEN) {
                add_source(im, r, next_src, len);
                next_src += len;
                break;
            }
            /* fall through */
        case 1: {
            uint64_t off = rnd_in(0, SRC_LEN - 1);
            len = len < SRC_LEN - off ? len : SRC_LEN - off;
            add_source(im, r, off, len);
            next_src = off + len;
            break;
        }
        case 2:
            add_bytes(im, r, (size_t)len);
            break;
        default:
            add_zeros(im, r, len);
            break;
        }
    }
    assert_int_equal(image_size(im), r->n);
    assert_int_equal(image_check(im, NULL), BF_OK);
    return im;
}

/* One read, checked against the reference: the count (short only at the end) and the bytes. */
static void check_read(const image *im, const ref *r, uint64_t off, size_t len)
{
    unsigned char *buf = malloc(len ? len : 1);
    size_t got = 12345;
    bf_err err = {{0}};
    if (image_read(im, off, buf, len, &got, &err) != BF_OK)
        fail_msg("read of %zu at %llu: %s", len, (unsigned long long)off, err.msg);
    size_t want = off >= r->n ? 0 : r->n - off < len ? r->n - (size_t)off : len;
    assert_int_equal(got, want);
    if (want && memcmp(buf, r->b + off, want) != 0)
        fail_msg("read of %zu at %llu differs from the reference", len, (unsigned long long)off);
    free(buf);
}

/* Random reads, a third of them straddling an extent border. */
static void check_random_reads(const image *im, const ref *r, int count)
{
    for (int i = 0; i < count; i++) {
        uint64_t off;
        size_t len;
        if (i % 3 == 0 && image_extent_count(im) > 0) {
            const image_extent *e = image_extent_at(im, rnd() % image_extent_count(im));
            off = e->start - (e->start < 16 ? e->start : rnd_in(0, 16));
            len = (size_t)rnd_in(1, 64);
        } else {
            off = rnd_in(0, r->n + 64);
            len = (size_t)rnd_in(0, rnd() % 2 ? 256 : r->n + 64);
        }
        check_read(im, r, off, len);
    }
}

/* ---- Files */

static void check_file(const char *path, const ref *r)
{
    size_t n;
    uint8_t *got = test_read_file(path, &n);
    assert_int_equal(n, r->n);
    if (n && memcmp(got, r->b, n) != 0)
        fail_msg("%s differs from the reference", path);
    free(got);
}

static int create_out(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    return fd;
}

static void write_fd_ok(const image *im, const char *path)
{
    int fd = create_out(path);
    bf_err err = {{0}};
    if (image_write_fd(im, fd, path, &err) != BF_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(close(fd), 0);
}

/* The names in dir, sorted, one per line. */
static char *list_dir(arena *a, const char *dir)
{
    return test_output(a, "ls -A '%s' | sort", dir);
}

static const char *fresh_dir(arena *a)
{
    static unsigned n;
    const char *d = arena_printf(a, "%s/d%u", base, n++);
    assert_int_equal(mkdir(d, 0755), 0);
    return d;
}

static void assert_contains(const char *msg, const char *part)
{
    if (!strstr(msg, part))
        fail_msg("message \"%s\" does not contain \"%s\"", msg, part);
}

/* ---- Tests */

static void test_empty(void **state)
{
    arena *a = arena_new();
    image *im = image_new(a, -1, NULL);
    assert_int_equal(image_size(im), 0);
    assert_int_equal(image_extent_count(im), 0);
    assert_int_equal(image_extent_find(im, 0), 0);
    ref r = {0};
    check_read(im, &r, 0, 10);
    check_read(im, &r, 5, 0);
    const char *d = fresh_dir(a);
    const char *fd_out = arena_printf(a, "%s/by-fd", d), *file_out = arena_printf(a, "%s/file", d);
    write_fd_ok(im, fd_out);
    check_file(fd_out, &r);
    assert_int_equal(image_write_file(im, file_out, 0640, NULL), BF_OK);
    check_file(file_out, &r);
    struct stat st;
    assert_int_equal(stat(file_out, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    arena_free(a);
}

static void test_merging(void **state)
{
    arena *a = arena_new();
    ref r = {0};
    image *im = image_new(a, src_fd, src_path);
    add_source(im, &r, 0, 10);
    add_source(im, &r, 10, 5);
    add_source(im, &r, 100, 0);
    assert_int_equal(image_extent_count(im), 1);
    assert_int_equal(image_extent_at(im, 0)->len, 15);
    add_source(im, &r, 40, 5); /* not where the previous range ends */
    add_zeros(im, &r, 3);
    add_zeros(im, &r, 4);
    add_zeros(im, &r, 0);
    assert_int_equal(image_extent_count(im), 3);
    assert_int_equal(image_extent_at(im, 2)->len, 7);

    unsigned char buf[4] = {1, 2, 3, 4};
    image_add_bytes(im, buf, 0);
    image_add_bytes(im, buf, 4);
    image_add_bytes(im, buf, 4); /* buffers are not merged */
    memcpy(ref_room(&r, 8), "\1\2\3\4\1\2\3\4", 8);
    memset(buf, 0xff, sizeof buf); /* the image holds its own copy */
    add_source(im, &r, 45, 1);     /* continues the range before the zeros and bytes: no merge */
    assert_int_equal(image_extent_count(im), 6);

    uint64_t start = 0;
    for (size_t i = 0; i < image_extent_count(im); i++) {
        assert_int_equal(image_extent_at(im, i)->start, start);
        start += image_extent_at(im, i)->len;
    }
    assert_int_equal(image_size(im), start);
    assert_int_equal(image_size(im), r.n);
    check_read(im, &r, 0, r.n);
    free(r.b);
    arena_free(a);
}

static void test_random_reads(void **state)
{
    for (int round = 0; round < 20; round++) {
        arena *a = arena_new();
        ref r = {0};
        image *im = random_image(a, &r, (int)rnd_in(1, 60), round % 2 ? 20000 : 64);
        check_read(im, &r, 0, r.n);
        check_random_reads(im, &r, 500);
        free(r.b);
        arena_free(a);
    }
}

static void test_huge_source_extent(void **state)
{
    enum { BIG = 6 << 20 };
    char *big_path = path_in_base("big");
    unsigned char *big = malloc(BIG);
    rnd_fill(big, BIG);
    test_write_file(big_path, big, BIG);
    int fd = open(big_path, O_RDONLY);
    assert_true(fd >= 0);

    arena *a = arena_new();
    image *im = image_new(a, fd, big_path);
    ref r = {0};
    image_add_bytes(im, "HEAD", 4);
    image_add_source(im, 0, BIG);
    image_add_bytes(im, "TAIL", 4);
    memcpy(ref_room(&r, 4), "HEAD", 4);
    memcpy(ref_room(&r, BIG), big, BIG);
    memcpy(ref_room(&r, 4), "TAIL", 4);
    assert_int_equal(image_extent_count(im), 3);
    check_read(im, &r, 0, r.n);
    check_random_reads(im, &r, 200);
    const char *out = arena_printf(a, "%s/out", fresh_dir(a));
    assert_int_equal(image_write_file(im, out, 0644, NULL), BF_OK);
    check_file(out, &r);

    arena_free(a);
    free(r.b);
    close(fd);
    free(big);
    free(big_path);
}

/* The expected byte at off of the image in test_gigabyte_zero_run, too big for a reference. */
static unsigned char giga_byte(uint64_t off, uint64_t zeros)
{
    if (off < 4)
        return (unsigned char)"HEAD"[off];
    if (off < 4 + zeros)
        return 0;
    if (off < 8 + zeros)
        return (unsigned char)"TAIL"[off - 4 - zeros];
    return src[off - 8 - zeros];
}

static void test_gigabyte_zero_run(void **state)
{
    const uint64_t zeros = 1ull << 30;
    arena *a = arena_new();
    image *im = image_new(a, src_fd, src_path);
    image_add_bytes(im, "HEAD", 4);
    image_add_zeros(im, zeros);
    image_add_bytes(im, "TAIL", 4);
    image_add_source(im, 0, 100);
    assert_int_equal(image_extent_count(im), 4);
    assert_int_equal(image_size(im), zeros + 108);
    unsigned char buf[65536];
    for (int i = 0; i < 2000; i++) {
        /* Half of the reads around the two borders of the zero run, half anywhere. */
        uint64_t off = i % 4 == 0   ? rnd_in(0, 8)
                       : i % 4 == 1 ? zeros + 4 - rnd_in(0, 200)
                                    : rnd_in(0, image_size(im) + 10);
        size_t len = (size_t)rnd_in(0, sizeof buf), got;
        memset(buf, 0xaa, sizeof buf);
        assert_int_equal(image_read(im, off, buf, len, &got, NULL), BF_OK);
        uint64_t left = off < image_size(im) ? image_size(im) - off : 0;
        assert_int_equal(got, left < len ? left : len);
        for (size_t k = 0; k < got; k++)
            if (buf[k] != giga_byte(off + k, zeros))
                fail_msg("byte %llu", (unsigned long long)(off + k));
    }
    arena_free(a);
}

/* Whether the file system of dir stores a file with a 1 MiB gap in less than 1 MiB. */
static int holes_supported(const char *dir)
{
    char *probe = NULL;
    assert_true(asprintf(&probe, "%s/probe", dir) > 0);
    int fd = create_out(probe);
    assert_true(lseek(fd, 1 << 20, SEEK_SET) == 1 << 20);
    assert_int_equal(write(fd, "x", 1), 1);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    close(fd);
    unlink(probe);
    free(probe);
    return st.st_blocks * 512 < (1 << 20);
}

static void test_write_holes(void **state)
{
    arena *a = arena_new();
    ref r = {0};
    image *im = image_new(a, src_fd, src_path);
    add_bytes(im, &r, 100);
    add_zeros(im, &r, 64 << 20);
    add_source(im, &r, 5, 1000);
    add_zeros(im, &r, 32 << 20); /* trailing: must still count in the size */
    const char *d = fresh_dir(a);
    const char *out = arena_printf(a, "%s/out", d);
    assert_int_equal(image_write_file(im, out, 0644, NULL), BF_OK);
    check_file(out, &r);
    struct stat st;
    assert_int_equal(stat(out, &st), 0);
    assert_int_equal(st.st_size, r.n);
    if (holes_supported(d)) {
        if (st.st_blocks * 512 >= (1 << 20))
            fail_msg("%s: %lld blocks allocated for 1100 bytes of data: no holes", out,
                     (long long)st.st_blocks);
    } else {
        print_message("no holes on the file system of %s: block count not checked\n", d);
    }
    free(r.b);
    arena_free(a);
}

/* 10,000 extents, no two of which merge: a source range never follows a source range. */
static void test_many_small_extents(void **state)
{
    arena *a = arena_new();
    ref r = {0};
    image *im = image_new(a, src_fd, src_path);
    for (int i = 0; i < 10000; i++) {
        uint64_t len = rnd_in(1, 8);
        if (i % 3 == 0)
            add_source(im, &r, rnd_in(0, SRC_LEN - 8), len);
        else if (i % 3 == 1)
            add_bytes(im, &r, (size_t)len);
        else
            add_zeros(im, &r, len);
    }
    assert_int_equal(image_extent_count(im), 10000);
    /* The binary search against a walk through the extents, for every offset. */
    size_t i = 0;
    for (uint64_t off = 0; off < r.n; off++) {
        const image_extent *e = image_extent_at(im, i);
        if (off >= e->start + e->len)
            i++;
        assert_int_equal(image_extent_find(im, off), i);
    }
    assert_int_equal(image_extent_find(im, r.n), 10000);
    check_read(im, &r, 0, r.n);
    check_random_reads(im, &r, 3000);
    const char *out = arena_printf(a, "%s/out", fresh_dir(a));
    write_fd_ok(im, out);
    check_file(out, &r);
    free(r.b);
    arena_free(a);
}

static void test_source_shrank(void **state)
{
    arena *a = arena_new();
    const char *d = fresh_dir(a);
    const char *path = arena_printf(a, "%s/shrinks", d);
    test_write_file(path, src, 100000);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    image *im = image_new(a, fd, path);
    image_add_bytes(im, "0123456789", 10);
    image_add_source(im, 0, 100000);
    assert_int_equal(truncate(path, 60000), 0);

    unsigned char buf[20000];
    size_t got = 99;
    bf_err err = {{0}};
    assert_int_equal(image_read(im, 0, buf, 100, &got, &err), BF_OK); /* still there */
    assert_int_equal(got, 100);
    assert_memory_equal(buf + 10, src, 90);
    assert_int_equal(image_read(im, 10 + 50000, buf, sizeof buf, &got, &err), BF_FAIL);
    assert_int_equal(got, 0);
    assert_contains(err.msg, path);
    assert_contains(err.msg, "changed since the bundle was planned");

    /* The writer meets the same end, through copy_file_range first. */
    const char *out = arena_printf(a, "%s/out", d);
    memset(&err, 0, sizeof err);
    assert_int_equal(image_write_file(im, out, 0644, &err), BF_FAIL);
    assert_contains(err.msg, path);
    assert_contains(err.msg, "changed since the bundle was planned");
    assert_string_equal(list_dir(a, d), "shrinks\n");
    close(fd);
    arena_free(a);
}

static void test_read_past_end(void **state)
{
    arena *a = arena_new();
    ref r = {0};
    image *im = image_new(a, src_fd, src_path);
    add_source(im, &r, 7, 60);
    add_bytes(im, &r, 40);
    check_read(im, &r, 90, 50);
    check_read(im, &r, 100, 1);
    check_read(im, &r, 1000, 1);
    check_read(im, &r, 99, 0);
    check_read(im, &r, UINT64_MAX, 10);
    /* A length far past the end: only what is left is written into dst. */
    unsigned char buf[16];
    memset(buf, 0xaa, sizeof buf);
    size_t got;
    assert_int_equal(image_read(im, 97, buf, SIZE_MAX, &got, NULL), BF_OK);
    assert_int_equal(got, 3);
    assert_memory_equal(buf, r.b + 97, 3);
    for (size_t k = 3; k < sizeof buf; k++)
        assert_int_equal(buf[k], 0xaa);
    free(r.b);
    arena_free(a);
}

static void test_writer_random(void **state)
{
    arena *a = arena_new();
    const char *d = fresh_dir(a);
    for (int round = 0; round < 40; round++) {
        arena *ra = arena_new();
        ref r = {0};
        image *im = random_image(ra, &r, (int)rnd_in(1, 40), round % 2 ? 100000 : 300);
        const char *out = arena_printf(ra, "%s/out%d", d, round);
        if (round % 2) {
            write_fd_ok(im, out);
        } else {
            bf_err err = {{0}};
            if (image_write_file(im, out, 0751, &err) != BF_OK)
                fail_msg("%s", err.msg);
            struct stat st;
            assert_int_equal(stat(out, &st), 0);
            assert_int_equal(st.st_mode & 07777, 0751 & ~022);
        }
        check_file(out, &r);
        unlink(out);
        free(r.b);
        arena_free(ra);
    }
    assert_string_equal(list_dir(a, d), ""); /* no temporary file left behind */
    arena_free(a);
}

/* Sources copy_file_range will not copy from (procfs, whose files say they are empty) or not
 * into this file system (tmpfs to /tmp), and an output it cannot write to (a pipe, where zero
 * runs cannot be holes either): the writer must do by hand what the kernel does not. */
static void test_writer_fallbacks(void **state)
{
    arena *a = arena_new();
    const char *d = fresh_dir(a);

    int vfd = open("/proc/version", O_RDONLY);
    assert_true(vfd >= 0);
    char version[4096];
    ssize_t vlen = read(vfd, version, sizeof version);
    assert_true(vlen > 0);
    image *im = image_new(a, vfd, "/proc/version");
    image_add_bytes(im, "<", 1);
    image_add_source(im, 0, (uint64_t)vlen);
    image_add_zeros(im, 10);
    ref r = {0};
    memcpy(ref_room(&r, 1), "<", 1);
    memcpy(ref_room(&r, (size_t)vlen), version, (size_t)vlen);
    memset(ref_room(&r, 10), 0, 10);
    const char *out = arena_printf(a, "%s/version", d);
    write_fd_ok(im, out);
    check_file(out, &r);
    close(vfd);
    free(r.b);

    char shm[] = "/dev/shm/bundlefs-image-XXXXXX";
    int sfd = mkstemp(shm);
    assert_true(sfd >= 0);
    unlink(shm);
    assert_int_equal(write(sfd, src, 200000), 200000);
    im = image_new(a, sfd, shm);
    image_add_source(im, 1000, 150000);
    out = arena_printf(a, "%s/from-shm", d);
    write_fd_ok(im, out);
    r = (ref){0};
    memcpy(ref_room(&r, 150000), src + 1000, 150000);
    check_file(out, &r);
    close(sfd);
    free(r.b);

    /* Small enough for the pipe's buffer, so one thread can write all and then read. */
    r = (ref){0};
    im = image_new(a, src_fd, src_path);
    add_bytes(im, &r, 10);
    add_source(im, &r, 3, 20000);
    add_zeros(im, &r, 30000);
    add_bytes(im, &r, 5);
    add_zeros(im, &r, 700);
    int p[2];
    assert_int_equal(pipe(p), 0);
    bf_err err = {{0}};
    if (image_write_fd(im, p[1], "pipe", &err) != BF_OK)
        fail_msg("%s", err.msg);
    close(p[1]);
    unsigned char *got = malloc(r.n + 1);
    size_t n = 0;
    for (ssize_t k; (k = read(p[0], got + n, r.n + 1 - n)) > 0;)
        n += (size_t)k;
    close(p[0]);
    assert_int_equal(n, r.n);
    assert_memory_equal(got, r.b, r.n);
    free(got);
    free(r.b);
    arena_free(a);
}

static void test_write_file_failures(void **state)
{
    arena *a = arena_new();
    bf_err err = {{0}};
    image *im = image_new(a, src_fd, src_path);
    image_add_source(im, 0, 1000);

    const char *nowhere = arena_printf(a, "%s/no-such-folder/out", base);
    assert_int_equal(image_write_file(im, nowhere, 0644, &err), BF_FAIL);
    assert_contains(err.msg, nowhere);
    assert_contains(err.msg, strerror(ENOENT));

    /* A source fd no file will get in the meantime, since new files take the lowest one. */
    const int closed = 1000;
    assert_int_equal(fcntl(closed, F_GETFD), -1);
    image *bad = image_new(a, closed, "closed-source");
    image_add_bytes(bad, "abc", 3);
    image_add_source(bad, 0, 1000);
    const char *d = fresh_dir(a);
    test_write_text(d, "out", "old");
    const char *out = arena_printf(a, "%s/out", d);
    memset(&err, 0, sizeof err);
    assert_int_equal(image_write_file(bad, out, 0644, &err), BF_FAIL);
    assert_contains(err.msg, out);
    assert_contains(err.msg, "closed-source");
    assert_contains(err.msg, strerror(EBADF));
    assert_string_equal(list_dir(a, d), "out\n");
    ref old = {(unsigned char *)"old", 3, 3};
    check_file(out, &old);

    /* A folder in the way: everything is written, then the rename fails. */
    const char *in_way = arena_printf(a, "%s/in-the-way", d);
    assert_int_equal(mkdir(in_way, 0755), 0);
    test_write_text(in_way, "x", "x");
    memset(&err, 0, sizeof err);
    assert_int_equal(image_write_file(im, in_way, 0644, &err), BF_FAIL);
    assert_contains(err.msg, in_way);
    assert_string_equal(list_dir(a, d), "in-the-way\nout\n");
    arena_free(a);
}

static void test_disk_full(void **state)
{
    arena *a = arena_new();
    image *bytes = image_new(a, -1, NULL);
    unsigned char buf[1000] = {1};
    image_add_bytes(bytes, buf, sizeof buf);
    image *source = image_new(a, src_fd, src_path);
    image_add_source(source, 0, 100000);
    image *both[] = {bytes, source};
    for (size_t i = 0; i < 2; i++) {
        int fd = open("/dev/full", O_WRONLY);
        assert_true(fd >= 0);
        bf_err err = {{0}};
        assert_int_equal(image_write_fd(both[i], fd, "/dev/full", &err), BF_FAIL);
        assert_contains(err.msg, "/dev/full");
        assert_contains(err.msg, strerror(ENOSPC));
        close(fd);
    }
    arena_free(a);
}

/* Past RLIMIT_FSIZE a write is cut short, then refused with EFBIG: the writer must go on after
 * the short write (so the file reaches the limit exactly) and report the refusal. In a child,
 * so the limit stays there; it reports by exit status what it found wrong. */
static int limited_write(const image *im, const char *out, off_t limit)
{
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {(rlim_t)limit, (rlim_t)limit};
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
        return 2;
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    bf_err err = {{0}};
    if (fd < 0 || image_write_fd(im, fd, out, &err) != BF_FAIL)
        return 3;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size != limit)
        return 4;
    return strstr(err.msg, strerror(EFBIG)) && strstr(err.msg, out) ? 0 : 5;
}

static void test_file_size_limit(void **state)
{
    arena *a = arena_new();
    const char *d = fresh_dir(a);
    image *bytes = image_new(a, -1, NULL);
    unsigned char *buf = calloc(1, 300000);
    image_add_bytes(bytes, buf, 300000);
    free(buf);
    image *source = image_new(a, src_fd, src_path);
    image_add_source(source, 0, 300000);
    image *both[] = {bytes, source};
    for (size_t i = 0; i < 2; i++) {
        const char *out = arena_printf(a, "%s/limited%zu", d, i);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            _exit(limited_write(both[i], out, 100001));
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    arena_free(a);
}

static void assert_invalid(const image *im, const char *why)
{
    bf_err err = {{0}};
    assert_int_equal(image_check(im, &err), BF_FAIL);
    assert_contains(err.msg, why);
    size_t got = 7;
    unsigned char c;
    assert_int_equal(image_read(im, 0, &c, 1, &got, NULL), BF_FAIL);
    assert_int_equal(got, 0);
    assert_int_equal(image_write_fd(im, -1, "out", NULL), BF_FAIL);
}

static void test_refused_additions(void **state)
{
    arena *a = arena_new();
    image *no_source = image_new(a, -1, "a.out");
    image_add_source(no_source, 0, 10);
    assert_int_equal(image_size(no_source), 0);
    assert_int_equal(image_extent_count(no_source), 0);
    assert_invalid(no_source, "has no source");

    image *too_big = image_new(a, -1, NULL);
    image_add_zeros(too_big, INT64_MAX);
    assert_int_equal(image_check(too_big, NULL), BF_OK);
    image_add_bytes(too_big, "x", 1);
    assert_int_equal(image_size(too_big), INT64_MAX);
    assert_invalid(too_big, "larger than");

    image *far = image_new(a, src_fd, src_path);
    image_add_source(far, INT64_MAX, 1);
    image_add_source(far, UINT64_MAX - 5, 10);
    assert_int_equal(image_size(far), 0);
    assert_invalid(far, "past the largest");

    image *huge_zeros = image_new(a, -1, NULL);
    image_add_zeros(huge_zeros, UINT64_MAX);
    assert_invalid(huge_zeros, "larger than");
    arena_free(a);
}

/* Many threads reading one image, as FUSE does. */
typedef struct reader_job {
    const image *im;
    const ref *r;
    uint64_t seed;
    int bad;
} reader_job;

static void *reader_thread(void *arg)
{
    reader_job *j = arg;
    unsigned char buf[4096];
    for (int i = 0; i < 2000; i++) {
        j->seed = j->seed * 6364136223846793005u + 1442695040888963407u;
        uint64_t off = (j->seed >> 16) % j->r->n;
        size_t got;
        if (image_read(j->im, off, buf, sizeof buf, &got, NULL) != BF_OK ||
            memcmp(buf, j->r->b + off, got) != 0)
            j->bad++;
    }
    return NULL;
}

static void test_concurrent_reads(void **state)
{
    arena *a = arena_new();
    ref r = {0};
    image *im = random_image(a, &r, 200, 5000);
    pthread_t t[4];
    reader_job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (reader_job){im, &r, (uint64_t)i + 1, 0};
        assert_int_equal(pthread_create(&t[i], NULL, reader_thread, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(jobs[i].bad, 0);
    }
    free(r.b);
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_merging),
        cmocka_unit_test(test_random_reads),
        cmocka_unit_test(test_huge_source_extent),
        cmocka_unit_test(test_gigabyte_zero_run),
        cmocka_unit_test(test_write_holes),
        cmocka_unit_test(test_many_small_extents),
        cmocka_unit_test(test_source_shrank),
        cmocka_unit_test(test_read_past_end),
        cmocka_unit_test(test_writer_random),
        cmocka_unit_test(test_writer_fallbacks),
        cmocka_unit_test(test_write_file_failures),
        cmocka_unit_test(test_disk_full),
        cmocka_unit_test(test_file_size_limit),
        cmocka_unit_test(test_refused_additions),
        cmocka_unit_test(test_concurrent_reads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

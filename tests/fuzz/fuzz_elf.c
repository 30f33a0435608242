/* elf_verify and elf_parse on arbitrary bytes: no crash, no hang, no leak, no read outside the
 * input. A successful parse is walked fully so every string it returned is touched. The same
 * bytes are also parsed through a descriptor (elf_parse_fd, one reader for all inputs, so
 * stale bytes of an earlier input would show) and must give the same answer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bundlefs/elf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t touch(const char *s)
{
    return s ? strlen(s) : 0;
}

static void same_str(const char *x, const char *y)
{
    if ((!x) != (!y) || (x && strcmp(x, y) != 0))
        abort();
}

/* One reader for all inputs, for the whole run; released at exit (before the leak check). */
static int fd = -1;
static arena *ra;
static elf_reader *r;

static void release_reader(void)
{
    arena_free(ra);
    close(fd);
}

/* elf_parse_fd on the same bytes agrees with the in-memory parse. */
static void check_fd_parse(const uint8_t *data, size_t size, int rc, const elf_info *in,
                           const bf_err *err)
{
    if (fd < 0) {
        fd = memfd_create("fuzz-elf", 0);
        ra = arena_new();
        r = elf_reader_new(ra);
        atexit(release_reader);
    }
    if (fd < 0 || ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
        return;
    arena *a = arena_new();
    elf_info out;
    bf_err e2;
    /* Half the time the head is handed in, as the loader emulation does. */
    size_t head = size & 1 ? (size < 4096 ? size : 4096) : 0;
    int rc2 = elf_parse_fd(r, fd, size, head ? data : NULL, head, 0, "fuzz.so", a, &out, &e2);
    if (rc != rc2 || (rc != BF_OK && strcmp(err->msg, e2.msg) != 0))
        abort();
    if (rc == BF_OK) {
        same_str(in->interp, out.interp);
        same_str(in->soname, out.soname);
        same_str(in->rpath, out.rpath);
        same_str(in->runpath, out.runpath);
        if (in->ndeps != out.ndeps || in->nverneed != out.nverneed)
            abort();
        for (size_t i = 0; i < in->ndeps; i++)
            same_str(in->deps[i].name, out.deps[i].name);
    }
    arena_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const elf_host hosts[] = {
        {.elf_class = 2, .data = 1, .machine = 62}, /* x86_64 */
        {.elf_class = 1, .data = 1, .machine = 3},  /* i386 */
        {.elf_class = 2, .data = 2, .machine = 21}, /* ppc64 (big-endian) */
    };
    for (size_t i = 0; i < sizeof hosts / sizeof *hosts; i++) {
        const char *why;
        elf_verify(data, size, &hosts[i], &why);
        touch(why);
    }
    arena *a = arena_new();
    elf_info in;
    bf_err err;
    int rc = elf_parse(data, size, "fuzz.so", a, &in, &err);
    check_fd_parse(data, size, rc, &in, &err);
    if (rc == BF_OK) {
        size_t n = touch(in.interp) + touch(in.soname) + touch(in.rpath) + touch(in.runpath);
        for (size_t i = 0; i < in.ndeps; i++)
            n += touch(in.deps[i].name);
        for (size_t i = 0; i < in.nverneed; i++) {
            n += touch(in.verneed[i].file);
            for (size_t j = 0; j < in.verneed[i].nversions; j++)
                n += touch(in.verneed[i].versions[j]);
        }
        n += touch(elf_highest_version(&in, "GLIBC_"));
        (void)n;
    }
    arena_free(a);
    return 0;
}

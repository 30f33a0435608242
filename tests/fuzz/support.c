#define _XOPEN_SOURCE 700
#include "support.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char scratch[96];

static int fuzz_remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void fuzz_remove_scratch(void)
{
    if (scratch[0])
        nftw(scratch, fuzz_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_scratch(const char *name)
{
    if (scratch[0])
        return scratch;
    snprintf(scratch, sizeof scratch, "/tmp/bundlefs-fuzz-%s-XXXXXX", name);
    if (!mkdtemp(scratch)) {
        scratch[0] = '\0';
        return NULL;
    }
    atexit(fuzz_remove_scratch);
    return scratch;
}

int fuzz_write_whole(const char *path, const void *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < size) {
        ssize_t w = write(fd, (const char *)data + done, size - done);
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    close(fd);
    return done == size ? 0 : -1;
}

void fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fuzz_remove_scratch();
    abort();
}

void fuzz_same_dumps(const char *who, const char *what, const char *written, size_t nw,
                     const char *read, size_t nr)
{
    if (nw == nr && !memcmp(written, read, nw))
        return;
    size_t k = 0;
    while (k < nw && k < nr && written[k] == read[k])
        k++;
    size_t from = k > 200 ? k - 200 : 0;
    fuzz_fail("%s: the %s read back differs at byte %zu of its dump:\n"
              "--- written:\n%.*s\n--- read back:\n%.*s\n", who, what, k,
              (int)(nw - from < 400 ? nw - from : 400), written + from,
              (int)(nr - from < 400 ? nr - from : 400), read + from);
}

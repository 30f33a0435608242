/* Reads the cache file into the arena (ld.so maps it whole; so do we, by reading). */
#include "ldcache_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int ldcache_read_all(int fd, uint8_t *buf, size_t len, const char *path, bf_err *err)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return err_set(err, "%s: cannot read: %s", path, strerror(errno));
        if (n == 0)
            return err_set(err, "%s: the file shrank while it was being read (got %zu of %zu bytes); "
                                "try again once ldconfig has finished",
                           path, got, len);
        got += (size_t)n;
    }
    return BF_OK;
}

int ldcache_open(const char *path, arena *a, ldcache **out, bf_err *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        /* No cache is a normal state: ld.so then searches the default directories. */
        if (errno == ENOENT || errno == ENOTDIR)
            return BF_OK;
        return err_set(err, "%s: cannot open: %s", path, strerror(errno));
    }
    struct stat st;
    int rc = BF_FAIL;
    if (fstat(fd, &st) != 0)
        err_set(err, "%s: cannot stat: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        err_set(err, "%s: not a regular file, so ld.so cannot use it as its cache", path);
    else if (st.st_size == 0)
        err_set(err, "%s: the file is empty, so ld.so ignores it; run ldconfig to rebuild it",
                path);
    else if ((uint64_t)st.st_size > UINT32_MAX)
        err_set(err,
                "%s: %lld bytes is more than an ld.so.cache can address with its 32-bit "
                "offsets; this is not an ld.so.cache file",
                path, (long long)st.st_size);
    else {
        size_t len = (size_t)st.st_size;
        uint8_t *buf = arena_alloc(a, len);
        if (ldcache_read_all(fd, buf, len, path, err) == BF_OK)
            rc = ldcache_parse(buf, len, path, a, out, err);
    }
    close(fd);
    return rc;
}

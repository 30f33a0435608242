/* Maps the cache file for as long as the arena lives. A file that shrinks under the mapping
 * would fault on access; ldconfig replaces the cache by rename, never in place, so a mapped
 * file keeps its bytes. */
#include "ldcache_impl.h"

typedef struct ldcache_mapping {
    void *addr;
    size_t len;
} ldcache_mapping;

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void ldcache_unmap(void *ctx)
{
    const ldcache_mapping *m = ctx;
    munmap(m->addr, m->len);
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
        /* Mapped, as ld.so does: a lookup touches a few pages of it, not all. */
        size_t len = (size_t)st.st_size;
        void *buf = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (buf == MAP_FAILED) {
            err_set(err, "%s: cannot map: %s", path, strerror(errno));
        } else {
            ldcache_mapping *m = arena_alloc(a, sizeof *m);
            m->addr = buf;
            m->len = len;
            arena_on_free(a, ldcache_unmap, m);
            rc = ldcache_parse(buf, len, path, a, out, err);
        }
    }
    close(fd);
    return rc;
}

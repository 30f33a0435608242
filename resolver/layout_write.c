/* Writes bundle.json: validated first (a layout bundlefs writes is one it reads back), into a
 * new file in the destination's folder that is renamed over the destination once complete and
 * on disk, so a reader sees the old layout or the new one, never a part. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "layout_internal.h"

/* A new file next to path, created exclusively (never an existing file or a planted
 * symlink), with the permissions umask gives a new file. */
static FILE *layout_create_temp(const char *path, char *tmp, size_t size, bf_err *err)
{
    static unsigned serial;
    for (int attempt = 0; attempt < 100; attempt++) {
        if (snprintf(tmp, size, "%s.tmp-%ld-%u", path, (long)getpid(), serial++) >= (int)size) {
            err_set(err, "%s: path too long", path);
            return NULL;
        }
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd >= 0) {
            FILE *f = fdopen(fd, "w");
            if (!f) {
                close(fd);
                unlink(tmp);
                err_set(err, "%s: cannot write the layout: out of memory", path);
            }
            return f;
        }
        if (errno != EEXIST) {
            err_set(err, "%s: cannot write the layout: %s (check that the folder exists and is "
                         "writable)", path, strerror(errno));
            return NULL;
        }
    }
    err_set(err, "%s: cannot write the layout: no free temporary name next to it", path);
    return NULL;
}

int layout_write_file(const layout *l, const char *path, bf_err *err)
{
    if (layout_validate(l, path, err))
        return BF_FAIL;
    char tmp[PATH_MAX + 64];
    FILE *f = layout_create_temp(path, tmp, sizeof tmp, err);
    if (!f)
        return BF_FAIL;
    setvbuf(f, NULL, _IOFBF, 1 << 20); /* a large layout in few system calls */
    errno = 0;
    fprintf(f, "{\n \"format\": \"bundlefs-layout\",\n \"version\": %d", LAYOUT_FORMAT_VERSION);
    bool first = false;
    layout_fields_write(f, layout_fields, l, &first, true);
    fputs("\n}\n", f);
    int rc = ferror(f) || fflush(f) || fsync(fileno(f)) ? -1 : 0;
    int e = errno;
    if (fclose(f) && rc == 0) {
        rc = -1;
        e = errno;
    }
    if (rc == 0 && rename(tmp, path)) {
        rc = -1;
        e = errno;
    }
    if (rc == 0)
        return BF_OK;
    unlink(tmp);
    return err_set(err, "%s: cannot write the layout: %s (check that the folder has space)",
                   path, e ? strerror(e) : "write error");
}

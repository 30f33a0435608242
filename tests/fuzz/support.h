/* What the fuzz targets that work on files share: a scratch folder removed at exit, whole
 * writes, findings that stop the run, and the comparison of a value with the value read back
 * from the file it was written to (each target dumps both as text). */
#ifndef BUNDLEFS_FUZZ_SUPPORT_H
#define BUNDLEFS_FUZZ_SUPPORT_H

#include <stddef.h>

/* Creates /tmp/bundlefs-fuzz-<name>-XXXXXX once and returns it, removed with everything in
 * it at exit and by fuzz_fail; NULL if it cannot be made. */
const char *fuzz_scratch(const char *name);

/* 0 when all size bytes were written to path (created or truncated). */
int fuzz_write_whole(const char *path, const void *data, size_t size);

/* A finding: said on stderr, the scratch folder removed (abort runs no atexit handler), and
 * the run stopped. */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Fails, showing where they part, unless the dumps of what was written and of what was read
 * back are equal; who names the target and what the value ("layout", "trace"). */
void fuzz_same_dumps(const char *who, const char *what, const char *written, size_t nw,
                     const char *read, size_t nr);

#endif

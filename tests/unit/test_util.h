/* Helpers shared by every unit test program (compiled once into bundlefs_test_util): shell
 * commands and their output, whole files read, mapped and written, temporary directories, and
 * a growable string. Each one fails the running cmocka test when the machine does not do what
 * it asks, so the tests themselves only assert the behaviour they are about. */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bundlefs/arena.h"

/* A growable string: test_buf_printf appends; s is NULL until the first append. */
typedef struct test_buf {
    char *s;
    size_t n, cap;
} test_buf;

void test_buf_printf(test_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Runs a shell command and returns its standard output (caller frees), NULL if it exits with
 * a non-zero status. */
char *test_capture(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runs a shell command and returns its standard output in a, whatever its exit status (for
 * commands whose output is the point even when they report failure). */
char *test_output(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Runs a shell command, failing the test with the command shown if it fails. */
void test_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* How to run a command as root (for chroot and ldconfig -r): "" when we are root, a user
 * namespace prefix when one can be made, NULL when neither works. */
const char *test_root_prefix(void);

/* The whole file (caller frees; never NULL, even for an empty file). */
uint8_t *test_read_file(const char *path, size_t *len);

/* The file mapped read-only (NULL for an empty one), so a sweep touches only the pages it
 * reads; release with test_unmap_file. */
const uint8_t *test_map_file(const char *path, size_t *len);
void test_unmap_file(const uint8_t *buf, size_t len);

void test_write_file(const char *path, const void *buf, size_t len);

/* Writes text to dir/name. */
void test_write_text(const char *dir, const char *name, const char *text);

/* A fresh directory /tmp/bundlefs-<what>-XXXXXX (caller removes it with test_rmdir). */
char *test_tmpdir(const char *what);

/* Removes dir and everything in it, and frees the name. */
void test_rmdir(char *dir);

#endif

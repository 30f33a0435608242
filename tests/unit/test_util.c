#include "test_util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

void test_buf_printf(test_buf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        assert_true(k >= 0);
        if (b->s && (size_t)k < b->cap - b->n) {
            b->n += (size_t)k;
            return;
        }
        b->cap = (b->cap + (size_t)k + 1) * 2;
        b->s = realloc(b->s, b->cap);
        assert_non_null(b->s);
    }
}

/* A silently cut command would run something else than the test meant. */
static void test_format_command(char *cmd, size_t size, const char *fmt, va_list ap)
{
    int k = vsnprintf(cmd, size, fmt, ap);
    if (k < 0 || (size_t)k >= size)
        fail_msg("command too long for the test's buffer: %.200s...", cmd);
}

/* The standard output of a command (caller frees) and its wait status. */
static char *test_popen(int *status, const char *fmt, va_list ap)
{
    char cmd[8192];
    test_format_command(cmd, sizeof cmd, fmt, ap);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    test_buf b = {0};
    test_buf_printf(&b, "%s", "");
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, p)) > 0)
        test_buf_printf(&b, "%.*s", (int)got, chunk);
    *status = pclose(p);
    return b.s;
}

char *test_capture(const char *fmt, ...)
{
    int status;
    va_list ap;
    va_start(ap, fmt);
    char *out = test_popen(&status, fmt, ap);
    va_end(ap);
    if (status != 0) {
        free(out);
        return NULL;
    }
    return out;
}

char *test_output(arena *a, const char *fmt, ...)
{
    int status;
    va_list ap;
    va_start(ap, fmt);
    char *out = test_popen(&status, fmt, ap);
    va_end(ap);
    char *copy = arena_strdup(a, out);
    free(out);
    return copy;
}

void test_run(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    test_format_command(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    if (rc != 0)
        fail_msg("command failed (status %d): %s", rc, cmd);
}

const char *test_root_prefix(void)
{
    if (geteuid() == 0)
        return "";
    if (system("unshare -r true >/dev/null 2>&1") == 0)
        return "unshare -r ";
    return NULL;
}

static int test_open_read(const char *path, struct stat *st)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        fail_msg("cannot open %s", path);
    assert_int_equal(fstat(fd, st), 0);
    return fd;
}

uint8_t *test_read_file(const char *path, size_t *len)
{
    struct stat st;
    int fd = test_open_read(path, &st);
    uint8_t *buf = malloc(st.st_size ? (size_t)st.st_size : 1);
    assert_non_null(buf);
    size_t n = 0;
    while (n < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
        assert_true(r > 0);
        n += (size_t)r;
    }
    close(fd);
    *len = n;
    return buf;
}

const uint8_t *test_map_file(const char *path, size_t *len)
{
    struct stat st;
    int fd = test_open_read(path, &st);
    *len = (size_t)st.st_size;
    void *p = *len ? mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    close(fd);
    assert_true(p != MAP_FAILED);
    return p;
}

void test_unmap_file(const uint8_t *buf, size_t len)
{
    if (buf)
        munmap((void *)buf, len);
}

void test_write_file(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        fail_msg("cannot create %s", path);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

void test_write_text(const char *dir, const char *name, const char *text)
{
    char path[1024];
    int k = snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_true(k > 0 && (size_t)k < sizeof path);
    test_write_file(path, text, strlen(text));
}

char *test_tmpdir(const char *what)
{
    char *d = NULL;
    assert_true(asprintf(&d, "/tmp/bundlefs-%s-XXXXXX", what) > 0);
    assert_non_null(mkdtemp(d));
    return d;
}

void test_rmdir(char *dir)
{
    test_run("rm -rf '%s'", dir);
    free(dir);
}

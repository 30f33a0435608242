/* The progress bar as a terminal sees it: standard error is pointed at a pseudo-terminal
 * whose other end the test reads, or at a plain file that must stay empty. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "bundlefs/progress.h"
#include "test_util.h"

static const uint64_t MiB = 1 << 20;

typedef struct term {
    int master, saved_stderr;
} term;

static void sleep_ms(long ms)
{
    struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    while (nanosleep(&t, &t) != 0 && errno == EINTR)
        ;
}

/* Standard error becomes a raw pseudo-terminal of cols columns (0: the size is unknown). */
static term term_open(unsigned short cols)
{
    term t = {.master = posix_openpt(O_RDWR | O_NOCTTY)};
    assert_true(t.master >= 0);
    assert_int_equal(grantpt(t.master), 0);
    assert_int_equal(unlockpt(t.master), 0);
    int slave = open(ptsname(t.master), O_RDWR | O_NOCTTY);
    assert_true(slave >= 0);
    struct termios tio;
    assert_int_equal(tcgetattr(slave, &tio), 0);
    cfmakeraw(&tio);
    assert_int_equal(tcsetattr(slave, TCSANOW, &tio), 0);
    struct winsize ws = {.ws_col = cols, .ws_row = cols ? 24 : 0};
    assert_int_equal(ioctl(slave, TIOCSWINSZ, &ws), 0);
    fflush(stderr);
    t.saved_stderr = dup(STDERR_FILENO);
    assert_int_equal(dup2(slave, STDERR_FILENO), STDERR_FILENO);
    close(slave);
    assert_int_equal(fcntl(t.master, F_SETFL, O_NONBLOCK), 0);
    return t;
}

/* What was drawn since the last call (caller frees). */
static char *term_read(term *t)
{
    test_buf b = {0};
    test_buf_printf(&b, "%s", "");
    char chunk[4096];
    ssize_t n;
    while ((n = read(t->master, chunk, sizeof chunk)) > 0)
        test_buf_printf(&b, "%.*s", (int)n, chunk);
    return b.s;
}

static void term_close(term *t)
{
    dup2(t->saved_stderr, STDERR_FILENO);
    close(t->saved_stderr);
    close(t->master);
}

static int count(const char *s, const char *what)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}

/* Every frame, from its '\r' to the erase after it, fits in width - 1 columns. */
static void assert_frames_fit(const char *s, size_t width)
{
    for (const char *p = s; (p = strchr(p, '\r'));) {
        const char *end = strstr(p, "\033[K");
        assert_non_null(end);
        if ((size_t)(end - p - 1) > width - 1)
            fail_msg("a frame of %d columns on a %zu-column terminal: %.*s", (int)(end - p - 1),
                     width, (int)(end - p - 1), p + 1);
        p = end;
    }
}

static void test_not_a_terminal(void **state)
{
    char *dir = test_tmpdir("progress");
    char path[512];
    snprintf(path, sizeof path, "%s/stderr", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    arena *a = arena_new();
    progress *p = progress_new(a, "hashing", 100 * MiB);
    for (int i = 0; i < 5; i++) {
        sleep_ms(100);
        progress_add(p, 10 * MiB);
    }
    progress_end(p);
    dup2(saved, STDERR_FILENO);
    close(saved);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    close(fd);
    assert_int_equal(st.st_size, 0);
    arena_free(a);
    test_rmdir(dir);
}

static void test_terminal(void **state)
{
    term t = term_open(60);
    arena *a = arena_new();
    progress *p = progress_new(a, "writing", 100 * MiB);
    progress_add(p, 10 * MiB);
    char *quick = term_read(&t);     /* too soon for a bar */
    sleep_ms(350);
    progress_add(p, 40 * MiB);
    char *first = term_read(&t);
    /* A burst well within a tenth of a second draws at most once more. */
    for (int i = 0; i < 10000; i++)
        progress_add(p, 1);
    char *burst = term_read(&t);
    sleep_ms(150);
    progress_add(p, 60 * MiB);       /* past the total: shown as all of it */
    char *full = term_read(&t);
    progress_end(p);
    char *end = term_read(&t);
    term_close(&t);

    assert_string_equal(quick, "");
    assert_int_equal(count(first, "\r"), 1);
    assert_non_null(strstr(first, "\rwriting ["));
    assert_non_null(strstr(first, " 50% 50.0 MiB / 100.0 MiB\033[K"));
    assert_int_equal(count(first, "#"), (60 - 1 - (int)strlen("writing") - 3 -
                                         (int)strlen("  50% 50.0 MiB / 100.0 MiB")) / 2);
    assert_frames_fit(first, 60);
    assert_true(count(burst, "\r") <= 1);
    assert_non_null(strstr(full, " 100% 100.0 MiB / 100.0 MiB"));
    assert_null(strstr(full, "-]")); /* the bar is full */
    assert_frames_fit(full, 60);
    assert_string_equal(end, "\r\033[K");
    free(quick);
    free(first);
    free(burst);
    free(full);
    free(end);
    arena_free(a);
}

/* A terminal that does not know its size is taken as 80 columns; an unknown total shows the
 * amount done only; a narrow terminal gets no bar but still the numbers, cut to fit. */
static void test_sizes_and_units(void **state)
{
    term t = term_open(0);
    arena *a = arena_new();
    progress *p = progress_new(a, "hashing", 3ull << 30);
    progress *q = progress_new(a, "scanning", 0);
    sleep_ms(350);
    progress_add(p, 3ull << 29);
    char *gib = term_read(&t);
    progress_add(q, 1536);
    char *unknown = term_read(&t);
    progress_end(p);
    progress_end(q);
    char *ends = term_read(&t);
    term_close(&t);
    assert_non_null(strstr(gib, " 50% 1.5 GiB / 3.0 GiB"));
    assert_frames_fit(gib, 80);
    assert_int_equal(count(gib, "-") + count(gib, "#"), 80 - 1 - 7 - 3 - 23);
    assert_string_equal(unknown, "\rscanning 1.5 KiB\033[K");
    assert_string_equal(ends, "\r\033[K\r\033[K");
    free(gib);
    free(unknown);
    free(ends);

    t = term_open(20);
    progress *n = progress_new(a, "materializing", 1000);
    sleep_ms(350);
    progress_add(n, 999);
    char *narrow = term_read(&t);
    progress_end(n);
    free(term_read(&t));
    term_close(&t);
    assert_null(strpbrk(narrow, "#-"));
    assert_frames_fit(narrow, 20);
    assert_non_null(strstr(narrow, "\rmaterializing  99%"));
    free(narrow);
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_a_terminal),
        cmocka_unit_test(test_terminal),
        cmocka_unit_test(test_sizes_and_units),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

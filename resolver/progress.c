/* A one-line progress bar on standard error. Drawn only on a terminal, and only once the work
 * has lasted long enough that a user would wonder whether it is stuck; redrawn at most
 * PROGRESS_HZ times a second so drawing never costs more than the work it reports. */
#include "bundlefs/progress.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

enum {
    PROGRESS_DELAY_MS = 300,
    PROGRESS_HZ = 10,
    PROGRESS_DEFAULT_COLS = 80,
    PROGRESS_MIN_BAR = 10,
    PROGRESS_LINE = 512, /* longer terminals get a bar of this width at most */
};

struct progress {
    const char *label;
    uint64_t total, done;
    bool tty;
    bool drawn;        /* the line holds a bar that progress_end must erase */
    int64_t start_ms, last_ms;
};

static int64_t progress_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int progress_cols(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return PROGRESS_DEFAULT_COLS;
}

/* A failed write to the terminal only loses a frame of the bar: nothing to report. */
static void progress_emit(const char *s, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDERR_FILENO, s, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        s += n;
        len -= (size_t)n;
    }
}

static void progress_human(char *buf, size_t size, uint64_t n)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (n < 1024) {
        snprintf(buf, size, "%llu B", (unsigned long long)n);
        return;
    }
    double v = (double)n / 1024;
    size_t u = 0;
    while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1024;
        u++;
    }
    snprintf(buf, size, "%.1f %s", v, units[u]);
}

static void progress_draw(progress *p)
{
    char done[32], total[32], tail[96], line[PROGRESS_LINE + 64];
    /* An estimate of the total may fall short: the bar then stays full. */
    uint64_t shown = p->total && p->done > p->total ? p->total : p->done;
    progress_human(done, sizeof done, shown);
    double frac = p->total ? (double)shown / (double)p->total : 0;
    if (p->total) {
        progress_human(total, sizeof total, p->total);
        snprintf(tail, sizeof tail, " %3u%% %s / %s", (unsigned)(frac * 100), done, total);
    } else {
        snprintf(tail, sizeof tail, " %s", done);
    }
    /* One column short of the width: a full line would wrap on some terminals. */
    int cols = progress_cols() - 1;
    if (cols > PROGRESS_LINE)
        cols = PROGRESS_LINE;
    int fixed = (int)strlen(p->label) + (int)strlen(tail) + 3; /* " [" and "]" */
    int bar = cols - fixed;
    int n = snprintf(line, sizeof line, "\r%s", p->label);
    if (p->total && bar >= PROGRESS_MIN_BAR && n >= 0 && (size_t)n + (size_t)bar + 3 < sizeof line) {
        int fill = (int)(frac * bar);
        line[n++] = ' ';
        line[n++] = '[';
        for (int i = 0; i < bar; i++)
            line[n++] = i < fill ? '#' : '-';
        line[n++] = ']';
        line[n] = '\0';
    }
    if (n >= 0 && (size_t)n < sizeof line)
        snprintf(line + n, sizeof line - (size_t)n, "%s", tail);
    /* Cut to the terminal (the leading '\r' takes no column), then clear what a longer
     * earlier frame left. */
    size_t len = strlen(line);
    if (cols > 0 && len > (size_t)cols + 1)
        len = (size_t)cols + 1;
    progress_emit(line, len);
    progress_emit("\033[K", 3);
    p->drawn = true;
}

progress *progress_new(arena *a, const char *label, uint64_t total)
{
    progress *p = arena_alloc(a, sizeof *p);
    p->label = arena_strdup(a, label ? label : "");
    p->total = total;
    p->tty = isatty(STDERR_FILENO) == 1;
    if (p->tty)
        p->start_ms = progress_now_ms();
    return p;
}

void progress_add(progress *p, uint64_t done)
{
    if (!p)
        return;
    p->done = done > UINT64_MAX - p->done ? UINT64_MAX : p->done + done;
    if (!p->tty)
        return;
    int64_t now = progress_now_ms();
    if (now - p->start_ms < PROGRESS_DELAY_MS)
        return;
    if (p->drawn && now - p->last_ms < 1000 / PROGRESS_HZ)
        return;
    p->last_ms = now;
    progress_draw(p);
}

void progress_end(progress *p)
{
    if (!p || !p->drawn)
        return;
    progress_emit("\r\033[K", 4);
    p->drawn = false;
}

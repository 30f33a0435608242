/* The record file of one process image: records are buffered and appended to
 * $BUNDLEFS_TRACE_DIR/<pid>-<k>.rec at the points where a load or an unload is complete,
 * by open/write/close, so the recorder never holds a descriptor the program could see,
 * close or reuse. A forked child notices the new pid at its first record and starts a file
 * of its own. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "recorder.h"

enum { REC_BUF_SIZE = 1 << 16, REC_MAX_FILES = 100000 };

static char rec_dir[PATH_MAX];
static char rec_path[PATH_MAX]; /* empty until this image's file exists */
static char rec_buf[REC_BUF_SIZE];
static size_t rec_buf_len;
static pid_t rec_pid;
static pid_t rec_parent_pid; /* set in a forked child */
static unsigned long long rec_fork_seq;
static unsigned long long rec_seq;
static int rec_lock_owner; /* pid of the holder; a holder from before a fork is stale */

/* A lock that a forked child can take over: the thread that held it in the parent does not
 * exist in the child, and the main libc's fork does not run this namespace's atfork
 * handlers. */
static void rec_lock(pid_t self)
{
    for (;;) {
        int expected = 0;
        if (__atomic_compare_exchange_n(&rec_lock_owner, &expected, self, 0, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            return;
        if (expected != self &&
            __atomic_compare_exchange_n(&rec_lock_owner, &expected, self, 0, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            return;
        sched_yield();
    }
}

static void rec_unlock(void)
{
    __atomic_store_n(&rec_lock_owner, 0, __ATOMIC_RELEASE);
}

void rec_begin_event(rec_line *l, char kind)
{
    rec_begin(l, kind);
    l->seq = __atomic_fetch_add(&rec_seq, 1, __ATOMIC_RELAXED);
    rec_unum(l, l->seq);
    rec_num(l, syscall(SYS_gettid));
}

int rec_init(void)
{
    const char *dir = getenv("BUNDLEFS_TRACE_DIR");
    if (!dir || !*dir || strlen(dir) >= sizeof rec_dir - 32)
        return 0;
    strcpy(rec_dir, dir);
    rec_pid = getpid();
    return 1;
}

static void rec_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* Called with the lock held; the caller made room. */
static void rec_append_locked(rec_line *l)
{
    l->buf[l->len++] = '\n';
    memcpy(rec_buf + rec_buf_len, l->buf, l->len);
    rec_buf_len += l->len;
}

/* Appends the header lines that open a record file to the (empty) buffer. */
static void rec_header(void)
{
    rec_line l;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    rec_begin(&l, 'H');
    rec_num(&l, 1);
    rec_num(&l, rec_pid);
    rec_num(&l, getppid());
    rec_str(&l, rec_parent_pid ? "fork" : "exec");
    rec_num(&l, rec_parent_pid);
    rec_unum(&l, rec_fork_seq);
    rec_unum(&l, (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec);
    rec_str(&l, exe);
    rec_append_locked(&l);
    /* The environment the loader read at start-up: which names were preloads. */
    const char *preload = getenv("LD_PRELOAD");
    if (preload) {
        rec_begin(&l, 'E');
        rec_str(&l, "LD_PRELOAD");
        rec_str(&l, preload);
        if (!l.truncated)
            rec_append_locked(&l);
    }

    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    static char args[REC_BUF_SIZE / 2];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof args - 1 && (r = read(fd, args + got, sizeof args - 1 - got)) > 0)
        got += (size_t)r;
    close(fd);
    args[got] = '\0';
    for (size_t i = 0; i < got; i += strlen(args + i) + 1) {
        rec_begin(&l, 'V');
        rec_str(&l, args + i);
        if (l.truncated || rec_buf_len + l.len + 1 > sizeof rec_buf / 2)
            break;
        rec_append_locked(&l);
    }
}

/* Called with the lock held. */
static void rec_flush_locked(void)
{
    if (rec_buf_len == 0)
        return;
    int fd = -1;
    if (rec_path[0]) {
        fd = open(rec_path, O_WRONLY | O_APPEND | O_CLOEXEC);
    } else {
        for (int k = 0; k < REC_MAX_FILES && fd < 0; k++) {
            /* rec_dir leaves room for the name (rec_init) */
            if (snprintf(rec_path, sizeof rec_path, "%s/%d-%d.rec", rec_dir, (int)rec_pid, k) >=
                (int)sizeof rec_path)
                break;
            fd = open(rec_path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
            if (fd < 0 && errno != EEXIST)
                break;
        }
        if (fd < 0)
            rec_path[0] = '\0';
    }
    if (fd >= 0) {
        rec_write_all(fd, rec_buf, rec_buf_len);
        close(fd);
    }
    rec_buf_len = 0;
}

static void rec_start_image(void)
{
    rec_buf_len = 0;
    rec_header();
}

void rec_emit(rec_line *l)
{
    if (!rec_dir[0])
        return;
    pid_t self = getpid();
    rec_lock(self);
    if (self != rec_pid) {
        /* A forked child: what is buffered belongs to the parent, which writes it itself. */
        rec_parent_pid = rec_pid;
        rec_pid = self;
        rec_fork_seq = l->seq;
        rec_path[0] = '\0';
        rec_start_image();
    } else if (rec_buf_len == 0 && !rec_path[0]) {
        rec_start_image();
    }
    if (l->truncated) {
        rec_begin(l, 'W');
        rec_str(l, "record longer than the recorder's line buffer was dropped");
    }
    if (rec_buf_len + l->len + 1 > sizeof rec_buf)
        rec_flush_locked();
    rec_append_locked(l);
    rec_unlock();
}

void rec_flush(void)
{
    if (!rec_dir[0])
        return;
    pid_t self = getpid();
    rec_lock(self);
    if (self == rec_pid)
        rec_flush_locked();
    rec_unlock();
}

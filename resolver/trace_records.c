/* Reads the recorder's files. The recorder writes a line per event, tab-separated, strings
 * escaped as \\ and \xHH; the file may end in a partial line when the process died while
 * writing, and anything in it may have been damaged since: every field is checked. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace_internal.h"

enum { TRACE_REC_MAX_BYTES = 1 << 30, TRACE_REC_MAX_FIELDS = 12 };

void trace_warn(trace *t, arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t cap = t->warnings.count; /* grown one at a time: warnings are few */
    t->warnings.items = arena_grow(a, t->warnings.items, cap, cap + 1, sizeof(char *));
    t->warnings.items[t->warnings.count++] = arena_strdup(a, msg);
}

static char *trace_read_whole(const char *path, size_t *len, bf_err *err)
{
    /* the traced program can write into the records folder: never block on a FIFO */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return err_set(err, "%s: %s", path, strerror(errno)), NULL;
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > TRACE_REC_MAX_BYTES) {
        close(fd);
        return err_set(err, "%s: not a regular file of at most 1 GiB", path), NULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    ssize_t r = 0;
    while (buf && got < (size_t)st.st_size &&
           ((r = read(fd, buf + got, (size_t)st.st_size - got)) > 0 || (r < 0 && errno == EINTR)))
        got += r > 0 ? (size_t)r : 0;
    close(fd);
    if (!buf || r < 0) {
        free(buf);
        return err_set(err, "%s: read failed", path), NULL;
    }
    buf[got] = '\0';
    *len = got;
    return buf;
}

/* Undoes the recorder's escapes in place; "\0" alone stands for no string. */
static bool trace_rec_unescape(char *s, const char **out)
{
    if (!strcmp(s, "\\0")) {
        *out = NULL;
        return true;
    }
    char *w = s;
    for (const char *r = s; *r; r++) {
        if (*r != '\\') {
            *w++ = *r;
            continue;
        }
        if (r[1] == '\\') {
            *w++ = '\\';
            r++;
        } else if (r[1] == 'x' && r[2] && r[3]) {
            char hex[3] = {r[2], r[3], 0}, *end;
            unsigned long v = strtoul(hex, &end, 16);
            if (*end || v == 0)
                return false;
            *w++ = (char)v;
            r += 3;
        } else {
            return false;
        }
    }
    *w = '\0';
    *out = s;
    return true;
}

static bool trace_rec_num(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno)
        return false;
    *out = v;
    return true;
}

static bool trace_rec_unum(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno)
        return false;
    *out = v;
    return true;
}

/* The field layout of each event kind after kind, seq and tid: n numbers (signed unless
 * listed as unsigned) then the strings. */
static bool trace_rec_event_parse(char **f, size_t nf, trace_rec_event *e)
{
    long tid;
    if (nf < 3 || !trace_rec_unum(f[1], &e->seq) || !trace_rec_num(f[2], &tid))
        return false;
    e->kind = f[0][0];
    e->tid = tid;
    e->obj = e->lmid = e->flag = -1;
    f += 3;
    nf -= 3;
    switch (e->kind) {
    case 'O':
        return nf == 6 && trace_rec_num(f[0], &e->obj) && trace_rec_num(f[1], &e->lmid) &&
               trace_rec_unum(f[2], &e->dev) && trace_rec_unum(f[3], &e->ino) &&
               trace_rec_unescape(f[4], &e->name) && e->name && e->obj >= 0 &&
               trace_rec_unescape(f[5], &e->real);
    case 'S':
        return nf == 3 && trace_rec_num(f[0], &e->obj) && trace_rec_num(f[1], &e->flag) &&
               trace_rec_unescape(f[2], &e->name) && e->name;
    case 'D':
        return nf == 4 && trace_rec_num(f[0], &e->obj) && trace_rec_num(f[1], &e->lmid) &&
               trace_rec_num(f[2], &e->flag) && trace_rec_unescape(f[3], &e->name) && e->name;
    case 'C':
        return nf == 1 && trace_rec_num(f[0], &e->obj);
    case 'A':
        return nf == 2 && trace_rec_num(f[0], &e->obj) && trace_rec_num(f[1], &e->flag);
    case 'P':
    case 'X':
        return nf == 0;
    default:
        return false;
    }
}

static bool trace_rec_header(char **f, size_t nf, arena *a, trace_rec_image *img)
{
    long version;
    const char *origin, *exe;
    if (nf != 9 || !trace_rec_num(f[1], &version) || version != 1 ||
        !trace_rec_num(f[2], &img->pid) || !trace_rec_num(f[3], &img->ppid) ||
        !trace_rec_unescape(f[4], &origin) || !origin ||
        (strcmp(origin, "exec") && strcmp(origin, "fork")) ||
        !trace_rec_num(f[5], &img->parent_pid) || !trace_rec_unum(f[6], &img->fork_seq) ||
        !trace_rec_unum(f[7], &img->started_ns) || !trace_rec_unescape(f[8], &exe))
        return false;
    img->origin = arena_strdup(a, origin);
    img->exe = exe ? arena_strdup(a, exe) : NULL;
    return true;
}

int trace_rec_parse(const char *path, arena *a, trace *t, trace_rec_image *img, bf_err *err)
{
    size_t len;
    char *buf = trace_read_whole(path, &len, err);
    if (!buf)
        return BF_FAIL;
    memset(img, 0, sizeof *img);
    img->file = arena_strdup(a, path);
    size_t cap = 0, argc = 0, argcap = 0;
    bool have_header = false;
    unsigned lineno = 0, bad = 0;
    char *line = buf;
    while (line < buf + len) {
        char *nl = memchr(line, '\n', (size_t)(buf + len - line));
        lineno++;
        if (!nl) {
            trace_warn(t, a, "%s: the last record is cut short (the process ended while "
                             "writing it); it was left out", path);
            break;
        }
        *nl = '\0';
        char *f[TRACE_REC_MAX_FIELDS + 1];
        size_t nf = 0;
        for (char *p = line; nf <= TRACE_REC_MAX_FIELDS;) {
            f[nf++] = p;
            char *tab = strchr(p, '\t');
            if (!tab)
                break;
            *tab = '\0';
            p = tab + 1;
        }
        line = nl + 1;
        if (strlen(f[0]) != 1 || nf > TRACE_REC_MAX_FIELDS) {
            bad++;
            continue;
        }
        if (f[0][0] == 'H') {
            if (have_header || !trace_rec_header(f, nf, a, img)) {
                bad++;
                continue;
            }
            have_header = true;
        } else if (f[0][0] == 'V') {
            const char *arg;
            if (nf != 2 || !trace_rec_unescape(f[1], &arg) || !arg) {
                bad++;
                continue;
            }
            const char *copy = arena_strdup(a, arg);
            arena_push(a, &img->argv.items, &argc, &argcap, &copy, sizeof copy);
        } else if (f[0][0] == 'E') {
            const char *name, *value;
            if (nf != 3 || !trace_rec_unescape(f[1], &name) || !name ||
                !trace_rec_unescape(f[2], &value)) {
                bad++;
                continue;
            }
            if (!strcmp(name, "LD_PRELOAD") && value)
                img->ld_preload = arena_strdup(a, value);
        } else if (f[0][0] == 'W') {
            const char *msg;
            if (nf == 2 && trace_rec_unescape(f[1], &msg) && msg)
                trace_warn(t, a, "%s: the recorder says: %s", path, msg);
        } else {
            trace_rec_event e = {0};
            if (!trace_rec_event_parse(f, nf, &e)) {
                bad++;
                continue;
            }
            if (e.name)
                e.name = arena_strdup(a, e.name);
            if (e.real)
                e.real = arena_strdup(a, e.real);
            arena_push(a, &img->events, &img->nevents, &cap, &e, sizeof e);
        }
    }
    img->argv.count = argc;
    free(buf);
    if (bad)
        trace_warn(t, a, "%s: %u of %u lines are not records this bundlefs writes; they were "
                         "left out", path, bad, lineno);
    if (!have_header)
        return err_set(err, "%s: no header line; not a bundlefs recorder file", path);
    return BF_OK;
}

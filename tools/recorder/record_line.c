/* Record lines: a kind letter, then tab-separated fields. Strings are escaped (backslash,
 * tab, newline and other control bytes as \xHH) so any path, however odd, keeps its bytes. */
#include <stdio.h>
#include <string.h>

#include "recorder.h"

/* Keeps one byte free for the newline rec_emit ends the line with. */
static void rec_put(rec_line *l, const char *p, size_t n)
{
    if (l->truncated || l->len + n + 1 > sizeof l->buf) {
        l->truncated = 1;
        return;
    }
    memcpy(l->buf + l->len, p, n);
    l->len += n;
}

void rec_begin(rec_line *l, char kind)
{
    l->len = 0;
    l->truncated = 0;
    l->seq = 0;
    rec_put(l, &kind, 1);
}

static void rec_sep(rec_line *l)
{
    rec_put(l, "\t", 1);
}

void rec_str(rec_line *l, const char *s)
{
    rec_sep(l);
    if (!s) {
        rec_put(l, "\\0", 2);
        return;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[5];
        if (*p == '\\')
            rec_put(l, "\\\\", 2);
        else if (*p < 0x20 || *p == 0x7f) {
            snprintf(esc, sizeof esc, "\\x%02x", *p);
            rec_put(l, esc, 4);
        } else
            rec_put(l, (const char *)p, 1);
    }
}

void rec_num(rec_line *l, long long v)
{
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%lld", v);
    rec_sep(l);
    rec_put(l, digits, (size_t)n);
}

void rec_unum(rec_line *l, unsigned long long v)
{
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%llu", v);
    rec_sep(l);
    rec_put(l, digits, (size_t)n);
}

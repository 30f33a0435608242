/* Errors are values: a function that can fail returns BF_OK or BF_FAIL and fills a bf_err
 * with one sentence a user can act on (which file, what is wrong, what to do). */
#ifndef BUNDLEFS_ERR_H
#define BUNDLEFS_ERR_H

enum { BF_OK = 0, BF_FAIL = -1 };

typedef struct bf_err {
    char msg[1024];
} bf_err;

/* Formats the message into e (if e is not NULL) and returns BF_FAIL, so callers can write
 * `return err_set(e, "...")`. */
int err_set(bf_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

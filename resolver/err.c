#include "bundlefs/err.h"

#include <stdarg.h>
#include <stdio.h>

int err_set(bf_err *e, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
    }
    return BF_FAIL;
}

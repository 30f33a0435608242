/* What `bundlefs trace` is about to run: the file execvp will execute, the program that
 * really starts (through #! lines), and whether the loader can be observed in it. */
#ifndef BUNDLEFS_TRACE_TARGET_H
#define BUNDLEFS_TRACE_TARGET_H

#include <stdbool.h>

#include "bundlefs/arena.h"
#include "bundlefs/err.h"

typedef struct trace_target {
    const char *path;    /* CMD found on PATH as execvp finds it */
    const char *program; /* the ELF file that starts: path, or the #! interpreter */
    bool is_python;      /* program looks like a CPython interpreter */
    const char *not_auditable; /* why the loader cannot be observed, or NULL */
} trace_target;

/* Whether the file name is a CPython interpreter's (python, python3, python3.11, ...). */
bool trace_target_is_python_name(const char *path);

/* Fails when cmd cannot be found or is not something the kernel can execute. */
int trace_target_inspect(const char *cmd, arena *a, trace_target *out, bf_err *err);

#endif

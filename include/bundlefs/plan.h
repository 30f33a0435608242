/* Planning a bundle: from a trace to a layout. The closure of every traced object is computed
 * as the loader sees it (the trace's own bindings win; the static emulation fills in what the
 * run did not show and is checked against it), the policy excludes what the target provides,
 * the Python universe is added for a CPython program, and the whole is laid out
 * content-addressed (docs/DESIGN.md, "Bundle layout"). Nothing is written but the layout. */
#ifndef BUNDLEFS_PLAN_H
#define BUNDLEFS_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bundlefs/arena.h"
#include "bundlefs/err.h"
#include "bundlefs/layout.h"
#include "bundlefs/trace.h"

typedef struct plan_opts {
    const char *name;          /* the application's name (bin/<name>); NULL: derived */
    const char **exclude;      /* --exclude globs: a name or file name ("libfoo*"), or a path
                                  when the glob holds a '/' */
    size_t nexclude;
    const char **include;      /* --include globs: keep what the policy would exclude */
    size_t ninclude;
    bool allow_missing;        /* list unresolvable dependencies instead of failing */
    const char *output;        /* the layout file being written: never part of the bundle */
    const char *cache_path;    /* ld.so.cache to use; NULL: /etc/ld.so.cache */
    bool progress;             /* a progress bar while hashing */
    /* Called for each warning as it is found (the layout keeps them all); may be NULL. */
    void (*warn)(void *ctx, const char *msg);
    void *warn_ctx;
} plan_opts;

typedef struct plan_summary {
    size_t objects;   /* binaries bundled (reals) */
    size_t files;     /* file entries (reals and other files) */
    size_t symlinks, dirs;
    uint64_t bytes;   /* sum of the sources of file entries */
    size_t excluded, missing, warnings;
} plan_summary;

/* Plans the bundle of the program traced in t. Fails with a message naming the requester, the
 * name and every path tried when a dependency cannot be found (unless allow_missing), and
 * when a source lies inside a bundle (bundling a bundle's output). */
int plan_build(const trace *t, const plan_opts *opts, arena *a, layout *out,
               plan_summary *summary, bf_err *err);

#endif

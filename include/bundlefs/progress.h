/* A progress bar on standard error for long work (hashing, writing a bundle), drawn only when
 * standard error is a terminal and the work lasts long enough to be worth a bar; nothing is
 * printed otherwise. Redrawn at most a few times per second. */
#ifndef BUNDLEFS_PROGRESS_H
#define BUNDLEFS_PROGRESS_H

#include <stdint.h>

#include "bundlefs/arena.h"

typedef struct progress progress;

/* label: what is being done ("hashing"); total: units of work (bytes), 0 if unknown. */
progress *progress_new(arena *a, const char *label, uint64_t total);
void progress_add(progress *p, uint64_t done);
/* Clears the bar (the line is left empty for what is printed next). */
void progress_end(progress *p);

#endif

/* Per-job memory: everything a job allocates comes from one arena and is freed at once. */
#ifndef BUNDLEFS_ARENA_H
#define BUNDLEFS_ARENA_H

#include <stddef.h>

typedef struct arena arena;

arena *arena_new(void);
void arena_free(arena *a);

/* Zeroed, 16-byte aligned. Aborts on out-of-memory, like the rest of the process would. */
void *arena_alloc(arena *a, size_t size);
/* Returns a copy of old (old_count elements) in a block of new_count elements; the rest is zeroed. */
void *arena_grow(arena *a, const void *old, size_t old_count, size_t new_count, size_t elem_size);
char *arena_strdup(arena *a, const char *s);
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Calls fn(ctx) when the arena is freed (last registered, first called): for resources that
 * are not memory, such as mappings, owned by the job. */
void arena_on_free(arena *a, void (*fn)(void *ctx), void *ctx);

/* Appends elem to a growable array: *items has *count elements and room for *cap. */
void arena_push(arena *a, void *items_ptr, size_t *count, size_t *cap, const void *elem,
                size_t elem_size);

#endif

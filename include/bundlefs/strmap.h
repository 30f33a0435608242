/* A string-keyed hash map that lives as long as an arena (keys are not copied: they must
 * outlive the map). The map struct itself must stay where it was initialized. */
#ifndef BUNDLEFS_STRMAP_H
#define BUNDLEFS_STRMAP_H

#include <stddef.h>

#include "bundlefs/arena.h"

typedef struct strmap {
    arena *a;
    struct strmap_slot *slots;
    size_t cap, count;
} strmap;

void strmap_init(strmap *m, arena *a);
/* The value stored for key, or NULL. */
void *strmap_get(const strmap *m, const char *key);
/* Stores value for key unless key is present; returns the value now stored for key. */
void *strmap_put_first(strmap *m, const char *key, void *value);
/* Stores value for key, replacing any previous one. */
void strmap_set(strmap *m, const char *key, void *value);
void strmap_clear(strmap *m);

#endif

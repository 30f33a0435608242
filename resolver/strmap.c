#include "bundlefs/strmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

struct strmap_slot {
    const char *key;
    size_t hash;
    void *value;
};

/* Slot tables are malloc'd, not taken from the arena: each growth would otherwise leave the
 * old table behind, and for a large map the abandoned tables outweigh the last one. */
static void strmap_release(void *ctx)
{
    strmap *m = ctx;
    free(m->slots);
    m->slots = NULL;
}

void strmap_init(strmap *m, arena *a)
{
    memset(m, 0, sizeof *m);
    m->a = a;
    arena_on_free(a, strmap_release, m);
}

static size_t strmap_hash(const char *key)
{
    return (size_t)XXH3_64bits(key, strlen(key));
}

static struct strmap_slot *strmap_find(const strmap *m, const char *key, size_t h)
{
    if (!m->cap)
        return NULL;
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        struct strmap_slot *s = &m->slots[i];
        if (!s->key || (s->hash == h && strcmp(s->key, key) == 0))
            return s;
    }
}

static void strmap_rehash(strmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    struct strmap_slot *old = m->slots;
    size_t ocap = m->cap;
    m->slots = calloc(ncap, sizeof *m->slots);
    if (!m->slots) {
        fputs("bundlefs: out of memory\n", stderr);
        abort();
    }
    m->cap = ncap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].key)
            *strmap_find(m, old[i].key, old[i].hash) = old[i];
    free(old);
}

void *strmap_get(const strmap *m, const char *key)
{
    struct strmap_slot *s = strmap_find(m, key, strmap_hash(key));
    return s && s->key ? s->value : NULL;
}

static struct strmap_slot *strmap_slot_for(strmap *m, const char *key, size_t h)
{
    if ((m->count + 1) * 4 > m->cap * 3)
        strmap_rehash(m);
    return strmap_find(m, key, h);
}

void *strmap_put_first(strmap *m, const char *key, void *value)
{
    size_t h = strmap_hash(key);
    struct strmap_slot *s = strmap_slot_for(m, key, h);
    if (!s->key) {
        s->key = key;
        s->hash = h;
        s->value = value;
        m->count++;
    }
    return s->value;
}

void strmap_set(strmap *m, const char *key, void *value)
{
    size_t h = strmap_hash(key);
    struct strmap_slot *s = strmap_slot_for(m, key, h);
    if (!s->key) {
        s->key = key;
        s->hash = h;
        m->count++;
    }
    s->value = value;
}

void strmap_clear(strmap *m)
{
    if (m->cap)
        memset(m->slots, 0, m->cap * sizeof *m->slots);
    m->count = 0;
}

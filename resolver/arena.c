#include "bundlefs/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Blocks are chained; a request larger than a block gets a block of its own. */
struct block {
    struct block *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
};

struct cleanup {
    struct cleanup *next;
    void (*fn)(void *ctx);
    void *ctx;
};

struct arena {
    struct block *head;
    struct cleanup *cleanups;
};

enum { ARENA_BLOCK = 64 * 1024 };

static struct block *block_new(size_t size)
{
    struct block *b = malloc(sizeof *b + size);
    if (!b) {
        fputs("bundlefs: out of memory\n", stderr);
        abort();
    }
    b->next = NULL;
    b->used = 0;
    b->size = size;
    return b;
}

arena *arena_new(void)
{
    arena *a = calloc(1, sizeof *a);
    if (!a) {
        fputs("bundlefs: out of memory\n", stderr);
        abort();
    }
    return a;
}

void arena_free(arena *a)
{
    if (!a)
        return;
    for (struct cleanup *c = a->cleanups; c; c = c->next)
        c->fn(c->ctx);
    for (struct block *b = a->head, *n; b; b = n) {
        n = b->next;
        free(b);
    }
    free(a);
}

void *arena_alloc(arena *a, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    struct block *b = a->head;
    if (!b || b->size - b->used < size) {
        if (size > ARENA_BLOCK / 4) {
            /* Big requests get their own block behind the head so the head keeps its room. */
            struct block *big = block_new(size);
            if (b) {
                big->next = b->next;
                b->next = big;
            } else {
                a->head = big;
            }
            big->used = size;
            memset(big->data, 0, size);
            return big->data;
        }
        b = block_new(ARENA_BLOCK);
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += size;
    memset(p, 0, size);
    return p;
}

void *arena_grow(arena *a, const void *old, size_t old_count, size_t new_count, size_t elem_size)
{
    if (new_count && elem_size > SIZE_MAX / new_count) {
        fputs("bundlefs: out of memory\n", stderr);
        abort();
    }
    void *p = arena_alloc(a, new_count * elem_size);
    if (old && old_count)
        memcpy(p, old, (old_count < new_count ? old_count : new_count) * elem_size);
    return p;
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

char *arena_printf(arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = arena_alloc(a, (size_t)(n < 0 ? 0 : n) + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void arena_push(arena *a, void *items_ptr, size_t *count, size_t *cap, const void *elem,
                size_t elem_size)
{
    void **items = items_ptr;
    if (*count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        *items = arena_grow(a, *items, *count, ncap, elem_size);
        *cap = ncap;
    }
    memcpy((unsigned char *)*items + *count * elem_size, elem, elem_size);
    (*count)++;
}

void arena_on_free(arena *a, void (*fn)(void *ctx), void *ctx)
{
    struct cleanup *c = arena_alloc(a, sizeof *c);
    c->fn = fn;
    c->ctx = ctx;
    c->next = a->cleanups;
    a->cleanups = c;
}

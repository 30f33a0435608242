/* Byte strings in the JSON files bundlefs writes (traces, layouts): paths and names are bytes,
 * not text, so one that is not UTF-8 is written as {"hex": "<lowercase hex>"} instead of a
 * JSON string, and reads back byte for byte. Private to the resolver library. */
#ifndef BUNDLEFS_JSON_BYTES_H
#define BUNDLEFS_JSON_BYTES_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "bundlefs/arena.h"
#include "bundlefs/err.h"

/* s as JSON: null for NULL, a JSON string when it is UTF-8, else {"hex": ...}. */
json_t *json_bytes_str(const char *s);

/* The same as JSON text written to f, for n bytes that may hold NUL (written as hex, so
 * readers need no JSON_ALLOW_NUL), with no json_t in between: for writers of documents too
 * large to build as a tree first. */
void json_bytes_write(FILE *f, const char *s, size_t n);

/* The reverse of json_bytes_str: NULL for JSON null; a string holding NUL or anything else
 * is an error naming where and key. */
int json_bytes_get_str(const json_t *v, arena *a, const char **out, const char *where,
                       const char *key, bf_err *err);
/* The reverse of json_bytes_strn: *out (NUL-terminated too) and its length, NULL and 0 for
 * JSON null. */
int json_bytes_get_strn(const json_t *v, arena *a, const char **out, size_t *len,
                        const char *where, const char *key, bf_err *err);

#endif

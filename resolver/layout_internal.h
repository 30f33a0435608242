/* Shared by the layout reader, writer and validator: the JSON mapping of the layout structs,
 * one field table per struct read and written by the same two functions, so each field of
 * bundle.json is described once for both directions. */
#ifndef BUNDLEFS_LAYOUT_INTERNAL_H
#define BUNDLEFS_LAYOUT_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "bundlefs/layout.h"
#include "json_bytes.h"

typedef enum layout_ftype {
    LF_STR,     /* const char *, required, not null */
    LF_OPTSTR,  /* const char *, null or absent for NULL */
    LF_BYTES,   /* const char * of any bytes, its size_t length at aux; required */
    LF_I64,     /* int64_t */
    LF_U64,     /* uint64_t, written as the JSON integer; negative ones are refused */
    LF_MODE,    /* uint32_t permission bits, 0..07777 */
    LF_BOOL,    /* bool */
    LF_HASH,    /* char[33]: 32 lowercase hex digits */
    LF_INDEX,   /* long: an index, or -1 written as null */
    LF_ENUM,    /* an enum, written as names[value] */
    LF_STRLIST, /* const char **, its size_t count at aux; no null items */
    LF_LIST,    /* a list of sub structs of elem_size bytes, its size_t count at aux */
    LF_OBJ,     /* a JSON object whose sub fields are fields of the same struct */
    LF_OPTOBJ,  /* a sub struct at offset, present when the bool at aux is true; null if not */
    LF_VARIANT, /* no key: the fields of variants[the enum at offset] in the same object */
} layout_ftype;

typedef struct layout_field {
    const char *key;
    layout_ftype type;
    size_t offset;
    size_t aux;
    const struct layout_field *sub;               /* LF_LIST, LF_OBJ, LF_OPTOBJ */
    size_t elem_size;                             /* LF_LIST */
    const char *const *names;                     /* LF_ENUM, LF_VARIANT: NULL-terminated */
    const struct layout_field *const *variants;   /* LF_VARIANT: one table per enum value */
} layout_field;

/* The top-level members of bundle.json other than "format" and "version". */
extern const layout_field layout_fields[];

/* Writes base's fields to f as members of a JSON object whose braces the caller writes; *first
 * says no member was written yet. pretty (the top level) puts each member, and each item of
 * a list member, on its own line: one line per entry keeps a large layout readable. */
void layout_fields_write(FILE *f, const layout_field *fields, const void *base, bool *first,
                         bool pretty);
/* Sets base from obj. A list element is named in messages by where, its key and index, and
 * the value of its first field when that is a string ("name: entries[3] (bin/app)"). */
int layout_fields_from_json(const json_t *obj, const layout_field *fields, void *base,
                            arena *a, const char *where, bf_err *err);

bool layout_hash_valid(const char *hash);

#endif

/* The JSON mapping of the layout: one table per struct, read and written by the same two
 * functions; byte strings go through json_bytes, so any bytes a path holds survive. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "layout_internal.h"

/* LF_ENUM and LF_VARIANT read and write enums as int. */
_Static_assert(sizeof(enum layout_type) == sizeof(int), "enum layout_type is not an int");
_Static_assert(sizeof(enum layout_dep_status) == sizeof(int), "enum layout_dep_status is not an int");

#define FLD(type, key, ftype) {#key, ftype, offsetof(type, key), 0, NULL, 0, NULL, NULL}
#define KEYED(type, key, member, ftype) {key, ftype, offsetof(type, member), 0, NULL, 0, NULL, NULL}
#define COUNTED(type, key, ftype, count) \
    {#key, ftype, offsetof(type, key), offsetof(type, count), NULL, 0, NULL, NULL}
#define LIST(type, key, count, subtable, elem) \
    {#key, LF_LIST, offsetof(type, key), offsetof(type, count), subtable, sizeof(elem), NULL, NULL}
#define END {NULL, 0, 0, 0, NULL, 0, NULL, NULL}

static const char *const layout_type_names[] = {"dir", "file", "symlink", "generated", NULL};
static const char *const layout_status_names[] = {"bundled", "excluded", "missing", NULL};

static const layout_field layout_rename_fields[] = {
    FLD(elf_rename, from, LF_STR), FLD(elf_rename, to, LF_STR), END,
};

static const layout_field layout_edit_fields[] = {
    FLD(elf_edit, rpath, LF_OPTSTR),
    FLD(elf_edit, runpath, LF_OPTSTR),
    FLD(elf_edit, remove_rpath, LF_BOOL),
    LIST(elf_edit, needed, nneeded, layout_rename_fields, elf_rename),
    FLD(elf_edit, soname, LF_OPTSTR),
    END,
};

static const layout_field layout_dir_fields[] = {
    FLD(layout_entry, mode, LF_MODE), FLD(layout_entry, mtime_ns, LF_I64), END,
};

static const layout_field layout_file_fields[] = {
    FLD(layout_entry, mode, LF_MODE),
    FLD(layout_entry, mtime_ns, LF_I64),
    FLD(layout_entry, source, LF_STR),
    FLD(layout_entry, size, LF_U64),
    FLD(layout_entry, hash, LF_HASH),
    {"edit", LF_OPTOBJ, offsetof(layout_entry, edit), offsetof(layout_entry, has_edit),
     layout_edit_fields, 0, NULL, NULL},
    END,
};

/* a symlink's mode and time are the link's own, which nothing serves or sets */
static const layout_field layout_symlink_fields[] = {FLD(layout_entry, target, LF_STR), END};

static const layout_field layout_generated_fields[] = {
    FLD(layout_entry, mode, LF_MODE),
    FLD(layout_entry, mtime_ns, LF_I64),
    COUNTED(layout_entry, content, LF_BYTES, content_len),
    END,
};

static const layout_field *const layout_entry_variants[] = {
    [LAYOUT_DIR] = layout_dir_fields,
    [LAYOUT_FILE] = layout_file_fields,
    [LAYOUT_SYMLINK] = layout_symlink_fields,
    [LAYOUT_GENERATED] = layout_generated_fields,
};

static const layout_field layout_entry_fields[] = {
    FLD(layout_entry, path, LF_STR),
    {"type", LF_ENUM, offsetof(layout_entry, type), 0, NULL, 0, layout_type_names, NULL},
    {"type", LF_VARIANT, offsetof(layout_entry, type), 0, NULL, 0, layout_type_names,
     layout_entry_variants},
    END,
};

static const layout_field layout_dep_fields[] = {
    FLD(layout_dep, name, LF_STR),
    FLD(layout_dep, kind, LF_STR),
    {"status", LF_ENUM, offsetof(layout_dep, status), 0, NULL, 0, layout_status_names, NULL},
    FLD(layout_dep, target, LF_INDEX),
    FLD(layout_dep, found, LF_OPTSTR),
    FLD(layout_dep, step, LF_OPTSTR),
    FLD(layout_dep, origin, LF_STR),
    END,
};

static const layout_field layout_object_fields[] = {
    FLD(layout_object, real, LF_STR),
    FLD(layout_object, source, LF_STR),
    FLD(layout_object, hash, LF_HASH),
    FLD(layout_object, size, LF_U64),
    FLD(layout_object, root, LF_OPTSTR),
    LIST(layout_object, deps, ndeps, layout_dep_fields, layout_dep),
    COUNTED(layout_object, aliases, LF_STRLIST, naliases),
    END,
};

static const layout_field layout_excluded_fields[] = {
    FLD(layout_excluded, name, LF_STR), FLD(layout_excluded, path, LF_STR),
    FLD(layout_excluded, rule, LF_STR), END,
};

static const layout_field layout_missing_fields[] = {
    FLD(layout_missing, requester, LF_STR), FLD(layout_missing, name, LF_STR),
    COUNTED(layout_missing, tried, LF_STRLIST, ntried), END,
};

static const layout_field layout_requires_fields[] = {
    KEYED(layout, "glibc", requires_glibc, LF_OPTSTR),
    KEYED(layout, "glibcxx", requires_glibcxx, LF_OPTSTR),
    KEYED(layout, "cxxabi", requires_cxxabi, LF_OPTSTR),
    END,
};

const layout_field layout_fields[] = {
    FLD(layout, name, LF_STR),
    FLD(layout, platform, LF_STR),
    FLD(layout, launcher, LF_OPTSTR),
    {"requires", LF_OBJ, 0, 0, layout_requires_fields, 0, NULL, NULL},
    LIST(layout, entries, nentries, layout_entry_fields, layout_entry),
    LIST(layout, objects, nobjects, layout_object_fields, layout_object),
    LIST(layout, excluded, nexcluded, layout_excluded_fields, layout_excluded),
    LIST(layout, missing, nmissing, layout_missing_fields, layout_missing),
    COUNTED(layout, warnings, LF_STRLIST, nwarnings),
    END,
};

static size_t layout_count(const char *const *names)
{
    size_t n = 0;
    while (names[n])
        n++;
    return n;
}

/* ---- writing: straight to the stream, since a tree of a large layout costs more to build
 * than the text does to write */

static void layout_value_write(FILE *f, const layout_field *fl, const void *base, bool pretty);

void layout_fields_write(FILE *f, const layout_field *fields, const void *base, bool *first,
                         bool pretty)
{
    for (const layout_field *fl = fields; fl->key; fl++) {
        if (fl->type == LF_VARIANT) {
            int v = *(const int *)((const char *)base + fl->offset);
            if (v >= 0 && (size_t)v < layout_count(fl->names))
                layout_fields_write(f, fl->variants[v], base, first, pretty);
            continue;
        }
        fputs(*first ? "" : pretty ? ",\n " : ", ", f);
        *first = false;
        fprintf(f, "\"%s\": ", fl->key);
        layout_value_write(f, fl, base, pretty);
    }
}

static void layout_object_write(FILE *f, const layout_field *fields, const void *base)
{
    bool first = true;
    putc('{', f);
    layout_fields_write(f, fields, base, &first, false);
    putc('}', f);
}

/* A list; pretty (a top-level member) puts each item on its own line. */
static void layout_list_write(FILE *f, const layout_field *fl, const void *items, size_t n,
                              bool pretty)
{
    putc('[', f);
    for (size_t i = 0; i < n; i++) {
        fputs(pretty ? (i ? ",\n  " : "\n  ") : (i ? ", " : ""), f);
        if (fl->type == LF_STRLIST) {
            const char *s = ((const char *const *)items)[i];
            json_bytes_write(f, s, s ? strlen(s) : 0);
        } else {
            layout_object_write(f, fl->sub, (const char *)items + i * fl->elem_size);
        }
    }
    fputs(pretty && n ? "\n ]" : "]", f);
}

static void layout_value_write(FILE *f, const layout_field *fl, const void *base, bool pretty)
{
    const char *p = (const char *)base + fl->offset;
    const char *aux = (const char *)base + fl->aux;
    switch (fl->type) {
    case LF_STR:
    case LF_OPTSTR:
    case LF_HASH: {
        const char *s = fl->type == LF_HASH ? p : *(const char *const *)p;
        json_bytes_write(f, s, s ? strlen(s) : 0);
        return;
    }
    case LF_BYTES: json_bytes_write(f, *(const char *const *)p, *(const size_t *)aux); return;
    case LF_I64: fprintf(f, "%lld", (long long)*(const int64_t *)p); return;
    case LF_U64: fprintf(f, "%llu", (unsigned long long)*(const uint64_t *)p); return;
    case LF_MODE: fprintf(f, "%u", (unsigned)*(const uint32_t *)p); return;
    case LF_BOOL: fputs(*(const bool *)p ? "true" : "false", f); return;
    case LF_INDEX:
        if (*(const long *)p < 0)
            fputs("null", f);
        else
            fprintf(f, "%ld", *(const long *)p);
        return;
    case LF_ENUM: {
        int v = *(const int *)p;
        if (v >= 0 && (size_t)v < layout_count(fl->names))
            fprintf(f, "\"%s\"", fl->names[v]);
        else
            fputs("null", f);
        return;
    }
    case LF_STRLIST:
    case LF_LIST:
        layout_list_write(f, fl, *(const void *const *)p, *(const size_t *)aux, pretty);
        return;
    case LF_OBJ: layout_object_write(f, fl->sub, base); return;
    case LF_OPTOBJ:
        if (*(const bool *)aux)
            layout_object_write(f, fl->sub, p);
        else
            fputs("null", f);
        return;
    case LF_VARIANT: return;
    }
}

/* ---- reading */

static int layout_enum_from_json(const json_t *v, const layout_field *f, int *out,
                                 const char *where, bf_err *err)
{
    for (size_t i = 0; json_is_string(v) && f->names[i]; i++)
        if (!strcmp(json_string_value(v), f->names[i])) {
            *out = (int)i;
            return BF_OK;
        }
    char choices[256] = "";
    for (size_t i = 0, n = 0; f->names[i] && n < sizeof choices; i++)
        n += (size_t)snprintf(choices + n, sizeof choices - n, "%s\"%s\"", i ? ", " : "",
                              f->names[i]);
    return err_set(err, "%s: \"%s\" must be one of %s", where, f->key, choices);
}

static int layout_strlist_from_json(const json_t *v, const layout_field *f, const char ***out,
                                    size_t *count, arena *a, const char *where, bf_err *err)
{
    if (!json_is_array(v))
        return err_set(err, "%s: \"%s\" must be a list of strings", where, f->key);
    *count = json_array_size(v);
    *out = arena_alloc(a, (*count + 1) * sizeof **out);
    for (size_t i = 0; i < *count; i++) {
        if (json_bytes_get_str(json_array_get(v, i), a, &(*out)[i], where, f->key, err))
            return BF_FAIL;
        if (!(*out)[i])
            return err_set(err, "%s: \"%s\" holds a null", where, f->key);
    }
    return BF_OK;
}

static int layout_list_from_json(const json_t *v, const layout_field *f, char **out,
                                 size_t *count, arena *a, const char *where, bf_err *err)
{
    if (!json_is_array(v))
        return err_set(err, "%s: \"%s\" must be a list", where, f->key);
    *count = json_array_size(v);
    *out = arena_alloc(a, (*count + 1) * f->elem_size);
    for (size_t i = 0; i < *count; i++) {
        const json_t *item = json_array_get(v, i);
        /* an element is named by its first field, when that is a plain string (a path) */
        const json_t *first = json_is_object(item) ? json_object_get(item, f->sub->key) : NULL;
        char here[1024];
        if (f->sub->type == LF_STR && json_is_string(first))
            snprintf(here, sizeof here, "%s: %s[%zu] (%s)", where, f->key, i,
                     json_string_value(first));
        else
            snprintf(here, sizeof here, "%s: %s[%zu]", where, f->key, i);
        if (layout_fields_from_json(item, f->sub, *out + i * f->elem_size, a, here, err))
            return BF_FAIL;
    }
    return BF_OK;
}

static int layout_integer(const json_t *v, const layout_field *f, json_int_t min,
                          json_int_t max, json_int_t *out, const char *where, bf_err *err)
{
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        if (min == 0 && max == 07777)
            return err_set(err, "%s: \"%s\" must be permission bits, an integer from 0 to "
                                "4095 (07777)", where, f->key);
        return err_set(err, "%s: \"%s\" must be an integer%s", where, f->key,
                       min == 0 ? " from 0 up" : "");
    }
    *out = json_integer_value(v);
    return BF_OK;
}

/* One field; v is NULL when the key is absent, which only nullable fields allow. */
static int layout_field_from_json(const json_t *v, const json_t *obj, const layout_field *f,
                                  void *base, arena *a, const char *where, bf_err *err)
{
    char *p = (char *)base + f->offset;
    char *aux = (char *)base + f->aux;
    json_int_t n;
    char here[1024];
    switch (f->type) {
    case LF_STR:
        if (json_is_null(v))
            return err_set(err, "%s: \"%s\" must be a string, not null", where, f->key);
        return json_bytes_get_str(v, a, (const char **)p, where, f->key, err);
    case LF_OPTSTR:
        *(const char **)p = NULL;
        return v ? json_bytes_get_str(v, a, (const char **)p, where, f->key, err) : BF_OK;
    case LF_BYTES:
        if (json_is_null(v))
            return err_set(err, "%s: \"%s\" must be a string, not null", where, f->key);
        return json_bytes_get_strn(v, a, (const char **)p, (size_t *)aux, where, f->key, err);
    case LF_I64:
        if (layout_integer(v, f, INT64_MIN, INT64_MAX, &n, where, err))
            return BF_FAIL;
        *(int64_t *)p = n;
        return BF_OK;
    case LF_U64:
        if (layout_integer(v, f, 0, INT64_MAX, &n, where, err))
            return BF_FAIL;
        *(uint64_t *)p = (uint64_t)n;
        return BF_OK;
    case LF_MODE:
        if (layout_integer(v, f, 0, 07777, &n, where, err))
            return BF_FAIL;
        *(uint32_t *)p = (uint32_t)n;
        return BF_OK;
    case LF_BOOL:
        if (!json_is_boolean(v))
            return err_set(err, "%s: \"%s\" must be true or false", where, f->key);
        *(bool *)p = json_is_true(v);
        return BF_OK;
    case LF_HASH:
        if (!json_is_string(v) || json_string_length(v) != 32 ||
            !layout_hash_valid(json_string_value(v)))
            return err_set(err, "%s: \"%s\" must be 32 lowercase hex digits (XXH3-128)", where,
                           f->key);
        memcpy(p, json_string_value(v), 33);
        return BF_OK;
    case LF_INDEX:
        *(long *)p = -1;
        if (!v || json_is_null(v))
            return BF_OK;
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            (unsigned long long)json_integer_value(v) > (unsigned long long)LONG_MAX)
            return err_set(err, "%s: \"%s\" must be an index (an integer from 0) or null",
                           where, f->key);
        *(long *)p = (long)json_integer_value(v);
        return BF_OK;
    case LF_ENUM: return layout_enum_from_json(v, f, (int *)p, where, err);
    case LF_STRLIST:
        return layout_strlist_from_json(v, f, (const char ***)p, (size_t *)aux, a, where, err);
    case LF_LIST: return layout_list_from_json(v, f, (char **)p, (size_t *)aux, a, where, err);
    case LF_OBJ:
        snprintf(here, sizeof here, "%s: %s", where, f->key);
        return layout_fields_from_json(v, f->sub, base, a, here, err);
    case LF_OPTOBJ:
        *(bool *)aux = v && !json_is_null(v);
        if (!*(bool *)aux)
            return BF_OK;
        snprintf(here, sizeof here, "%s: %s", where, f->key);
        return layout_fields_from_json(v, f->sub, p, a, here, err);
    case LF_VARIANT:
        /* the LF_ENUM before it has checked the value */
        return layout_fields_from_json(obj, f->variants[*(const int *)p], base, a, where, err);
    }
    return BF_OK;
}

static bool layout_nullable(layout_ftype t)
{
    return t == LF_OPTSTR || t == LF_INDEX || t == LF_OPTOBJ || t == LF_VARIANT;
}

int layout_fields_from_json(const json_t *obj, const layout_field *fields, void *base,
                            arena *a, const char *where, bf_err *err)
{
    if (!json_is_object(obj))
        return err_set(err, "%s must be a JSON object", where);
    for (const layout_field *f = fields; f->key; f++) {
        const json_t *v = f->type == LF_VARIANT ? NULL : json_object_get(obj, f->key);
        if (!v && !layout_nullable(f->type))
            return err_set(err, "%s: no \"%s\"", where, f->key);
        if (layout_field_from_json(v, obj, f, base, a, where, err))
            return BF_FAIL;
    }
    return BF_OK;
}

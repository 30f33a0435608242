/* The JSON mapping of trace fields: one table per struct, read and written by the same two
 * functions; strings go through json_bytes, so any bytes a path holds survive. */
#include <stddef.h>

#include "trace_internal.h"

#define F(type, key, ftype) {#key, ftype, offsetof(type, key)}

const trace_field trace_object_fields[] = {
    F(trace_object, id, TF_LONG),     F(trace_object, name, TF_STR),
    F(trace_object, file, TF_STR),    F(trace_object, realpath, TF_STR),
    F(trace_object, dev, TF_U64),     F(trace_object, ino, TF_U64),
    F(trace_object, lmid, TF_LONG),   F(trace_object, closed, TF_BOOL),
    F(trace_object, inherited, TF_BOOL), {NULL, 0, 0},
};

const trace_field trace_load_fields[] = {
    F(trace_load, requester, TF_LONG), F(trace_load, name, TF_STR),
    F(trace_load, lmid, TF_LONG),      F(trace_load, mode, TF_LONG),
    F(trace_load, tid, TF_LONG),       F(trace_load, object, TF_LONG),
    {NULL, 0, 0},
};

const trace_field trace_process_fields[] = {
    F(trace_process, pid, TF_LONG),          F(trace_process, ppid, TF_LONG),
    F(trace_process, parent, TF_LONG),       F(trace_process, origin, TF_STR),
    F(trace_process, started_ns, TF_U64),    F(trace_process, exe, TF_STR),
    F(trace_process, argv, TF_STRLIST),      F(trace_process, audited, TF_BOOL),
    F(trace_process, not_audited_why, TF_STR), F(trace_process, reached_exit, TF_BOOL),
    {NULL, 0, 0},
};

const trace_field trace_python_fields[] = {
    F(trace_python, pid, TF_LONG),
    F(trace_python, ppid, TF_LONG),
    F(trace_python, started_ns, TF_U64),
    F(trace_python, complete, TF_BOOL),
    F(trace_python, end, TF_STR),
    F(trace_python, executable, TF_STR),
    F(trace_python, executable_realpath, TF_STR),
    F(trace_python, orig_argv, TF_STRLIST),
    F(trace_python, argv, TF_STRLIST),
    F(trace_python, python_version, TF_STR),
    F(trace_python, implementation, TF_STR),
    F(trace_python, cache_tag, TF_STR),
    F(trace_python, abiflags, TF_STR),
    F(trace_python, multiarch, TF_STR),
    F(trace_python, soabi, TF_STR),
    F(trace_python, extension_suffixes, TF_STRLIST),
    F(trace_python, prefix, TF_STR),
    F(trace_python, base_prefix, TF_STR),
    F(trace_python, exec_prefix, TF_STR),
    F(trace_python, base_exec_prefix, TF_STR),
    F(trace_python, platlibdir, TF_STR),
    F(trace_python, stdlib, TF_STR),
    F(trace_python, lib_dynload, TF_STR),
    F(trace_python, path_start, TF_STRLIST),
    F(trace_python, path_exit, TF_STRLIST),
    F(trace_python, hook_imported, TF_STRLIST),
    F(trace_python, main_script, TF_STR),
    F(trace_python, main_module, TF_STR),
    F(trace_python, cwd, TF_STR),
    {NULL, 0, 0},
};

json_t *trace_fields_to_json(const trace_field *fields, const void *base)
{
    json_t *o = json_object();
    for (const trace_field *f = fields; f->key; f++) {
        const char *p = (const char *)base + f->offset;
        json_t *v;
        switch (f->type) {
        case TF_STR: v = json_bytes_str(*(const char *const *)p); break;
        case TF_LONG: v = json_integer(*(const long *)p); break;
        case TF_U64: v = json_integer((json_int_t) * (const uint64_t *)p); break;
        case TF_BOOL: v = json_boolean(*(const bool *)p); break;
        default: {
            const trace_strlist *l = (const trace_strlist *)p;
            if (!l->items) {
                v = json_null();
                break;
            }
            v = json_array();
            for (size_t i = 0; i < l->count; i++)
                json_array_append_new(v, json_bytes_str(l->items[i]));
        }
        }
        json_object_set_new(o, f->key, v);
    }
    return o;
}

int trace_fields_from_json(const json_t *obj, const trace_field *fields, void *base, arena *a,
                           const char *where, bf_err *err)
{
    if (!json_is_object(obj))
        return err_set(err, "%s must be a JSON object", where);
    for (const trace_field *f = fields; f->key; f++) {
        char *p = (char *)base + f->offset;
        const json_t *v = json_object_get(obj, f->key);
        if (!v)
            return err_set(err, "%s has no \"%s\"", where, f->key);
        switch (f->type) {
        case TF_STR:
            if (json_bytes_get_str(v, a, (const char **)p, where, f->key, err))
                return BF_FAIL;
            break;
        case TF_LONG:
        case TF_U64:
            /* 64-bit unsigned values (inode numbers, clocks) are stored as the signed 64-bit
             * integer of the same bits, the widest integer JSON readers agree on */
            if (!json_is_integer(v))
                return err_set(err, "%s: \"%s\" must be an integer", where, f->key);
            if (f->type == TF_LONG)
                *(long *)p = (long)json_integer_value(v);
            else
                *(uint64_t *)p = (uint64_t)json_integer_value(v);
            break;
        case TF_BOOL:
            if (!json_is_boolean(v))
                return err_set(err, "%s: \"%s\" must be true or false", where, f->key);
            *(bool *)p = json_is_true(v);
            break;
        default: {
            trace_strlist *l = (trace_strlist *)p;
            l->items = NULL;
            l->count = 0;
            if (json_is_null(v))
                break;
            if (!json_is_array(v))
                return err_set(err, "%s: \"%s\" must be a list of strings", where, f->key);
            l->count = json_array_size(v);
            l->items = arena_alloc(a, (l->count + 1) * sizeof *l->items);
            for (size_t i = 0; i < l->count; i++)
                if (json_bytes_get_str(json_array_get(v, i), a, &l->items[i], where, f->key,
                                       err))
                    return BF_FAIL;
        }
        }
    }
    return BF_OK;
}

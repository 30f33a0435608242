/* The Python facts: the hook's record file and the "python" member of a trace process share
 * one JSON form. */
#include <stdio.h>
#include <string.h>

#include "trace_internal.h"

static const char *const trace_python_flags[] = {"isolated", "ignore_environment", "no_site",
                                                 "no_user_site", "safe_path"};

static bool *trace_python_flag(trace_python *py, size_t i)
{
    bool *flags[] = {&py->isolated, &py->ignore_environment, &py->no_site, &py->no_user_site,
                     &py->safe_path};
    return flags[i];
}

json_t *trace_python_to_json(const trace_python *py)
{
    json_t *o = trace_fields_to_json(trace_python_fields, py);
    json_object_set_new(o, "forked_from",
                        py->forked_from < 0 ? json_null() : json_integer(py->forked_from));
    json_t *vi = json_array();
    for (size_t i = 0; i < py->version_info.count; i++)
        json_array_append_new(vi, json_bytes_str(py->version_info.items[i]));
    json_object_set_new(o, "version_info", vi);
    json_t *mods = json_array();
    for (size_t i = 0; i < py->nmodules; i++)
        json_array_append_new(mods, json_pack("{s:o,s:o,s:o}", "name",
                                              json_bytes_str(py->modules[i].name), "origin",
                                              json_bytes_str(py->modules[i].origin), "file",
                                              json_bytes_str(py->modules[i].file)));
    json_object_set_new(o, "modules", mods);
    json_t *env = json_object();
    for (size_t i = 0; i < py->nenv; i++)
        json_object_set_new(env, py->env[i].name, json_bytes_str(py->env[i].value));
    json_object_set_new(o, "env", env);
    json_t *flags = json_object();
    for (size_t i = 0; i < sizeof trace_python_flags / sizeof *trace_python_flags; i++)
        json_object_set_new(flags, trace_python_flags[i],
                            json_boolean(*trace_python_flag((trace_python *)py, i)));
    json_object_set_new(o, "flags", flags);
    return o;
}

static int trace_python_modules(const json_t *mods, trace_python *py, arena *a,
                                const char *where, bf_err *err)
{
    if (!json_is_array(mods))
        return err_set(err, "%s: \"modules\" must be a list", where);
    py->nmodules = json_array_size(mods);
    py->modules = arena_alloc(a, (py->nmodules + 1) * sizeof *py->modules);
    for (size_t i = 0; i < py->nmodules; i++) {
        const json_t *m = json_array_get(mods, i);
        trace_pymodule *pm = &py->modules[i];
        if (!json_is_object(m))
            return err_set(err, "%s: modules[%zu] must be an object", where, i);
        if (json_bytes_get_str(json_object_get(m, "name"), a, &pm->name, where, "modules.name",
                               err) ||
            json_bytes_get_str(json_object_get(m, "origin"), a, &pm->origin, where,
                               "modules.origin", err) ||
            json_bytes_get_str(json_object_get(m, "file"), a, &pm->file, where, "modules.file",
                               err))
            return BF_FAIL;
        if (!pm->name)
            return err_set(err, "%s: modules[%zu] has no name", where, i);
    }
    return BF_OK;
}

static int trace_python_env(const json_t *env, trace_python *py, arena *a, const char *where,
                            bf_err *err)
{
    if (!json_is_object(env))
        return err_set(err, "%s: \"env\" must be an object", where);
    py->env = arena_alloc(a, (json_object_size(env) + 1) * sizeof *py->env);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)env, k, v) {
        trace_env *e = &py->env[py->nenv++];
        e->name = arena_strdup(a, k);
        if (json_bytes_get_str(v, a, &e->value, where, k, err))
            return BF_FAIL;
    }
    return BF_OK;
}

int trace_python_from_json(const json_t *obj, trace_python *py, arena *a, const char *where,
                           bf_err *err)
{
    memset(py, 0, sizeof *py);
    if (trace_fields_from_json(obj, trace_python_fields, py, a, where, err))
        return BF_FAIL;
    const json_t *ff = json_object_get(obj, "forked_from");
    if (!json_is_null(ff) && (!json_is_integer(ff) || json_integer_value(ff) < 0))
        return err_set(err, "%s: \"forked_from\" must be a process id or null", where);
    py->forked_from = json_is_integer(ff) ? (long)json_integer_value(ff) : -1;

    const json_t *vi = json_object_get(obj, "version_info");
    if (!json_is_array(vi))
        return err_set(err, "%s: \"version_info\" must be a list", where);
    py->version_info.count = json_array_size(vi);
    py->version_info.items = arena_alloc(a, (py->version_info.count + 1) * sizeof(char *));
    for (size_t i = 0; i < py->version_info.count; i++) {
        const json_t *v = json_array_get(vi, i);
        if (json_is_integer(v))
            py->version_info.items[i] = arena_printf(a, "%lld", (long long)json_integer_value(v));
        else if (json_bytes_get_str(v, a, &py->version_info.items[i], where, "version_info",
                                    err))
            return BF_FAIL;
    }
    if (trace_python_modules(json_object_get(obj, "modules"), py, a, where, err) ||
        trace_python_env(json_object_get(obj, "env"), py, a, where, err))
        return BF_FAIL;
    const json_t *flags = json_object_get(obj, "flags");
    if (!json_is_object(flags))
        return err_set(err, "%s: \"flags\" must be an object", where);
    for (size_t i = 0; i < sizeof trace_python_flags / sizeof *trace_python_flags; i++) {
        const json_t *f = json_object_get(flags, trace_python_flags[i]);
        if (!json_is_boolean(f))
            return err_set(err, "%s: flags.%s must be true or false", where,
                           trace_python_flags[i]);
        *trace_python_flag(py, i) = json_is_true(f);
    }
    return BF_OK;
}

int trace_python_read_file(const char *path, arena *a, trace_python *out, bf_err *err)
{
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return err_set(err, "%s: not a Python hook record (line %d: %s)", path, je.line, je.text);
    int rc = BF_FAIL;
    const json_t *fmt = json_object_get(root, "format"), *ver = json_object_get(root, "version");
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), "bundlefs-python-facts"))
        err_set(err, "%s: not a Python hook record (\"format\" is not \"bundlefs-python-facts\")",
                path);
    else if (!json_is_integer(ver) || json_integer_value(ver) != 1)
        err_set(err, "%s: Python hook record version is not 1; the hook and bundlefs come from "
                     "different builds",
                path);
    else
        rc = trace_python_from_json(root, out, a, path, err);
    json_decref(root);
    return rc;
}

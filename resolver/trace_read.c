/* Reads a trace file for the later stages. Every reference (parent process, requester,
 * object) is checked, so a consumer can index with them without checking again. */
#include <string.h>

#include "trace_internal.h"

static int trace_enum(const json_t *v, const char *const *names, size_t n, int *out,
                      const char *where, const char *key, bf_err *err)
{
    for (size_t i = 0; json_is_string(v) && i < n; i++)
        if (!strcmp(json_string_value(v), names[i])) {
            *out = (int)i;
            return BF_OK;
        }
    return err_set(err, "%s: \"%s\" has an unknown value", where, key);
}

static bool trace_has_object(const trace_process *p, long id)
{
    for (size_t i = 0; i < p->nobjects; i++)
        if (p->objects[i].id == id)
            return true;
    return false;
}

static int trace_read_load(const json_t *o, const trace_process *p, trace_load *l, arena *a,
                           const char *where, bf_err *err)
{
    static const char *const kinds[] = {"needed", "dlopen", "preload"};
    static const char *const statuses[] = {"loaded", "already-loaded", "failed"};
    int kind = 0, status = 0;
    if (trace_fields_from_json(o, trace_load_fields, l, a, where, err) ||
        trace_enum(json_object_get(o, "kind"), kinds, 3, &kind, where, "kind", err) ||
        trace_enum(json_object_get(o, "status"), statuses, 3, &status, where, "status", err))
        return BF_FAIL;
    l->kind = (enum trace_kind)kind;
    l->status = (enum trace_status)status;
    if (!l->name)
        return err_set(err, "%s: a load has no name", where);
    if (l->requester != -1 && !trace_has_object(p, l->requester))
        return err_set(err, "%s: requester %ld is not an object of the process", where,
                       l->requester);
    if ((l->object != -1 || l->status != TRACE_FAILED) &&
        !(l->object == -1 && l->status == TRACE_ALREADY_LOADED) &&
        !trace_has_object(p, l->object))
        return err_set(err, "%s: object %ld is not an object of the process", where, l->object);
    const json_t *cands = json_object_get(o, "candidates");
    if (!json_is_array(cands))
        return err_set(err, "%s: \"candidates\" must be a list", where);
    l->ncandidates = json_array_size(cands);
    l->candidates = arena_alloc(a, (l->ncandidates + 1) * sizeof *l->candidates);
    for (size_t i = 0; i < l->ncandidates; i++) {
        const json_t *c = json_array_get(cands, i);
        trace_candidate *tc = &l->candidates[i];
        if (json_bytes_get_str(json_object_get(c, "path"), a, &tc->path, where, "path", err) ||
            json_bytes_get_str(json_object_get(c, "step"), a, &tc->step, where, "step", err))
            return BF_FAIL;
        if (!tc->path || !tc->step)
            return err_set(err, "%s: a candidate needs a path and a step", where);
        static const char *const steps[] = {"libpath", "runpath", "config", "default", "secure",
                                            "unknown"};
        int step = 0;
        if (trace_enum(json_object_get(c, "step"), steps, sizeof steps / sizeof *steps, &step,
                       where, "step", err))
            return BF_FAIL;
        tc->step = steps[step];
    }
    return BF_OK;
}

static int trace_read_process(const json_t *o, size_t index, trace_process *p,
                              arena *a, const char *path, bf_err *err)
{
    const char *where = arena_printf(a, "%s: processes[%zu]", path, index);
    if (trace_fields_from_json(o, trace_process_fields, p, a, where, err))
        return BF_FAIL;
    if (p->parent < -1 || p->parent >= (long)index)
        return err_set(err, "%s: parent %ld is not a process listed before it", where,
                       p->parent);
    if (!p->origin || (strcmp(p->origin, "exec") && strcmp(p->origin, "fork")))
        return err_set(err, "%s: \"origin\" must be \"exec\" or \"fork\"", where);
    const json_t *objs = json_object_get(o, "objects"), *loads = json_object_get(o, "loads");
    if (!json_is_array(objs) || !json_is_array(loads))
        return err_set(err, "%s: \"objects\" and \"loads\" must be lists", where);
    p->nobjects = json_array_size(objs);
    p->objects = arena_alloc(a, (p->nobjects + 1) * sizeof *p->objects);
    for (size_t i = 0; i < p->nobjects; i++) {
        if (trace_fields_from_json(json_array_get(objs, i), trace_object_fields, &p->objects[i],
                                   a, where, err))
            return BF_FAIL;
        if (!p->objects[i].name)
            return err_set(err, "%s: objects[%zu] has no name", where, i);
        for (size_t k = 0; k < i; k++)
            if (p->objects[k].id == p->objects[i].id)
                return err_set(err, "%s: object id %ld appears twice", where,
                               p->objects[i].id);
    }
    p->nloads = json_array_size(loads);
    p->loads = arena_alloc(a, (p->nloads + 1) * sizeof *p->loads);
    for (size_t i = 0; i < p->nloads; i++)
        if (trace_read_load(json_array_get(loads, i), p, &p->loads[i], a, where, err))
            return BF_FAIL;
    const json_t *py = json_object_get(o, "python");
    if (py && !json_is_null(py)) {
        p->python = arena_alloc(a, sizeof *p->python);
        if (trace_python_from_json(py, p->python, a, arena_printf(a, "%s.python", where), err))
            return BF_FAIL;
    }
    return BF_OK;
}

static int trace_read_strlist(const json_t *v, trace_strlist *l, arena *a, const char *where,
                              const char *key, bf_err *err)
{
    if (!json_is_array(v))
        return err_set(err, "%s: \"%s\" must be a list of strings", where, key);
    l->count = json_array_size(v);
    l->items = arena_alloc(a, (l->count + 1) * sizeof *l->items);
    for (size_t i = 0; i < l->count; i++)
        if (json_bytes_get_str(json_array_get(v, i), a, &l->items[i], where, key, err))
            return BF_FAIL;
        else if (!l->items[i])
            return err_set(err, "%s: \"%s\" holds a null", where, key);
    return BF_OK;
}

int trace_read_file(const char *path, arena *a, trace *t, bf_err *err)
{
    memset(t, 0, sizeof *t);
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return err_set(err, "%s: not a readable trace (line %d: %s); record it again with "
                            "`bundlefs trace`", path, je.line, je.text);
    int rc = BF_FAIL;
    const json_t *fmt = json_object_get(root, "format"), *ver = json_object_get(root, "version");
    const json_t *procs = json_object_get(root, "processes");
    const json_t *code = json_object_get(root, "exit_code"), *sig = json_object_get(root, "exit_signal");
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), "bundlefs-trace")) {
        err_set(err, "%s: not a bundlefs trace (\"format\" is not \"bundlefs-trace\")", path);
        goto out;
    }
    if (!json_is_integer(ver) || json_integer_value(ver) != TRACE_FORMAT_VERSION) {
        err_set(err, "%s: trace format version %s is not supported (this bundlefs reads version "
                     "%d); record it again with this bundlefs",
                path, json_is_integer(ver) ? arena_printf(a, "%lld", (long long)json_integer_value(ver)) : "(missing)",
                TRACE_FORMAT_VERSION);
        goto out;
    }
    t->version = TRACE_FORMAT_VERSION;
    if (!json_is_integer(code) || !json_is_integer(sig) || !json_is_array(procs)) {
        err_set(err, "%s: \"exit_code\", \"exit_signal\" and \"processes\" are missing or of "
                     "the wrong type", path);
        goto out;
    }
    t->exit_code = (long)json_integer_value(code);
    t->exit_signal = (long)json_integer_value(sig);
    if (trace_read_strlist(json_object_get(root, "command"), &t->command, a, path, "command",
                           err) ||
        trace_read_strlist(json_object_get(root, "warnings"), &t->warnings, a, path,
                           "warnings", err) ||
        json_bytes_get_str(json_object_get(root, "cwd"), a, &t->cwd, path, "cwd", err))
        goto out;
    t->nprocesses = json_array_size(procs);
    t->processes = arena_alloc(a, (t->nprocesses + 1) * sizeof *t->processes);
    for (size_t i = 0; i < t->nprocesses; i++)
        if (trace_read_process(json_array_get(procs, i), i, &t->processes[i], a, path, err))
            goto out;
    rc = BF_OK;
out:
    json_decref(root);
    return rc;
}

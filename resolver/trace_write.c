/* Writes a trace as one JSON document, to a temporary file renamed into place, so a reader
 * never sees half a trace. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "trace_internal.h"

const char *trace_kind_name(enum trace_kind k)
{
    return k == TRACE_NEEDED ? "needed" : k == TRACE_DLOPEN ? "dlopen" : "preload";
}

const char *trace_status_name(enum trace_status s)
{
    return s == TRACE_LOADED ? "loaded" : s == TRACE_ALREADY_LOADED ? "already-loaded" : "failed";
}

static json_t *trace_load_to_json(const trace_load *l)
{
    json_t *o = trace_fields_to_json(trace_load_fields, l);
    json_object_set_new(o, "kind", json_string(trace_kind_name(l->kind)));
    json_object_set_new(o, "status", json_string(trace_status_name(l->status)));
    json_t *cands = json_array();
    for (size_t i = 0; i < l->ncandidates; i++)
        json_array_append_new(cands, json_pack("{s:o,s:o}", "path",
                                               json_bytes_str(l->candidates[i].path), "step",
                                               json_bytes_str(l->candidates[i].step)));
    json_object_set_new(o, "candidates", cands);
    return o;
}

static json_t *trace_process_to_json(const trace_process *p)
{
    json_t *o = trace_fields_to_json(trace_process_fields, p);
    json_t *objs = json_array(), *loads = json_array();
    for (size_t i = 0; i < p->nobjects; i++)
        json_array_append_new(objs, trace_fields_to_json(trace_object_fields, &p->objects[i]));
    for (size_t i = 0; i < p->nloads; i++)
        json_array_append_new(loads, trace_load_to_json(&p->loads[i]));
    json_object_set_new(o, "objects", objs);
    json_object_set_new(o, "loads", loads);
    json_object_set_new(o, "python", p->python ? trace_python_to_json(p->python) : json_null());
    return o;
}

static json_t *trace_strlist_json(const trace_strlist *l)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < l->count; i++)
        json_array_append_new(arr, json_bytes_str(l->items[i]));
    return arr;
}

int trace_write_file(const trace *t, const char *path, bf_err *err)
{
    json_t *root = json_object();
    json_object_set_new(root, "format", json_string("bundlefs-trace"));
    json_object_set_new(root, "version", json_integer(TRACE_FORMAT_VERSION));
    json_object_set_new(root, "command", trace_strlist_json(&t->command));
    json_object_set_new(root, "cwd", json_bytes_str(t->cwd));
    json_object_set_new(root, "exit_code", json_integer(t->exit_code));
    json_object_set_new(root, "exit_signal", json_integer(t->exit_signal));
    json_object_set_new(root, "warnings", trace_strlist_json(&t->warnings));
    json_t *procs = json_array();
    for (size_t i = 0; i < t->nprocesses; i++)
        json_array_append_new(procs, trace_process_to_json(&t->processes[i]));
    json_object_set_new(root, "processes", procs);

    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp-%d", path, (int)getpid()) >= (int)sizeof tmp) {
        json_decref(root);
        return err_set(err, "%s: path too long", path);
    }
    int rc = json_dump_file(root, tmp, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (rc != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return err_set(err, "%s: cannot write the trace: %s (check that the folder exists and "
                            "has space)", path, strerror(e));
    }
    return BF_OK;
}

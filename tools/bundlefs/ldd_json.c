/* --json: every object and every resolution, with the search step and each candidate tried
 * (like dyld's "tried:" list). jansson builds the document so strings are escaped right. */
#include <jansson.h>

#include "ldd_output.h"

static json_t *json_str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static const char *const obj_kinds[] = {
    [LDSO_OBJ_MAIN] = "main", [LDSO_OBJ_RTLD] = "ld.so", [LDSO_OBJ_VDSO] = "vdso",
    [LDSO_OBJ_LIB] = "library",
};

static const char *const edge_kinds[] = {
    [LDSO_EDGE_NEEDED] = "needed",       [LDSO_EDGE_AUXILIARY] = "auxiliary",
    [LDSO_EDGE_FILTER] = "filter",       [LDSO_EDGE_DLOPEN] = "dlopen",
    [LDSO_EDGE_PRELOAD_ENV] = "LD_PRELOAD", [LDSO_EDGE_PRELOAD_OPT] = "--preload",
    [LDSO_EDGE_PRELOAD_FILE] = "ld.so.preload",
};

static json_t *json_object_of(const ldso_obj *o)
{
    json_t *names = json_array();
    for (size_t k = 0; k < o->nnames; k++)
        json_array_append_new(names, json_string(o->names[k]));
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:b}", "l_name", ldd_object_label(o),
                     "kind", obj_kinds[o->kind], "soname", json_str_or_null(o->elf.soname),
                     "origin", json_str_or_null(o->origin), "loader",
                     o->loader ? json_string(ldd_object_label(o->loader)) : json_null(),
                     "names", names, "removed", o->removed);
}

static json_t *json_edge_of(const ldso_edge *e)
{
    json_t *tried = json_array();
    for (size_t k = 0; k < e->ntried; k++) {
        const ldso_try *t = &e->tried[k];
        json_array_append_new(tried, json_pack("{s:s, s:s, s:s}", "path", t->path, "step",
                                               ldso_step_name(t->step), "outcome",
                                               ldso_outcome_name(t->outcome)));
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:o, s:o}", "requester",
                     ldd_requester_label(e), "kind", edge_kinds[e->kind], "needed", e->name,
                     "expanded", e->expanded, "resolved",
                     e->result ? json_string(ldd_object_label(e->result)) : json_null(),
                     "error", json_str_or_null(e->error), "step", ldso_step_name(e->step),
                     "step_owner",
                     e->step_owner ? json_string(ldd_object_label(e->step_owner)) : json_null(),
                     "tried", tried);
}

int ldd_print_json(FILE *out, const ldso_session *s, const char *program)
{
    size_t nobj, nedge;
    const ldso_obj *const *objs = ldso_objects(s, &nobj);
    const ldso_edge *const *edges = ldso_edges(s, &nedge);
    json_t *jo = json_array(), *je = json_array();
    for (size_t i = 0; i < nobj; i++)
        json_array_append_new(jo, json_object_of(objs[i]));
    for (size_t i = 0; i < nedge; i++)
        json_array_append_new(je, json_edge_of(edges[i]));
    json_t *doc = json_pack("{s:s, s:i, s:s, s:o, s:o, s:o}", "format", "bundlefs-ldd",
                            "version", 1, "program", program, "error",
                            json_str_or_null(ldso_start_error(s)), "objects", jo, "edges", je);
    int rc = json_dumpf(doc, out, JSON_INDENT(2)) == 0 ? 0 : -1;
    fputc('\n', out);
    json_decref(doc);
    return rc;
}

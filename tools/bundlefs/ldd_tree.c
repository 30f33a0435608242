/* The default rendering: the dependency tree, each object expanded under the first request
 * that loaded it, with the search step that found it. */
#include <stdlib.h>
#include <string.h>

#include "ldd_output.h"

typedef struct tree_ctx {
    FILE *out;
    const ldso_edge *const *edges;
    size_t nedges;
    const ldso_edge **first; /* by object index: the request that loaded it */
    bool all;
    char prefix[4096];
} tree_ctx;

static void tree_step(FILE *out, const ldso_edge *e)
{
    if (e->step == LDSO_STEP_RPATH || e->step == LDSO_STEP_RUNPATH ||
        e->step == LDSO_STEP_EXE_RPATH)
        fprintf(out, " [%s of %s]", e->step == LDSO_STEP_RUNPATH ? "runpath" : "rpath",
                e->step_owner ? ldd_object_label(e->step_owner) : "?");
    else
        fprintf(out, " [%s]", ldso_step_name(e->step));
}

static void tree_children(tree_ctx *t, const ldso_obj *parent);

static void tree_edge(tree_ctx *t, const ldso_edge *e, bool last)
{
    size_t plen = strlen(t->prefix);
    fprintf(t->out, "%s%s%s%s", t->prefix, last ? "└── " : "├── ",
            e->kind == LDSO_EDGE_DLOPEN ? "dlopen " : "", e->name);
    if (!e->result) {
        fprintf(t->out, " => ERROR: %s\n", e->error ? e->error : "?");
        return;
    }
    fprintf(t->out, " => %s", ldd_object_label(e->result));
    tree_step(t->out, e);
    fputc('\n', t->out);
    if (t->first[e->result->index] != e)
        return;
    if (plen + 8 < sizeof t->prefix) {
        strcpy(t->prefix + plen, last ? "    " : "│   ");
        tree_children(t, e->result);
        t->prefix[plen] = '\0';
    }
}

/* Whether edge e is shown under its requester: repeats of loaded objects only with --all. */
static bool tree_shown(const tree_ctx *t, const ldso_edge *e)
{
    return t->all || !e->result || t->first[e->result->index] == e;
}

static void tree_children(tree_ctx *t, const ldso_obj *parent)
{
    /* Decide visibility before printing, so the last visible child gets the corner. */
    size_t n = 0;
    const ldso_edge **kids = malloc((t->nedges + 1) * sizeof *kids);
    if (!kids)
        return;
    for (size_t i = 0; i < t->nedges; i++) {
        const ldso_edge *e = t->edges[i];
        bool preload = e->kind >= LDSO_EDGE_PRELOAD_ENV;
        if (e->requester == parent && !preload && e->kind != LDSO_EDGE_DLOPEN)
            kids[n++] = e;
    }
    size_t shown = 0;
    for (size_t i = 0; i < n; i++)
        if (tree_shown(t, kids[i]))
            kids[shown++] = kids[i];
    for (size_t i = 0; i < shown; i++)
        tree_edge(t, kids[i], i + 1 == shown);
    free(kids);
}

/* Top-level requests that do not hang under an object's DT_NEEDED: preloads and dlopen. */
static void tree_roots(tree_ctx *t, int kind_lo, int kind_hi, const char *title)
{
    bool any = false;
    for (size_t i = 0; i < t->nedges; i++) {
        const ldso_edge *e = t->edges[i];
        if (e->kind < kind_lo || e->kind > kind_hi)
            continue;
        if (!any)
            fprintf(t->out, "%s\n", title);
        any = true;
        if (e->kind == LDSO_EDGE_DLOPEN)
            fprintf(t->out, "from %s:\n", ldd_object_label(e->requester));
        t->prefix[0] = '\0';
        tree_edge(t, e, true);
    }
}

void ldd_print_tree(FILE *out, const ldso_session *s, const char *program, bool all)
{
    size_t nobj;
    const ldso_obj *const *objs = ldso_objects(s, &nobj);
    tree_ctx t = {.out = out, .all = all};
    t.edges = ldso_edges(s, &t.nedges);
    t.first = calloc(nobj + 1, sizeof *t.first);
    if (!t.first)
        return;
    for (size_t i = 0; i < t.nedges; i++) {
        const ldso_obj *r = t.edges[i]->result;
        if (r && r->kind == LDSO_OBJ_LIB && !t.first[r->index])
            t.first[r->index] = t.edges[i];
    }
    const ldso_obj *main = objs[0];
    fprintf(out, "%s", program);
    if (main->elf.interp)
        fprintf(out, " [interpreter %s]", main->elf.interp);
    fputc('\n', out);
    tree_roots(&t, LDSO_EDGE_PRELOAD_ENV, LDSO_EDGE_PRELOAD_FILE, "preloaded:");
    t.prefix[0] = '\0';
    tree_children(&t, main);
    /* Preloaded objects' own dependencies hang under them. */
    for (size_t i = 0; i < t.nedges; i++) {
        const ldso_edge *e = t.edges[i];
        if (e->kind >= LDSO_EDGE_PRELOAD_ENV && e->result && e->result->kind == LDSO_OBJ_LIB) {
            fprintf(out, "%s\n", e->result->l_name);
            t.prefix[0] = '\0';
            tree_children(&t, e->result);
        }
    }
    const char *fatal = ldso_start_error(s);
    if (fatal)
        fprintf(out, "ERROR: the program would not start: %s\n", fatal);
    tree_roots(&t, LDSO_EDGE_DLOPEN, LDSO_EDGE_DLOPEN, "dlopen:");
    free(t.first);
}

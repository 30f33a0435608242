/* --format=tsv: requester, needed and resolved, one line per resolution in load order. */
#include "ldd_output.h"

const char *ldd_object_label(const ldso_obj *o)
{
    return o->kind == LDSO_OBJ_MAIN ? "<exe>" : o->l_name;
}

const char *ldd_requester_label(const ldso_edge *e)
{
    switch (e->kind) {
    case LDSO_EDGE_PRELOAD_ENV: return "LD_PRELOAD";
    case LDSO_EDGE_PRELOAD_OPT: return "--preload";
    case LDSO_EDGE_PRELOAD_FILE: return "ld.so.preload";
    default: return ldd_object_label(e->requester);
    }
}

void ldd_print_tsv(FILE *out, const ldso_session *s)
{
    size_t n;
    const ldso_edge *const *edges = ldso_edges(s, &n);
    const char *fatal = ldso_start_error(s);
    for (size_t i = 0; i < n; i++) {
        const ldso_edge *e = edges[i];
        /* The edge that stopped the start is reported by the final ERROR line alone. */
        if (fatal && !e->result && i == n - 1 && e->kind != LDSO_EDGE_DLOPEN &&
            e->kind != LDSO_EDGE_AUXILIARY)
            break;
        /* fputs, not fprintf: thousands of lines, and formatting was a third of the run. */
        fputs(ldd_requester_label(e), out);
        fputs(e->kind == LDSO_EDGE_DLOPEN ? "\tdlopen:" : "\t", out);
        fputs(e->name, out);
        fputs(e->result ? "\t" : "\tERROR: ", out);
        fputs(e->result ? ldd_object_label(e->result) : e->error ? e->error : "?", out);
        fputc('\n', out);
    }
    if (fatal)
        fprintf(out, "-\t-\tERROR: %s\n", fatal);
}

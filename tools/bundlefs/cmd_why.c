/* bundlefs why: the chain of requests that brings a library into a bundle, or why it is not
 * there (excluded by policy, missing on the build machine). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "why_diff.h"

static const char why_usage[] =
    "usage: bundlefs why [--json] BUNDLE.json NAME\n"
    "\n"
    "Explains why NAME is in the bundle described by BUNDLE.json: the shortest chain of\n"
    "requests from a root (a traced program, an object the traced run loaded, a binary of the\n"
    "Python universe) to it, one hop per line, each with the name asked for, how (needed or\n"
    "dlopen), the loader's search step, whether the trace saw it or it was resolved statically,\n"
    "the path found on this machine and the file in the bundle. For a name that is not\n"
    "bundled it says why: excluded (and by which rule) or missing (and the paths tried).\n"
    "\n"
    "NAME is tried as, in this order (the first kind that matches gives every match):\n"
    "  a requested name           libblas.so.3, as in DT_NEEDED or passed to dlopen\n"
    "  a file of the bundle       libblas-0123456789abcdef.so.3, reals/r/..., or an alias\n"
    "  a path of this machine     the source, or the path the loader found\n"
    "  a source's basename        libblas.so.3.11.0\n"
    "\n"
    "Options:\n"
    "  --json        {\"name\", \"matched_as\", \"chains\": [[hop, ...]], \"excluded\": [...],\n"
    "                \"missing\": [...]}, each hop {\"name\", \"kind\", \"step\", \"origin\",\n"
    "                \"found\", \"real\", \"source\", \"status\", \"root\"}\n"
    "  -h, --help    show this help\n"
    "\n"
    "Exit status: 0 NAME is in the layout (bundled, excluded or missing), 1 it is not (close\n"
    "names are suggested), 2 usage error or unreadable layout.\n";

static void why_items(const layout *l, const why_matches *m, arena *a, why_item *items)
{
    why_graph g;
    why_graph_build(l, a, &g);
    for (size_t i = 0; i < m->count; i++) {
        why_item *it = &items[i];
        it->match = m->items[i];
        switch (it->match.kind) {
        case WHY_MATCH_OBJECT:
            it->chain = why_chain_to(&g, it->match.index, NULL, a);
            break;
        case WHY_MATCH_EXCLUDED: {
            const layout_excluded *e = &l->excluded[it->match.index];
            /* By path too, in case one name is excluded at two paths; but a layout may
             * record the canonical path in one place and the loader's in the other. */
            it->nrequesters = why_requests(&g, e->name, LAYOUT_DEP_EXCLUDED, e->path, NULL, a,
                                           &it->requesters);
            if (!it->nrequesters)
                it->nrequesters = why_requests(&g, e->name, LAYOUT_DEP_EXCLUDED, NULL, NULL, a,
                                               &it->requesters);
            if (it->nrequesters)
                it->chain = why_chain_to(&g, it->requesters[0].obj, it->requesters[0].dep, a);
            break;
        }
        case WHY_MATCH_MISSING: {
            const layout_missing *ms = &l->missing[it->match.index];
            why_request *req;
            if (why_requests(&g, ms->name, LAYOUT_DEP_MISSING, NULL, ms->requester, a, &req))
                it->chain = why_chain_to(&g, req[0].obj, req[0].dep, a);
            break;
        }
        }
    }
}

static int why_unknown(const layout *l, const char *file, const char *name, arena *a)
{
    const char **close;
    size_t n = why_suggest(l, name, 5, a, &close);
    fprintf(stderr, "bundlefs why: %s has no object, requested name, excluded or missing "
                    "library called '%s'",
            file, name);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%s%s", i ? ", " : "; close names: ", close[i]);
    fputc('\n', stderr);
    return 1;
}

static int why_run(const char *file, const char *name, bool json, arena *a)
{
    layout l;
    bf_err err;
    if (layout_read_file(file, a, &l, &err) != BF_OK) {
        fprintf(stderr, "bundlefs why: %s\n", err.msg);
        return 2;
    }
    why_matches m;
    why_match_name(&l, name, a, &m);
    if (!m.count)
        return why_unknown(&l, file, name, a);
    why_item *items = arena_alloc(a, m.count * sizeof *items);
    why_items(&l, &m, a, items);
    if (json) {
        if (why_print_json(stdout, &l, name, &m, items, &err) != BF_OK) {
            fprintf(stderr, "bundlefs why: %s\n", err.msg);
            return 2;
        }
    } else {
        why_print_text(stdout, &l, name, &m, items);
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "bundlefs why: cannot write the output: %s\n", strerror(errno));
        return 2;
    }
    return 0;
}

int cmd_why(int argc, char **argv)
{
    return why_diff_main(argc, argv, "why", why_usage, "the layout (bundle.json) and one NAME", why_run);
}

/* The two renderings of `bundlefs why`: one hop per line for people, and --json. */
#include <string.h>

#include "why_diff.h"

/* Readers of the text need not know the layout's vocabulary for roots. */
static const char *why_root_meaning(const char *root)
{
    return !strcmp(root, "program") ? "the executable of a traced process"
           : !strcmp(root, "trace") ? "loaded by the traced run"
           : !strcmp(root, "python") ? "a binary of the Python universe"
                                     : NULL;
}

/* rule: the policy rule when the hop is an excluded name. */
static void why_text_hop(FILE *out, const why_hop *h, size_t depth, const char *rule)
{
    if (!h->dep) {
        const layout_object *o = h->obj;
        fputs(why_diff_or(o->source, "?"), out);
        if (o->root) {
            const char *meaning = why_root_meaning(o->root);
            fprintf(out, "  [root: %s%s%s]", o->root, meaning ? ", " : "", meaning ? meaning : "");
        } else {
            fputs("  [not reached from any root: no bundled request leads to it]", out);
        }
        fprintf(out, "  = %s\n", why_diff_or(o->real, "?"));
        return;
    }
    /* A chain may be as long as the layout has objects: past a depth a reader can follow,
     * the indent stops growing (output stays linear in the chain) and the depth is written. */
    enum { WHY_INDENT_MAX = 24 };
    for (size_t i = 1; i < depth && i < WHY_INDENT_MAX; i++)
        fputs("   ", out);
    if (depth >= WHY_INDENT_MAX)
        fprintf(out, "[%zu] ", depth);
    const layout_dep *d = h->dep;
    fprintf(out, "└─ %s  %s  step=%s  origin=%s  -> %s", why_diff_or(d->name, "?"),
            why_diff_or(d->kind, "?"), why_diff_or(d->step, "-"), why_diff_or(d->origin, "-"),
            why_diff_or(d->found, "(not found)"));
    if (h->obj)
        fprintf(out, "  = %s\n", why_diff_or(h->obj->real, "?"));
    else if (d->status == LAYOUT_DEP_EXCLUDED)
        fprintf(out, "  excluded (%s)\n", why_diff_or(rule, "no rule recorded"));
    else
        fprintf(out, "  %s\n", why_diff_status_name(d->status));
}

static void why_text_chain(FILE *out, const why_chain *c, const char *rule)
{
    for (size_t i = 0; i < c->nhops; i++)
        why_text_hop(out, &c->hops[i], i, rule);
}

/* Who else asks for an excluded name: the list can be every object (libc.so.6), so only the
 * first few; --json has them all. */
static void why_text_requesters(FILE *out, const layout *l, const why_item *it)
{
    enum { SHOWN = 10 };
    if (!it->nrequesters) {
        fputs("no object in the layout asks for it\n", out);
        return;
    }
    fprintf(out, "asked by %zu object%s; the shortest chain:\n", it->nrequesters,
            it->nrequesters == 1 ? "" : "s");
    why_text_chain(out, &it->chain, l->excluded[it->match.index].rule);
    for (size_t i = 1; i < it->nrequesters && i <= SHOWN; i++)
        fprintf(out, "also asked by %s\n",
                why_diff_or(l->objects[it->requesters[i].obj].source, "?"));
    if (it->nrequesters > SHOWN + 1)
        fprintf(out, "and %zu more (--json lists them all)\n", it->nrequesters - SHOWN - 1);
}

void why_print_text(FILE *out, const layout *l, const char *name, const why_matches *m,
                    const why_item *items)
{
    for (size_t i = 0; i < m->count; i++) {
        const why_item *it = &items[i];
        if (i)
            fputc('\n', out);
        fprintf(out, "%s (%s): ", name, m->how);
        switch (it->match.kind) {
        case WHY_MATCH_OBJECT: {
            const layout_object *o = &l->objects[it->match.index];
            fprintf(out, "bundled as %s, from %s\n", why_diff_or(o->real, "?"),
                    why_diff_or(o->source, "?"));
            why_text_chain(out, &it->chain, NULL);
            break;
        }
        case WHY_MATCH_EXCLUDED: {
            const layout_excluded *e = &l->excluded[it->match.index];
            fprintf(out, "excluded by the rule \"%s\": not bundled, the target system provides "
                         "it (here: %s)\n",
                    why_diff_or(e->rule, "?"), why_diff_or(e->path, "?"));
            why_text_requesters(out, l, it);
            break;
        }
        case WHY_MATCH_MISSING: {
            const layout_missing *ms = &l->missing[it->match.index];
            fprintf(out, "missing: the loader found no file when %s asked for %s\n",
                    why_diff_or(ms->requester, "?"), why_diff_or(ms->name, "?"));
            for (size_t k = 0; k < ms->ntried; k++)
                fprintf(out, "  tried %s\n", ms->tried[k]);
            if (!ms->ntried)
                fputs("  no path was tried\n", out);
            why_text_chain(out, &it->chain, NULL);
            break;
        }
        }
    }
}

/* ---- --json ---- */

static json_t *why_json_hop(const why_hop *h)
{
    const layout_dep *d = h->dep;
    const layout_object *o = h->obj;
    if (!d)
        return json_pack("{s:o, s:s, s:n, s:n, s:o, s:o, s:o, s:s, s:o}", "name",
                         why_diff_json_str(o->source), "kind", o->root ? "root" : "unreached",
                         "step", "origin", "found", why_diff_json_str(o->source), "real",
                         why_diff_json_str(o->real), "source", why_diff_json_str(o->source),
                         "status", "bundled", "root", why_diff_json_str(o->root));
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:n}", "name",
                     why_diff_json_str(d->name), "kind", why_diff_json_str(d->kind), "step",
                     why_diff_json_str(d->step), "origin", why_diff_json_str(d->origin), "found",
                     why_diff_json_str(d->found), "real", why_diff_json_str(o ? o->real : NULL),
                     "source", why_diff_json_str(o ? o->source : NULL), "status",
                     why_diff_status_name(d->status), "root");
}

static json_t *why_json_strs(const char *const *s, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, why_diff_json_str(s[i]));
    return arr;
}

int why_print_json(FILE *out, const layout *l, const char *name, const why_matches *m,
                   const why_item *items, bf_err *err)
{
    json_t *chains = json_array(), *excluded = json_array(), *missing = json_array();
    for (size_t i = 0; i < m->count; i++) {
        const why_item *it = &items[i];
        if (it->chain.nhops) {
            json_t *chain = json_array();
            for (size_t k = 0; k < it->chain.nhops; k++)
                json_array_append_new(chain, why_json_hop(&it->chain.hops[k]));
            json_array_append_new(chains, chain);
        }
        if (it->match.kind == WHY_MATCH_EXCLUDED) {
            const layout_excluded *e = &l->excluded[it->match.index];
            json_t *req = json_array();
            for (size_t k = 0; k < it->nrequesters; k++)
                json_array_append_new(
                    req, why_diff_json_str(l->objects[it->requesters[k].obj].source));
            json_array_append_new(excluded,
                                  json_pack("{s:o, s:o, s:o, s:o}", "name",
                                            why_diff_json_str(e->name), "path",
                                            why_diff_json_str(e->path), "rule",
                                            why_diff_json_str(e->rule), "requesters", req));
        } else if (it->match.kind == WHY_MATCH_MISSING) {
            const layout_missing *ms = &l->missing[it->match.index];
            json_array_append_new(missing, json_pack("{s:o, s:o, s:o}", "requester",
                                                     why_diff_json_str(ms->requester), "name",
                                                     why_diff_json_str(ms->name), "tried",
                                                     why_json_strs(ms->tried, ms->ntried)));
        }
    }
    json_t *doc = json_pack("{s:o, s:s, s:o, s:o, s:o}", "name", why_diff_json_str(name),
                            "matched_as", m->how, "chains", chains, "excluded", excluded,
                            "missing", missing);
    return why_diff_json_print(out, doc, err);
}

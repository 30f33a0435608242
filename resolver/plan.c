/* plan_build: the stages in order (trace, emulation, Python universe, closure, reals,
 * launcher), then the layout: entries sorted so parents come first, and the object graph. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_internal.h"

static int plan_entry_cmp(const void *x, const void *y)
{
    const layout_entry *a = *(layout_entry *const *)x, *b = *(layout_entry *const *)y;
    return strcmp(a->path, b->path);
}

/* Numeric comparison of the dotted versions after the prefix ("GLIBC_2.34" > "GLIBC_2.4"). */
static bool plan_version_newer(const char *a, const char *b, size_t prefix)
{
    if (!b)
        return true;
    const char *x = a + prefix, *y = b + prefix;
    while (*x || *y) {
        char *ex, *ey;
        unsigned long nx = strtoul(x, &ex, 10), ny = strtoul(y, &ey, 10);
        if (nx != ny)
            return nx > ny;
        if ((*ex && *ex != '.') || (*ey && *ey != '.'))
            return strcmp(ex, ey) > 0; /* not a number: any order that is stable */
        x = *ex ? ex + 1 : ex;
        y = *ey ? ey + 1 : ey;
    }
    return false;
}

static void plan_requires(const plan *p, layout *l)
{
    static const char *const prefixes[] = {"GLIBC_", "GLIBCXX_", "CXXABI_"};
    const char **out[] = {&l->requires_glibc, &l->requires_glibcxx, &l->requires_cxxabi};
    for (size_t i = 0; i < p->nnodes; i++) {
        if (p->nodes[i]->same_as >= 0)
            continue;
        for (size_t k = 0; k < 3; k++) {
            const char *v = elf_highest_version(&p->nodes[i]->elf, prefixes[k]);
            if (v && plan_version_newer(v, *out[k], strlen(prefixes[k])))
                *out[k] = v;
        }
    }
}

static void plan_objects(const plan *p, layout *l)
{
    long *index = arena_alloc(p->a, (p->nnodes + 1) * sizeof *index);
    for (size_t i = 0; i < p->nnodes; i++)
        index[i] = p->nodes[i]->same_as < 0 ? (long)l->nobjects++ : -1;
    l->objects = arena_alloc(p->a, (l->nobjects + 1) * sizeof *l->objects);
    for (size_t i = 0; i < p->nnodes; i++) {
        const plan_node *n = p->nodes[i];
        if (index[i] < 0)
            continue;
        layout_object *o = &l->objects[index[i]];
        o->real = n->real;
        o->source = n->source;
        memcpy(o->hash, n->hash, sizeof o->hash);
        o->size = (uint64_t)n->st.st_size;
        o->root = n->root;
        o->deps = n->deps;
        o->ndeps = n->ndeps;
        for (size_t k = 0; k < n->ndeps; k++)
            if (o->deps[k].status == LAYOUT_DEP_BUNDLED)
                o->deps[k].target = index[o->deps[k].target];
        o->aliases = n->aliases;
        o->naliases = n->naliases;
    }
}

static int plan_missing_error(const plan *p, bf_err *err)
{
    const layout_missing *m = &p->missing[0]; /* the first the loader really searched for */
    for (size_t i = 0; i < p->nmissing && !m->ntried; i++)
        m = &p->missing[i];
    char tried[600] = "";
    size_t used = 0;
    for (size_t i = 0; i < m->ntried && used < sizeof tried - 1; i++)
        used += (size_t)snprintf(tried + used, sizeof tried - used, "%s%s", i ? ", " : "",
                                 m->tried[i]);
    return err_set(err, "%s needs %s, which cannot be found (tried: %s)%s; install it, or build "
                        "with --allow-missing to leave it out",
                   m->requester, m->name, m->ntried ? tried : "no candidate path",
                   p->nmissing > 1 ? arena_printf(p->a, "; %zu more dependencies are missing",
                                                  p->nmissing - 1)
                                   : "");
}

static const char *plan_default_name(plan *p)
{
    if (p->py && p->app_dir && p->py->main_script) {
        const char *leaf = strrchr(p->py->main_script, '/');
        leaf = leaf ? leaf + 1 : p->py->main_script;
        const char *dot = strrchr(leaf, '.');
        return dot && dot != leaf ? arena_strndup(p->a, leaf, (size_t)(dot - leaf)) : leaf;
    }
    if (p->py && p->py->main_module)
        return p->py->main_module;
    for (size_t i = 0; i < p->t->nprocesses; i++)
        if (p->t->processes[i].exe) {
            const char *s = strrchr(p->t->processes[i].exe, '/');
            return s ? s + 1 : p->t->processes[i].exe;
        }
    return "app";
}

static int plan_check_name(const char *name, bf_err *err)
{
    bool ok = *name && strcmp(name, ".") && strcmp(name, "..") && strcmp(name, "b");
    for (const char *c = name; ok && *c; c++)
        ok = *c != '/' && (unsigned char)*c >= 0x20 && *c != 0x7f;
    return ok ? BF_OK
              : err_set(err, "'%s' cannot name the application (bin/<name>): use --name with a "
                             "plain file name other than 'b'",
                        name);
}

static void plan_init(plan *p, const trace *t, const plan_opts *o, arena *a)
{
    p->a = a;
    p->o = o;
    p->t = t;
    host_detect(&p->host, a);
    p->reader = elf_reader_new(a);
    strmap_init(&p->by_source, a);
    strmap_init(&p->canon, a);
    strmap_init(&p->answers, a);
    strmap_init(&p->excluded_seen, a);
    strmap_init(&p->bundle_dirs, a);
    strmap_init(&p->entries_by_path, a);
    bf_err cerr;
    const char *cache = o->cache_path ? o->cache_path : "/etc/ld.so.cache";
    if (ldcache_open(cache, a, &p->cache, &cerr) != BF_OK) {
        p->cache = NULL;
        plan_warn(p, "%s (ld.so ignores such a cache; so does the plan)", cerr.msg);
    }
    for (size_t i = 0; i < t->nprocesses; i++)
        if (t->processes[i].python && t->processes[i].audited) {
            p->py = t->processes[i].python;
            p->py_process = &t->processes[i];
            break;
        }
}

int plan_build(const trace *t, const plan_opts *o, arena *a, layout *out, plan_summary *sum,
               bf_err *err)
{
    memset(out, 0, sizeof *out);
    memset(sum, 0, sizeof *sum);
    plan *p = arena_alloc(a, sizeof *p); /* its maps live as long as the arena */
    plan_init(p, t, o, a);
    if (plan_from_trace(p, err) != BF_OK || plan_static_processes(p, err) != BF_OK ||
        plan_python_universe(p, err) != BF_OK || plan_graph_expand(p, err) != BF_OK)
        return BF_FAIL;
    if (p->nmissing && !o->allow_missing)
        return plan_missing_error(p, err);
    const char *name = o->name ? o->name : plan_default_name(p);
    if (plan_check_name(name, err) != BF_OK || plan_reals(p, err) != BF_OK ||
        plan_launcher(p, name, err) != BF_OK)
        return BF_FAIL;
    qsort(p->entries, p->nentries, sizeof *p->entries, plan_entry_cmp);
    out->version = LAYOUT_FORMAT_VERSION;
    out->name = name;
    out->platform = "linux-x86_64";
    out->launcher = arena_printf(a, "bin/%s", name);
    out->entries = arena_alloc(a, (p->nentries + 1) * sizeof *out->entries);
    for (size_t i = 0; i < p->nentries; i++) {
        out->entries[i] = *p->entries[i];
        layout_entry *e = &out->entries[i];
        sum->files += e->type == LAYOUT_FILE;
        sum->symlinks += e->type == LAYOUT_SYMLINK;
        sum->dirs += e->type == LAYOUT_DIR;
        if (e->type == LAYOUT_FILE)
            sum->bytes += e->size;
    }
    out->nentries = p->nentries;
    plan_objects(p, out);
    plan_requires(p, out);
    out->excluded = p->excluded;
    out->nexcluded = p->nexcluded;
    out->missing = p->missing;
    out->nmissing = p->nmissing;
    out->warnings = p->warnings;
    out->nwarnings = p->nwarnings;
    sum->objects = out->nobjects;
    sum->excluded = p->nexcluded;
    sum->missing = p->nmissing;
    sum->warnings = p->nwarnings;
    return layout_validate(out, o->output ? o->output : "the planned layout", err);
}

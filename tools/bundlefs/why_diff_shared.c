/* What both `why` and `diff` need: the names objects are asked for, JSON strings and the
 * command line. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "why_diff.h"

static int why_diff_strcmp(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

why_diff_names *why_diff_asked_names(const layout *l, arena *a)
{
    why_diff_names *by = arena_alloc(a, (l->nobjects ? l->nobjects : 1) * sizeof *by);
    size_t *cap = arena_alloc(a, (l->nobjects ? l->nobjects : 1) * sizeof *cap);
    for (size_t i = 0; i < l->nobjects; i++) {
        const layout_object *o = &l->objects[i];
        for (size_t k = 0; k < o->ndeps; k++) {
            const layout_dep *d = &o->deps[k];
            if (d->status != LAYOUT_DEP_BUNDLED || d->target < 0 ||
                (size_t)d->target >= l->nobjects)
                continue;
            why_diff_names *n = &by[d->target];
            arena_push(a, &n->names, &n->count, &cap[d->target], &d->name, sizeof d->name);
        }
    }
    for (size_t i = 0; i < l->nobjects; i++) {
        why_diff_names *n = &by[i];
        if (n->count < 2)
            continue;
        qsort(n->names, n->count, sizeof *n->names, why_diff_strcmp);
        size_t out = 1;
        for (size_t k = 1; k < n->count; k++)
            if (strcmp(n->names[k], n->names[out - 1]))
                n->names[out++] = n->names[k];
        n->count = out;
    }
    return by;
}

strmap *why_diff_map(arena *a)
{
    strmap *m = arena_alloc(a, sizeof *m);
    strmap_init(m, a);
    return m;
}

bool why_diff_streq(const char *x, const char *y)
{
    return x && y ? !strcmp(x, y) : x == y;
}

const char *why_diff_or(const char *s, const char *dflt)
{
    return s ? s : dflt;
}

const char *why_diff_status_name(enum layout_dep_status s)
{
    return s == LAYOUT_DEP_BUNDLED ? "bundled" : s == LAYOUT_DEP_EXCLUDED ? "excluded" : "missing";
}

const char *why_diff_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

json_t *why_diff_json_str(const char *s)
{
    if (!s)
        return json_null();
    json_t *j = json_string(s); /* NULL when s is not UTF-8 */
    if (j)
        return j;
    static const char digits[] = "0123456789abcdef";
    size_t n = strlen(s);
    char *hex = malloc(2 * n + 1);
    if (!hex)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        hex[2 * i] = digits[(unsigned char)s[i] >> 4];
        hex[2 * i + 1] = digits[(unsigned char)s[i] & 15];
    }
    hex[2 * n] = '\0';
    j = json_pack("{s:s}", "hex", hex);
    free(hex);
    return j;
}

int why_diff_json_print(FILE *out, json_t *doc, bf_err *err)
{
    /* jansson returns NULL from a json_pack whose member failed (out of memory): one check
     * here covers every builder. */
    if (!doc)
        return err_set(err, "cannot build the JSON report (out of memory)");
    int rc = json_dumpf(doc, out, JSON_INDENT(2));
    json_decref(doc);
    if (rc || fputc('\n', out) == EOF)
        return err_set(err, "cannot write the JSON report to the standard output");
    return BF_OK;
}

int why_diff_main(int argc, char **argv, const char *cmd, const char *usage,
                  const char *operands, int (*run)(const char *, const char *, bool, arena *))
{
    enum { OPT_JSON = 256 };
    static const struct option longopts[] = {
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_JSON: json = true; break;
        case 'h': fputs(usage, stdout); return 0;
        default:
            fprintf(stderr, "bundlefs %s: 'bundlefs %s --help' lists the options\n", cmd, cmd);
            return 2;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "bundlefs %s: give %s\n\n%s", cmd, operands, usage);
        return 2;
    }
    arena *a = arena_new();
    int status = run(argv[optind], argv[optind + 1], json, a);
    arena_free(a);
    return status;
}

/* bundlefs diff: what changed between two builds of a bundle, from their layouts alone. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "why_diff.h"

static const char diff_usage[] =
    "usage: bundlefs diff [--json] A.json B.json\n"
    "\n"
    "Compares two layouts (bundle.json), without reading the bundles or their sources:\n"
    "  objects      binaries added, removed, and changed (same identity, other content: old\n"
    "               and new source and hash); an object is the same in both when it has the\n"
    "               same content, else when it is asked for by the same name (libblas.so.3),\n"
    "               else when its file name without version is the same (libz.so)\n"
    "  resolutions  requests of an object present in both whose outcome differs: another\n"
    "               status (bundled, excluded, missing), search step, path found or object,\n"
    "               or a request made on one side only\n"
    "  entries      other paths of the bundle added, removed or changed (counts; --json lists\n"
    "               them); times are not compared\n"
    "  size         the bytes and number of file entries of each, and the difference\n"
    "  fields       name, platform, launcher, required glibc/libstdc++ versions\n"
    "\n"
    "Options:\n"
    "  --json        all of it as one JSON document\n"
    "  -h, --help    show this help\n"
    "\n"
    "Exit status: 0 the layouts describe the same bundle, 1 they differ, 2 usage error or\n"
    "unreadable layout.\n";

static int diff_load(const char *file, diff_side *s, arena *a)
{
    layout *l = arena_alloc(a, sizeof *l);
    bf_err err;
    if (layout_read_file(file, a, l, &err) != BF_OK) {
        fprintf(stderr, "bundlefs diff: %s\n", err.msg);
        return BF_FAIL;
    }
    s->l = l;
    s->file = file;
    return BF_OK;
}

static int diff_run(const char *a_file, const char *b_file, bool json, arena *a)
{
    diff_result r = {0};
    bf_err err;
    if (diff_load(a_file, &r.a, a) || diff_load(b_file, &r.b, a))
        return 2;
    diff_objects(&r, a);
    diff_resolutions(&r, a);
    diff_fields(&r, a);
    if (diff_entries(&r, a, &err) != BF_OK) {
        fprintf(stderr, "bundlefs diff: %s\n", err.msg);
        return 2;
    }
    if (json) {
        if (diff_print_json(stdout, &r, a_file, b_file, &err) != BF_OK) {
            fprintf(stderr, "bundlefs diff: %s\n", err.msg);
            return 2;
        }
    } else {
        diff_print_text(stdout, &r, a_file, b_file);
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "bundlefs diff: cannot write the output: %s\n", strerror(errno));
        return 2;
    }
    return diff_identical(&r) ? 0 : 1;
}

int cmd_diff(int argc, char **argv)
{
    return why_diff_main(argc, argv, "diff", diff_usage, "two layouts (bundle.json files) to compare", diff_run);
}

/* bundlefs materialize: write a bundle to disk, the same bytes the mount serves. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "bundlefs/layout.h"
#include "bundlefs/materialize.h"
#include "commands.h"

static const char materialize_usage[] =
    "usage: bundlefs materialize [--force] [--json] BUNDLE.json DEST\n"
    "\n"
    "Writes the bundle the layout BUNDLE.json describes into the folder DEST: the same bytes\n"
    "'bundlefs mount' serves, with the sources' modes and times, and BUNDLE.json itself as\n"
    "DEST/bundle.json. Every source is checked against the layout first (a changed source\n"
    "stops the run before anything is written). The tree is written into a temporary folder\n"
    "next to DEST and renamed into place at the end, so an interrupted run leaves no partial\n"
    "DEST. A progress bar is shown when standard error is a terminal.\n"
    "\n"
    "Options:\n"
    "  --force      replace an existing DEST (once the new tree is complete)\n"
    "  --json       print what was written: {\"dest\", \"files\", \"dirs\", \"symlinks\",\n"
    "               \"bytes\"}\n"
    "  -h, --help   show this help\n"
    "\n"
    "Exit status: 0 written, 2 usage error or failure.\n";

enum { OPT_FORCE = 256, OPT_JSON };

static int materialize_run(const char *layout_path, const char *dest, bool force, bool json)
{
    /* Checked first: a name the report cannot hold must not cost a whole write. */
    json_t *jdest = json ? json_string(dest) : NULL;
    if (json && !jdest) {
        fprintf(stderr, "bundlefs materialize: %s: --json needs a DEST that is UTF-8 text\n",
                dest);
        return 2;
    }
    arena *a = arena_new();
    layout l;
    fs_materialize_stats st;
    bf_err err;
    const fs_materialize_opts opts = {.force = force, .progress = true,
                                      .layout_path = layout_path};
    int rc = layout_read_file(layout_path, a, &l, &err);
    if (rc == BF_OK)
        rc = fs_materialize(&l, dest, &opts, &st, &err);
    if (rc != BF_OK) {
        fprintf(stderr, "bundlefs materialize: %s\n", err.msg);
        json_decref(jdest);
    } else if (jdest) {
        json_t *report = json_pack("{s:o,s:I,s:I,s:I,s:I}", "dest", jdest,
                                   "files", (json_int_t)st.files, "dirs", (json_int_t)st.dirs,
                                   "symlinks", (json_int_t)st.symlinks,
                                   "bytes", (json_int_t)st.bytes);
        json_dumpf(report, stdout, JSON_INDENT(1));
        fputc('\n', stdout);
        json_decref(report);
    }
    arena_free(a);
    return rc == BF_OK ? 0 : 2;
}

int cmd_materialize(int argc, char **argv)
{
    static const struct option opts[] = {
        {"force", no_argument, NULL, OPT_FORCE},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool force = false, json = false;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_FORCE: force = true; break;
        case OPT_JSON: json = true; break;
        case 'h': fputs(materialize_usage, stdout); return 0;
        default: fputs(materialize_usage, stderr); return 2;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "bundlefs materialize: give BUNDLE.json and DEST\n\n%s",
                materialize_usage);
        return 2;
    }
    return materialize_run(argv[optind], argv[optind + 1], force, json);
}

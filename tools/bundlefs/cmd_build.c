/* bundlefs build: plan a bundle from a trace (or from a run it traces first) and write its
 * layout, bundle.json. Nothing else is written; materialize and mount use the layout. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "bundlefs/layout.h"
#include "bundlefs/plan.h"
#include "bundlefs/trace.h"
#include "commands.h"

static const char build_usage[] =
    "usage: bundlefs build --trace FILE -o BUNDLE.json [OPTIONS]\n"
    "       bundlefs build -o BUNDLE.json [OPTIONS] -- CMD [ARGS...]\n"
    "\n"
    "Plans a self-contained, relocatable bundle of the program a trace recorded (or of CMD,\n"
    "traced first with `bundlefs trace`): every binary it loaded and their dependencies as\n"
    "glibc's loader binds them, and for a Python program the whole Python universe (standard\n"
    "library, lib-dynload, every sys.path entry). Writes the layout, BUNDLE.json; run\n"
    "`bundlefs materialize BUNDLE.json DEST` to write the bundle.\n"
    "\n"
    "Options:\n"
    "  --trace FILE        the trace to bundle (from `bundlefs trace`)\n"
    "  -o, --output FILE   the layout to write (required)\n"
    "  --name NAME         the application's name: the launcher is bin/NAME (default: the\n"
    "                      script's or the program's name)\n"
    "  --exclude GLOB      leave out libraries, and files of the Python universe, matching\n"
    "                      GLOB (a name like 'libfoo*', or a path when GLOB holds a '/');\n"
    "                      repeatable\n"
    "  --include GLOB      keep what the policy would exclude (e.g. --include 'libGL*')\n"
    "  --allow-missing     list dependencies that cannot be found instead of failing\n"
    "  --cache FILE        the ld.so.cache to resolve with (default /etc/ld.so.cache)\n"
    "  --json              print the summary as JSON\n"
    "  -h, --help          show this help\n"
    "\n"
    "Excluded by default (the target provides them): the glibc core (every library glibc\n"
    "installs: ld-linux*, libc, libm, libmvec, libdl, librt, libpthread, libutil, libresolv,\n"
    "libnsl.so.1, libanl, libthread_db, glibc's libnss_* modules, ...) and GPU driver stacks\n"
    "(libGL, libGLX, libGLdispatch, libGLES*, libEGL*, libOpenGL*, libvulkan*, libcuda,\n"
    "libnvidia-*, libdrm*).\n"
    "\n"
    "Exit status: 0 planned, 2 an error (named on stderr).\n";

enum { OPT_TRACE = 256, OPT_NAME, OPT_EXCLUDE, OPT_INCLUDE, OPT_ALLOW_MISSING, OPT_CACHE,
       OPT_JSON };

static void build_warn(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "bundlefs build: warning: %s\n", msg);
}

/* Traces CMD into a temporary file, as `bundlefs trace` would. */
static int build_trace(char **cmd, int ncmd, char *path)
{
    int fd = mkstemp(path);
    if (fd < 0) {
        perror("bundlefs build: cannot create a temporary trace file");
        return -1;
    }
    close(fd);
    char **argv = calloc((size_t)ncmd + 5, sizeof *argv);
    if (!argv)
        return -1;
    argv[0] = "trace";
    argv[1] = "-o";
    argv[2] = path;
    argv[3] = "--";
    memcpy(argv + 4, cmd, (size_t)ncmd * sizeof *argv);
    optind = 0;
    int status = cmd_trace(ncmd + 4, argv);
    free(argv);
    if (status != 0)
        fprintf(stderr, "bundlefs build: warning: %s exited with status %d; the bundle holds what "
                        "it loaded until then\n",
                cmd[0], status);
    return 0;
}

static void build_print(const char *out, const layout *l, const plan_summary *s, bool json)
{
    if (json) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s?}",
                              "layout", out, "name", l->name, "launcher", l->launcher,
                              "objects", (json_int_t)s->objects, "files", (json_int_t)s->files,
                              "symlinks", (json_int_t)s->symlinks, "dirs", (json_int_t)s->dirs,
                              "bytes", (json_int_t)s->bytes, "excluded", (json_int_t)s->excluded,
                              "missing", (json_int_t)s->missing,
                              "warnings", (json_int_t)s->warnings, "requires_glibc",
                              l->requires_glibc);
        if (j) {
            json_dumpf(j, stdout, JSON_INDENT(1));
            fputc('\n', stdout);
            json_decref(j);
        }
        return;
    }
    printf("%s: %s, %zu binaries, %zu files, %.1f MiB, %zu symlinks\n", out, l->launcher,
           s->objects, s->files, (double)s->bytes / (1024.0 * 1024.0), s->symlinks);
    if (s->excluded) {
        printf("excluded (the target provides them):");
        for (size_t i = 0; i < l->nexcluded; i++)
            printf("%s %s", i ? "," : "", l->excluded[i].name);
        printf("\n");
    }
    if (l->requires_glibc)
        printf("requires %s%s%s%s%s or newer on the target\n", l->requires_glibc,
               l->requires_glibcxx ? ", " : "", l->requires_glibcxx ? l->requires_glibcxx : "",
               l->requires_cxxabi ? ", " : "", l->requires_cxxabi ? l->requires_cxxabi : "");
    if (s->missing)
        printf("%zu missing dependencies left out (--allow-missing)\n", s->missing);
    if (s->warnings)
        printf("%zu warnings (above)\n", s->warnings);
}

int cmd_build(int argc, char **argv)
{
    static const struct option opts[] = {
        {"trace", required_argument, NULL, OPT_TRACE},
        {"output", required_argument, NULL, 'o'},
        {"name", required_argument, NULL, OPT_NAME},
        {"exclude", required_argument, NULL, OPT_EXCLUDE},
        {"include", required_argument, NULL, OPT_INCLUDE},
        {"allow-missing", no_argument, NULL, OPT_ALLOW_MISSING},
        {"cache", required_argument, NULL, OPT_CACHE},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    arena *a = arena_new();
    plan_opts o = {.warn = build_warn, .progress = true};
    const char *trace_path = NULL;
    bool json = false;
    size_t capx = 0, capi = 0;
    int c, rc = 2;
    while ((c = getopt_long(argc, argv, "+o:h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_TRACE: trace_path = optarg; break;
        case 'o': o.output = optarg; break;
        case OPT_NAME: o.name = optarg; break;
        case OPT_EXCLUDE: arena_push(a, &o.exclude, &o.nexclude, &capx, &optarg, sizeof optarg); break;
        case OPT_INCLUDE: arena_push(a, &o.include, &o.ninclude, &capi, &optarg, sizeof optarg); break;
        case OPT_ALLOW_MISSING: o.allow_missing = true; break;
        case OPT_CACHE: o.cache_path = optarg; break;
        case OPT_JSON: json = true; break;
        case 'h': fputs(build_usage, stdout); rc = 0; goto out;
        default: fputs(build_usage, stderr); goto out;
        }
    }
    bool has_cmd = optind < argc;
    const char *why = !o.output                  ? "-o BUNDLE.json is required"
                      : !!trace_path == has_cmd ? "give either --trace FILE or -- CMD [ARGS...]"
                                                : NULL;
    if (why) {
        fprintf(stderr, "bundlefs build: %s\n\n%s", why, build_usage);
        goto out;
    }
    char tmp[] = "/tmp/bundlefs-build-XXXXXX";
    if (has_cmd) {
        if (build_trace(argv + optind, argc - optind, tmp) != 0)
            goto out;
        trace_path = tmp;
    }
    trace t;
    layout l;
    plan_summary sum;
    bf_err err;
    if (trace_read_file(trace_path, a, &t, &err) != BF_OK ||
        plan_build(&t, &o, a, &l, &sum, &err) != BF_OK ||
        layout_write_file(&l, o.output, &err) != BF_OK) {
        fprintf(stderr, "bundlefs build: %s\n", err.msg);
    } else {
        build_print(o.output, &l, &sum, json);
        rc = fflush(stdout) == 0 ? 0 : 2;
    }
    if (has_cmd)
        unlink(tmp);
out:
    arena_free(a);
    return rc;
}

/* bundlefs ldd: which file glibc's ld.so would bind for every dependency, without running
 * the program. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundlefs/host.h"
#include "bundlefs/ldcache.h"
#include "bundlefs/ldso.h"
#include "commands.h"
#include "ldd_output.h"

static const char ldd_usage[] =
    "usage: bundlefs ldd [OPTIONS] FILE\n"
    "\n"
    "Shows which file glibc's dynamic loader (ld.so) would load for every DT_NEEDED entry,\n"
    "preload and dlopen name of FILE, and by which search step, without running FILE.\n"
    "Like the loader, it reads LD_LIBRARY_PATH and LD_PRELOAD from the environment, the\n"
    "current directory, /etc/ld.so.cache and /etc/ld.so.preload.\n"
    "\n"
    "As for an explicit `ld.so [OPTIONS] FILE` invocation (any of these four, or --explicit,\n"
    "makes FILE's $ORIGIN the directory of FILE as given, as ld.so and ldd do, instead of\n"
    "its canonical path):\n"
    "  --library-path PATH     search PATH instead of LD_LIBRARY_PATH\n"
    "  --inhibit-rpath LIST    ignore RPATH and RUNPATH of the objects named in LIST (l_names, ':')\n"
    "  --inhibit-cache         do not use /etc/ld.so.cache\n"
    "  --preload LIST          preload the objects in LIST (separated by ':' or spaces)\n"
    "  --explicit              an explicit ld.so invocation without any of those options\n"
    "Emulation:\n"
    "  --secure                behave as for a set-uid program (AT_SECURE)\n"
    "  --dlopen NAME           after start-up the program calls dlopen(NAME); repeatable\n"
    "  --dlopen-from OBJ NAME  the loaded object OBJ (its path or SONAME) calls dlopen(NAME)\n"
    "  --cache FILE            read FILE instead of /etc/ld.so.cache\n"
    "  --preload-file FILE     read FILE instead of /etc/ld.so.preload\n"
    "Output:\n"
    "  --format=tree|tsv       tree (default): the dependency tree with the search step of each\n"
    "                          object; tsv: `requester<TAB>needed<TAB>resolved`, one line per\n"
    "                          resolution in load order\n"
    "  --all                   tree: also show requests satisfied by an already loaded object\n"
    "  --json                  every object and resolution with the candidates tried\n"
    "  -h, --help              show this help\n"
    "\n"
    "Exit status: 0 the program would start (and every --dlopen succeeded), 1 it would not\n"
    "(or a dlopen would fail), 2 usage or input error.\n";

enum { OPT_LIBPATH = 256, OPT_INHIBIT_RPATH, OPT_INHIBIT_CACHE, OPT_PRELOAD, OPT_SECURE,
       OPT_EXPLICIT, OPT_DLOPEN, OPT_DLOPEN_FROM, OPT_CACHE, OPT_PRELOAD_FILE, OPT_FORMAT, OPT_ALL, OPT_JSON };

typedef struct ldd_dlopen {
    const char *from; /* NULL: the main program */
    const char *name;
} ldd_dlopen;

/* Reads a small text file whole; NULL if it does not exist or cannot be read, as the loader
 * then carries on without it. */
static char *ldd_read_text(arena *a, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0, got;
    char *buf = arena_alloc(a, cap + 1);
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            if (cap >= (1u << 20))
                break; /* a preload list beyond 1 MiB is not a preload list */
            buf = arena_grow(a, buf, n, cap * 2 + 1, 1);
            cap *= 2;
        }
    }
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static int ldd_run(arena *a, ldso_opts *o, const char *file, const char *cache_path,
                   ldd_dlopen *dl, size_t ndl, const char *format, bool all, bool json)
{
    host_info host;
    host_detect(&host, a);
    o->host = &host;
    if (cache_path) {
        ldcache *c = NULL;
        bf_err err;
        if (ldcache_open(cache_path, a, &c, &err) != BF_OK)
            fprintf(stderr, "bundlefs ldd: warning: %s (ld.so ignores such a cache; so does this "
                            "report)\n", err.msg);
        o->cache = c;
    }
    ldso_session *s;
    bf_err err;
    if (ldso_session_new(o, a, &s, &err) != BF_OK || ldso_start(s, file, &err) != BF_OK) {
        fprintf(stderr, "bundlefs ldd: %s\n", err.msg);
        return 2;
    }
    int status = ldso_start_error(s) ? 1 : 0;
    /* Like the program, carry on after a failed dlopen. */
    for (size_t i = 0; i < ndl && !ldso_start_error(s); i++) {
        const ldso_obj *from = NULL;
        if (dl[i].from && !(from = ldso_find(s, dl[i].from))) {
            fprintf(stderr, "bundlefs ldd: --dlopen-from %s: no loaded object has that path, "
                            "name or SONAME\n", dl[i].from);
            return 2;
        }
        if (!ldso_dlopen(s, from, dl[i].name))
            status = 1;
    }
    if (json) {
        if (ldd_print_json(stdout, s, file) != 0)
            return 2;
    } else if (!strcmp(format, "tsv")) {
        ldd_print_tsv(stdout, s);
    } else {
        ldd_print_tree(stdout, s, file, all);
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "bundlefs ldd: cannot write the output: %s\n", strerror(errno));
        return 2;
    }
    return status;
}

int cmd_ldd(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"library-path", required_argument, NULL, OPT_LIBPATH},
        {"inhibit-rpath", required_argument, NULL, OPT_INHIBIT_RPATH},
        {"inhibit-cache", no_argument, NULL, OPT_INHIBIT_CACHE},
        {"preload", required_argument, NULL, OPT_PRELOAD},
        {"secure", no_argument, NULL, OPT_SECURE},
        {"explicit", no_argument, NULL, OPT_EXPLICIT},
        {"dlopen", required_argument, NULL, OPT_DLOPEN},
        {"dlopen-from", required_argument, NULL, OPT_DLOPEN_FROM},
        {"cache", required_argument, NULL, OPT_CACHE},
        {"preload-file", required_argument, NULL, OPT_PRELOAD_FILE},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"all", no_argument, NULL, OPT_ALL},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    arena *a = arena_new();
    ldso_opts o = {0};
    o.library_path = getenv("LD_LIBRARY_PATH");
    o.preload_env = getenv("LD_PRELOAD");
    o.origin_path = getenv("LD_ORIGIN_PATH");
    const char *cache_path = "/etc/ld.so.cache", *preload_path = "/etc/ld.so.preload";
    const char *format = "tree";
    bool all = false, json = false;
    ldd_dlopen *dl = NULL;
    size_t ndl = 0, capdl = 0;
    int c, status = 2;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_LIBPATH: o.library_path = optarg; o.explicit_invocation = true; break;
        case OPT_INHIBIT_RPATH: o.inhibit_rpath = optarg; o.explicit_invocation = true; break;
        case OPT_INHIBIT_CACHE: cache_path = NULL; o.explicit_invocation = true; break;
        case OPT_PRELOAD: o.preload_opt = optarg; o.explicit_invocation = true; break;
        case OPT_EXPLICIT: o.explicit_invocation = true; break;
        case OPT_SECURE: o.secure = true; break;
        case OPT_DLOPEN:
            arena_push(a, &dl, &ndl, &capdl, &(ldd_dlopen){NULL, optarg}, sizeof *dl);
            break;
        case OPT_DLOPEN_FROM:
            if (optind >= argc) {
                fputs("bundlefs ldd: --dlopen-from takes two arguments: OBJ NAME\n", stderr);
                goto out;
            }
            arena_push(a, &dl, &ndl, &capdl, &(ldd_dlopen){optarg, argv[optind++]}, sizeof *dl);
            break;
        case OPT_CACHE: cache_path = optarg; break;
        case OPT_PRELOAD_FILE: preload_path = optarg; break;
        case OPT_FORMAT:
            if (strcmp(optarg, "tree") && strcmp(optarg, "tsv")) {
                fprintf(stderr, "bundlefs ldd: --format takes tree or tsv, not '%s'\n", optarg);
                goto out;
            }
            format = optarg;
            break;
        case OPT_ALL: all = true; break;
        case OPT_JSON: json = true; break;
        case 'h':
            fputs(ldd_usage, stdout);
            status = 0;
            goto out;
        default:
            fputs("bundlefs ldd: 'bundlefs ldd --help' lists the options\n", stderr);
            goto out;
        }
    }
    if (optind + 1 != argc) {
        fputs(optind == argc ? "bundlefs ldd: name the program or library to inspect\n"
                             : "bundlefs ldd: give exactly one FILE\n",
              stderr);
        fputs(ldd_usage, stderr);
        goto out;
    }
    o.preload_file = ldd_read_text(a, preload_path);
    status = ldd_run(a, &o, argv[optind], cache_path, dl, ndl, format, all, json);
out:
    arena_free(a);
    return status;
}

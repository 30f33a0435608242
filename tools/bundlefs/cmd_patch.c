/* bundlefs patch: change RPATH/RUNPATH, NEEDED and SONAME of ELF files, writing new files
 * (the sources are never modified). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "bundlefs/elf_rewrite.h"
#include "commands.h"

static const char patch_usage[] =
    "usage: bundlefs patch [EDITS] FILE -o OUT\n"
    "       bundlefs patch [EDITS] --out-dir DIR FILE...\n"
    "       bundlefs patch --print FILE\n"
    "\n"
    "Writes a copy of each ELF FILE (executable, PIE or shared library; 32 or 64 bit, either\n"
    "byte order) with its dynamic section changed. The change is made in place when the new\n"
    "strings and entries fit in the file, else in a segment added at its end.\n"
    "\n"
    "Edits:\n"
    "  --set-rpath LIST            DT_RPATH = LIST (':'-separated), and no DT_RUNPATH\n"
    "  --set-runpath LIST          DT_RUNPATH = LIST, and no DT_RPATH\n"
    "  --remove-rpath              neither DT_RPATH nor DT_RUNPATH\n"
    "  --replace-needed OLD NEW    the DT_NEEDED entry OLD becomes NEW (repeatable)\n"
    "  --set-soname NAME           DT_SONAME = NAME\n"
    "Output:\n"
    "  -o, --output OUT            the file to write (one FILE)\n"
    "  --out-dir DIR               write each FILE to DIR/<its name> (many FILEs, one process)\n"
    "  --json                      print for each file how it changed (in-place, shifted:\n"
    "                              in place with sections moved up after the string table,\n"
    "                              grown: a segment added), whether sections moved up\n"
    "                              (\"shifted\", also when grown), and its old and new size\n"
    "  --dry-run                   rewrite in memory only; write no file (with --json: what\n"
    "                              would change)\n"
    "  --print                     show FILE's dynamic entries instead\n"
    "  -h, --help                  show this help\n"
    "\n"
    "Exit status: 0 every file written, 1 some file could not be rewritten (each named on\n"
    "stderr with the reason), 2 usage error.\n";

enum { OPT_RPATH = 256, OPT_RUNPATH, OPT_REMOVE, OPT_REPLACE, OPT_SONAME, OPT_OUTDIR, OPT_JSON,
       OPT_PRINT, OPT_DRY_RUN };

static int patch_open(const char *file, int *fd, struct stat *st, bf_err *err)
{
    *fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (*fd < 0)
        return err_set(err, "%s: %s", file, strerror(errno));
    if (fstat(*fd, st) || !S_ISREG(st->st_mode)) {
        close(*fd);
        return err_set(err, "%s: not a regular file", file);
    }
    return BF_OK;
}

/* out NULL: a dry run. */
static int patch_one(const char *file, const char *out, const elf_edit *ed, json_t *report,
                     bf_err *err)
{
    int fd;
    struct stat st;
    if (patch_open(file, &fd, &st, err))
        return BF_FAIL;
    arena *a = arena_new();
    image *im;
    elf_rewrite_result res;
    int rc = elf_rewrite(fd, (uint64_t)st.st_size, file, ed, a, &im, &res, err);
    if (rc == BF_OK && out)
        rc = image_write_file(im, out, st.st_mode & 07777, err);
    if (rc == BF_OK && report) {
        const char *change = res.grown ? "grown" : res.shifted ? "shifted" : "in-place";
        json_array_append_new(report, json_pack("{s:s,s:s?,s:s,s:b,s:I,s:I}", "file", file,
                                                "output", out, "change", change, "shifted",
                                                res.shifted, "old_size",
                                                (json_int_t)res.old_size, "new_size",
                                                (json_int_t)res.new_size));
    }
    arena_free(a);
    close(fd);
    return rc;
}

static int patch_print(const char *file)
{
    int fd;
    struct stat st;
    bf_err err;
    if (patch_open(file, &fd, &st, &err)) {
        fprintf(stderr, "bundlefs patch: %s\n", err.msg);
        return 1;
    }
    arena *a = arena_new();
    const char *text;
    int rc = elf_rewrite_print(fd, (uint64_t)st.st_size, file, a, &text, &err);
    if (rc == BF_OK)
        fputs(text, stdout);
    else
        fprintf(stderr, "bundlefs patch: %s\n", err.msg);
    arena_free(a);
    close(fd);
    return rc == BF_OK ? 0 : 1;
}

int cmd_patch(int argc, char **argv)
{
    static const struct option opts[] = {
        {"set-rpath", required_argument, NULL, OPT_RPATH},
        {"set-runpath", required_argument, NULL, OPT_RUNPATH},
        {"remove-rpath", no_argument, NULL, OPT_REMOVE},
        {"replace-needed", required_argument, NULL, OPT_REPLACE},
        {"set-soname", required_argument, NULL, OPT_SONAME},
        {"output", required_argument, NULL, 'o'},
        {"out-dir", required_argument, NULL, OPT_OUTDIR},
        {"json", no_argument, NULL, OPT_JSON},
        {"print", no_argument, NULL, OPT_PRINT},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    elf_edit ed = {0};
    elf_rename *ren = calloc((size_t)argc, sizeof *ren);
    const char *out = NULL, *outdir = NULL;
    bool json = false, print = false, dry_run = false;
    int c, rc = 2;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_RPATH: ed.rpath = optarg; break;
        case OPT_RUNPATH: ed.runpath = optarg; break;
        case OPT_REMOVE: ed.remove_rpath = true; break;
        case OPT_REPLACE:
            if (optind >= argc) {
                fputs("bundlefs patch: --replace-needed needs OLD and NEW\n", stderr);
                goto out;
            }
            ren[ed.nneeded++] = (elf_rename){optarg, argv[optind++]};
            break;
        case OPT_SONAME: ed.soname = optarg; break;
        case 'o': out = optarg; break;
        case OPT_OUTDIR: outdir = optarg; break;
        case OPT_JSON: json = true; break;
        case OPT_PRINT: print = true; break;
        case OPT_DRY_RUN: dry_run = true; break;
        case 'h': fputs(patch_usage, stdout); rc = 0; goto out;
        default: fputs(patch_usage, stderr); goto out;
        }
    }
    ed.needed = ren;
    int nfiles = argc - optind;
    if (print) {
        rc = 0;
        for (int i = optind; i < argc; i++)
            rc |= patch_print(argv[i]);
        goto out;
    }
    const char *why = nfiles < 1 ? "no FILE given"
                      : !dry_run && !out == !outdir ? "give either -o OUT or --out-dir DIR"
                      : dry_run && (out || outdir) ? "--dry-run writes nothing: no -o or --out-dir"
                      : out && nfiles != 1 ? "-o OUT takes one FILE; use --out-dir for many"
                      : (ed.rpath != NULL) + (ed.runpath != NULL) + ed.remove_rpath > 1
                          ? "--set-rpath, --set-runpath and --remove-rpath exclude each other"
                          : NULL;
    if (why) {
        fprintf(stderr, "bundlefs patch: %s\n\n%s", why, patch_usage);
        goto out;
    }
    json_t *report = json ? json_array() : NULL;
    rc = 0;
    for (int i = optind; i < argc; i++) {
        const char *file = argv[i], *base = strrchr(file, '/');
        char *path = NULL;
        if (outdir && asprintf(&path, "%s/%s", outdir, base ? base + 1 : file) < 0)
            path = NULL;
        bf_err err;
        if (patch_one(file, dry_run ? NULL : outdir ? path : out, &ed, report, &err)) {
            fprintf(stderr, "bundlefs patch: %s\n", err.msg);
            rc = 1;
        }
        free(path);
    }
    if (report) {
        json_dumpf(report, stdout, JSON_INDENT(1));
        fputc('\n', stdout);
        json_decref(report);
    }
out:
    free(ren);
    return rc;
}

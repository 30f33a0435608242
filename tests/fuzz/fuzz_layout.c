/* The layout reader on arbitrary bytes: as a document in memory (layout_read_buffer) and as a
 * file (layout_read_file), which must agree; no crash, no hang, no leak. A layout either
 * reads is written by layout_write_file and read back with every field unchanged: a layout
 * bundlefs writes is one it reads, whole. A few bytes of each input are also
 * laid over a valid sample where the input says, so the fuzzing reaches every member and
 * entry rule, not only the JSON parser, whatever the seeds are. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundlefs/layout.h"
#include "support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every entry type, an edit of each kind, every dependency status, notes, hex strings. */
static const char SAMPLE[] =
    "{\"format\": \"bundlefs-layout\", \"version\": 1, \"name\": \"app\",\n"
    " \"platform\": \"linux-x86_64\", \"launcher\": \"bin/app\",\n"
    " \"requires\": {\"glibc\": \"GLIBC_2.34\", \"glibcxx\": null, \"cxxabi\": \"CXXABI_1.3\"},\n"
    " \"entries\": [\n"
    "  {\"path\": \"bin\", \"type\": \"dir\", \"mode\": 493, \"mtime_ns\": 1700000000000000000},\n"
    "  {\"path\": \"bin/app\", \"type\": \"generated\", \"mode\": 493, \"mtime_ns\": -1,"
    " \"content\": \"#!/bin/sh\\nexec \\\"$0\\\"\\n\"},\n"
    "  {\"path\": \"bin/raw\", \"type\": \"generated\", \"mode\": 420, \"mtime_ns\": 0,"
    " \"content\": {\"hex\": \"00ff41\"}},\n"
    "  {\"path\": \"reals\", \"type\": \"dir\", \"mode\": 493, \"mtime_ns\": 0},\n"
    "  {\"path\": \"reals/r\", \"type\": \"dir\", \"mode\": 493, \"mtime_ns\": 0},\n"
    "  {\"path\": \"reals/r/libz-0123456789abcdef.so.1\", \"type\": \"file\", \"mode\": 420,"
    " \"mtime_ns\": 1690000000123456789, \"source\": \"/usr/lib/x86_64-linux-gnu/libz.so.1\","
    " \"size\": 121280, \"hash\": \"0123456789abcdef0123456789abcdef\", \"edit\": {\"rpath\":"
    " \"$ORIGIN/../../symlinks/libz-0123456789abcdef.so.1\", \"runpath\": null,"
    " \"remove_rpath\": false, \"needed\": [{\"from\": \"/opt/libq.so\", \"to\": \"libq.so\"}],"
    " \"soname\": null}},\n"
    "  {\"path\": \"reals/r/app-fedcba9876543210\", \"type\": \"file\", \"mode\": 3565,"
    " \"mtime_ns\": 5, \"source\": {\"hex\": \"2f6f70742fff\"}, \"size\": 0,"
    " \"hash\": \"fedcba9876543210fedcba9876543210\", \"edit\": {\"rpath\": null, \"runpath\":"
    " \"$ORIGIN\", \"remove_rpath\": true, \"needed\": [], \"soname\": \"libapp.so\"}},\n"
    "  {\"path\": \"symlinks\", \"type\": \"dir\", \"mode\": 493, \"mtime_ns\": 0},\n"
    "  {\"path\": \"symlinks/app-fedcba9876543210\", \"type\": \"dir\", \"mode\": 493,"
    " \"mtime_ns\": 0},\n"
    "  {\"path\": \"symlinks/app-fedcba9876543210/libz.so.1\", \"type\": \"symlink\","
    " \"target\": \"../../reals/r/libz-0123456789abcdef.so.1\"},\n"
    "  {\"path\": {\"hex\": \"64ff\"}, \"type\": \"dir\", \"mode\": 448, \"mtime_ns\": 1},\n"
    "  {\"path\": {\"hex\": \"64ff2f7a\"}, \"type\": \"symlink\","
    " \"target\": \"../reals/r/libz-0123456789abcdef.so.1\"}\n"
    " ],\n"
    " \"objects\": [\n"
    "  {\"real\": \"reals/r/app-fedcba9876543210\", \"source\": \"/opt/app\","
    " \"hash\": \"fedcba9876543210fedcba9876543210\", \"size\": 0, \"root\": \"program\","
    " \"deps\": [{\"name\": \"libz.so.1\", \"kind\": \"needed\", \"status\": \"bundled\","
    " \"target\": 1, \"found\": \"/lib/libz.so.1\", \"step\": \"cache\", \"origin\": \"static\"},"
    " {\"name\": \"libc.so.6\", \"kind\": \"needed\", \"status\": \"excluded\", \"target\": null,"
    " \"found\": \"/lib/libc.so.6\", \"step\": \"cache\", \"origin\": \"trace\"},"
    " {\"name\": \"libq.so\", \"kind\": \"dlopen\", \"status\": \"missing\", \"target\": null,"
    " \"found\": null, \"step\": null, \"origin\": \"trace\"}], \"aliases\": []},\n"
    "  {\"real\": \"reals/r/libz-0123456789abcdef.so.1\", \"source\": \"/lib/libz.so.1\","
    " \"hash\": \"0123456789abcdef0123456789abcdef\", \"size\": 121280, \"root\": null,"
    " \"deps\": [], \"aliases\": [{\"hex\": \"64ff2f7a\"}]}\n"
    " ],\n"
    " \"excluded\": [{\"name\": \"libc.so.6\", \"path\": \"/lib/libc.so.6\", \"rule\": \"glibc"
    " core\"}],\n"
    " \"missing\": [{\"requester\": \"/opt/app\", \"name\": \"libq.so\", \"tried\": [\"/a/libq.so\"]}],\n"
    " \"warnings\": [\"libq.so was not found\"]\n"
    "}\n";

/* In the scratch folder: in (the input) and out.json. */
static char in_path[128], out_path[128];

/* ---- Every field as text, to compare a layout with the layout read back from its file. */

static void dump_bytes(FILE *f, const char *s, size_t n)
{
    if (!s) {
        fputs("null\n", f);
        return;
    }
    fprintf(f, "%zu:", n);
    fwrite(s, 1, n, f);
    fputc('\n', f);
}

static void dump_str(FILE *f, const char *s)
{
    dump_bytes(f, s, s ? strlen(s) : 0);
}

static void dump_strs(FILE *f, const char *const *items, size_t n)
{
    fprintf(f, "list %zu\n", n);
    for (size_t i = 0; i < n; i++)
        dump_str(f, items[i]);
}

static void dump_entry(FILE *f, const layout_entry *e)
{
    fprintf(f, "entry %d\n", (int)e->type);
    dump_str(f, e->path);
    if (e->type == LAYOUT_SYMLINK) {
        dump_str(f, e->target); /* a symlink's mode and time are not in the file */
        return;
    }
    fprintf(f, "%o %lld\n", (unsigned)e->mode, (long long)e->mtime_ns);
    if (e->type == LAYOUT_GENERATED)
        dump_bytes(f, e->content, e->content_len);
    if (e->type != LAYOUT_FILE)
        return;
    fprintf(f, "%llu %s %d\n", (unsigned long long)e->size, e->hash, e->has_edit);
    dump_str(f, e->source);
    if (!e->has_edit)
        return;
    fprintf(f, "edit %d %zu\n", e->edit.remove_rpath, e->edit.nneeded);
    dump_str(f, e->edit.rpath);
    dump_str(f, e->edit.runpath);
    dump_str(f, e->edit.soname);
    for (size_t k = 0; k < e->edit.nneeded; k++) {
        dump_str(f, e->edit.needed[k].from);
        dump_str(f, e->edit.needed[k].to);
    }
}

static void dump_object(FILE *f, const layout_object *o)
{
    fprintf(f, "object %s %llu %zu\n", o->hash, (unsigned long long)o->size, o->ndeps);
    dump_str(f, o->real);
    dump_str(f, o->source);
    dump_str(f, o->root);
    for (size_t k = 0; k < o->ndeps; k++) {
        const layout_dep *d = &o->deps[k];
        fprintf(f, "dep %d %ld\n", (int)d->status, d->target);
        const char *strs[] = {d->name, d->kind, d->found, d->step, d->origin};
        for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
            dump_str(f, strs[i]);
    }
    dump_strs(f, o->aliases, o->naliases);
}

/* The text of l (caller frees). */
static char *dump_layout(const layout *l, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f)
        fuzz_fail("fuzz_layout: out of memory\n");
    fprintf(f, "layout %ld %zu %zu\n", l->version, l->nentries, l->nobjects);
    const char *strs[] = {l->name, l->platform, l->launcher, l->requires_glibc,
                          l->requires_glibcxx, l->requires_cxxabi};
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
        dump_str(f, strs[i]);
    for (size_t i = 0; i < l->nentries; i++)
        dump_entry(f, &l->entries[i]);
    for (size_t i = 0; i < l->nobjects; i++)
        dump_object(f, &l->objects[i]);
    for (size_t i = 0; i < l->nexcluded; i++) {
        dump_str(f, l->excluded[i].name);
        dump_str(f, l->excluded[i].path);
        dump_str(f, l->excluded[i].rule);
    }
    for (size_t i = 0; i < l->nmissing; i++) {
        dump_str(f, l->missing[i].requester);
        dump_str(f, l->missing[i].name);
        dump_strs(f, l->missing[i].tried, l->missing[i].ntried);
    }
    dump_strs(f, l->warnings, l->nwarnings);
    fclose(f);
    return buf;
}

/* l written and read back: it must read, and hold the same. */
static void round_trip(const layout *l)
{
    bf_err err;
    if (layout_write_file(l, out_path, &err))
        return; /* a full disk is no finding: the rules are the reader's, checked already */
    arena *a = arena_new();
    layout back;
    if (layout_read_file(out_path, a, &back, &err))
        fuzz_fail("fuzz_layout: a layout written by layout_write_file is refused: %s\n", err.msg);
    size_t n1, n2;
    char *d1 = dump_layout(l, &n1), *d2 = dump_layout(&back, &n2);
    fuzz_same_dumps("fuzz_layout", "layout", d1, n1, d2, n2);
    free(d1);
    free(d2);
    arena_free(a);
}

/* One document through both readers; returns what they said. */
static int run_document(const uint8_t *data, size_t size)
{
    arena *a = arena_new();
    layout l;
    bf_err err;
    int rc = layout_read_buffer((const char *)data, size, "input", a, &l, &err);
    if (rc == BF_OK)
        round_trip(&l);
    if (fuzz_write_whole(in_path, data, size) == 0) {
        layout f;
        if (layout_read_file(in_path, a, &f, &err) != rc)
            fuzz_fail("fuzz_layout: layout_read_file and layout_read_buffer disagree: %s\n",
                 err.msg);
    }
    arena_free(a);
    return rc;
}

static void start(void)
{
    const char *dir = fuzz_scratch("layout");
    if (!dir)
        fuzz_fail("fuzz_layout: cannot make a temporary folder in /tmp\n");
    snprintf(in_path, sizeof in_path, "%s/in", dir);
    snprintf(out_path, sizeof out_path, "%s/out.json", dir);
    /* a sample the reader no longer takes would leave the overlays on the surface */
    if (run_document((const uint8_t *)SAMPLE, sizeof SAMPLE - 1) != BF_OK) {
        arena *a = arena_new();
        layout l;
        bf_err err;
        layout_read_buffer(SAMPLE, sizeof SAMPLE - 1, "sample", a, &l, &err);
        fuzz_fail("fuzz_layout: the sample is refused: %s\n", err.msg);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool started;
    if (!started) {
        started = true;
        start();
    }
    run_document(data, size);
    /* the input's first three bytes choose where in the sample and how many of the next
     * ones (1 to 8: a digit, a quote, a name) overwrite it */
    if (size > 3) {
        uint8_t doc[sizeof SAMPLE - 1];
        memcpy(doc, SAMPLE, sizeof doc);
        size_t at = ((size_t)data[0] << 8 | data[1]) % sizeof doc;
        size_t n = 1 + data[2] % 8;
        n = n < size - 3 ? n : size - 3;
        n = n < sizeof doc - at ? n : sizeof doc - at;
        memcpy(doc + at, data + 3, n);
        run_document(doc, sizeof doc);
    }
    return 0;
}

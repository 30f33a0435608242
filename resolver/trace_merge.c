/* One trace from the files of a traced run: a recorder file per process image, a Python
 * hook record per CPython process. Images are ordered by start time, so a forked child and
 * an exec'd program come after the image they came from, and each Python record joins the
 * image that was running when its hook started. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "trace_internal.h"

static int merge_cmp_start(const void *x, const void *y)
{
    const trace_rec_image *a = x, *b = y;
    return a->started_ns < b->started_ns ? -1 : a->started_ns > b->started_ns;
}

static bool merge_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), k = strlen(suffix);
    return n > k && !strcmp(name + n - k, suffix);
}

/* The latest image of pid started no later than at (and, with want_fork, a fork image). */
static long merge_image_of(trace_rec_image *imgs, size_t n, long pid, uint64_t at,
                           int want_fork)
{
    long best = -1;
    for (size_t i = 0; i < n && imgs[i].started_ns <= at; i++)
        if (imgs[i].pid == pid && (want_fork < 0 || (want_fork == 1) == !strcmp(imgs[i].origin, "fork")))
            best = (long)i;
    return best;
}

static char *merge_read_small(const char *path, arena *a)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = arena_alloc(a, 65537);
    size_t n = fread(buf, 1, 65536, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static trace_process *merge_add_process(trace *t, arena *a, size_t *cap)
{
    trace_process p = {.parent = -1, .audited = true};
    arena_push(a, &t->processes, &t->nprocesses, cap, &p, sizeof p);
    return &t->processes[t->nprocesses - 1];
}

static void merge_python(trace *t, arena *a, trace_rec_image *imgs, size_t nimg,
                         trace_python *py, size_t *proccap)
{
    long i = py->forked_from >= 0 ? merge_image_of(imgs, nimg, py->pid, UINT64_MAX, 1)
                                  : merge_image_of(imgs, nimg, py->pid, py->started_ns, 0);
    if (i >= 0) {
        trace_process *p = &t->processes[imgs[i].process];
        if (!p->python || p->python->started_ns <= py->started_ns)
            p->python = py;
        return;
    }
    /* A process the loader never had to report: a forked child that loaded nothing, or a
     * process started without the recorder. */
    trace_process *p = merge_add_process(t, a, proccap);
    p->pid = py->pid;
    p->ppid = py->ppid;
    p->started_ns = py->started_ns;
    p->exe = py->executable_realpath;
    p->argv = py->orig_argv.items ? py->orig_argv : py->argv;
    p->python = py;
    long parent_pid = py->forked_from >= 0 ? py->forked_from : py->ppid;
    long parent = merge_image_of(imgs, nimg, parent_pid, py->started_ns, -1);
    p->parent = parent >= 0 ? imgs[parent].process : -1;
    if (py->forked_from >= 0) {
        p->origin = "fork";
        /* what a fork child inherits, when it never said: everything its parent had open */
        if (parent >= 0) {
            const trace_process *pp = &t->processes[imgs[parent].process];
            size_t cap = 0;
            for (size_t k = 0; k < pp->nobjects; k++) {
                trace_object o = pp->objects[k];
                if (o.closed)
                    continue;
                o.inherited = true;
                arena_push(a, &p->objects, &p->nobjects, &cap, &o, sizeof o);
            }
        }
    } else {
        p->origin = "exec";
        p->audited = false;
        p->not_audited_why = "the loader's recorder did not run in this process (LD_AUDIT "
                             "removed from its environment?)";
    }
}

int trace_from_records(const char *dir, arena *a, trace *t, bf_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return err_set(err, "%s: cannot read the trace records: %s", dir, strerror(errno));
    trace_rec_image *imgs = NULL;
    size_t nimg = 0, imgcap = 0, proccap = t->nprocesses;
    const char **pyfiles = NULL;
    size_t npy = 0, pycap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *path = arena_printf(a, "%s/%s", dir, de->d_name);
        struct stat st;
        if (de->d_name[0] == '.' || lstat(path, &st) || !S_ISREG(st.st_mode)) {
            if (de->d_name[0] != '.')
                trace_warn(t, a, "%s: not a regular file; left out", path);
            continue;
        }
        if (merge_suffix(de->d_name, ".rec")) {
            trace_rec_image img;
            bf_err e2;
            if (trace_rec_parse(path, a, t, &img, &e2))
                trace_warn(t, a, "%s", e2.msg);
            else
                arena_push(a, &imgs, &nimg, &imgcap, &img, sizeof img);
        } else if (!strncmp(de->d_name, "py-", 3) && merge_suffix(de->d_name, ".json")) {
            arena_push(a, &pyfiles, &npy, &pycap, &path, sizeof path);
        }
    }
    closedir(d);
    if (nimg)
        qsort(imgs, nimg, sizeof *imgs, merge_cmp_start);
    const char *etc_preload = merge_read_small("/etc/ld.so.preload", a);

    for (size_t i = 0; i < nimg; i++) {
        trace_rec_image *img = &imgs[i];
        bool fork = !strcmp(img->origin, "fork");
        long from = fork ? merge_image_of(imgs, i, img->parent_pid, img->started_ns, -1)
                         : merge_image_of(imgs, i, img->pid, img->started_ns, -1);
        if (!fork && from < 0)
            from = merge_image_of(imgs, i, img->ppid, img->started_ns, -1);
        img->process = (long)t->nprocesses;
        trace_process *p = merge_add_process(t, a, &proccap);
        p->pid = img->pid;
        p->ppid = img->ppid;
        p->origin = img->origin;
        p->started_ns = img->started_ns;
        p->exe = img->exe;
        p->argv = img->argv;
        p->parent = from >= 0 ? imgs[from].process : -1;
        if (fork && from < 0)
            trace_warn(t, a, "%s: forked from process %ld, of which there is no record; what "
                             "it inherited is unknown", img->file, img->parent_pid);
        trace_assemble(img, fork && from >= 0 ? &imgs[from] : NULL, etc_preload, a, t, p);
    }
    for (size_t i = 0; i < npy; i++) {
        trace_python *py = arena_alloc(a, sizeof *py);
        bf_err e2;
        if (trace_python_read_file(pyfiles[i], a, py, &e2))
            trace_warn(t, a, "%s", e2.msg);
        else
            merge_python(t, a, imgs, nimg, py, &proccap);
    }
    return BF_OK;
}

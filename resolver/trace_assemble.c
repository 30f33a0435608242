/* From the recorder's events of one process image to its objects and loads. The loader
 * reports a search as its name (LA_SER_ORIG), each candidate path, then the new object; the
 * dlopen hook reports the call first. What the audit interface never says is put back here:
 * a search without a new object found an object already mapped (the same file under another
 * name) or failed, and a dlopen without a search matched a loaded object by name. */
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundlefs/elf.h"
#include "bundlefs/strmap.h"
#include "trace_internal.h"

enum { TRACE_MAX_OBJECT_ID = 1 << 20, TRACE_MAX_THREADS = 4096 };

typedef struct asm_thread {
    long tid;
    long current; /* load being searched, -1 */
    long pending; /* dlopen call not yet matched by its search, -1 */
} asm_thread;

typedef struct asm_state {
    arena *a;
    trace *t;
    trace_rec_image *img;
    trace_process *p;
    trace_object **by_id; /* id -> object, NULL when unknown */
    long nids;
    size_t objcap, loadcap, *candcap;
    bool *startup;     /* per load: asked for before la_preinit */
    bool preinit_seen;
    asm_thread *threads;
    size_t nthreads, threadcap;
    elf_reader *reader;
    elf_info **elf_by_id; /* parsed lazily for NEEDED lists and SONAMEs */
    bool *elf_tried;
    strmap *names; /* "lmid:name" -> object id + 1; in the arena, which releases it */
} asm_state;

const char *trace_step_name(unsigned flag)
{
    switch (flag) {
    case LA_SER_LIBPATH: return "libpath";
    case LA_SER_RUNPATH: return "runpath";
    case LA_SER_CONFIG: return "config";
    case LA_SER_DEFAULT: return "default";
    case LA_SER_SECURE: return "secure";
    default: return "unknown";
    }
}

static int asm_cmp_seq(const void *x, const void *y)
{
    const trace_rec_event *a = x, *b = y;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static trace_object *asm_object(asm_state *s, long id)
{
    return id >= 0 && id < s->nids ? s->by_id[id] : NULL;
}

static asm_thread *asm_thread_of(asm_state *s, long tid)
{
    for (size_t i = 0; i < s->nthreads; i++)
        if (s->threads[i].tid == tid)
            return &s->threads[i];
    if (s->nthreads >= TRACE_MAX_THREADS)
        return &s->threads[0];
    asm_thread th = {tid, -1, -1};
    arena_push(s->a, &s->threads, &s->nthreads, &s->threadcap, &th, sizeof th);
    return &s->threads[s->nthreads - 1];
}

static const elf_info *asm_elf(asm_state *s, const trace_object *o)
{
    if (o->id >= s->nids || !o->file || !*o->file)
        return NULL;
    if (!s->elf_tried[o->id]) {
        s->elf_tried[o->id] = true;
        /* the file may have been replaced by anything since the run: never block on it */
        int fd = open(o->file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        struct stat st;
        if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
            elf_info *info = arena_alloc(s->a, sizeof *info);
            bf_err err;
            if (elf_parse_fd(s->reader, fd, (uint64_t)st.st_size, NULL, 0, ELF_SKIP_VERNEED,
                             o->file, s->a, info, &err) == BF_OK)
                s->elf_by_id[o->id] = info;
        }
        if (fd >= 0)
            close(fd);
    }
    return s->elf_by_id[o->id];
}

static trace_object *asm_add_object(asm_state *s, const trace_object *o)
{
    if (o->id < 0 || o->id >= TRACE_MAX_OBJECT_ID)
        return NULL;
    if (o->id >= s->nids) {
        long n = o->id + 64;
        s->by_id = arena_grow(s->a, s->by_id, (size_t)s->nids, (size_t)n, sizeof *s->by_id);
        s->elf_by_id = arena_grow(s->a, s->elf_by_id, (size_t)s->nids, (size_t)n,
                                  sizeof *s->elf_by_id);
        s->elf_tried = arena_grow(s->a, s->elf_tried, (size_t)s->nids, (size_t)n, 1);
        s->img->obj_open_seq = arena_grow(s->a, s->img->obj_open_seq, (size_t)s->nids,
                                          (size_t)n, sizeof(uint64_t));
        s->img->obj_close_seq = arena_grow(s->a, s->img->obj_close_seq, (size_t)s->nids,
                                           (size_t)n, sizeof(uint64_t));
        for (long i = s->nids; i < n; i++)
            s->img->obj_open_seq[i] = s->img->obj_close_seq[i] = UINT64_MAX;
        s->nids = n;
    }
    arena_push(s->a, &s->p->objects, &s->p->nobjects, &s->objcap, o, sizeof *o);
    /* objects moved: re-point the index */
    for (size_t i = 0; i < s->p->nobjects; i++)
        s->by_id[s->p->objects[i].id] = &s->p->objects[i];
    return &s->p->objects[s->p->nobjects - 1];
}

static long asm_new_load(asm_state *s, enum trace_kind kind, const trace_rec_event *e)
{
    const trace_object *req = asm_object(s, e->obj);
    trace_load l = {.kind = kind, .requester = req ? e->obj : -1, .name = e->name,
                    .tid = e->tid, .mode = kind == TRACE_DLOPEN ? e->flag : -1,
                    .status = TRACE_FAILED, .object = -1};
    l.lmid = kind == TRACE_DLOPEN ? e->lmid : req ? req->lmid : 0;
    size_t before = s->p->nloads, oldcap = s->loadcap;
    arena_push(s->a, &s->p->loads, &s->p->nloads, &s->loadcap, &l, sizeof l);
    if (s->loadcap != oldcap) {
        s->candcap = arena_grow(s->a, s->candcap, oldcap, s->loadcap, sizeof *s->candcap);
        s->startup = arena_grow(s->a, s->startup, oldcap, s->loadcap, sizeof *s->startup);
    }
    s->startup[before] = !s->preinit_seen;
    return (long)before;
}

static bool asm_live(const trace_object *o, long lmid)
{
    return o->lmid == lmid && !o->closed;
}

/* The dynamic loader is in every namespace, but reported once, as the second object of the
 * process (after the main program). */
static bool asm_live_or_rtld(const trace_object *o, long lmid)
{
    return asm_live(o, lmid) || (o->id == 1 && o->lmid == 0 && o->name[0] == '/');
}

static const char *asm_name_key(asm_state *s, const char *name, long lmid)
{
    return arena_printf(s->a, "%ld:%s", lmid, name);
}

/* Names an object answers to in its namespace: its l_name and each name it was loaded
 * under (glibc's l_libname list); the latest object wins, as a closed one gives way. */
static void asm_name_object(asm_state *s, const char *name, long lmid, long id)
{
    strmap_set(s->names, asm_name_key(s, name, lmid), (void *)(intptr_t)(id + 1));
}

/* A search that mapped nothing: the first candidate that is a file already mapped is what
 * the loader returned (it compares device and inode); otherwise the load failed. */
static void asm_finish_search(asm_state *s, trace_load *l)
{
    if (l->object >= 0)
        return;
    size_t n = l->ncandidates + (strchr(l->name, '/') ? 1 : 0);
    for (size_t i = 0; i < n; i++) {
        const char *path = i < l->ncandidates ? l->candidates[i].path : l->name;
        struct stat st;
        if (stat(path, &st))
            continue;
        for (size_t k = 0; k < s->p->nobjects; k++) {
            const trace_object *o = &s->p->objects[k];
            if (asm_live_or_rtld(o, l->lmid) && o->dev == (uint64_t)st.st_dev &&
                o->ino == (uint64_t)st.st_ino) {
                l->status = TRACE_ALREADY_LOADED;
                l->object = o->id;
                asm_name_object(s, l->name, l->lmid, o->id);
                return;
            }
        }
    }
    l->status = TRACE_FAILED;
}

/* A dlopen that reached no search: the loader matched the name against a loaded object's
 * l_name, a name it was loaded under, or its SONAME. */
static void asm_finish_unsearched(asm_state *s, trace_load *l)
{
    l->status = TRACE_ALREADY_LOADED;
    intptr_t named = (intptr_t)strmap_get(s->names, asm_name_key(s, l->name, l->lmid));
    trace_object *o = named ? asm_object(s, (long)named - 1) : NULL;
    if (o && asm_live(o, l->lmid)) {
        l->object = o->id;
        return;
    }
    for (size_t k = 0; k < s->p->nobjects; k++) {
        o = &s->p->objects[k];
        const elf_info *info = asm_live(o, l->lmid) ? asm_elf(s, o) : NULL;
        if (info && info->soname && !strcmp(info->soname, l->name)) {
            l->object = o->id;
            return;
        }
    }
    trace_warn(s->t, s->a, "%s: dlopen(\"%s\") in process %ld reached no search, yet no "
               "loaded object has that name", s->img->file, l->name, s->p->pid);
}

static void asm_finish_thread(asm_state *s, asm_thread *th)
{
    if (th->current >= 0)
        asm_finish_search(s, &s->p->loads[th->current]);
    if (th->pending >= 0)
        asm_finish_unsearched(s, &s->p->loads[th->pending]);
    th->current = th->pending = -1;
}

static bool asm_in_list(const char *name, const char *list)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, " \t\n:");
        if (len == n && !strncmp(p, name, n))
            return true;
        p += len + (p[len] != '\0');
    }
    return false;
}

/* Searches the dlopen hook did not announce: a preload (the start-up's first requests of the
 * main program, for names on a preload list), a DT_NEEDED entry of the requester, or a
 * dlopen glibc made itself (NSS, iconv, libgcc_s). */
static void asm_classify(asm_state *s, const char *etc_preload)
{
    bool preload_phase = true;
    for (size_t i = 0; i < s->p->nloads; i++) {
        trace_load *l = &s->p->loads[i];
        if (l->kind == TRACE_DLOPEN)
            continue;
        const trace_object *req = asm_object(s, l->requester);
        bool by_main = req && req->id == 0 && !*req->name;
        if (s->startup[i] && by_main && preload_phase &&
            (asm_in_list(l->name, s->img->ld_preload) || asm_in_list(l->name, etc_preload))) {
            l->kind = TRACE_PRELOAD;
            continue;
        }
        if (by_main)
            preload_phase = false;
        const elf_info *info = req ? asm_elf(s, req) : NULL;
        bool needed = false;
        for (size_t k = 0; info && k < info->ndeps && !needed; k++)
            needed = !strcmp(info->deps[k].name, l->name);
        l->kind = needed ? TRACE_NEEDED : TRACE_DLOPEN;
    }
}

static void asm_objopen(asm_state *s, const trace_rec_event *e)
{
    trace_object o = {.id = e->obj, .name = e->name, .file = *e->name ? e->name : s->img->exe,
                      .realpath = e->real, .dev = e->dev, .ino = e->ino, .lmid = e->lmid};
    if (asm_object(s, e->obj)) {
        trace_warn(s->t, s->a, "%s: object %ld is opened twice; the second was left out",
                   s->img->file, e->obj);
        return;
    }
    if (!asm_add_object(s, &o)) {
        trace_warn(s->t, s->a, "%s: object number %ld is out of range; left out", s->img->file,
                   e->obj);
        return;
    }
    s->img->obj_open_seq[e->obj] = e->seq;
    asm_thread *th = asm_thread_of(s, e->tid);
    asm_name_object(s, e->name, e->lmid, e->obj);
    if (th->current >= 0) {
        trace_load *l = &s->p->loads[th->current];
        l->status = TRACE_LOADED;
        l->object = e->obj;
        l->lmid = e->lmid; /* a dlmopen(LM_ID_NEWLM) learns its namespace here */
        asm_name_object(s, l->name, e->lmid, e->obj);
        th->current = -1;
    }
}

static void asm_search(asm_state *s, const trace_rec_event *e)
{
    asm_thread *th = asm_thread_of(s, e->tid);
    if (e->flag == LA_SER_ORIG) {
        if (th->current >= 0)
            asm_finish_search(s, &s->p->loads[th->current]);
        if (th->pending >= 0 && !strcmp(s->p->loads[th->pending].name, e->name)) {
            th->current = th->pending;
            th->pending = -1;
            if (asm_object(s, e->obj))
                s->p->loads[th->current].requester = e->obj;
        } else {
            th->current = asm_new_load(s, TRACE_NEEDED, e);
        }
        return;
    }
    if (th->current < 0)
        return;
    trace_load *l = &s->p->loads[th->current];
    trace_candidate c = {e->name, trace_step_name((unsigned)e->flag)};
    arena_push(s->a, &l->candidates, &l->ncandidates, &s->candcap[th->current], &c, sizeof c);
}

static void asm_dlopen_call(asm_state *s, const trace_rec_event *e)
{
    asm_thread *th = asm_thread_of(s, e->tid);
    asm_finish_thread(s, th);
    th->pending = asm_new_load(s, TRACE_DLOPEN, e);
}

/* The loader reports every object as closed at exit: per namespace, la_activity(DELETE),
 * the closes, la_activity(CONSISTENT), the other namespaces before the main one, whose run
 * holds the main program's close. A dlclose reports its closes first, then DELETE (and
 * CONSISTENT unless the namespace is now empty). So the exit starts at the DELETE before the
 * main program's run, extended back over whole DELETE-closes-CONSISTENT groups of other
 * namespaces. */
static long asm_lmid_of(const trace_rec_image *img, long id)
{
    for (size_t i = 0; i < img->nevents; i++)
        if (img->events[i].kind == 'O' && img->events[i].obj == id)
            return img->events[i].lmid;
    return -1;
}

static bool asm_is_act(const trace_rec_event *e, long flag)
{
    return e->kind == 'A' && e->flag == flag;
}

static size_t asm_exit_start(const trace_rec_image *img)
{
    const trace_rec_event *ev = img->events;
    size_t i = 0;
    while (i < img->nevents && !(ev[i].kind == 'C' && ev[i].obj == 0))
        i++;
    if (i == img->nevents)
        return i;
    while (i > 0 && ev[i - 1].kind == 'C')
        i--;
    if (i > 0 && asm_is_act(&ev[i - 1], LA_ACT_DELETE))
        i--;
    for (;;) {
        size_t k = i;
        if (k == 0 || !asm_is_act(&ev[k - 1], LA_ACT_CONSISTENT))
            return i;
        k--;
        size_t closes = 0;
        while (k > 0 && ev[k - 1].kind == 'C' && asm_lmid_of(img, ev[k - 1].obj) > 0) {
            k--;
            closes++;
        }
        if (!closes || k == 0 || !asm_is_act(&ev[k - 1], LA_ACT_DELETE))
            return i;
        i = k - 1;
    }
}

static void asm_inherit(asm_state *s, trace_rec_image *parent)
{
    trace_process *pp = &s->t->processes[parent->process];
    for (size_t i = 0; i < pp->nobjects; i++) {
        trace_object o = pp->objects[i];
        if (parent->obj_open_seq[o.id] >= s->img->fork_seq ||
            parent->obj_close_seq[o.id] < s->img->fork_seq)
            continue;
        o.inherited = true;
        o.closed = false;
        if (asm_add_object(s, &o))
            s->img->obj_open_seq[o.id] = 0;
        asm_name_object(s, o.name, o.lmid, o.id);
    }
    for (size_t i = 0; i < pp->nloads; i++) {
        const trace_load *l = &pp->loads[i];
        const trace_object *o = asm_object(s, l->object);
        if (o && o->inherited && l->status != TRACE_FAILED)
            asm_name_object(s, l->name, l->lmid, o->id);
    }
}

void trace_assemble(trace_rec_image *img, trace_rec_image *parent, const char *etc_preload,
                    arena *a, trace *t, trace_process *p)
{
    asm_state s = {.a = a, .t = t, .img = img, .p = p, .reader = elf_reader_new(a)};
    s.names = arena_alloc(a, sizeof *s.names);
    strmap_init(s.names, a);
    if (img->nevents)
        qsort(img->events, img->nevents, sizeof *img->events, asm_cmp_seq);
    if (parent)
        asm_inherit(&s, parent);
    size_t exit_start = asm_exit_start(img);
    for (size_t i = 0; i < img->nevents; i++) {
        const trace_rec_event *e = &img->events[i];
        switch (e->kind) {
        case 'O': asm_objopen(&s, e); break;
        case 'S': asm_search(&s, e); break;
        case 'D': asm_dlopen_call(&s, e); break;
        case 'P': s.preinit_seen = true; break;
        case 'X': p->reached_exit = true; break;
        case 'C':
            if (i < exit_start) {
                trace_object *o = asm_object(&s, e->obj);
                if (o) {
                    o->closed = true;
                    img->obj_close_seq[o->id] = e->seq;
                }
            }
            break;
        default: break;
        }
    }
    for (size_t i = 0; i < s.nthreads; i++)
        asm_finish_thread(&s, &s.threads[i]);
    asm_classify(&s, etc_preload);
}

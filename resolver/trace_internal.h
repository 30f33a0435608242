/* Shared by the trace reader, writer and record merger: JSON mapping of the trace structs,
 * driven by field tables so each field is described once for both directions. */
#ifndef BUNDLEFS_TRACE_INTERNAL_H
#define BUNDLEFS_TRACE_INTERNAL_H

#include <jansson.h>

#include "bundlefs/trace.h"
#include "json_bytes.h"

typedef enum trace_ftype {
    TF_STR,      /* const char *, may be NULL (JSON null) */
    TF_LONG,     /* long */
    TF_U64,      /* uint64_t */
    TF_BOOL,     /* bool */
    TF_STRLIST,  /* trace_strlist */
} trace_ftype;

typedef struct trace_field {
    const char *key;
    trace_ftype type;
    size_t offset;
} trace_field;

extern const trace_field trace_object_fields[];
extern const trace_field trace_load_fields[];
extern const trace_field trace_python_fields[];
extern const trace_field trace_process_fields[];

json_t *trace_fields_to_json(const trace_field *fields, const void *base);
/* Sets every field of base from obj; a missing key is an error naming where and the key. */
int trace_fields_from_json(const json_t *obj, const trace_field *fields, void *base, arena *a,
                           const char *where, bf_err *err);

json_t *trace_python_to_json(const trace_python *py);
int trace_python_from_json(const json_t *obj, trace_python *py, arena *a, const char *where,
                           bf_err *err);

#endif

/* The recorder's files (tools/recorder): one per process image, one line per event. */
typedef struct trace_rec_event {
    char kind;      /* O objopen, S objsearch, D dlopen call, C objclose, A activity,
                       P preinit, X exit reached */
    uint64_t seq;
    long tid;
    long obj;       /* O: new object; S, A, C: requester/object; D: caller (-1 unknown) */
    long lmid;      /* O, D */
    long flag;      /* S: LA_SER_*; A: LA_ACT_*; D: dlopen mode */
    uint64_t dev, ino;
    const char *name; /* O: l_name; S, D: the name */
    const char *real; /* O: real path */
} trace_rec_event;

typedef struct trace_rec_image {
    const char *file;
    long pid, ppid, parent_pid;
    const char *origin;
    uint64_t fork_seq, started_ns;
    const char *exe;
    trace_strlist argv;
    const char *ld_preload; /* the image's LD_PRELOAD, NULL if unset */
    trace_rec_event *events;
    size_t nevents;
    /* filled when assembled: the index of its process, and per object the seq of its
     * objopen and dlclose (UINT64_MAX if none), for what a fork child inherits */
    long process;
    uint64_t *obj_open_seq, *obj_close_seq;
} trace_rec_image;

/* Parses one record file; lines it cannot read become warnings. Fails only when the file
 * cannot be read or has no header. */
int trace_rec_parse(const char *path, arena *a, trace *t, trace_rec_image *out, bf_err *err);

/* Turns an image's events into the objects and loads of p (p's header fields are set).
 * parent is the image a forked child was copied from, already assembled, or NULL;
 * etc_preload the contents of /etc/ld.so.preload (or NULL). */
void trace_assemble(trace_rec_image *img, trace_rec_image *parent, const char *etc_preload,
                    arena *a, trace *t, trace_process *p);

void trace_warn(trace *t, arena *a, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

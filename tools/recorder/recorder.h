/* The LD_AUDIT recorder: internal interface between the audit callbacks, the record file
 * and the dlopen entry hook. The recorder runs inside the traced process, in the loader's
 * audit namespace, so it keeps to plain system calls and never reports an error to the
 * program: a record it cannot write is dropped and the process carries on unchanged. */
#ifndef BUNDLEFS_RECORDER_H
#define BUNDLEFS_RECORDER_H

#include <stddef.h>
#include <stdint.h>

/* The recorder is built with hidden visibility; only the la_* entry points are exported. */
#define RECORDER_EXPORT __attribute__((visibility("default")))

/* One record line under construction: fields separated by tabs, ended by a newline. */
typedef struct rec_line {
    char buf[8192];
    size_t len;
    int truncated;
    unsigned long long seq; /* of an event line */
} rec_line;

/* A header line (no sequence number). */
void rec_begin(rec_line *l, char kind);
/* An event line: kind, this image's next sequence number and the calling thread. */
void rec_begin_event(rec_line *l, char kind);
void rec_str(rec_line *l, const char *s); /* escaped; NULL is written as "\0" */
void rec_num(rec_line *l, long long v);
void rec_unum(rec_line *l, unsigned long long v);
/* Writes the line to this process's record file (opening it on first use and again in a
 * forked child); seq is stamped by the caller. */
void rec_emit(rec_line *l);
void rec_flush(void);
/* Reads $BUNDLEFS_TRACE_DIR; 0 when unset (the recorder then stays out of the way). */
int rec_init(void);

/* Link maps seen by la_objopen, so a cookie or a code address names an object index. */
long recorder_object_of_map(const void *map);

/* The real dlopen/dlmopen the entry hooks jump to, and the C side they call first. */
extern void *recorder_real_dlopen;
extern void *recorder_real_dlmopen;
void recorder_dlopen_entry(void);
void recorder_dlmopen_entry(void);
void recorder_note_dlopen(const char *file, long mode, void *caller);
void recorder_note_dlmopen(long lmid, const char *file, long mode, void *caller);

#endif

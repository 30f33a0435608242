/* A trace: what one run of a program loaded, as the loader decided it, per process, plus the
 * Python facts of every CPython process. Written by `bundlefs trace` from the recorder's
 * files, read by the later stages. The JSON form ("format": "bundlefs-trace") is documented
 * in the README. */
#ifndef BUNDLEFS_TRACE_H
#define BUNDLEFS_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bundlefs/arena.h"
#include "bundlefs/err.h"

enum { TRACE_FORMAT_VERSION = 1 };

typedef struct trace_strlist {
    const char **items;
    size_t count;
} trace_strlist;

/* One object the loader mapped. */
typedef struct trace_object {
    long id;              /* the recorder's number, unique in a process and its forks */
    const char *name;     /* l_name as the loader set it ("" for the main program) */
    const char *file;     /* the file (for the main program, the executable) */
    const char *realpath; /* NULL for objects without a file (the vDSO) */
    uint64_t dev, ino;    /* 0, 0 when the file could not be examined */
    long lmid;            /* link-map namespace, 0 = the main one */
    bool closed;          /* dlclose'd before the process ended */
    bool inherited;       /* mapped by the parent before a fork */
} trace_object;

typedef struct trace_candidate {
    const char *path;
    const char *step; /* trace_step_name(): the search step that produced the path */
} trace_candidate;

enum trace_kind { TRACE_NEEDED, TRACE_DLOPEN, TRACE_PRELOAD };
enum trace_status { TRACE_LOADED, TRACE_ALREADY_LOADED, TRACE_FAILED };

/* One request to the loader, in the order the loader handled them. */
typedef struct trace_load {
    enum trace_kind kind;
    long requester;    /* object id of the requesting object, -1 when unknown */
    const char *name;  /* as written in DT_NEEDED, passed to dlopen, or preloaded */
    long lmid;
    long mode;         /* dlopen flags; -1 for other kinds */
    long tid;          /* the thread that asked */
    trace_candidate *candidates;
    size_t ncandidates;
    enum trace_status status;
    long object;       /* the object that satisfied it, -1 when it failed */
} trace_load;

typedef struct trace_pymodule {
    const char *name, *origin, *file;
} trace_pymodule;

typedef struct trace_env {
    const char *name, *value;
} trace_env;

/* What the Python hook recorded ("format": "bundlefs-python-facts"). */
typedef struct trace_python {
    long pid, ppid, forked_from; /* forked_from: -1 unless a forked child */
    uint64_t started_ns;
    bool complete;
    const char *end; /* "running" (the process did not reach exit), "exit", "os._exit" */
    const char *executable, *executable_realpath;
    trace_strlist orig_argv, argv;
    const char *python_version, *implementation, *cache_tag, *abiflags, *multiarch, *soabi;
    trace_strlist version_info, extension_suffixes;
    const char *prefix, *base_prefix, *exec_prefix, *base_exec_prefix, *platlibdir;
    const char *stdlib, *lib_dynload;
    trace_strlist path_start, path_exit;
    trace_pymodule *modules;
    size_t nmodules;
    trace_strlist hook_imported;
    const char *main_script, *main_module, *cwd;
    trace_env *env;
    size_t nenv;
    bool isolated, ignore_environment, no_site, no_user_site, safe_path;
} trace_python;

typedef struct trace_process {
    long pid, ppid;
    long parent;        /* index of the parent process in the trace, -1 for the root */
    const char *origin; /* "exec" (a new program image) or "fork" */
    uint64_t started_ns;
    const char *exe;
    trace_strlist argv;
    bool audited;       /* false: the loader could not be observed (static, set-uid) */
    const char *not_audited_why;
    bool reached_exit;  /* the process ended through exit(), not _exit or a signal */
    trace_object *objects;
    size_t nobjects;
    trace_load *loads;
    size_t nloads;
    trace_python *python; /* NULL unless the process was a traced CPython */
} trace_process;

typedef struct trace {
    long version;
    trace_strlist command;
    const char *cwd;
    long exit_code;   /* -1 when the command died of a signal */
    long exit_signal; /* 0 unless it did */
    trace_strlist warnings;
    trace_process *processes;
    size_t nprocesses;
} trace;

const char *trace_kind_name(enum trace_kind k);
const char *trace_status_name(enum trace_status s);
/* The search step of a candidate path (LA_SER_*): "libpath", "runpath", "config",
 * "default", "secure". */
const char *trace_step_name(unsigned la_ser_flag);

/* Reads a trace file. Rejects other formats, unknown versions and broken documents with an
 * error naming the file and the problem. */
int trace_read_file(const char *path, arena *a, trace *out, bf_err *err);
/* Writes t as JSON to path (atomically: a temporary file renamed into place). */
int trace_write_file(const trace *t, const char *path, bf_err *err);

/* Builds the processes of a trace from the files the recorder and the Python hook wrote into
 * dir. Problems with single records become warnings in t; only an unreadable dir fails. */
int trace_from_records(const char *dir, arena *a, trace *t, bf_err *err);

/* Reads one Python hook record. */
int trace_python_read_file(const char *path, arena *a, trace_python *out, bf_err *err);

#endif

/* A layout (bundle.json): every entry of a bundle tree, with where its bytes come from, plus
 * the object graph that explains it (which real asks for which name, found how). mount,
 * materialize, why and diff need nothing but this and the sources it names. The JSON form
 * ("format": "bundlefs-layout") is documented in the README. */
#ifndef BUNDLEFS_LAYOUT_H
#define BUNDLEFS_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "bundlefs/arena.h"
#include "bundlefs/elf_rewrite.h"
#include "bundlefs/err.h"
#include "bundlefs/image.h"

enum { LAYOUT_FORMAT_VERSION = 1 };

enum layout_type {
    LAYOUT_DIR,
    LAYOUT_FILE,      /* the bytes of a source file, through an edit when it has one */
    LAYOUT_SYMLINK,
    LAYOUT_GENERATED, /* bytes held in the layout (launchers) */
};

typedef struct layout_entry {
    const char *path;  /* relative to the bundle root: no leading '/', no "." or ".." part */
    enum layout_type type;
    uint32_t mode;     /* permission bits (07777); symlinks: unused */
    int64_t mtime_ns;  /* files: the source's mtime, set on the output too; dirs, generated:
                          the time to set; symlinks: unused */
    /* LAYOUT_FILE */
    const char *source; /* absolute path on the build machine */
    uint64_t size;      /* the source's size when the layout was made */
    char hash[33];      /* XXH3-128 of the source bytes, 32 lowercase hex digits */
    bool has_edit;      /* an ELF whose dynamic section is rewritten */
    elf_edit edit;
    /* LAYOUT_SYMLINK */
    const char *target; /* relative, staying inside the bundle */
    /* LAYOUT_GENERATED */
    const char *content;
    size_t content_len;
} layout_entry;

enum layout_dep_status { LAYOUT_DEP_BUNDLED, LAYOUT_DEP_EXCLUDED, LAYOUT_DEP_MISSING };

/* One name a real asks the loader for and what it binds to. */
typedef struct layout_dep {
    const char *name;   /* as the requester asks: its DT_NEEDED string or its dlopen name */
    const char *kind;   /* "needed" or "dlopen" */
    enum layout_dep_status status;
    long target;        /* BUNDLED: index in layout.objects; else -1 */
    const char *found;  /* the path the loader found on the build machine, NULL if missing */
    const char *step;   /* the search step that found it: ldso_step_name() or trace_step_name()
                           wording ("rpath", "cache", ...), "loaded" for a name already bound */
    const char *origin; /* "trace" (seen in the traced run) or "static" (resolved here) */
} layout_dep;

typedef struct layout_object {
    const char *real;   /* its file in the bundle: "reals/r/<stem>-<h><ext>" */
    const char *source; /* canonical path on the build machine */
    char hash[33];
    uint64_t size;
    const char *root;   /* why it is a root, NULL if only reached as a dependency:
                           "program" (a traced process's executable), "trace" (loaded by the
                           traced run), "python" (a binary in the Python universe) */
    layout_dep *deps;   /* in the order the loader asks: NEEDED entries, then dlopens */
    size_t ndeps;
    const char **aliases; /* other bundle paths that are symlinks to the real */
    size_t naliases;
} layout_object;

typedef struct layout_excluded {
    const char *name; /* the name it was asked for */
    const char *path; /* where the loader found it on the build machine */
    const char *rule; /* the policy rule: "glibc core", "GPU driver stack", "--exclude GLOB" */
} layout_excluded;

typedef struct layout_missing {
    const char *requester; /* source path of the object that asked */
    const char *name;
    const char **tried;    /* every path the loader tried */
    size_t ntried;
} layout_missing;

typedef struct layout {
    long version;
    const char *name;      /* the application's name: bin/<name> */
    const char *platform;  /* "linux-x86_64" */
    const char *launcher;  /* the entry point, "bin/<name>" */
    /* The highest versions the bundled binaries require, NULL when none. */
    const char *requires_glibc, *requires_glibcxx, *requires_cxxabi;
    layout_entry *entries; /* parents before children */
    size_t nentries;
    layout_object *objects;
    size_t nobjects;
    layout_excluded *excluded;
    size_t nexcluded;
    layout_missing *missing;
    size_t nmissing;
    const char **warnings;
    size_t nwarnings;
} layout;

/* Reads bundle.json. Rejects other formats, unknown versions, broken documents and every
 * entry layout_validate refuses, with an error naming the file and the problem. */
int layout_read_file(const char *path, arena *a, layout *out, bf_err *err);
/* The same for a document already in memory (len bytes), called name in messages. */
int layout_read_buffer(const char *buf, size_t len, const char *name, arena *a, layout *out,
                       bf_err *err);

/* Writes l as JSON to path atomically (a temporary file in the same folder, renamed). */
int layout_write_file(const layout *l, const char *path, bf_err *err);

/* The layout's rules for a tree that can be written and served safely: every path relative,
 * without "", "." or ".." components, unique, and below a directory entry listed before it;
 * every symlink target relative and, resolved lexically from the link's folder, inside the
 * bundle; file entries name an absolute source and a 32-hex-digit hash; dep targets in range.
 * Also: a target's ".." parts come before its names (so the lexical walk is the kernel's),
 * no name longer than NAME_MAX nor path than PATH_MAX, each object's real a file entry of its
 * own and its aliases symlink entries, the launcher an entry. name is the layout file, for
 * messages. */
int layout_validate(const layout *l, const char *name, bf_err *err);

/* Checks that the source of a LAYOUT_FILE entry, whose fstat (or stat) is st, is the file the
 * layout was made from (a regular file of the same size and mtime, to the nanosecond); the
 * error names the source, what changed, and says to rebuild. */
int layout_check_source(const layout_entry *e, const struct stat *st, bf_err *err);

/* The bytes of a LAYOUT_FILE (source open on src_fd, already checked) or LAYOUT_GENERATED
 * entry (src_fd -1) as an image: the source through its edit, the whole source, or the
 * content. The mount serves and materialize writes exactly this. */
int layout_entry_image(const layout_entry *e, int src_fd, arena *a, image **out, bf_err *err);

#endif

/* Private to `bundlefs why` and `bundlefs diff`, the two commands that answer questions from
 * a layout alone: what both need (why_diff_*), the object graph search and name matching of
 * why (why_*), and the comparison of two layouts (diff_*). */
#ifndef BUNDLEFS_WHY_DIFF_H
#define BUNDLEFS_WHY_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "bundlefs/layout.h"
#include "bundlefs/strmap.h"

/* ---- shared ---- */

typedef struct why_diff_names {
    const char **names;
    size_t count;
} why_diff_names;

/* By object: the distinct names that bundled requests bind to it, sorted. */
why_diff_names *why_diff_asked_names(const layout *l, arena *a);

/* A map that lives, like its contents, as long as the arena (strmap_init's rule). */
strmap *why_diff_map(arena *a);

/* Equal strings, or both NULL. */
bool why_diff_streq(const char *x, const char *y);

/* s, or dflt when s is NULL. */
const char *why_diff_or(const char *s, const char *dflt);

/* "bundled", "excluded" or "missing". */
const char *why_diff_status_name(enum layout_dep_status s);

/* The last component of a path. */
const char *why_diff_basename(const char *path);

/* A string as JSON, following the layout's convention: a JSON string when it is UTF-8, else
 * {"hex": "..."}; null for NULL. */
json_t *why_diff_json_str(const char *s);

/* Writes doc (taking it) to out, indented; BF_FAIL with a message if it cannot. */
int why_diff_json_print(FILE *out, json_t *doc, bf_err *err);

/* The command line both take: --json, -h/--help and two operands, which run gets (with an
 * arena freed after it); the exit status. cmd names the command in messages, operands says
 * what the two are when they are missing. */
int why_diff_main(int argc, char **argv, const char *cmd, const char *usage,
                  const char *operands, int (*run)(const char *, const char *, bool, arena *));

/* ---- why ---- */

/* The breadth-first search from every root over the bundled requests. */
typedef struct why_graph {
    const layout *l;
    long *depth;   /* by object: requests from the nearest root; -1 when no root reaches it */
    long *parent;  /* by object: the requester on a shortest chain; -1 for roots and unreached */
    size_t *via;   /* by object: the index of that request in the parent's deps */
    size_t *order; /* every object: those reached, in breadth-first order, then the rest */
} why_graph;

void why_graph_build(const layout *l, arena *a, why_graph *g);

/* One step of a chain: the request (NULL for the first, which is a root or an object no root
 * reaches) and the object it binds to (NULL for an excluded or missing name). */
typedef struct why_hop {
    const layout_dep *dep;
    const layout_object *obj;
} why_hop;

typedef struct why_chain {
    why_hop *hops;
    size_t nhops;
} why_chain;

/* The shortest chain from a root to object obj, then the request last if not NULL. */
why_chain why_chain_to(const why_graph *g, size_t obj, const layout_dep *last, arena *a);

typedef struct why_request {
    size_t obj; /* the requester */
    const layout_dep *dep;
} why_request;

/* Every request for name with the given status, whose found path is found and whose
 * requester's source is requester (either check skipped when NULL), requesters in the
 * order of g: the first ends the shortest chain. */
size_t why_requests(const why_graph *g, const char *name, enum layout_dep_status status,
                    const char *found, const char *requester, arena *a, why_request **out);

enum why_match_kind { WHY_MATCH_OBJECT, WHY_MATCH_EXCLUDED, WHY_MATCH_MISSING };

typedef struct why_match {
    enum why_match_kind kind;
    size_t index; /* in objects, excluded or missing */
} why_match;

typedef struct why_matches {
    const char *how; /* "requested name", "bundle path", "source path", "source basename" */
    why_match *items;
    size_t count;
} why_matches;

/* What name denotes in l: tried as a requested name, then as a real's file name or bundle
 * path (or an alias), then as a source or found path, then as a source's basename; the
 * first kind that matches anything gives every match of that kind. */
void why_match_name(const layout *l, const char *name, arena *a, why_matches *out);

/* Up to max names in l close to name (sharing a prefix or containing it), best first. */
size_t why_suggest(const layout *l, const char *name, size_t max, arena *a, const char ***out);

/* One answer: a match, the chain that explains it, and for an excluded name every object that
 * asks for it (requesters, in the order of the graph). */
typedef struct why_item {
    why_match match;
    why_chain chain; /* nhops 0: no object in the layout asks (a missing entry's requester
                        is not among the objects) */
    why_request *requesters;
    size_t nrequesters;
} why_item;

void why_print_text(FILE *out, const layout *l, const char *name, const why_matches *m,
                    const why_item *items);
int why_print_json(FILE *out, const layout *l, const char *name, const why_matches *m,
                   const why_item *items, bf_err *err);

/* ---- diff ---- */

/* One layout as compared: its objects' identities and their partners in the other layout. */
typedef struct diff_side {
    const layout *l;
    const char *file;      /* the layout's file, for messages */
    why_diff_names *asked; /* by object */
    const char **label;    /* by object: the first name it is asked for, else its basename */
    long *partner;         /* by object: the same object in the other layout, -1 if none */
} diff_side;

typedef struct diff_pair {
    size_t a, b; /* object indices in A and B */
} diff_pair;

typedef struct diff_resolution {
    size_t a, b;                 /* the requester in A and in B */
    const layout_dep *old, *new; /* NULL: not asked on that side */
} diff_resolution;

typedef struct diff_entry_change {
    const layout_entry *old, *new; /* one NULL for added and removed entries */
    const char *what;              /* changed: the fields that differ ("type", "hash", ...) */
} diff_entry_change;

typedef struct diff_field_change {
    const char *field, *old, *new;
} diff_field_change;

typedef struct diff_result {
    diff_side a, b;
    size_t *added, nadded;     /* indices in B */
    size_t *removed, nremoved; /* indices in A */
    diff_pair *changed;        /* same identity, other content */
    size_t nchanged, nunchanged;
    diff_resolution *resolutions;
    size_t nresolutions;
    diff_entry_change *entries_added, *entries_removed, *entries_changed;
    size_t nentries_added, nentries_removed, nentries_changed;
    diff_field_change *fields;
    size_t nfields;
    int64_t a_bytes, b_bytes; /* file entries: the sum of their sizes, and their number */
    size_t a_files, b_files;
} diff_result;

/* Sorts n items of size bytes by k1[i], then k2[i] (k2 may be NULL), then their order. */
void diff_sort(void *items, size_t n, size_t size, const char *const *k1, const char *const *k2,
               arena *a);

/* Pairs the objects of r->a and r->b (same content, else a name both are asked for, else the
 * same basename without version) and fills added, removed and changed, each sorted. */
void diff_objects(diff_result *r, arena *a);
/* For each paired requester, the requests whose status, step, found path or target differ. */
void diff_resolutions(diff_result *r, arena *a);
/* Entries added, removed (other than objects' reals) and changed, by path; sizes. */
int diff_entries(diff_result *r, arena *a, bf_err *err);
/* Name, platform, launcher and required versions. */
void diff_fields(diff_result *r, arena *a);

bool diff_identical(const diff_result *r);

void diff_print_text(FILE *out, const diff_result *r, const char *a_name, const char *b_name);
int diff_print_json(FILE *out, const diff_result *r, const char *a_name, const char *b_name,
                    bf_err *err);

#endif

/* The three renderings of an ld.so emulation session for `bundlefs ldd`. */
#ifndef BUNDLEFS_LDD_OUTPUT_H
#define BUNDLEFS_LDD_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "bundlefs/ldso.h"

/* Labels shared by the renderings: `<exe>` for the main program, LD_PRELOAD / --preload /
 * ld.so.preload for preload requests, else the l_name. */
const char *ldd_requester_label(const ldso_edge *e);
const char *ldd_object_label(const ldso_obj *o);

void ldd_print_tsv(FILE *out, const ldso_session *s);
void ldd_print_tree(FILE *out, const ldso_session *s, const char *program, bool all);
int ldd_print_json(FILE *out, const ldso_session *s, const char *program);

#endif

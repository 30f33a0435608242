/* Search lists: DT_RPATH, DT_RUNPATH and LD_LIBRARY_PATH decomposed as glibc's fillin_rpath
 * and decompose_rpath do (docs/LDSO.md §2.4). */
#include <string.h>

#include "ldso_internal.h"

void ldso_dirlist_parse(ldso_session *s, const ldso_obj *o, const char *list, const char *seps,
                        struct ldso_dirlist *out)
{
    size_t max = 1;
    for (const char *p = list; *p; p++)
        if (strchr(seps, *p))
            max++;
    out->dirs = arena_alloc(s->a, max * sizeof *out->dirs);
    out->ndirs = 0;
    const char *p = list;
    for (;;) {
        size_t len = strcspn(p, seps);
        const char *dir = "";
        if (len) {
            const char *exp = ldso_dst_expand(s, o, arena_strndup(s->a, p, len));
            size_t el = exp ? strlen(exp) : 0;
            if (el == 0)
                goto next; /* a token without value, or an element that expanded to nothing */
            /* Trailing slashes fold to exactly one; nothing else is normalized. */
            while (el > 1 && exp[el - 1] == '/')
                el--;
            dir = exp[el - 1] == '/' ? arena_strndup(s->a, exp, el)
                                     : arena_printf(s->a, "%.*s/", (int)el, exp);
        }
        for (size_t i = 0; i < out->ndirs; i++)
            if (strcmp(out->dirs[i], dir) == 0)
                goto next; /* first occurrence kept */
        out->dirs[out->ndirs++] = dir;
    next:
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
}

/* --inhibit-rpath names objects by l_name, ':'-separated; the main program's l_name is "". */
static bool ldso_rpath_inhibited(const ldso_session *s, const ldso_obj *o)
{
    const char *list = s->opts.inhibit_rpath;
    if (!list || s->opts.secure)
        return false;
    size_t nl = strlen(o->l_name);
    for (const char *p = list;;) {
        size_t len = strcspn(p, ":");
        if (len == nl && memcmp(p, o->l_name, nl) == 0)
            return true;
        if (p[len] == '\0')
            return false;
        p += len + 1;
    }
}

static const struct ldso_dirlist *ldso_decompose(ldso_session *s, ldso_obj *o, const char *str,
                                                 struct ldso_dirlist **slot, bool *done)
{
    if (!*done) {
        *done = true;
        if (str && str[0] && !ldso_rpath_inhibited(s, o)) {
            struct ldso_dirlist *l = arena_alloc(s->a, sizeof *l);
            ldso_dirlist_parse(s, o, str, ":", l);
            *slot = l->ndirs ? l : NULL;
        }
    }
    return *slot;
}

const struct ldso_dirlist *ldso_rpath_of(ldso_session *s, ldso_obj *o)
{
    /* glibc drops DT_RPATH entirely from an object that also has DT_RUNPATH. */
    const char *rpath = o->elf.runpath ? NULL : o->elf.rpath;
    return ldso_decompose(s, o, rpath, &o->rpath_dirs, &o->rpath_done);
}

const struct ldso_dirlist *ldso_runpath_of(ldso_session *s, ldso_obj *o)
{
    return ldso_decompose(s, o, o->elf.runpath, &o->runpath_dirs, &o->runpath_done);
}

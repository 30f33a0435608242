/* A session: one emulated process, from the main program's start to later dlopen calls. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ldso_internal.h"

/* What ldd and the kernel use when a file names no interpreter (a library given as FILE). */
static const char ldso_default_interp[] = "/lib64/ld-linux-x86-64.so.2";

int ldso_session_new(const ldso_opts *opts, arena *a, ldso_session **out, bf_err *err)
{
    if (!opts->host)
        return err_set(err, "internal error: ldso_session_new needs a host description");
    ldso_session *s = arena_alloc(a, sizeof *s);
    s->a = a;
    s->opts = *opts;
    s->host = opts->host;
    strmap_init(&s->dirstat, a);
    strmap_init(&s->byname, a);
    s->reader = elf_reader_new(a);
    const host_info *h = s->host;
    s->ncapstr = h->nhwcaps + h->nlegacy_subdirs + 1;
    s->capstr = arena_alloc(a, s->ncapstr * sizeof *s->capstr);
    size_t n = 0;
    for (size_t i = 0; i < h->nhwcaps; i++)
        s->capstr[n++] = arena_printf(a, "glibc-hwcaps/%s/", h->hwcaps[i]);
    for (size_t i = 0; i < h->nlegacy_subdirs; i++)
        s->capstr[n++] = h->legacy_subdirs[i];
    s->capstr[n++] = "";
    s->sysdirs.dirs = h->system_dirs;
    s->sysdirs.ndirs = h->nsystem_dirs;
    *out = s;
    return BF_OK;
}

/* Opens and reads a file that must be a loadable ELF object for this host; tool errors here
 * are the user's to fix (wrong path, not a program). */
static ldso_obj *ldso_open_required(ldso_session *s, int kind, const char *path,
                                    const char *l_name, const char *what, bf_err *err)
{
    ldso_cand c;
    ldso_cand_read(s->reader, s->a, s->host, path, &c);
    if (c.open_errno) {
        err_set(err, "%s: cannot open %s: %s", path, what, strerror(c.open_errno));
        return NULL;
    }
    if (c.verdict != ELF_ACCEPT) {
        err_set(err, "%s: not an ELF %s this machine can load (%s%s%s)", path, what,
                c.verdict == ELF_SKIP_CLASS     ? "wrong ELF class"
                : c.verdict == ELF_SKIP_MACHINE ? "wrong machine"
                                                : c.why,
                c.why_errno ? ": " : "", c.why_errno ? strerror(c.why_errno) : "");
        return NULL;
    }
    if (!c.parsed) {
        err_set(err, "%s", c.parse_error);
        return NULL;
    }
    return ldso_obj_new(s, kind, l_name, &c);
}

static void ldso_add_vdso(ldso_session *s)
{
    ldso_obj *v = arena_alloc(s->a, sizeof *v);
    v->kind = LDSO_OBJ_VDSO;
    v->l_name = "linux-vdso.so.1";
    v->elf.soname = v->l_name;
    ldso_obj_append(s, v);
    s->vdso = v;
}

int ldso_start(ldso_session *s, const char *path, bf_err *err)
{
    if (s->started)
        return err_set(err, "internal error: ldso_start called twice on one session");
    ldso_obj *main = ldso_open_required(s, LDSO_OBJ_MAIN, path, "", "program", err);
    if (!main)
        return BF_FAIL;
    if (!main->elf.has_dynamic)
        return err_set(err, "%s: not a dynamic executable: it is statically linked and loads no "
                            "shared libraries", path);
    /* The kernel-started program has no file identity in glibc's list, and its $ORIGIN is the
     * directory of /proc/self/exe: the canonical path. Run through ld.so, it was opened like a
     * library, from the path as given. */
    main->has_file_id = s->opts.explicit_invocation;
    ldso_add_name(s, main, "");
    char real[PATH_MAX];
    if (s->opts.explicit_invocation) {
        main->origin = ldso_path_origin(s->a, path);
    } else if (realpath(path, real)) {
        main->origin = ldso_path_origin(s->a, real);
    }
    s->main = main;

    const char *interp = main->elf.interp ? main->elf.interp : ldso_default_interp;
    ldso_obj *rtld = ldso_open_required(s, LDSO_OBJ_RTLD, interp, interp,
                                        "program interpreter", err);
    if (!rtld)
        return BF_FAIL;
    ldso_add_name(s, rtld, interp);
    if (rtld->elf.soname)
        ldso_add_name(s, rtld, rtld->elf.soname);
    s->rtld = rtld;
    ldso_add_vdso(s);

    const char *llp = s->opts.library_path;
    if (llp && llp[0] && !s->opts.secure) {
        ldso_dirlist_parse(s, main, llp, ":;", &s->llp);
        s->llp_set = s->llp.ndirs > 0;
    }
    s->started = true;
    return ldso_closure_start(s);
}

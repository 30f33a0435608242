/* What the bundle leaves to the target system: the glibc core (the target's glibc must match
 * its own loader) and GPU driver stacks (they must match the target's kernel driver), plus
 * the user's --exclude globs; --include keeps what a rule would exclude. */
#include <fnmatch.h>
#include <string.h>

#include "plan_internal.h"

/* Every library glibc itself installs: most use GLIBC_PRIVATE symbols, which only the libc
 * they were built with provides. */
static const char *const plan_glibc_core[] = {
    "ld-linux*",        "libc.so*",         "libc-2.*",           "libm.so*",
    "libm-2.*",         "libmvec.so*",      "libdl.so*",          "librt.so*",
    "libpthread.so*",   "libutil.so*",      "libresolv.so*",      "libnsl.so.1",
    "libanl.so*",       "libthread_db.so*", "libc_malloc_debug.so*", "libBrokenLocale.so*",
    "libmemusage.so*",  "libpcprofile.so*", "libnss_files.so*",   "libnss_dns.so*",
    "libnss_compat.so*", "libnss_hesiod.so*", "libnss_db.so*",
};

/* Only what comes with the driver: libraries built on it that programs ship themselves
 * (libGLU, libGLEW, the CUDA runtime libcudart, libdrmaa) are bundled like any other. */
static const char *const plan_gpu[] = {
    "libGL.so*",      "libGLX*",    "libGLdispatch.so*", "libGLESv1_CM.so*", "libGLESv2.so*",
    "libEGL*",        "libOpenGL*", "libvulkan*",        "libcuda.so*",      "libcudadebugger.so*",
    "libnvidia-*",    "libdrm.so*", "libdrm_*",
};

static const char *plan_leaf(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* A glob with a '/' matches whole paths, any other the last component. */
static bool plan_glob_matches(const char *glob, const char *name, const char *path)
{
    if (strchr(glob, '/'))
        return path && fnmatch(glob, path, 0) == 0;
    return (name && fnmatch(glob, plan_leaf(name), 0) == 0) ||
           (path && fnmatch(glob, plan_leaf(path), 0) == 0);
}

static bool plan_any_glob(const char **globs, size_t n, const char *name, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (plan_glob_matches(globs[i], name, path))
            return true;
    return false;
}

static bool plan_in_list(const char *const *list, size_t n, const char *name, const char *path)
{
    return plan_any_glob((const char **)list, n, name, path);
}

const char *plan_policy_rule(const plan *p, const char *name, const char *path)
{
    const char *canon = path ? strmap_get(&p->canon, path) : NULL;
    if (plan_any_glob(p->o->include, p->o->ninclude, name, path) ||
        (canon && *canon && plan_any_glob(p->o->include, p->o->ninclude, NULL, canon)))
        return NULL;
    for (size_t i = 0; i < p->o->nexclude; i++)
        if (plan_glob_matches(p->o->exclude[i], name, path) ||
            (canon && *canon && plan_glob_matches(p->o->exclude[i], NULL, canon)))
            return arena_printf(p->a, "--exclude %s", p->o->exclude[i]);
    if (plan_in_list(plan_glibc_core, sizeof plan_glibc_core / sizeof *plan_glibc_core, name,
                     path))
        return "glibc core";
    if (plan_in_list(plan_gpu, sizeof plan_gpu / sizeof *plan_gpu, name, path))
        return "GPU driver stack";
    return NULL;
}

bool plan_policy_skips_file(const plan *p, const char *path)
{
    return plan_any_glob(p->o->exclude, p->o->nexclude, NULL, path) &&
           !plan_any_glob(p->o->include, p->o->ninclude, NULL, path);
}

void plan_note_excluded(plan *p, const char *name, const char *path, const char *rule)
{
    const char *key = plan_key(p, name, path ? path : "");
    if (strmap_get(&p->excluded_seen, key))
        return;
    strmap_put_first(&p->excluded_seen, key, (void *)rule);
    layout_excluded x = {name, path, rule};
    arena_push(p->a, &p->excluded, &p->nexcluded, &p->capexcluded, &x, sizeof x);
}

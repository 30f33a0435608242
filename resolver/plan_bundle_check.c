/* A bundle is never bundled again: its binaries already carry the bundle's RPATHs and names,
 * and bundling them would nest one layout in another. A folder holding a bundle.json of
 * bundlefs and a reals/r folder (a materialized or mounted bundle), or lying below one, is a
 * bundle; a layout file written into a project folder does not make that folder one. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plan_internal.h"

static bool plan_dir_has_layout(const char *dir)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/bundle.json", *dir ? dir : "") >= sizeof path)
        return false;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return false;
    char head[512];
    ssize_t n = read(fd, head, sizeof head - 1);
    close(fd);
    if (n <= 0)
        return false;
    head[n] = '\0';
    struct stat st;
    snprintf(path, sizeof path, "%s/reals/r", *dir ? dir : "");
    return strstr(head, "\"bundlefs-layout\"") != NULL && stat(path, &st) == 0 &&
           S_ISDIR(st.st_mode);
}

/* The bundle folder holding dir (itself or an ancestor), or "" if none; cached per folder. */
static const char *plan_bundle_of(plan *p, const char *dir)
{
    const char *known = strmap_get(&p->bundle_dirs, dir);
    if (known)
        return known;
    const char *answer = "";
    if (plan_dir_has_layout(dir)) {
        answer = arena_strdup(p->a, dir);
    } else {
        const char *slash = strrchr(dir, '/');
        if (slash && slash != dir)
            answer = plan_bundle_of(p, arena_strndup(p->a, dir, (size_t)(slash - dir)));
        else if (slash && dir[1])
            answer = plan_bundle_of(p, "/");
    }
    strmap_set(&p->bundle_dirs, arena_strdup(p->a, dir), (void *)answer);
    return answer;
}

static int plan_check_in(plan *p, const char *dir, const char *path, bf_err *err)
{
    const char *bundle = plan_bundle_of(p, dir);
    if (*bundle)
        return err_set(err, "%s lies inside the bundle %s (it holds a bundlefs bundle.json and "
                            "reals/r): trace and bundle the original program, not a bundle's "
                            "output",
                       path, bundle);
    return BF_OK;
}

int plan_check_not_bundle(plan *p, const char *path, bf_err *err)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return BF_OK;
    const char *dir = slash == path ? "/" : arena_strndup(p->a, path, (size_t)(slash - path));
    return plan_check_in(p, dir, path, err);
}

int plan_check_dir_not_bundle(plan *p, const char *dir, bf_err *err)
{
    return plan_check_in(p, dir, dir, err);
}

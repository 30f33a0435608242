/* Looks at the command before `bundlefs trace` runs it: a statically linked or set-uid
 * program never runs the recorder (no loader, or a loader in secure mode that ignores
 * LD_AUDIT), and a CPython interpreter gets the Python hook. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "bundlefs/elf.h"
#include "trace_target.h"

enum { TARGET_MAX_SHEBANGS = 4 };

/* execvp's search: a name with '/' as is, else the first executable regular file on PATH. */
static const char *target_find(const char *cmd, arena *a)
{
    if (strchr(cmd, '/'))
        return access(cmd, F_OK) == 0 ? cmd : NULL;
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/bin:/usr/bin";
    for (const char *p = path;; ) {
        size_t len = strcspn(p, ":");
        const char *cand = arena_printf(a, "%.*s%s%s", (int)len, p, len ? "/" : "", cmd);
        struct stat st;
        if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
            return cand;
        if (!p[len])
            return NULL;
        p += len + 1;
    }
}

bool trace_target_is_python_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (strncmp(base, "python", 6))
        return false;
    for (const char *p = base + 6; *p; p++)
        if (!(*p >= '0' && *p <= '9') && *p != '.')
            return false;
    return true;
}

/* The interpreter of a #! line, with `env NAME` followed to NAME on PATH; NULL if the file
 * has no #! line. */
static const char *target_shebang(const char *path, arena *a)
{
    char line[256] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    ssize_t n = read(fd, line, sizeof line - 1);
    close(fd);
    if (n < 3 || line[0] != '#' || line[1] != '!')
        return NULL;
    line[strcspn(line, "\n")] = '\0';
    char *p = line + 2;
    p += strspn(p, " \t");
    size_t len = strcspn(p, " \t");
    const char *interp = arena_strndup(a, p, len);
    p += len;
    p += strspn(p, " \t");
    const char *base = strrchr(interp, '/');
    if (base && !strcmp(base + 1, "env") && *p && *p != '-') {
        const char *name = arena_strndup(a, p, strcspn(p, " \t"));
        const char *found = target_find(name, a);
        return found ? found : interp;
    }
    return interp;
}

static const char *target_secure_why(const char *path)
{
    struct stat st;
    if (stat(path, &st))
        return NULL;
    if ((st.st_mode & S_ISUID) && st.st_uid != geteuid())
        return "it is set-user-ID: the loader runs it in secure mode, which ignores LD_AUDIT";
    if ((st.st_mode & S_ISGID) && st.st_gid != getegid())
        return "it is set-group-ID: the loader runs it in secure mode, which ignores LD_AUDIT";
    if (getxattr(path, "security.capability", NULL, 0) > 0)
        return "it has file capabilities: the loader runs it in secure mode, which ignores "
               "LD_AUDIT";
    return NULL;
}

int trace_target_inspect(const char *cmd, arena *a, trace_target *out, bf_err *err)
{
    memset(out, 0, sizeof *out);
    out->path = target_find(cmd, a);
    if (!out->path)
        return err_set(err, "%s: command not found (not a path, and not on PATH)", cmd);
    const char *prog = out->path;
    for (int i = 0; i < TARGET_MAX_SHEBANGS; i++) {
        const char *interp = target_shebang(prog, a);
        if (!interp)
            break;
        prog = interp;
    }
    out->program = prog;
    out->is_python = trace_target_is_python_name(prog);

    int fd = open(prog, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st)) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return err_set(err, "%s: cannot open it: %s", prog, strerror(e));
    }
    elf_info info;
    bf_err perr;
    int rc = elf_parse_fd(elf_reader_new(a), fd, (uint64_t)st.st_size, NULL, 0,
                          ELF_SKIP_VERNEED, prog, a, &info, &perr);
    close(fd);
    if (rc != BF_OK)
        return err_set(err, "%s: not a program bundlefs can trace: %s", prog, perr.msg);
    if (!info.interp)
        out->not_auditable = "it is statically linked: no dynamic loader runs, so there is no "
                             "load to record";
    else
        out->not_auditable = target_secure_why(prog);
    for (size_t i = 0; !out->is_python && i < info.ndeps; i++)
        out->is_python = !strncmp(info.deps[i].name, "libpython", 9);
    return BF_OK;
}

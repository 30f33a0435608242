/* The reporter (see report.h). Record lines, appended to $TRACE_REPORT, tab-separated,
 * every string field hex-encoded so that any byte survives:
 *   PID map    L_NAME REALPATH                   the main link map at exit, in order
 *   PID dlopen NAME FLAGS CALLER ok|fail WAS_MAPPED L_NAME|ERROR REALPATH
 *   PID close  L_NAME REALPATH                   a dlclose, before it happens
 * CALLER is the realpath of the object that called dlopen. WAS_MAPPED (0/1) says whether
 * the object dlopen returned was in the link map before the call. The main program's
 * L_NAME is "" and its REALPATH that of /proc/self/exe; the vDSO has REALPATH "". */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"

enum { MAX_MAPS = 256 };

static const struct link_map *rep_snapshot[MAX_MAPS];
static int rep_nsnapshot;

static void rep_hex(FILE *f, const char *s)
{
    fputc('\t', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++)
        fprintf(f, "%02x", *p);
}

static void rep_realpath_of(const struct link_map *lm, char *out)
{
    const char *file = lm->l_name;
    if (!file || !*file)
        file = "/proc/self/exe";
    if (!realpath(file, out))
        out[0] = '\0';
}

/* One record per write(2) with O_APPEND, so records of concurrent processes never mix. */
static void rep_emit(char *buf, size_t len)
{
    const char *path = getenv("TRACE_REPORT");
    if (!path || !*path)
        return;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    if (write(fd, buf, len) != (ssize_t)len)
        perror("reporter: write");
    close(fd);
}

static void rep_object_fields(FILE *f, const struct link_map *lm)
{
    char real[PATH_MAX];
    rep_realpath_of(lm, real);
    rep_hex(f, lm->l_name);
    rep_hex(f, real);
}

void rep_before_dlopen(void)
{
    rep_nsnapshot = 0;
    for (const struct link_map *lm = _r_debug.r_map; lm && rep_nsnapshot < MAX_MAPS;
         lm = lm->l_next)
        rep_snapshot[rep_nsnapshot++] = lm;
}

void rep_after_dlopen(const char *name, int flags, void *handle, const char *error,
                      const void *caller)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return;
    Dl_info info;
    struct link_map *from = NULL;
    char caller_real[PATH_MAX] = "";
    if (dladdr1(caller, &info, (void **)&from, RTLD_DL_LINKMAP) && from)
        rep_realpath_of(from, caller_real);
    fprintf(f, "%ld\tdlopen", (long)getpid());
    rep_hex(f, name);
    fprintf(f, "\t%d", flags);
    rep_hex(f, caller_real);
    struct link_map *lm = NULL;
    if (handle && dlinfo(handle, RTLD_DI_LINKMAP, &lm) == 0 && lm) {
        int was = 0;
        for (int i = 0; i < rep_nsnapshot; i++)
            was |= rep_snapshot[i] == lm;
        fprintf(f, "\tok\t%d", was);
        rep_object_fields(f, lm);
    } else {
        fprintf(f, "\tfail\t0");
        rep_hex(f, error ? error : "dlinfo failed");
        rep_hex(f, "");
    }
    fputc('\n', f);
    fclose(f);
    rep_emit(buf, len);
    free(buf);
}

void rep_before_dlclose(void *handle)
{
    struct link_map *lm = NULL;
    if (dlinfo(handle, RTLD_DI_LINKMAP, &lm) != 0 || !lm)
        return;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return;
    fprintf(f, "%ld\tclose", (long)getpid());
    rep_object_fields(f, lm);
    fputc('\n', f);
    fclose(f);
    rep_emit(buf, len);
    free(buf);
}

/* Walks the main namespace only (_r_debug): dl_iterate_phdr would also list the auditor's
 * namespace, which the program does not see as its own. */
static void rep_at_exit(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return;
    for (const struct link_map *lm = _r_debug.r_map; lm; lm = lm->l_next) {
        fprintf(f, "%ld\tmap", (long)getpid());
        rep_object_fields(f, lm);
        fputc('\n', f);
    }
    fclose(f);
    rep_emit(buf, len);
    free(buf);
}

__attribute__((constructor)) static void rep_init(void)
{
    atexit(rep_at_exit);
}

/* The main fixture program. Its arguments are actions, done in order:
 *   open NAME       dlopen(NAME) from the executable, keeping the handle
 *   via NAME        libopener's opener_open(NAME): the library calls dlopen itself
 *   close NAME      dlclose the handle an earlier open/via of NAME returned
 *   forkexec PROG   fork; the child execs PROG (with no arguments); wait for it
 *   forkopen NAME   fork; the child dlopens NAME and exits; wait for it
 * Every dlopen/dlclose is reported (report.h). It also calls into its NEEDED chain, so
 * the chain is in use whatever the linker's defaults. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report.h"

int a_value(void);
void *opener_open(const char *name);

enum { MAX_HANDLES = 64 };

static struct {
    const char *name;
    void *handle;
} handles[MAX_HANDLES];
static int nhandles;

static void keep(const char *name, void *h)
{
    if (h && nhandles < MAX_HANDLES) {
        handles[nhandles].name = name;
        handles[nhandles++].handle = h;
    }
}

static int close_named(const char *name)
{
    for (int i = 0; i < nhandles; i++)
        if (handles[i].handle && !strcmp(handles[i].name, name)) {
            int rc = rep_dlclose(handles[i].handle);
            handles[i].handle = NULL;
            return rc;
        }
    fprintf(stderr, "app: close %s: no handle\n", name);
    return -1;
}

static int wait_child(pid_t pid)
{
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        fprintf(stderr, "app: child %ld failed\n", (long)pid);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (a_value() != 6) {
        fprintf(stderr, "app: the NEEDED chain answered wrong\n");
        return 1;
    }
    int rc = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *act = argv[i], *arg = argv[i + 1];
        if (!strcmp(act, "open")) {
            keep(arg, rep_dlopen(arg, RTLD_NOW));
        } else if (!strcmp(act, "via")) {
            keep(arg, opener_open(arg));
        } else if (!strcmp(act, "close")) {
            rc |= close_named(arg) != 0;
        } else if (!strcmp(act, "forkexec")) {
            fflush(NULL);
            pid_t pid = fork();
            if (pid == 0) {
                execl(arg, arg, (char *)NULL);
                perror(arg);
                _exit(127);
            }
            rc |= wait_child(pid) != 0;
        } else if (!strcmp(act, "forkopen")) {
            fflush(NULL);
            pid_t pid = fork();
            if (pid == 0)
                exit(rep_dlopen(arg, RTLD_NOW) ? 0 : 1);
            rc |= wait_child(pid) != 0;
        } else {
            fprintf(stderr, "app: unknown action %s\n", act);
            return 2;
        }
    }
    return rc;
}

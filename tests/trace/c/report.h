/* What a fixture process sees of its own loading, written at exit to the file named by
 * $TRACE_REPORT: the ground truth the trace test compares `bundlefs trace` with.
 *
 * Every dlopen/dlclose of a fixture goes through rep_dlopen/rep_dlclose below. They are
 * static, so each object that includes this header has its own copy: the dlopen call is
 * made from that object, which is the requester the loader (and the trace) must see. The
 * bookkeeping lives in report.c, linked into every fixture executable and exported to the
 * libraries (-rdynamic). */
#ifndef TRACE_REPORT_H
#define TRACE_REPORT_H

#include <dlfcn.h>
#include <stddef.h>

void rep_before_dlopen(void);
void rep_after_dlopen(const char *name, int flags, void *handle, const char *error,
                      const void *caller);
void rep_before_dlclose(void *handle);

__attribute__((noinline, unused)) static void *rep_dlopen(const char *name, int flags)
{
    rep_before_dlopen();
    void *h = dlopen(name, flags);
    rep_after_dlopen(name, flags, h, h ? NULL : dlerror(), (const void *)rep_dlopen);
    return h;
}

__attribute__((noinline, unused)) static int rep_dlclose(void *handle)
{
    rep_before_dlclose(handle);
    return dlclose(handle);
}

#endif

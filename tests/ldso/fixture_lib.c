/* Body of every scenario library. ld.so picks the dlopen caller from the
 * return address, so the call must stay inside this library: it is compiled
 * with -O0 and the result is used after the call, which rules out a tail
 * call that would make the reporter the caller. */
#include <dlfcn.h>

void *fixture_dlopen(const char *name);

void *fixture_dlopen(const char *name)
{
    void *handle = dlopen(name, RTLD_LAZY);
    __asm__ volatile("" : : "r"(handle) : "memory");
    return handle;
}

/* A library that calls dlopen itself: the loader searches its own RUNPATH, and the trace
 * must name this library, not the executable, as the requester. */
#include "report.h"

void *opener_open(const char *name);

void *opener_open(const char *name)
{
    return rep_dlopen(name, RTLD_NOW);
}

/* The program a forked child of app execs: it has its own NEEDED library (libkid.so,
 * through its RUNPATH) and dlopens one more (libkidplug.so, same RUNPATH). */
#include <stdio.h>

#include "report.h"

int kid_value(void);

int main(void)
{
    if (kid_value() != 7 || !rep_dlopen("libkidplug.so", RTLD_NOW)) {
        fprintf(stderr, "kid: cannot use its libraries\n");
        return 1;
    }
    return 0;
}

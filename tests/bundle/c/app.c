/* App (c) of tests/bundle: a program whose libraries form a 4-level NEEDED graph, with two
 * different files of one name (libsame.so) reached through two RPATH folders, a library
 * reached through a chain of symlinks, and a plugin opened with dlopen. Prints what each
 * library answers and its arguments; exits with 10 + the number of arguments. */
#include <dlfcn.h>
#include <stdio.h>

#include "maps.h"

const char *a_hello(void);
const char *b_hello(void);
const char *alt_hello(void);

int main(int argc, char **argv)
{
    printf("a: %s\n", a_hello());
    printf("b: %s\n", b_hello());
    printf("alt: %s\n", alt_hello());
    void *plug = dlopen("libplug.so", RTLD_NOW);
    const char *(*plug_hello)(void) = plug ? (const char *(*)(void))dlsym(plug, "plug_hello") : 0;
    printf("plug: %s\n", plug_hello ? plug_hello() : dlerror());
    for (int i = 1; i < argc; i++)
        printf("arg %d: [%s]\n", i, argv[i]);
    fflush(stdout);
    maps_report();
    return 10 + argc - 1;
}

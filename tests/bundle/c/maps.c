/* See maps.h. Reads the whole file first: printing while reading could map new pages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maps.h"

enum { MAPS_MAX = 1 << 20 };

void maps_report(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) {
        fputs("MAPERROR cannot open /proc/self/maps\n", stderr);
        return;
    }
    char *buf = malloc(MAPS_MAX);
    size_t n = buf ? fread(buf, 1, MAPS_MAX - 1, f) : 0;
    fclose(f);
    if (!buf)
        return;
    buf[n] = '\0';
    char last[4096] = "";
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        char *path = strchr(line, '/');
        if (!path || strcmp(path, last) == 0)
            continue;
        fprintf(stderr, "MAP %s\n", path);
        snprintf(last, sizeof last, "%s", path);
    }
    free(buf);
}

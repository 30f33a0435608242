/* Exit status and output pass-through: writes known bytes (some not UTF-8, no final
 * newline) to stdout and stderr, then ends as its argument says: "exit N" or "signal"
 * (raise SIGTERM). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    static const char out[] = "to stdout\n\xff\xfe raw bytes\ttab";
    static const char err[] = "to stderr\n\x80\x81 partial";
    if (write(1, out, sizeof out - 1) < 0 || write(2, err, sizeof err - 1) < 0)
        return 100;
    if (argc > 1 && !strcmp(argv[1], "signal")) {
        raise(SIGTERM);
        return 101; /* not reached: SIGTERM's default action ends the process */
    }
    return argc > 2 ? atoi(argv[2]) : 0;
}

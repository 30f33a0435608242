/* bundlefs: dispatch to one subcommand. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"build", cmd_build, "plan a relocatable bundle from a trace: writes bundle.json"},
    {"diff", cmd_diff, "compare two layouts: objects, resolutions, entries, size"},
    {"ldd", cmd_ldd, "show which file glibc's ld.so would load for each dependency"},
    {"materialize", cmd_materialize, "write a bundle to disk: the bytes the mount serves"},
    {"patch", cmd_patch, "change RPATH/RUNPATH, NEEDED and SONAME of ELF files"},
    {"trace", cmd_trace, "run a program and record what each of its processes loaded"},
    {"why", cmd_why, "show the chain of requests that brings a library into a bundle"},
};

static void usage(FILE *out)
{
    fputs("usage: bundlefs COMMAND [OPTIONS] ...\n\n"
          "Turns a program that runs here into a self-contained, relocatable folder.\n\n"
          "Commands:\n",
          out);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fputs("\n'bundlefs COMMAND --help' describes one command.\n", out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        puts("bundlefs " BUNDLEFS_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "bundlefs: '%s' is not a command; 'bundlefs --help' lists them\n", argv[1]);
    return 2;
}

/* The subcommands of `bundlefs`, one file each (cmd_<name>.c). Each returns the process exit
 * status: 0 success, 1 the answer is "no" (e.g. the program would not start), 2 usage or
 * tool errors. */
#ifndef BUNDLEFS_COMMANDS_H
#define BUNDLEFS_COMMANDS_H

int cmd_build(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_ldd(int argc, char **argv);
int cmd_materialize(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_patch(int argc, char **argv);
int cmd_why(int argc, char **argv);

#endif

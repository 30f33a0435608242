"""LDSO.md §2.3.5, §8 (default system directories) and DF_1_NODEFLIB.
Libraries "in the system dirs" are put into an overlay over /usr/lib inside a
private mount namespace."""
import os

import ldso_host
from ldso_model import OUTSIDE, Edge, Exe, Lib, Scenario, StartError

LEVEL = ldso_host.hwcaps_levels()[-1]
# On a merged-/usr system /lib is /usr/lib and is searched first.
SYSLIB = "/lib" if os.path.realpath("/lib") == "/usr/lib" else "/usr/lib"

SCENARIOS = [
    Scenario(
        name="nodeflib", rule="§2.3 DF_1_NODEFLIB applies to the requesting object only",
        exe=Exe(needed=("libqa.so",), runpath="@/L"),
        libs={"L/libqa.so": Lib(needed=("libqb.so",), rpath="@/P", nodeflib=True),
              "P/libqb.so": Lib(needed=("libm.so.6",))},
        expect=(Edge("@/P/libqb.so", "libm.so.6", OUTSIDE),)),
    Scenario(
        name="nodeflib/direct",
        rule="§2.3 a DF_1_NODEFLIB object finds no library through the cache's system paths",
        exe=Exe(needed=("libqa.so",), runpath="@/L"),
        libs={"L/libqa.so": Lib(needed=("libm.so.6",), nodeflib=True)},
        expect=(StartError("libm.so.6: cannot open shared object file"),)),
    Scenario(
        name="nodeflib/exe_nodeflib_needs_libc",
        rule="§2.3 an executable linked -z nodefaultlib cannot find libc.so.6 by default",
        exe=Exe(nodeflib=True),
        expect=(StartError("libc.so.6: cannot open shared object file"),)),
    Scenario(
        name="nodeflib/exe_nodeflib_llp_libc",
        rule="§2.3 DF_1_NODEFLIB does not affect LD_LIBRARY_PATH",
        exe=Exe(nodeflib=True),
        env={"LD_LIBRARY_PATH": "/lib/x86_64-linux-gnu"},
        expect=(Edge("<exe>", "libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6"),)),
    Scenario(
        name="nodeflib/error_without_attempt",
        rule="§2.3.6 when no candidate was opened, the message has no ': <strerror>' part",
        exe=Exe(needed=("libqa.so",), runpath="@/E:@/L"),
        dirs=("E",),
        libs={"L/libqa.so": Lib(needed=("libm.so.6",), nodeflib=True)},
        expect=(StartError("libm.so.6: cannot open shared object file", exact=True),)),
    Scenario(
        name="nodeflib/error_after_attempt",
        rule="§2.3.6 after a failed open in this search the message ends in ': <strerror>'",
        exe=Exe(needed=("libqa.so",), runpath="@/L"),
        env={"LD_LIBRARY_PATH": "@/E"},
        dirs=("E",),
        libs={"L/libqa.so": Lib(needed=("libm.so.6",), nodeflib=True)},
        expect=(StartError("libm.so.6: cannot open shared object file: No such file or directory",
                           exact=True),)),
    Scenario(
        name="system_dirs", rule="§8 libraries outside the cache are found in the system dirs",
        exe=Exe(needed=("libqsys.so",)),
        system_libs={"libqsys.so": Lib()},
        expect=(Edge("<exe>", "libqsys.so", SYSLIB + "/libqsys.so"),)),
    Scenario(
        name="system_dirs/hwcaps",
        rule="§7.1 system dirs are expanded into glibc-hwcaps subdirectories too",
        exe=Exe(needed=("libqsysh.so",)),
        system_libs={"libqsysh.so": Lib(),
                     "glibc-hwcaps/%s/libqsysh.so" % LEVEL: Lib()},
        expect=(Edge("<exe>", "libqsysh.so",
                     "%s/glibc-hwcaps/%s/libqsysh.so" % (SYSLIB, LEVEL)),)),
    Scenario(
        name="system_dirs/nodeflib",
        rule="§2.3.5 DF_1_NODEFLIB skips the system dirs",
        exe=Exe(needed=("libqa.so",), runpath="@/L"),
        libs={"L/libqa.so": Lib(needed=("libqsys.so",), nodeflib=True)},
        system_libs={"libqsys.so": Lib()},
        expect=(StartError("libqsys.so: cannot open shared object file"),)),
]

"""LDSO.md §2.3.4 and §5: lookups in /etc/ld.so.cache. Each scenario's cache
is written by the real ldconfig over its fixture directories and mounted
over /etc/ld.so.cache in a private mount namespace."""
import ldso_host
from ldso_model import (OUTSIDE, Dlopen, Edge, Exe, Lib, NotLoaded, Scenario,
                        StartError)

LEVELS = ldso_host.hwcaps_levels()


def _hwcaps_libs():
    libs = {"C/libqch.so": Lib(),
            # not a level ld.so knows: its cache entry has priority 0
            "C/glibc-hwcaps/x86-64-v9/libqch.so": Lib()}
    for level in (LEVELS[0], LEVELS[-1]):
        libs["C/glibc-hwcaps/%s/libqch.so" % level] = Lib()
    return libs


SCENARIOS = [
    Scenario(
        name="cache_lookup", rule="§2.3.4 a name no path finds is looked up in ld.so.cache",
        exe=Exe(needed=("libqcl.so",)),
        cache=("@/C",),
        libs={"C/libqcl.so": Lib()},
        expect=(Edge("<exe>", "libqcl.so", "@/C/libqcl.so"),)),
    Scenario(
        name="cache_lookup/inhibit_cache",
        rule="§2.3.4 ld.so --inhibit-cache skips the cache",
        exe=Exe(needed=("libqcl.so",)),
        cache=("@/C",), ldso_opts=("--inhibit-cache",),
        libs={"C/libqcl.so": Lib()},
        expect=(StartError("libqcl.so: cannot open shared object file"),)),
    Scenario(
        name="cache_nodeflib_nonsystem",
        rule="§2.3.4 under DF_1_NODEFLIB a cache result outside the system dirs is still used",
        exe=Exe(needed=("libqa.so",), runpath="@/L"),
        cache=("@/C",),
        libs={"L/libqa.so": Lib(needed=("libqcn.so",), nodeflib=True),
              "C/libqcn.so": Lib()},
        expect=(Edge("@/L/libqa.so", "libqcn.so", "@/C/libqcn.so"),)),
    Scenario(
        name="cache_nodeflib_nonsystem/system_discarded",
        rule="§2.3.4 under DF_1_NODEFLIB a cache result in a system dir is discarded",
        exe=Exe(needed=("libqa.so",), runpath="@/L"),
        cache=("@/C",),
        libs={"L/libqa.so": Lib(needed=("libm.so.6",), nodeflib=True),
              "C/libqcn.so": Lib()},
        expect=(StartError("libm.so.6: cannot open shared object file"),)),
    Scenario(
        name="cache_stale_entry",
        rule="§2.3.4 a cache path that no longer exists is skipped",
        exe=Exe(needed=("libqst.so",)),
        cache=("@/C",), after_cache={"C/libqst.so": None},
        libs={"C/libqst.so": Lib(), "C/libqother.so": Lib()},
        expect=(StartError("libqst.so: cannot open shared object file"),)),
    Scenario(
        name="cache_stale_entry/wrong_class",
        rule="§2.3.4 a cache path that is now a wrong-class file is skipped, and remembered",
        exe=Exe(needed=("libqst.so",)),
        cache=("@/C",), after_cache={"C/libqst.so": Lib(kind="class32")},
        libs={"C/libqst.so": Lib()},
        expect=(StartError("libqst.so: wrong ELF class: ELFCLASS32"),)),
    Scenario(
        name="cache_stale_entry/falls_back_to_system_dir",
        rule="§2.3.4-5 after a stale cache entry the system dirs are searched",
        exe=Exe(needed=("libqst.so",)),
        cache=("@/C",), after_cache={"C/libqst.so": None},
        libs={"C/libqst.so": Lib()},
        system_libs={"libqst.so": Lib()},
        expect=(Edge("<exe>", "libqst.so", OUTSIDE),)),
    Scenario(
        name="cache_flags_select",
        rule="§5.2 a 32-bit cache entry with the same key is ignored",
        exe=Exe(needed=("libqcf.so",)),
        cache=("@/C32", "@/C64"),
        libs={"C32/libqcf.so": Lib(kind="elf32"), "C64/libqcf.so": Lib()},
        expect=(Edge("<exe>", "libqcf.so", "@/C64/libqcf.so"),)),
    Scenario(
        name="cache_flags_select/only32",
        rule="§5.2 a 32-bit cache entry is never opened (else the error would be 'wrong ELF class')",
        exe=Exe(needed=("libqcf.so",)),
        cache=("@/C32",),
        libs={"C32/libqcf.so": Lib(kind="elf32")},
        expect=(StartError("libqcf.so: cannot open shared object file"),)),
    Scenario(
        name="cache_numeric_key",
        rule="§5.3 keys compare digit runs numerically: libqcached.so.01 finds libqcached.so.1",
        exe=Exe(needed=("libqcached.so.01",)),
        cache=("@/C",),
        libs={"C/libqcached.so.1": Lib()},
        expect=(Edge("<exe>", "libqcached.so.01", "@/C/libqcached.so.1"),)),
    Scenario(
        name="cache_hwcaps",
        rule="§5.3 the best active glibc-hwcaps cache entry wins over the plain one",
        exe=Exe(needed=("libqch.so",)),
        cache=("@/C",),
        libs=_hwcaps_libs(),
        expect=(Edge("<exe>", "libqch.so", "@/C/glibc-hwcaps/%s/libqch.so" % LEVELS[0]),)),
    Scenario(
        name="cache_keyed_by_soname",
        rule="§5.4 the cache key is the DT_SONAME, not the file name",
        exe=Exe(needed=("libqksoname.so.1",)),
        cache=("@/C",),
        libs={"C/libqkfile.so": Lib(soname="libqksoname.so.1")},
        symlinks={"C/libqksoname.so.1": "libqkfile.so"},
        dlopen=((None, "libqkfile.so"),),
        expect=(Edge("<exe>", "libqksoname.so.1", "@/C/libqksoname.so.1"),
                Dlopen("<exe>", "libqkfile.so",
                       "ERROR: libqkfile.so: cannot open shared object file"))),
    Scenario(
        name="cache_keyed_by_soname/name_without_lib_prefix",
        rule="§5.4 ldconfig indexes only lib*.so* and ld-*.so* names",
        exe=Exe(needed=("libqwith.so",)),
        cache=("@/C",),
        libs={"C/qnolib.so": Lib(), "C/libqwith.so": Lib()},
        dlopen=((None, "qnolib.so"),),
        expect=(Edge("<exe>", "libqwith.so", "@/C/libqwith.so"),
                Dlopen("<exe>", "qnolib.so", "ERROR: qnolib.so: cannot open shared object file"))),
    Scenario(
        name="cache_dir_order",
        rule="§5.4 equal keys: the directory listed first in ld.so.conf wins",
        exe=Exe(needed=("libqdo.so",)),
        cache=("@/C2", "@/C1"),
        libs={"C1/libqdo.so": Lib(), "C2/libqdo.so": Lib()},
        expect=(Edge("<exe>", "libqdo.so", "@/C2/libqdo.so"),
                NotLoaded("@/C1/libqdo.so"))),
]

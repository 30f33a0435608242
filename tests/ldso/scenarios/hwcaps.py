"""LDSO.md §7: glibc-hwcaps subdirectories and (2.36 only) the legacy hwcap
subdirectories such as tls/ and the platform directory. Levels and the
platform name come from `ld.so --help` on the machine running the test."""
import ldso_host
from ldso_model import Edge, Exe, Lib, Scenario

LEVELS = ldso_host.hwcaps_levels()
PLAT = ldso_host.platform()
HWCAP = ldso_host.legacy_hwcap()


def _hw(directory, name):
    libs = {"%s/%s" % (directory, name): Lib(),
            # not a level ld.so knows: never searched
            "%s/glibc-hwcaps/x86-64-v9/%s" % (directory, name): Lib()}
    for level in (LEVELS[0], LEVELS[-1]):
        libs["%s/glibc-hwcaps/%s/%s" % (directory, level, name)] = Lib()
    return libs


SCENARIOS = [
    Scenario(
        name="hwcaps_subdir",
        rule="§7.1 D/glibc-hwcaps/<best active level>/N is tried before D/N",
        exe=Exe(needed=("libqhw.so",), rpath="@/H"),
        libs=_hw("H", "libqhw.so"),
        expect=(Edge("<exe>", "libqhw.so", "@/H/glibc-hwcaps/%s/libqhw.so" % LEVELS[0]),)),
    Scenario(
        name="hwcaps_subdir/in_llp_dir",
        rule="§7.1 LD_LIBRARY_PATH directories are expanded into hwcaps subdirectories",
        exe=Exe(needed=("libqhl.so",)),
        env={"LD_LIBRARY_PATH": "@/H"},
        libs={"H/libqhl.so": Lib(),
              "H/glibc-hwcaps/%s/libqhl.so" % LEVELS[-1]: Lib()},
        expect=(Edge("<exe>", "libqhl.so", "@/H/glibc-hwcaps/%s/libqhl.so" % LEVELS[-1]),)),
    Scenario(
        name="hwcaps_subdir/in_runpath_dir",
        rule="§7.1 DT_RUNPATH directories are expanded into hwcaps subdirectories",
        exe=Exe(needed=("libqhr.so",), runpath="@/H"),
        libs=_hw("H", "libqhr.so"),
        expect=(Edge("<exe>", "libqhr.so", "@/H/glibc-hwcaps/%s/libqhr.so" % LEVELS[0]),)),
    Scenario(
        name="legacy_hwcap_tls",
        rule="§7.2 (2.36) the legacy tls/ subdirectory is tried before the plain directory",
        exe=Exe(needed=("libqtl.so",), rpath="@/T"),
        libs={"T/libqtl.so": Lib(), "T/tls/libqtl.so": Lib()},
        expect=(Edge("<exe>", "libqtl.so", "@/T/tls/libqtl.so"),)),
    Scenario(
        name="legacy_hwcap_tls/order",
        rule="§7.2 legacy order: tls/<platform>, tls, <platform>/<hwcap>, <platform>, plain",
        exe=Exe(needed=("libqla.so", "libqlb.so", "libqlc.so", "libqld.so"), rpath="@/T"),
        libs={
            "T/libqla.so": Lib(), "T/%s/libqla.so" % PLAT: Lib(),
            "T/%s/libqlb.so" % PLAT: Lib(), "T/tls/libqlb.so": Lib(),
            "T/tls/libqlc.so": Lib(), "T/tls/%s/libqlc.so" % PLAT: Lib(),
            "T/%s/libqld.so" % PLAT: Lib(), "T/%s/%s/libqld.so" % (PLAT, HWCAP): Lib(),
        },
        expect=(Edge("<exe>", "libqla.so", "@/T/%s/libqla.so" % PLAT),
                Edge("<exe>", "libqlb.so", "@/T/tls/libqlb.so"),
                Edge("<exe>", "libqlc.so", "@/T/tls/%s/libqlc.so" % PLAT),
                Edge("<exe>", "libqld.so", "@/T/%s/%s/libqld.so" % (PLAT, HWCAP)))),
    Scenario(
        name="legacy_hwcap_tls/hwcaps_first",
        rule="§7.1 glibc-hwcaps subdirectories come before the legacy ones",
        exe=Exe(needed=("libqle.so",), rpath="@/T"),
        libs={"T/tls/libqle.so": Lib(),
              "T/glibc-hwcaps/%s/libqle.so" % LEVELS[-1]: Lib()},
        expect=(Edge("<exe>", "libqle.so", "@/T/glibc-hwcaps/%s/libqle.so" % LEVELS[-1]),)),
]

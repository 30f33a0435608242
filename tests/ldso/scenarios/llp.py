"""LDSO.md §2.3.2 and §2.4: LD_LIBRARY_PATH, its place in the search order
and its parsing."""
from ldso_model import Edge, Exe, Lib, Scenario, StartError

SCENARIOS = [
    Scenario(
        name="rpath_beats_llp", rule="§2.3 DT_RPATH is searched before LD_LIBRARY_PATH",
        exe=Exe(needed=("libqx.so",), rpath="@/R"),
        env={"LD_LIBRARY_PATH": "@/L"},
        libs={"R/libqx.so": Lib(), "L/libqx.so": Lib()},
        expect=(Edge("<exe>", "libqx.so", "@/R/libqx.so"),)),
    Scenario(
        name="llp_beats_runpath", rule="§2.3 LD_LIBRARY_PATH is searched before DT_RUNPATH",
        exe=Exe(needed=("libqx.so",), runpath="@/R"),
        env={"LD_LIBRARY_PATH": "@/L"},
        libs={"R/libqx.so": Lib(), "L/libqx.so": Lib()},
        expect=(Edge("<exe>", "libqx.so", "@/L/libqx.so"),)),
    Scenario(
        name="llp_semicolon", rule="§2.4.1 LD_LIBRARY_PATH is split on ':' and ';'",
        exe=Exe(needed=("libqx.so", "libqy.so")),
        env={"LD_LIBRARY_PATH": "@/N1;@/X:@/N2;@/Y"},
        dirs=("N1", "N2"),
        libs={"X/libqx.so": Lib(), "Y/libqy.so": Lib()},
        expect=(Edge("<exe>", "libqx.so", "@/X/libqx.so"),
                Edge("<exe>", "libqy.so", "@/Y/libqy.so"))),
    Scenario(
        name="llp_origin",
        rule="§2.4.2 LD_LIBRARY_PATH elements are DST-expanded against the main program",
        exe=Exe(path="bin/app", needed=("libqx.so",)),
        env={"LD_LIBRARY_PATH": "$ORIGIN/../llp"},
        libs={"llp/libqx.so": Lib()},
        expect=(Edge("<exe>", "libqx.so", "@/bin/../llp/libqx.so"),)),
    Scenario(
        name="llp_empty_entry",
        rule="§2.4.3 an empty LD_LIBRARY_PATH element is the cwd; l_name is relative",
        exe=Exe(needed=("libqe.so",)),
        env={"LD_LIBRARY_PATH": "@/N::@/X"},
        dirs=("N",), cwd="@/cwd",
        libs={"cwd/libqe.so": Lib(), "X/libqe.so": Lib()},
        expect=(Edge("<exe>", "libqe.so", "libqe.so"),)),
    Scenario(
        name="llp_empty_entry/colon_only",
        rule="§2.4.3 LD_LIBRARY_PATH=':' is two empty elements: the cwd",
        exe=Exe(needed=("libqe.so",)),
        env={"LD_LIBRARY_PATH": ":"},
        cwd="@/cwd",
        libs={"cwd/libqe.so": Lib()},
        expect=(Edge("<exe>", "libqe.so", "libqe.so"),)),
    Scenario(
        name="llp_empty_entry/set_but_empty",
        rule="§2.4.3 LD_LIBRARY_PATH='' is the same as unset, not the cwd",
        exe=Exe(needed=("libqe.so",)),
        env={"LD_LIBRARY_PATH": ""},
        cwd="@/cwd",
        libs={"cwd/libqe.so": Lib()},
        expect=(StartError("libqe.so: cannot open shared object file"),)),
]

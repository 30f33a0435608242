"""LDSO.md §2.2: names containing '/' are opened as they are (absolute or
relative to the cwd), after DST expansion; no search list, no cache."""
from ldso_model import Dlopen, Edge, Exe, Lib, Loaded, NotLoaded, Order, Scenario

SCENARIOS = [
    Scenario(
        name="needed_abs_path", rule="§2.2 an absolute DT_NEEDED is opened as is",
        exe=Exe(needed=("@/abs/libqabs.so",), rpath="@/R"),
        libs={"abs/libqabs.so": Lib(), "R/libqabs.so": Lib()},
        expect=(Edge("<exe>", "@/abs/libqabs.so", "@/abs/libqabs.so"),
                NotLoaded("@/R/libqabs.so"))),
    Scenario(
        name="needed_rel_path",
        rule="§2.2 a relative DT_NEEDED is relative to the cwd; §3.1 its $ORIGIN is made absolute",
        exe=Exe(needed=("sub/libqrel.so",), rpath="@/R"),
        libs={
            "R/sub/libqrel.so": Lib(),
            "sub/libqrel.so": Lib(needed=("$ORIGIN/libqreldep.so",)),
            "sub/libqreldep.so": Lib(),
            "sub/libqplug.so": Lib(),
        },
        dlopen=((None, "./sub/libqplug.so"),),
        expect=(Edge("<exe>", "sub/libqrel.so", "sub/libqrel.so"),
                NotLoaded("@/R/sub/libqrel.so"),
                Dlopen("<exe>", "./sub/libqplug.so", "./sub/libqplug.so"),
                Loaded("@/sub/libqreldep.so"))),
    Scenario(
        name="needed_dst_origin",
        rule="§4.3 DSTs in DT_NEEDED are expanded against the requester; a '/' result is opened directly",
        exe=Exe(path="bin/app", needed=("$ORIGIN/../lib/libqa.so",), rpath="@/R"),
        libs={
            "lib/libqa.so": Lib(needed=("$ORIGIN/sub/libqb.so",)),
            "lib/sub/libqb.so": Lib(),
            "R/libqa.so": Lib(),
        },
        expect=(Order(("@/bin/../lib/libqa.so", "@/bin/../lib/sub/libqb.so")),
                NotLoaded("@/R/libqa.so"))),
]

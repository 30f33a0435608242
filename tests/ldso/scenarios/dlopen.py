"""LDSO.md §11: dlopen from the executable or from a library (the caller's
paths, l_loader = NULL for the opened object)."""
from ldso_model import Dlopen, Edge, Exe, Lib, Order, Scenario

SCENARIOS = [
    Scenario(
        name="dlopen_soname_match",
        rule="§2.1 dlopen of a loaded object's SONAME returns it without a search",
        exe=Exe(needed=("@/x/libqreal.so",), rpath="@/E"),
        libs={"x/libqreal.so": Lib(soname="libqdm.so"), "E/libqdm.so": Lib()},
        dlopen=((None, "libqdm.so"), (None, "libqnothere.so")),
        expect=(Dlopen("<exe>", "libqdm.so", "@/x/libqreal.so"),
                Dlopen("<exe>", "libqnothere.so",
                       "ERROR: libqnothere.so: cannot open shared object file"))),
    Scenario(
        name="dlopen_caller_runpath",
        rule="§11.2 a library's dlopen searches its DT_RUNPATH, and then not the exe's RPATH",
        exe=Exe(needed=("libqa.so",), rpath="@/E"),
        libs={"E/libqa.so": Lib(runpath="@/R"),
              "R/libqdr.so": Lib(), "E/libqdr.so": Lib()},
        dlopen=(("@/E/libqa.so", "libqdr.so"),),
        expect=(Dlopen("@/E/libqa.so", "libqdr.so", "@/R/libqdr.so"),)),
    Scenario(
        name="dlopen_caller_runpath/origin_from_lib",
        rule="§4.3 a dlopen name with '/' is DST-expanded against the caller",
        exe=Exe(path="bin/app", needed=("libqa.so",), runpath="@/L"),
        libs={"L/libqa.so": Lib(), "L/plug/libqplug.so": Lib(),
              "bin/xplug/libqxp.so": Lib()},
        dlopen=(("libqa.so", "$ORIGIN/plug/libqplug.so"),
                (None, "$ORIGIN/xplug/libqxp.so")),
        expect=(Dlopen("@/L/libqa.so", "$ORIGIN/plug/libqplug.so", "@/L/plug/libqplug.so"),
                Dlopen("<exe>", "$ORIGIN/xplug/libqxp.so", "@/bin/xplug/libqxp.so"))),
    Scenario(
        name="dlopen_exe_rpath_fallback",
        rule="§2.3.1 dlopened objects (l_loader NULL) and their dependencies still see the "
             "exe's RPATH",
        exe=Exe(rpath="@/E"),
        libs={"D/libqdop.so": Lib(needed=("libqdx.so",)),
              "E/libqdx.so": Lib(), "E/libqdz.so": Lib()},
        dlopen=((None, "@/D/libqdop.so"), ("@/D/libqdop.so", "libqdz.so")),
        expect=(Edge("@/D/libqdop.so", "libqdx.so", "@/E/libqdx.so"),
                Dlopen("@/D/libqdop.so", "libqdz.so", "@/E/libqdz.so"))),
    Scenario(
        name="dlopen_caller_rpath_not_inherited",
        rule="§11.3 the caller's RPATH finds the name but not the opened object's deps",
        exe=Exe(needed=("libqa.so",), runpath="@/L"),
        libs={"L/libqa.so": Lib(rpath="@/P"),
              "P/libqdc.so": Lib(needed=("libqdcdep.so",)), "P/libqdcdep.so": Lib(),
              "P/libqdc2.so": Lib()},
        dlopen=(("@/L/libqa.so", "libqdc.so"), ("@/L/libqa.so", "libqdc2.so")),
        expect=(Dlopen("@/L/libqa.so", "libqdc.so",
                       "ERROR: libqdcdep.so: cannot open shared object file"),
                Dlopen("@/L/libqa.so", "libqdc2.so", "@/P/libqdc2.so"))),
    Scenario(
        name="dlopen_exe_runpath_not_for_lib",
        rule="§2.3.3 the exe's DT_RUNPATH serves the exe's dlopen, not a library's",
        exe=Exe(needed=("libqa.so",), runpath="@/R"),
        libs={"R/libqa.so": Lib(), "R/libqdrr.so": Lib()},
        dlopen=(("@/R/libqa.so", "libqdrr.so"), (None, "libqdrr.so")),
        expect=(Dlopen("@/R/libqa.so", "libqdrr.so",
                       "ERROR: libqdrr.so: cannot open shared object file"),
                Dlopen("<exe>", "libqdrr.so", "@/R/libqdrr.so"))),
    Scenario(
        name="dlopen_failure_rolls_back",
        rule="§1.4 a failed dlopen maps nothing: its already found dependencies are unmapped",
        exe=Exe(rpath="@/E"),
        libs={"D/libqdf.so": Lib(needed=("libqnew.so", "libqmissing.so")),
              "E/libqnew.so": Lib()},
        dlopen=((None, "@/D/libqdf.so"), (None, "@/E/libqnew.so")),
        expect=(Dlopen("<exe>", "@/D/libqdf.so",
                       "ERROR: libqmissing.so: cannot open shared object file"),
                Dlopen("<exe>", "@/E/libqnew.so", "@/E/libqnew.so"),
                Order(("/lib64/ld-linux-x86-64.so.2", "@/E/libqnew.so")))),
]

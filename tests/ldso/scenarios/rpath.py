"""LDSO.md §2.3.1 (the DT_RPATH chain, DT_RUNPATH), §2.3.3 and §2.4 (search
list parsing)."""
from ldso_model import Edge, Exe, Lib, Loaded, NotLoaded, Scenario, StartError

SCENARIOS = [
    Scenario(
        name="rpath_inherited",
        rule="§2.3.1 DT_RPATH of the loader's l_loader chain is searched",
        exe=Exe(needed=("libqa.so",), runpath="@/L"),
        libs={
            "L/libqa.so": Lib(needed=("libqmid.so",), rpath="@/P"),
            "P/libqmid.so": Lib(needed=("libqleaf.so",)),
            "P/libqleaf.so": Lib(),
        },
        expect=(Edge("@/P/libqmid.so", "libqleaf.so", "@/P/libqleaf.so"),)),
    Scenario(
        name="rpath_chain_order",
        rule="§2.3.1 the chain is searched loader first, then its l_loader ..., then the exe",
        exe=Exe(needed=("libqa.so",), rpath="@/E"),
        libs={
            "E/libqa.so": Lib(needed=("libqmid.so",), rpath="@/P"),
            "P/libqmid.so": Lib(needed=("libqleaf.so", "libqleaf2.so", "libqleaf3.so"),
                                rpath="@/M"),
            "M/libqleaf.so": Lib(), "P/libqleaf.so": Lib(), "E/libqleaf.so": Lib(),
            "P/libqleaf2.so": Lib(), "E/libqleaf2.so": Lib(),
            "E/libqleaf3.so": Lib(),
        },
        expect=(Edge("@/P/libqmid.so", "libqleaf.so", "@/M/libqleaf.so"),
                Edge("@/P/libqmid.so", "libqleaf2.so", "@/P/libqleaf2.so"),
                Edge("@/P/libqmid.so", "libqleaf3.so", "@/E/libqleaf3.so"))),
    Scenario(
        name="rpath_and_runpath_lib",
        rule="§2.3.1 a library with DT_RUNPATH has no DT_RPATH, for itself or descendants",
        exe=Exe(needed=("libqa.so",), rpath="@/L:@/W"),
        libs={
            "L/libqa.so": Lib(needed=("libqx.so",), rpath="@/P", runpath="@/R"),
            "P/libqx.so": Lib(),
            "R/libqx.so": Lib(needed=("libqw.so",)),
            "P/libqw.so": Lib(), "W/libqw.so": Lib(),
        },
        expect=(Edge("@/L/libqa.so", "libqx.so", "@/R/libqx.so"),
                Edge("@/R/libqx.so", "libqw.so", "@/W/libqw.so"))),
    Scenario(
        name="rpath_and_runpath_exe",
        rule="§2.3.1 an executable with DT_RUNPATH has no DT_RPATH",
        exe=Exe(needed=("libqx.so",), rpath="@/P", runpath="@/R"),
        env={"LD_LIBRARY_PATH": "@/Q"},
        libs={
            "P/libqx.so": Lib(),
            "R/libqx.so": Lib(needed=("libqy.so",)),
            "P/libqy.so": Lib(), "Q/libqy.so": Lib(),
        },
        expect=(Edge("<exe>", "libqx.so", "@/R/libqx.so"),
                Edge("@/R/libqx.so", "libqy.so", "@/Q/libqy.so"))),
    Scenario(
        name="runpath_intermediate_grandchild",
        rule="§2.3.1 DT_RUNPATH on an ancestor does not cut the chain to the exe's RPATH",
        exe=Exe(needed=("libqa.so",), rpath="@/A"),
        libs={
            "A/libqa.so": Lib(needed=("libqc3.so",), runpath="@/B"),
            "B/libqc3.so": Lib(needed=("libqd.so",)),
            "A/libqd.so": Lib(),
        },
        expect=(Edge("@/B/libqc3.so", "libqd.so", "@/A/libqd.so"),)),
    Scenario(
        name="runpath_loader_disables_rpath",
        rule="§2.3.1 DT_RUNPATH on the loader disables the whole chain, exe RPATH included",
        exe=Exe(needed=("libqa.so",), rpath="@/A"),
        libs={
            "A/libqa.so": Lib(needed=("libqe.so",), runpath="@/B"),
            "A/libqe.so": Lib(),
        },
        expect=(StartError("libqe.so: cannot open shared object file"),)),
    Scenario(
        name="runpath_not_inherited",
        rule="§2.3.3 the executable's DT_RUNPATH does not apply to its libraries",
        exe=Exe(needed=("libqa.so",), runpath="@/R"),
        libs={"R/libqa.so": Lib(needed=("libqb.so",)), "R/libqb.so": Lib()},
        expect=(StartError("libqb.so: cannot open shared object file"),)),
    Scenario(
        name="rpath_empty_entry",
        rule="§2.4.3 an empty DT_RPATH element is the cwd; l_name is relative",
        exe=Exe(needed=("libqe.so",), rpath="@/N::@/X"),
        libs={"cwd/libqe.so": Lib(), "X/libqe.so": Lib()},
        dirs=("N",), cwd="@/cwd",
        expect=(Edge("<exe>", "libqe.so", "libqe.so"),)),
    Scenario(
        name="rpath_relative_dir",
        rule="§2.4.4 relative elements are relative to the cwd at load time",
        exe=Exe(needed=("libqr.so",), rpath="rel/dir"),
        libs={"cwd/rel/dir/libqr.so": Lib(), "rel/dir/libqr.so": Lib()},
        cwd="@/cwd",
        expect=(Edge("<exe>", "libqr.so", "rel/dir/libqr.so"),
                NotLoaded("@/rel/dir/libqr.so"))),
    Scenario(
        name="rpath_normalization",
        rule="§2.4.5 trailing slashes collapse to one; '.', '..', '//' are kept",
        exe=Exe(needed=("libqx.so", "libqy.so"), rpath="@/A///:@/./B/..//C"),
        libs={"A/libqx.so": Lib(), "C/libqy.so": Lib()},
        dirs=("B",),
        expect=(Edge("<exe>", "libqx.so", "@/A/libqx.so"),
                Edge("<exe>", "libqy.so", "@/./B/..//C/libqy.so"))),
    Scenario(
        name="rpath_eloop_abandons_list",
        rule="§2.4.7 an open error other than ENOENT/EACCES in an existing directory "
             "abandons the rest of that list",
        exe=Exe(needed=("libqx.so",), rpath="@/A:@/B"),
        env={"LD_LIBRARY_PATH": "@/L"},
        symlinks={"A/libqx.so": "libqx.so"},
        libs={"B/libqx.so": Lib(), "L/libqx.so": Lib()},
        expect=(Edge("<exe>", "libqx.so", "@/L/libqx.so"),)),
    Scenario(
        name="rpath_file_as_dir",
        rule="§2.4.7 a list element that is a file is a nonexistent directory, not an error",
        exe=Exe(needed=("libqx.so",), rpath="@/f:@/A"),
        env={"LD_LIBRARY_PATH": "@/L"},
        files={"f": "a regular file where a directory is expected\n"},
        libs={"A/libqx.so": Lib(), "L/libqx.so": Lib()},
        expect=(Edge("<exe>", "libqx.so", "@/A/libqx.so"),)),
]

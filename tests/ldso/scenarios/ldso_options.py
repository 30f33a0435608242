"""LDSO.md §12: options of an explicit `ld.so [OPTIONS] PROGRAM` invocation,
which bundlefs ldd mirrors with the same option names."""
from ldso_model import Edge, Exe, Lib, Scenario, StartError

SCENARIOS = [
    Scenario(
        name="ldso_library_path_option",
        rule="§2.3.2 --library-path takes the place of LD_LIBRARY_PATH",
        exe=Exe(needed=("libqx.so",), runpath="@/R"),
        env={"LD_LIBRARY_PATH": "@/E"},
        ldso_opts=("--library-path", "@/O"),
        libs={"E/libqx.so": Lib(), "O/libqx.so": Lib(), "R/libqx.so": Lib()},
        expect=(Edge("<exe>", "libqx.so", "@/O/libqx.so"),)),
    Scenario(
        name="ldso_library_path_option/replaces_llp",
        rule="§2.3.2 with --library-path, LD_LIBRARY_PATH is not searched at all",
        exe=Exe(needed=("libqy.so",)),
        env={"LD_LIBRARY_PATH": "@/E"},
        ldso_opts=("--library-path", "@/O"),
        dirs=("O",),
        libs={"E/libqy.so": Lib()},
        expect=(StartError("libqy.so: cannot open shared object file"),)),
    Scenario(
        name="ldso_inhibit_rpath",
        rule="§12 --inhibit-rpath drops the DT_RPATH of the objects whose l_name it lists",
        exe=Exe(needed=("libqa.so",), rpath="@/L:@/E"),
        ldso_opts=("--inhibit-rpath", "@/L/libqa.so"),
        libs={"L/libqa.so": Lib(needed=("libqx.so",), rpath="@/P"),
              "P/libqx.so": Lib(), "E/libqx.so": Lib()},
        expect=(Edge("@/L/libqa.so", "libqx.so", "@/E/libqx.so"),)),
    Scenario(
        name="ldso_inhibit_rpath/exe_path_no_match",
        rule="§12 the main program's l_name is not its path: listing the path inhibits nothing",
        exe=Exe(needed=("libqx.so",), rpath="@/E"),
        env={"LD_LIBRARY_PATH": "@/L"},
        ldso_opts=("--inhibit-rpath", "@/app"),
        libs={"E/libqx.so": Lib(), "L/libqx.so": Lib()},
        expect=(Edge("<exe>", "libqx.so", "@/E/libqx.so"),)),
    Scenario(
        name="ldso_inhibit_rpath/exe_empty_element",
        rule="§12 an empty --inhibit-rpath element matches the main program",
        exe=Exe(needed=("libqx.so",), rpath="@/E"),
        env={"LD_LIBRARY_PATH": "@/L"},
        ldso_opts=("--inhibit-rpath", ":@/nothing"),
        libs={"E/libqx.so": Lib(), "L/libqx.so": Lib()},
        expect=(Edge("<exe>", "libqx.so", "@/L/libqx.so"),)),
]

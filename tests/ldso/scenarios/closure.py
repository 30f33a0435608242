"""LDSO.md §1 (breadth-first closure, l_loader) and §2.1 (already-loaded
check by l_name, recorded names and SONAME; file identity)."""
from ldso_model import Edge, Exe, Lib, Loaded, NotLoaded, Order, Scenario, StartError


def _first_loader(name, order, expect):
    # libqshared is found by both RPATHs; only libqa's RPATH finds libqdeep,
    # so libqdeep loads only if libqa is libqshared's l_loader.
    return Scenario(
        name=name, rule="§1.3 the first requester in BFS order becomes l_loader",
        exe=Exe(needed=order, runpath="@/L"),
        libs={
            "L/libqa.so": Lib(needed=("libqshared.so",), rpath="@/S:@/D"),
            "L/libqb.so": Lib(needed=("libqshared.so",), rpath="@/S"),
            "S/libqshared.so": Lib(needed=("libqdeep.so",)),
            "D/libqdeep.so": Lib(),
        },
        expect=expect)


SCENARIOS = [
    Scenario(
        name="rpath_basic", rule="§0 l_name is directory string + name, unnormalised",
        exe=Exe(path="bin/app", needed=("libqa.so",), rpath="@/bin/../lib"),
        libs={"lib/libqa.so": Lib()},
        expect=(Edge("<exe>", "libqa.so", "@/bin/../lib/libqa.so"),)),
    _first_loader("bfs_first_loader", ("libqa.so", "libqb.so"), (
        Edge("@/S/libqshared.so", "libqdeep.so", "@/D/libqdeep.so"),
        Order(("@/L/libqa.so", "@/L/libqb.so", "@/S/libqshared.so", "@/D/libqdeep.so")))),
    _first_loader("bfs_first_loader/reversed", ("libqb.so", "libqa.so"), (
        StartError("libqdeep.so: cannot open shared object file"),)),
    Scenario(
        name="bfs_vs_dfs", rule="§1.3 all direct dependencies are mapped before theirs",
        exe=Exe(needed=("libqa.so", "libqz.so"), rpath="@/A"),
        libs={
            "A/libqa.so": Lib(needed=("libqz.so",), rpath="@/P"),
            "A/libqz.so": Lib(),
            "P/libqz.so": Lib(),
        },
        expect=(Edge("<exe>", "libqz.so", "@/A/libqz.so"),
                Edge("@/A/libqa.so", "libqz.so", "@/A/libqz.so"),
                NotLoaded("@/P/libqz.so"))),
    Scenario(
        name="soname_satisfies_later_needed",
        rule="§2.1 a library loaded by path satisfies later requests for its SONAME",
        exe=Exe(needed=("@/x/libq-real.so", "libqb.so"), runpath="@/L"),
        libs={
            "x/libq-real.so": Lib(soname="libqq.so.1"),
            "L/libqb.so": Lib(needed=("libqq.so.1",)),
        },
        expect=(Edge("@/L/libqb.so", "libqq.so.1", "@/x/libq-real.so"),)),
    Scenario(
        name="soname_shadows_file",
        rule="§2.1 a loaded object whose SONAME equals the name wins over a file of that name",
        exe=Exe(needed=("@/x/libqreal.so", "libqa.so"), rpath="@/L"),
        libs={
            "x/libqreal.so": Lib(soname="libqsh.so"),
            "L/libqa.so": Lib(needed=("libqsh.so",)),
            "L/libqsh.so": Lib(),
        },
        expect=(Edge("@/L/libqa.so", "libqsh.so", "@/x/libqreal.so"),
                NotLoaded("@/L/libqsh.so"))),
    Scenario(
        name="already_loaded_by_l_name",
        rule="§2.1.1 a request equal to a loaded object's l_name returns that object",
        exe=Exe(needed=("libqa.so", "libqb.so"), rpath="@/A"),
        libs={"A/libqa.so": Lib(soname="libqa-soname.so.1"),
              "A/libqb.so": Lib(needed=("@/A/libqa.so",))},
        expect=(Edge("@/A/libqb.so", "@/A/libqa.so", "@/A/libqa.so"),)),
    Scenario(
        name="file_identity_dedup",
        rule="§2.1.3 a search that opens an already loaded file (dev/ino) returns that object",
        exe=Exe(needed=("libqfi.so", "libqfialias.so", "libqhard.so"), rpath="@/A:@/B"),
        libs={"A/libqfi.so": Lib(soname="libqfi.so.9")},
        symlinks={"B/libqfialias.so": "../A/libqfi.so"},
        hardlinks={"B/libqhard.so": "@/A/libqfi.so"},
        expect=(Edge("<exe>", "libqfialias.so", "@/A/libqfi.so"),
                Edge("<exe>", "libqhard.so", "@/A/libqfi.so"),
                NotLoaded("@/B/libqfialias.so"), NotLoaded("@/B/libqhard.so"))),
    Scenario(
        name="ldso_preloaded_names",
        rule="§2.1.2 ld.so (PT_INTERP path and SONAME) and the vDSO are pre-loaded",
        exe=Exe(needed=("ld-linux-x86-64.so.2", "libqa.so", "/lib64/ld-linux-x86-64.so.2",
                        "linux-vdso.so.1"), rpath="@/L"),
        libs={"L/libqa.so": Lib(), "L/ld-linux-x86-64.so.2": Lib(),
              "L/linux-vdso.so.1": Lib()},
        expect=(Edge("<exe>", "ld-linux-x86-64.so.2", "/lib64/ld-linux-x86-64.so.2"),
                Edge("<exe>", "/lib64/ld-linux-x86-64.so.2", "/lib64/ld-linux-x86-64.so.2"),
                Edge("<exe>", "linux-vdso.so.1", "linux-vdso.so.1"),
                Loaded("@/L/libqa.so"))),
]

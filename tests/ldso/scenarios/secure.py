"""LDSO.md §10 and §6.5: secure mode (AT_SECURE). The executable is made
set-uid to an unprivileged user and run as root; bundlefs gets --secure."""
from ldso_model import (OUTSIDE, Edge, Exe, Lib, Loaded, NotLoaded, PreloadError,
                        Scenario, StartError)


def _lib_origin_not_at_start(name, secure, resolved):
    # "@/mirror$ORIGIN" expands to <root>/mirror<root>/L, which exists.
    return Scenario(
        name=name, secure=secure,
        rule="§10.3 in secure mode $ORIGIN must start the element, else the element is dropped",
        exe=Exe(needed=("libqa.so",), rpath="@/L"),
        libs={"L/libqa.so": Lib(needed=("libqsn.so",), rpath="@/mirror$ORIGIN:@/Q"),
              "mirror@/L/libqsn.so": Lib(), "Q/libqsn.so": Lib()},
        expect=(Edge("@/L/libqa.so", "libqsn.so", resolved),))


def _exe_origin(name, secure, resolved):
    return Scenario(
        name=name, secure=secure,
        rule="§10.3 in secure mode the exe's $ORIGIN elements must lie in a system dir",
        exe=Exe(needed=("libqx.so",), rpath="$ORIGIN/lib:@/F"),
        libs={"lib/libqx.so": Lib(), "F/libqx.so": Lib()},
        expect=(Edge("<exe>", "libqx.so", resolved),))


SCENARIOS = [
    Scenario(
        name="secure_llp_ignored", secure=True,
        rule="§10.1 LD_LIBRARY_PATH is ignored in secure mode",
        exe=Exe(needed=("libqx.so",), runpath="@/R"),
        env={"LD_LIBRARY_PATH": "@/L"},
        libs={"R/libqx.so": Lib(), "L/libqx.so": Lib()},
        expect=(Edge("<exe>", "libqx.so", "@/R/libqx.so"),)),
    Scenario(
        name="secure_needed_dst", secure=True,
        rule="§10.2 any DST in DT_NEEDED is fatal in secure mode",
        exe=Exe(needed=("$ORIGIN/lib/libqsd.so",)),
        libs={"lib/libqsd.so": Lib()},
        expect=(StartError("DST not allowed in SUID/SGID programs"),)),
    _lib_origin_not_at_start("secure_origin/lib_rpath_origin_not_at_start", True,
                             "@/Q/libqsn.so"),
    _lib_origin_not_at_start("secure_origin/lib_rpath_origin_not_at_start/nonsecure", False,
                             "@/mirror@/L/libqsn.so"),
    Scenario(
        name="secure_origin/lib_rpath_origin_first", secure=True,
        rule="§10.3 a library's leading $ORIGIN element needs no trusted directory",
        exe=Exe(needed=("libqa.so",), rpath="@/L"),
        libs={"L/libqa.so": Lib(needed=("libqx.so",), rpath="$ORIGIN/../P"),
              "P/libqx.so": Lib()},
        expect=(Edge("@/L/libqa.so", "libqx.so", "@/L/../P/libqx.so"),)),
    _exe_origin("secure_origin/exe_rpath_origin", True, "@/F/libqx.so"),
    _exe_origin("secure_origin/exe_rpath_origin/nonsecure", False, "@/lib/libqx.so"),
    Scenario(
        name="secure_origin/exe_rpath_origin_trusted_dir", secure=True,
        rule="§10.3 an exe $ORIGIN element that normalises to a system dir is kept, unnormalised",
        exe=Exe(needed=("libm.so.6",), rpath="$ORIGIN/%UP%lib/x86_64-linux-gnu"),
        expect=(Edge("<exe>", "libm.so.6", "@/%UP%lib/x86_64-linux-gnu/libm.so.6"),)),
    Scenario(
        name="secure_preload", secure=True,
        rule="§6.5 secure LD_PRELOAD: names with '/' dropped, others need the set-uid bit",
        exe=Exe(needed=("libqn.so",), rpath="@/P"),
        env={"LD_PRELOAD": "@/P/libqsp_abs.so libqsp_nosuid.so libqsp_suid.so"},
        libs={"P/libqsp_abs.so": Lib(setuid=True), "P/libqsp_nosuid.so": Lib(),
              "P/libqsp_suid.so": Lib(setuid=True), "P/libqn.so": Lib()},
        expect=(Loaded("@/P/libqsp_suid.so"), NotLoaded("@/P/libqsp_abs.so"),
                NotLoaded("@/P/libqsp_nosuid.so"),
                PreloadError("object 'libqsp_nosuid.so' from LD_PRELOAD cannot be preloaded"))),
    Scenario(
        name="secure_etc_preload", secure=True,
        rule="§6.5 /etc/ld.so.preload is honoured in secure mode, '/' names opened as is",
        exe=Exe(needed=("libqn.so",), rpath="@/P"),
        preload_file="@/P/libqep.so\n",
        libs={"P/libqep.so": Lib(), "P/libqn.so": Lib()},
        expect=(Loaded("@/P/libqep.so"), Edge("<exe>", "libqn.so", "@/P/libqn.so"))),
]

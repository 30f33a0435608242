"""LDSO.md §6: LD_PRELOAD, --preload, /etc/ld.so.preload."""
from ldso_model import Edge, Exe, Lib, Loaded, NotLoaded, Order, PreloadError, Scenario

SCENARIOS = [
    Scenario(
        name="preload_search",
        rule="§6.1-2 LD_PRELOAD (space and ':' separated) is searched with the exe as loader; "
             "names with '/' are DST-expanded",
        exe=Exe(path="bin/app", needed=("libqn.so",), rpath="@/P"),
        env={"LD_PRELOAD": "libqps1.so @/Q/libqps2.so:$ORIGIN/../O/libqps3.so libqmissing.so"},
        libs={"P/libqps1.so": Lib(), "Q/libqps2.so": Lib(), "O/libqps3.so": Lib(),
              "P/libqn.so": Lib()},
        expect=(Order(("@/P/libqps1.so", "@/Q/libqps2.so", "@/bin/../O/libqps3.so",
                       "@/P/libqn.so")),
                PreloadError("object 'libqmissing.so' from LD_PRELOAD cannot be preloaded "
                             "(cannot open shared object file): ignored."))),
    Scenario(
        name="preload_search/exe_runpath",
        rule="§6.1 the executable's DT_RUNPATH applies to LD_PRELOAD names",
        exe=Exe(needed=("libqn.so",), runpath="@/R"),
        env={"LD_PRELOAD": "libqpr.so"},
        libs={"R/libqpr.so": Lib(), "R/libqn.so": Lib()},
        expect=(Order(("@/R/libqpr.so", "@/R/libqn.so")),)),
    Scenario(
        name="preload_satisfies_needed",
        rule="§6.4 a preload's SONAME satisfies a later DT_NEEDED",
        exe=Exe(needed=("libqpsn.so",), rpath="@/A"),
        env={"LD_PRELOAD": "@/x/libqpre-real.so"},
        libs={"x/libqpre-real.so": Lib(soname="libqpsn.so"), "A/libqpsn.so": Lib()},
        expect=(Edge("<exe>", "libqpsn.so", "@/x/libqpre-real.so"),
                NotLoaded("@/A/libqpsn.so"))),
    Scenario(
        name="etc_ld_so_preload",
        rule="§6.2 /etc/ld.so.preload: space, tab, newline, ':' separate; '#' comments",
        exe=Exe(needed=("libqn.so",), rpath="@/P"),
        preload_file=("# a comment line\n@/P/libqp1.so\tlibqp2.so  :  @/P/libqp3.so"
                      " # libqcommented.so\nlibqpmissing.so\n"),
        libs={"P/libqp1.so": Lib(), "P/libqp2.so": Lib(), "P/libqp3.so": Lib(),
              "P/libqcommented.so": Lib(), "P/libqn.so": Lib()},
        expect=(Order(("@/P/libqp1.so", "@/P/libqp2.so", "@/P/libqp3.so", "@/P/libqn.so")),
                NotLoaded("@/P/libqcommented.so"),
                PreloadError("object 'libqpmissing.so' from /etc/ld.so.preload cannot be "
                             "preloaded (cannot open shared object file): ignored."))),
    Scenario(
        name="preload_order",
        rule="§6.1 LD_PRELOAD, then --preload, then /etc/ld.so.preload, then DT_NEEDED",
        exe=Exe(needed=("libqn.so",), rpath="@/P"),
        env={"LD_PRELOAD": "libqo1.so"},
        ldso_opts=("--preload", "libqo2.so"),
        preload_file="libqo3.so\n",
        libs={"P/libqo1.so": Lib(), "P/libqo2.so": Lib(), "P/libqo3.so": Lib(),
              "P/libqn.so": Lib()},
        expect=(Order(("@/P/libqo1.so", "@/P/libqo2.so", "@/P/libqo3.so", "@/P/libqn.so")),
                Loaded("@/P/libqo2.so"))),
]

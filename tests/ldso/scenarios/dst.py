"""LDSO.md §3 ($ORIGIN) and §4 (dynamic string tokens)."""
import ldso_host
from ldso_model import Dlopen, Edge, Exe, Lib, Loaded, NotLoaded, Scenario

PLAT = ldso_host.platform()
LIB = ldso_host.dst_lib()


def _symlinked_exe(name, rule, invoke, ldso_opts, resolved):
    return Scenario(
        name=name, rule=rule,
        exe=Exe(path="real/app", needed=("libqx.so",), rpath="$ORIGIN/lib"),
        symlinks={"link/app": "../real/app"},
        libs={"real/lib/libqx.so": Lib(), "link/lib/libqx.so": Lib()},
        dirs=("empty",), invoke=invoke, ldso_opts=ldso_opts,
        expect=(Edge("<exe>", "libqx.so", resolved),))


SCENARIOS = [
    Scenario(
        name="dst_unknown_literal",
        rule="§4.1 unknown tokens ($QFOO, $ORIGINX) are kept literally",
        exe=Exe(needed=("libqu1.so", "libqu2.so", "libq$QBAR.so"),
                rpath="@/$QFOO:@/$ORIGINX"),
        libs={"$QFOO/libqu1.so": Lib(), "$ORIGINX/libqu2.so": Lib(),
              "$QFOO/libq$QBAR.so": Lib()},
        expect=(Edge("<exe>", "libqu1.so", "@/$QFOO/libqu1.so"),
                Edge("<exe>", "libqu2.so", "@/$ORIGINX/libqu2.so"),
                Loaded("@/$QFOO/libq$QBAR.so"))),
    Scenario(
        name="dst_platform", rule="§4.2 $PLATFORM is the platform name ld.so reports",
        exe=Exe(needed=("libqplat.so",), rpath="@/plat/$PLATFORM"),
        libs={"plat/%s/libqplat.so" % PLAT: Lib()},
        expect=(Edge("<exe>", "libqplat.so", "@/plat/%s/libqplat.so" % PLAT),)),
    Scenario(
        name="dst_lib", rule="§4.2 $LIB is lib/x86_64-linux-gnu on Debian",
        exe=Exe(needed=("libqlib.so", "libqlib2.so"), rpath="@/a/$LIB:@/b/${LIB}"),
        libs={"a/%s/libqlib.so" % LIB: Lib(), "b/%s/libqlib2.so" % LIB: Lib()},
        expect=(Edge("<exe>", "libqlib.so", "@/a/%s/libqlib.so" % LIB),
                Edge("<exe>", "libqlib2.so", "@/b/%s/libqlib2.so" % LIB))),
    Scenario(
        name="dst_braced",
        rule="§4.1 braced tokens may be followed by any character",
        exe=Exe(path="bin/app", needed=("libqbr1.so", "libqbr2.so"),
                rpath="${ORIGIN}_b:@/p2/${PLATFORM}x"),
        libs={"bin_b/libqbr1.so": Lib(), "p2/%sx/libqbr2.so" % PLAT: Lib()},
        expect=(Edge("<exe>", "libqbr1.so", "@/bin_b/libqbr1.so"),
                Edge("<exe>", "libqbr2.so", "@/p2/%sx/libqbr2.so" % PLAT))),
    Scenario(
        name="dst_noslash_needed_vs_dlopen",
        rule="§4.3 DT_NEEDED expands DSTs without '/', dlopen names do not",
        exe=Exe(needed=("libqpf-${PLATFORM}.so",), rpath="@/D"),
        libs={"D/libqpf-%s.so" % PLAT: Lib(), "D/libqpf-${PLATFORM}.so": Lib()},
        dlopen=((None, "libqpf-${PLATFORM}.so"),),
        expect=(Loaded("@/D/libqpf-%s.so" % PLAT),
                Dlopen("<exe>", "libqpf-${PLATFORM}.so", "@/D/libqpf-${PLATFORM}.so"))),
    Scenario(
        name="origin_symlinked_lib",
        rule="§3.1 a library's $ORIGIN is the directory of its l_name, symlinks unresolved",
        exe=Exe(path="bin/app", needed=("libqs.so",), rpath="@/bin/../lib"),
        libs={"real/libqs.so": Lib(needed=("libqod.so",), rpath="$ORIGIN/dep"),
              "real/dep/libqod.so": Lib(), "lib/dep/libqod.so": Lib()},
        symlinks={"lib/libqs.so": "../real/libqs.so"},
        expect=(Edge("@/bin/../lib/libqs.so", "libqod.so", "@/bin/../lib/dep/libqod.so"),
                NotLoaded("@/real/dep/libqod.so"))),
    _symlinked_exe("origin_symlinked_exe/direct",
                   "§3.2 the executable's $ORIGIN is canonical (/proc/self/exe)",
                   None, (), "@/real/lib/libqx.so"),
    _symlinked_exe("origin_symlinked_exe/explicit_ldso",
                   "§3.3 under `ld.so PROGRAM` $ORIGIN is the path as given, cwd-prefixed",
                   "./link/app", ("--library-path", "@/empty"), "@/./link/lib/libqx.so"),
]

"""LDSO.md §9: candidate validation. Wrong class or machine: skipped; any
other defect: fatal, even though a valid file comes later in the search."""
from ldso_model import Edge, Exe, Lib, Scenario, StartError


def _skipped(name, kind, rule):
    return Scenario(
        name=name, rule=rule,
        exe=Exe(needed=("libqwc.so",), rpath="@/W:@/G"),
        libs={"W/libqwc.so": Lib(kind=kind), "G/libqwc.so": Lib()},
        expect=(Edge("<exe>", "libqwc.so", "@/G/libqwc.so"),))


def _alone(name, kind, rule, message):
    return Scenario(
        name=name, rule=rule,
        exe=Exe(needed=("libqwc.so",), rpath="@/W"),
        libs={"W/libqwc.so": Lib(kind=kind)},
        expect=(StartError(message),))


# kind -> the message glibc gives for it, after "<path>: "
FATAL = {
    "script": "invalid ELF header",
    "short": "file too short",
    "et_rel": "only ET_DYN and ET_EXEC can be loaded",
    "osabi": "ELF file OS ABI invalid",
    "directory": "cannot read file data",
    "eidata": "ELF file data encoding not little-endian",
    "eiversion": "ELF file version ident does not match current one",
    "pad": "nonzero padding in e_ident",
    "eversion": "ELF file version does not match current one",
    "phentsize": "ELF file's phentsize not the expected size",
}

SCENARIOS = [
    _skipped("wrong_class_skipped", "class32", "§9.2 an ELFCLASS32 candidate is skipped"),
    _skipped("wrong_class_skipped/real_elf32", "elf32",
             "§9.2 a genuine i386 library is skipped"),
    _alone("wrong_class_skipped/error", "class32",
           "§2.3.6 nothing found after a wrong-class skip: 'wrong ELF class'",
           "libqwc.so: wrong ELF class: ELFCLASS32"),
    _skipped("wrong_machine_skipped", "machine", "§9.3 a foreign e_machine is skipped"),
    _alone("wrong_machine_skipped/error", "machine",
           "§9.3 a foreign e_machine is skipped silently: 'cannot open'",
           "libqwc.so: cannot open shared object file"),
] + [
    Scenario(
        name="bad_candidate_fatal" if kind == "script" else "bad_candidate_fatal/" + kind,
        rule="§9.4 a malformed candidate ends the search: " + message,
        exe=Exe(needed=("libqbad.so",), rpath="@/B:@/G"),
        libs={"B/libqbad.so": Lib(kind=kind), "G/libqbad.so": Lib()},
        expect=(StartError("@/B/libqbad.so: " + message),))
    for kind, message in FATAL.items()
]

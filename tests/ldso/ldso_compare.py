"""Parses the two sides and compares them.

Normalisation of the object lists: the vDSO (linux-vdso.so.1) is dropped
from both sides, since it is mapped by the kernel, not found by a search;
ld.so itself is kept: the real link map lists it where the BFS first
reaches it (libc.so.6 NEEDS ld-linux-x86-64.so.2), which is also where the
TSV first resolves a name to it."""
from dataclasses import dataclass, field

VDSO = "linux-vdso.so.1"
EXE = "<exe>"
START_ERROR_MARK = "error while loading shared libraries: "
PRELOAD_REQUESTERS = ("LD_PRELOAD", "--preload", "ld.so.preload")
UNKNOWN = "?"


@dataclass
class Side:
    objs: list = field(default_factory=list)     # after start-up
    final: list = field(default_factory=list)    # after the dlopen calls
    edges: list = field(default_factory=list)    # (requester, needed, resolved)
    dlopens: list = field(default_factory=list)  # (caller, name, result)
    start_error: str = None
    preload_errors: list = field(default_factory=list)
    secure: int = None


class ParseError(Exception):
    pass


def _strip_error(text):
    while text.startswith("ERROR: "):
        text = text[len("ERROR: "):]
    return text


def _stderr_facts(side, stderr):
    for line in stderr.splitlines():
        if START_ERROR_MARK in line:
            side.start_error = line.split(START_ERROR_MARK, 1)[1]
        elif line.startswith("ERROR: ld.so: object "):
            side.preload_errors.append(_strip_error(line))


def parse_real(result):
    side = Side()
    _stderr_facts(side, result.stderr)
    for line in result.stdout.splitlines():
        f = line.split("\t")
        if f[0] == "SECURE" and len(f) == 2:
            side.secure = int(f[1])
        elif f[0] in ("OBJ", "FINAL") and len(f) == 2:
            if f[1] != VDSO:
                (side.objs if f[0] == "OBJ" else side.final).append(f[1])
        elif f[0] == "EDGE" and len(f) == 4:
            if f[3].startswith("!"):
                raise ParseError("the reporter cannot tell where %s's DT_NEEDED %s went: %s"
                                 % (f[1], f[2], f[3][1:]))
            side.edges.append(tuple(f[1:]))
        elif f[0] == "DLOPEN" and len(f) == 4:
            side.dlopens.append(tuple(f[1:]))
        else:
            raise ParseError("unexpected reporter line: %r" % line)
    if side.start_error is None and (result.returncode != 0 or not side.objs):
        raise ParseError("the scenario program failed without an ld.so message "
                         "(exit %d)" % result.returncode)
    return side


def _add_object(objs, name):
    if not name.startswith("ERROR: ") and name != VDSO and name not in objs:
        objs.append(name)


def parse_tsv(result):
    """The lines that follow a failed dlopen line, up to the next dlopen line,
    are that dlopen's dependency resolutions; ld.so unmaps everything a failed
    dlopen mapped, so they add no objects and no edges."""
    side = Side()
    objs = [EXE]
    in_dlopen_phase = False
    rolled_back = False
    for line in result.stdout.splitlines():
        f = line.split("\t")
        if len(f) != 3:
            raise ParseError("TSV line without exactly 3 fields: %r" % line)
        requester, needed, resolved = f
        if requester == "-" and needed == "-":
            if not resolved.startswith("ERROR: "):
                raise ParseError("start-up error line without ERROR: %r" % line)
            side.start_error = resolved[len("ERROR: "):]
            continue
        if needed.startswith("dlopen:"):
            if not in_dlopen_phase:
                side.objs = list(objs)
                in_dlopen_phase = True
            side.dlopens.append((requester, needed[len("dlopen:"):], resolved))
            rolled_back = resolved.startswith("ERROR: ")
        elif rolled_back:
            continue
        elif requester in PRELOAD_REQUESTERS and resolved.startswith("ERROR: "):
            side.preload_errors.append(_strip_error(resolved))
        else:
            side.edges.append((requester, needed, resolved))
        _add_object(objs, resolved)
    if not in_dlopen_phase:
        side.objs = list(objs)
    side.final = objs
    return side


def _list_diff(label, real, claimed, show):
    if real == claimed:
        return []
    real = [show(x) for x in real]
    claimed = [show(x) for x in claimed]
    width = max([len(x) for x in real] + [10])
    rows = ["%s differ (real ld.so | bundlefs):" % label]
    for i in range(max(len(real), len(claimed))):
        a = real[i] if i < len(real) else ""
        b = claimed[i] if i < len(claimed) else ""
        rows.append("  %s %-*s | %s" % ("  " if a == b else "!!", width, a, b))
    return ["\n".join(rows)]


def compare(real, claimed, show=lambda text: text):
    """Differences between the real loader and bundlefs, as messages; `show`
    shortens paths for display."""
    diffs = []
    if real.start_error != claimed.start_error:
        diffs.append("start-up error differs:\n  real ld.so: %s\n  bundlefs:   %s"
                     % (real.start_error, claimed.start_error))
    diffs += _list_diff("preload errors", real.preload_errors, claimed.preload_errors, show)
    if real.start_error is not None:
        return diffs
    diffs += _list_diff("objects after start-up", real.objs, claimed.objs, show)
    diffs += _list_diff("objects after the dlopen calls", real.final, claimed.final, show)
    claimed_edges = {}
    for requester, needed, resolved in claimed.edges:
        claimed_edges.setdefault((requester, needed), resolved)
    real_keys = set()
    for requester, needed, resolved in real.edges:
        real_keys.add((requester, needed))
        if resolved == UNKNOWN:
            continue
        got = claimed_edges.get((requester, needed), "(no TSV line)")
        if got != resolved:
            diffs.append("edge %s NEEDS %s:\n  real ld.so: %s\n  bundlefs:   %s"
                         % (requester, needed, resolved, got))
    real_objs = set(real.final)
    for (requester, needed), resolved in claimed_edges.items():
        if requester in real_objs and (requester, needed) not in real_keys:
            diffs.append("bundlefs reports %s NEEDS %s -> %s, which the object does not need"
                         % (requester, needed, resolved))
    diffs += _list_diff("dlopen results",
                        ["\t".join(d) for d in real.dlopens],
                        ["\t".join(d) for d in claimed.dlopens], show)
    return [show(d) for d in diffs]

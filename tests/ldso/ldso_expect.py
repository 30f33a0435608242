"""Checks a scenario's expectations against what the REAL loader did, so a
scenario that no longer exercises its rule fails instead of passing
vacuously."""
from ldso_model import (OUTSIDE, Dlopen, Edge, Loaded, NotLoaded, Order,
                        PreloadError, StartError)


def _matches(expected, actual, layout):
    if expected == OUTSIDE:
        return (actual is not None and not actual.startswith("ERROR: ")
                and not actual.startswith(layout.root))
    return actual == layout.subst(expected)


def _check(e, real, layout):
    s = layout.subst
    if isinstance(e, Edge):
        found = [r for q, n, r in real.edges if q == s(e.requester) and n == s(e.needed)]
        if not found or not _matches(e.resolved, found[0], layout):
            return "edge %s NEEDS %s: expected %s, real ld.so: %s" % (
                e.requester, e.needed, e.resolved, found[0] if found else "(no such edge)")
    elif isinstance(e, Loaded):
        if s(e.path) not in real.final:
            return "expected %s to be loaded" % e.path
    elif isinstance(e, NotLoaded):
        if s(e.path) in real.final:
            return "expected %s not to be loaded" % e.path
    elif isinstance(e, Order):
        want = [s(p) for p in e.paths]
        got = [o for o in real.final if o in want]
        if got != want:
            return "expected load order %s, real ld.so: %s" % (list(e.paths), got)
    elif isinstance(e, StartError):
        want = s(e.text)
        got = real.start_error
        if got is None or (got != want if e.exact else want not in got):
            return "expected start-up error containing %r, real ld.so: %r" % (
                e.text, real.start_error)
    elif isinstance(e, Dlopen):
        found = [r for c, n, r in real.dlopens if c == s(e.caller) and n == s(e.name)]
        if not found:
            return "dlopen(%s) from %s: no result" % (e.name, e.caller)
        ok = (s(e.result) in found[0] if e.result.startswith("ERROR: ")
              else _matches(e.result, found[0], layout))
        if not ok:
            return "dlopen(%s) from %s: expected %s, real ld.so: %s" % (
                e.name, e.caller, e.result, found[0])
    elif isinstance(e, PreloadError):
        if not any(s(e.text) in p for p in real.preload_errors):
            return "expected a preload error containing %r, real ld.so: %r" % (
                e.text, real.preload_errors)
    else:
        return "unknown expectation %r" % (e,)
    return None


def check_expectations(scn, real, layout):
    failures = []
    if not scn.expect:
        failures.append("scenario has no expectations")
    if real.start_error is not None and not any(isinstance(e, StartError) for e in scn.expect):
        failures.append("unexpected start-up error: %s" % real.start_error)
    if real.start_error is None and real.secure != int(scn.secure):
        failures.append("AT_SECURE is %s, scenario wants %d" % (real.secure, scn.secure))
    for e in scn.expect:
        msg = _check(e, real, layout)
        if msg:
            failures.append(layout.show(msg))
    return failures

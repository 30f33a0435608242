#!/usr/bin/env python3
"""Acceptance test of `bundlefs trace` on small C programs.

    python3 -S tests/trace/trace_c.py --bundlefs PATH/TO/bundlefs --work WORKDIR

Builds the fixtures of tests/trace/c/ with gcc under WORKDIR/c (wiped first), runs them under
`bundlefs trace` and compares the trace with two independent witnesses of the same run:
  - what each process saw itself (c/report.c, linked into every fixture executable, writes
    to $TRACE_REPORT at exit: its link map, every dlopen with its caller and result, every
    dlclose);
  - the loader's own account (the traced run also has LD_DEBUG=libs, so glibc writes every
    search it made and every file it tried), plus `readelf -d` for the DT_NEEDED entries.
Exit status: 0 all checks passed, 1 some failed (each printed with FAIL), 77 gcc is missing.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "c")
TIMEOUT = 60
VDSO = b"linux-vdso.so.1"
NON_UTF8 = b"libn\xffo.so"  # a failing dlopen whose name is not UTF-8


class Checks:
    def __init__(self):
        self.failed = 0
        self.passed = 0

    def check(self, cond, scenario, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL [%s] %s" % (scenario, what))
        return cond

    def note(self, scenario, what):
        print("NOTE [%s] %s" % (scenario, what))


def die(msg):
    print("ERROR: " + msg)
    sys.exit(1)


def run(argv, **kw):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=TIMEOUT, **kw)


def b(x):
    """A trace string as bytes: JSON strings are UTF-8, other bytes come as {"hex": ...}."""
    if x is None:
        return None
    if isinstance(x, dict):
        return bytes.fromhex(x["hex"])
    return x.encode("utf-8", "surrogateescape")


def show(x):
    """A path or name for a message: bytes that are not UTF-8 as \\xNN escapes."""
    if isinstance(x, bytes):
        return x.decode("utf-8", "backslashreplace")
    if isinstance(x, (list, tuple)):
        return "[" + ", ".join(show(i) for i in x) + "]"
    return repr(x)


# ---------------------------------------------------------------- fixtures

class Fixtures:
    """The folder tree under WORKDIR/c. Paths are str; the runner compares bytes."""

    def __init__(self, work):
        self.root = os.path.join(os.path.realpath(work), "c")
        self.app = os.path.join(self.root, "app")

    def p(self, *parts):
        return os.path.join(self.root, *parts)

    def a(self, *parts):
        return os.path.join(self.app, *parts)


def gcc(out, sources, *flags):
    os.makedirs(os.path.dirname(out), exist_ok=True)
    argv = ["gcc", "-std=gnu17", "-O1", "-Wall", "-Wextra", "-o", out]
    argv += [os.path.join(SRC, s) for s in sources] + list(flags)
    r = run(argv)
    if r.returncode != 0:
        die("cannot build %s:\n%s\n%s" % (out, " ".join(argv), r.stderr.decode(errors="replace")))


def runpath(rp):
    return "-Wl,--enable-new-dtags,-rpath," + rp


def build(fx):
    if os.path.exists(fx.root):
        shutil.rmtree(fx.root)
    a = fx.a
    so = ["-shared", "-fPIC"]
    # (1) the NEEDED chain app -> liba (exe RUNPATH) -> libb (liba's RUNPATH) -> libc_
    # (libb's DT_RPATH: an old-style RPATH, searched before LD_LIBRARY_PATH)
    gcc(a("deep/sub/libc_.so"), ["chain.c"], *so, "-DCHAIN_SELF=c_value", "-DCHAIN_LEVEL=3")
    gcc(a("deep/libb.so"), ["chain.c"], *so, "-DCHAIN_SELF=b_value", "-DCHAIN_NEXT=c_value",
        "-DCHAIN_LEVEL=2", "-L" + a("deep/sub"), "-l:libc_.so",
        "-Wl,--disable-new-dtags,-rpath,$ORIGIN/sub")
    gcc(a("lib/liba.so"), ["chain.c"], *so, "-DCHAIN_SELF=a_value", "-DCHAIN_NEXT=b_value",
        "-DCHAIN_LEVEL=1", "-L" + a("deep"), "-l:libb.so", runpath("$ORIGIN/../deep"))
    # (5) a library with its own RUNPATH that calls dlopen
    gcc(a("lib/libopener.so"), ["opener.c"], *so, runpath("$ORIGIN/../opener"))
    for lib in ("opener/libviaopener", "lib/libbyname", "lib/libforked", "env/libbyenv",
                "plugins/libbypath", "plugins/libearly", "plugins/libclose",
                "kid/lib/libkidplug"):
        gcc(a(lib + ".so"), ["plugin.c"], *so)
    # (4) a versioned library and its development symlink
    gcc(a("sym/libfoo.so.1.2.3"), ["plugin.c"], *so, "-Wl,-soname,libfoo.so.1")
    os.symlink("libfoo.so.1.2.3", a("sym/libfoo.so"))
    # (7) a second name for liba, found through LD_LIBRARY_PATH
    os.symlink("../lib/liba.so", a("env/libalias.so"))
    gcc(a("kid/lib/libkid.so"), ["kidlib.c"], *so)
    gcc(a("bin/app"), ["app.c", "report.c"], "-rdynamic", "-Wl,--no-as-needed",
        "-L" + a("lib"), "-l:liba.so", "-l:libopener.so",
        "-Wl,-rpath-link," + a("deep") + ":" + a("deep/sub"), runpath("$ORIGIN/../lib"))
    # (8) the program a forked child execs, with its own libraries
    gcc(a("kid/bin/kid"), ["kid.c", "report.c"], "-rdynamic", "-Wl,--no-as-needed",
        "-L" + a("kid/lib"), "-l:libkid.so", runpath("$ORIGIN/../lib"))
    # (11)
    gcc(fx.p("status/status"), ["status.c"])


def build_static(fx):
    """(10) Returns the program, or None (with the reason) when static linking is impossible."""
    libc_a = run(["gcc", "-print-file-name=libc.a"]).stdout.decode().strip()
    if not os.path.isabs(libc_a) or not os.path.exists(libc_a):
        return None, "libc.a is not installed (Debian: libc6-dev)"
    out = fx.p("static/static_prog")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    r = run(["gcc", "-static", "-o", out, os.path.join(SRC, "static_prog.c")])
    if r.returncode != 0:
        return None, "gcc -static failed: " + r.stderr.decode(errors="replace").strip()
    return out, None


# ---------------------------------------------------------------- witnesses

_readelf_cache = {}


def readelf_dynamic(path):
    """(NEEDED names, SONAME) of an ELF file, from `readelf -d`."""
    if path not in _readelf_cache:
        r = run(["readelf", "-dW", path])
        if r.returncode != 0:
            die("readelf -d %s failed: %s" % (path, r.stderr.decode(errors="replace")))
        needed, soname = [], None
        for line in r.stdout.splitlines():
            m = re.search(rb"\((NEEDED|SONAME)\)\s+[^\[]*\[(.*)\]\s*$", line)
            if m and m.group(1) == b"NEEDED":
                needed.append(m.group(2))
            elif m:
                soname = m.group(2)
        _readelf_cache[path] = (needed, soname)
    return _readelf_cache[path]


class Report:
    """What each process said about itself (see c/report.c), keyed by pid."""

    def __init__(self, path):
        self.maps, self.dlopens, self.closes = {}, {}, {}
        with open(path, "rb") as f:
            for line in f.read().splitlines():
                f_ = line.split(b"\t")
                pid, kind = int(f_[0]), f_[1]
                if kind == b"map":
                    self.maps.setdefault(pid, []).append(
                        (bytes.fromhex(f_[2].decode()), bytes.fromhex(f_[3].decode())))
                elif kind == b"dlopen":
                    self.dlopens.setdefault(pid, []).append({
                        "name": bytes.fromhex(f_[2].decode()), "flags": int(f_[3]),
                        "caller": bytes.fromhex(f_[4].decode()), "ok": f_[5] == b"ok",
                        "was_mapped": f_[6] == b"1",
                        "lname": bytes.fromhex(f_[7].decode()),
                        "realpath": bytes.fromhex(f_[8].decode())})
                elif kind == b"close":
                    self.closes.setdefault(pid, []).append(bytes.fromhex(f_[3].decode()))


def ld_debug_searches(folder, prefix):
    """Every search of the main namespace, per pid, from LD_DEBUG=libs output files:
    [(name, [(path, step)])], in order. The loader's section headers give the step."""
    searches = {}
    current = {}  # pid -> the open search's list of tries
    step = {}
    for fn in sorted(os.listdir(folder)):
        if not fn.startswith(prefix + "."):
            continue
        with open(os.path.join(folder, fn), "rb") as f:
            for line in f.read().splitlines():
                m = re.match(rb"\s*(\d+):\t(.*)$", line)
                if not m:
                    continue
                pid, text = int(m.group(1)), m.group(2)
                found = re.match(rb"find library=(.*) \[(\d+)\]; searching$", text)
                if found:
                    current[pid] = None
                    if found.group(2) == b"0":
                        current[pid] = []
                        searches.setdefault(pid, []).append((found.group(1), current[pid]))
                    continue
                if text.startswith(b" search path="):
                    how = text.rsplit(b"\t", 1)[-1]
                    step[pid] = ("libpath" if how == b"(LD_LIBRARY_PATH)" else
                                 "default" if how == b"(system search path)" else
                                 "runpath" if re.match(rb"\((RPATH|RUNPATH) from file ", how)
                                 else "?" + how.decode(errors="replace"))
                elif text.startswith(b" search cache="):
                    step[pid] = "config"
                elif text.startswith(b"  trying file="):
                    if current.get(pid) is not None:
                        current[pid].append((text[len(b"  trying file="):], step.get(pid)))
                else:
                    current[pid] = None
    return searches


# ---------------------------------------------------------------- trace access

class Proc:
    def __init__(self, trace, index):
        self.index = index
        self.j = trace["processes"][index]
        self.objects = {o["id"]: o for o in self.j["objects"]}
        self.loads = self.j["loads"]

    def obj(self, oid):
        return self.objects.get(oid)

    def real(self, oid):
        o = self.obj(oid)
        return b(o["realpath"]) if o else None

    def live(self):
        """Objects mapped at the end (not dlclose'd), without the vDSO."""
        return [o for o in self.j["objects"] if not o["closed"] and b(o["name"]) != VDSO]

    def by_real(self, real):
        for o in self.j["objects"]:
            if b(o["realpath"]) == real:
                return o
        return None

    def dlopens(self):
        return [l for l in self.loads if l["kind"] == "dlopen"]

    def load(self, name, kind=None, requester=None):
        for l in self.loads:
            if b(l["name"]) == name and (kind is None or l["kind"] == kind) and \
                    (requester is None or l["requester"] == requester):
                return l
        return None


def cands(load):
    return [(b(c["path"]), c["step"]) for c in load["candidates"]]


# ---------------------------------------------------------------- general checks

def check_structure(ck, t):
    """Indexes and ids point at what exists."""
    for i, p in enumerate(t["processes"]):
        ck.check(p["parent"] == -1 or 0 <= p["parent"] < i, "structure",
                 "process %d: parent %r is not an earlier process" % (i, p["parent"]))
        ids = [o["id"] for o in p["objects"]]
        ck.check(len(ids) == len(set(ids)), "structure", "process %d: object ids repeat" % i)
        for l in p["loads"]:
            for field in ("requester", "object"):
                ck.check(l[field] == -1 or l[field] in ids, "structure",
                         "process %d: load %s: %s %r is no object" % (i, show(b(l["name"])),
                                                                     field, l[field]))
            ck.check(l["kind"] in ("needed", "dlopen", "preload") and
                     l["status"] in ("loaded", "already-loaded", "failed") and
                     all(c["step"] in ("orig", "libpath", "runpath", "config", "default",
                                       "secure") for c in l["candidates"]), "structure",
                     "process %d: load %s: kind %r status %r steps %r" % (
                         i, show(b(l["name"])), l["kind"], l["status"],
                         [c["step"] for c in l["candidates"]]))


def check_process(ck, tag, proc, report, searches):
    """Every check that holds for any audited fixture process."""
    pid = proc.j["pid"]
    ck.check(proc.j["audited"] and proc.j["not_audited_why"] is None, tag,
             "process %d: audited=%r why=%r" % (pid, proc.j["audited"], proc.j["not_audited_why"]))
    ck.check(proc.j["reached_exit"], tag, "process %d: reached_exit is false" % pid)

    # The objects still mapped are the link map the process saw at exit (by realpath), and
    # each carries the loader's l_name and the identity of its file.
    seen = [(n, r) for n, r in report.maps.get(pid, []) if n != VDSO]
    if not ck.check(seen, tag, "process %d wrote no link map to the report" % pid):
        return
    want = sorted(r for _, r in seen)
    got = sorted(b(o["realpath"]) or b"<no realpath: %s>" % b(o["name"]) for o in proc.live())
    ck.check(got == want, tag, "process %d: objects not closed in the trace != link map at exit"
             "\n    only in trace: %s\n    only in link map: %s" % (
                 pid, show([x for x in got if x not in want]),
                 show([x for x in want if x not in got])))
    for lname, real in seen:
        o = proc.by_real(real)
        if not o:
            continue
        ck.check(b(o["name"]) == lname, tag, "process %d: object %s has name %s, l_name is %s"
                 % (pid, show(real), show(b(o["name"])), show(lname)))
        file_ = b(o["file"])
        ck.check(file_ == lname if lname else os.path.realpath(file_) == real, tag,
                 "process %d: object %s has file %s (l_name %s)" % (pid, show(real), show(file_),
                                                                    show(lname)))
        st = os.stat(real)
        ck.check((o["dev"], o["ino"]) == (st.st_dev, st.st_ino), tag,
                 "process %d: object %s dev/ino %r, the file has %r" % (
                     pid, show(real), (o["dev"], o["ino"]), (st.st_dev, st.st_ino)))
        ck.check(o["lmid"] == 0, tag, "process %d: object %s lmid %r"
                 % (pid, show(real), o["lmid"]))

    # dlclose: exactly the objects the process closed (and that left its link map) are closed.
    closed_by_report = sorted(set(r for r in report.closes.get(pid, []) if r not in want))
    closed_in_trace = sorted(b(o["realpath"]) for o in proc.j["objects"] if o["closed"])
    ck.check(closed_in_trace == closed_by_report, tag,
             "process %d: closed objects in the trace %s, the process dlclose'd (and unmapped) %s"
             % (pid, show(closed_in_trace), show(closed_by_report)))

    check_dlopens(ck, tag, proc, report.dlopens.get(pid, []))
    check_needed(ck, tag, proc, seen)
    check_candidates(ck, tag, proc, searches.get(pid, []))


def check_dlopens(ck, tag, proc, calls):
    """Each dlopen the process made is a load of kind dlopen, in the same order, with the
    name, caller, flags and outcome the process saw."""
    pid = proc.j["pid"]
    loads = proc.dlopens()
    ck.check(len(loads) == len(calls), tag, "process %d: %d dlopen loads in the trace, the "
             "process made %d dlopen calls (%s)" % (pid, len(loads), len(calls),
                                                    show([c["name"] for c in calls])))
    for call, load in zip(calls, loads):
        what = "process %d: dlopen(%s)" % (pid, show(call["name"]))
        if not ck.check(b(load["name"]) == call["name"], tag, "%s: trace has load %s in its place"
                        % (what, show(b(load["name"])))):
            continue
        ck.check(proc.real(load["requester"]) == call["caller"], tag,
                 "%s: requester %r (%s), the caller is %s" % (
                     what, load["requester"], show(proc.real(load["requester"])),
                     show(call["caller"])))
        ck.check(load["mode"] == call["flags"], tag, "%s: mode %r, flags were %r"
                 % (what, load["mode"], call["flags"]))
        ck.check(load["tid"] == pid, tag, "%s: tid %r in a one-thread process"
                 % (what, load["tid"]))
        status = ("failed" if not call["ok"] else
                  "already-loaded" if call["was_mapped"] else "loaded")
        ck.check(load["status"] == status, tag, "%s: status %r, the process saw %r%s" % (
            what, load["status"], status,
            "" if call["ok"] else " (dlerror: %s)" % call["lname"].decode(errors="replace")))
        if call["ok"]:
            ck.check(proc.real(load["object"]) == call["realpath"], tag,
                     "%s: object %r (%s), dlinfo says %s" % (
                         what, load["object"], show(proc.real(load["object"])),
                         show(call["realpath"])))
        else:
            ck.check(load["object"] == -1, tag, "%s failed but object is %r"
                     % (what, load["object"]))


def check_needed(ck, tag, proc, seen):
    """Every DT_NEEDED of every object this process mapped itself is a needed load from that
    object, unless an object already mapped under that name satisfied it (the loader then
    asks nobody). Every needed load is a DT_NEEDED entry of its requester."""
    pid = proc.j["pid"]
    mapped = set(r for _, r in seen)
    sonames = set(readelf_dynamic(r)[1] for r in mapped)
    for o in proc.j["objects"]:
        if o["inherited"] or b(o["name"]) == VDSO or not o["realpath"]:
            continue
        needed = readelf_dynamic(b(o["realpath"]))[0]
        for n in needed:
            what = "process %d: DT_NEEDED %s of %s" % (pid, show(n), show(b(o["realpath"])))
            l = proc.load(n, "needed", o["id"])
            if l:
                ck.check(l["status"] != "failed" and proc.real(l["object"]) in mapped, tag,
                         "%s: load status %r object %r not in the link map" % (
                             what, l["status"], l["object"]))
                continue
            earlier = [x for x in proc.loads if b(x["name"]) == n and x["status"] != "failed"
                       and proc.real(x["object"]) in mapped]
            ck.check(earlier or n in sonames, tag, "%s: no needed load, and no object mapped "
                     "under that name" % what)
    for l in proc.loads:
        if l["kind"] != "needed":
            continue
        req = proc.real(l["requester"])
        ck.check(req and b(l["name"]) in readelf_dynamic(req)[0], tag,
                 "process %d: needed load %s from %r (%s) is not a DT_NEEDED entry of it"
                 % (pid, show(b(l["name"])), l["requester"], show(req)))


def check_candidates(ck, tag, proc, searches):
    """The candidates of every load are the files the loader said it tried (LD_DEBUG=libs of
    the same run), in order, with the step of the search they belong to."""
    pid = proc.j["pid"]
    want = [(n, t) for n, t in searches if t]
    got = [(b(l["name"]), [(p, s) for p, s in cands(l) if s != "orig"])
           for l in proc.loads]
    got = [(n, c) for n, c in got if c]
    for i in range(max(len(want), len(got))):
        w = want[i] if i < len(want) else None
        g = got[i] if i < len(got) else None
        if not ck.check(w == g, tag, "process %d: search #%d differs from LD_DEBUG=libs: %s"
                        % (pid, i + 1, fmt_difference(w, g))):
            break
    for l in proc.loads:
        name = b(l["name"])
        if l["status"] == "loaded" and l["candidates"] and b"/" not in name:
            last = b(l["candidates"][-1]["path"])
            found = b((proc.obj(l["object"]) or {}).get("file"))
            ck.check(last == found, tag, "process %d: load %s found %s but its last candidate "
                     "is %s" % (pid, show(name), show(found), show(last)))
        if l["status"] == "failed" and b"/" not in name:
            ck.check(any(n == name for n, _ in searches), tag,
                     "process %d: failed load %s: ld.so reports no search for it"
                     % (pid, show(name)))
        ck.check(all(p == name for p, s_ in cands(l) if s_ == "orig"), tag,
                 "process %d: load %s has an orig candidate that is not its name: %s"
                 % (pid, show(name), show([p for p, s_ in cands(l) if s_ == "orig"])))


def fmt_cand(c):
    return "%s [%s]" % (show(c[0]), c[1]) if c else "(none)"


def fmt_difference(want, got):
    if want is None or got is None:
        return "ld.so: %s; trace: %s" % (
            "(no more searches)" if want is None else "search for " + show(want[0]),
            "(no more loads with candidates)" if got is None else "load of " + show(got[0]))
    if want[0] != got[0]:
        return "ld.so searched for %s, the trace's load is %s" % (show(want[0]), show(got[0]))
    w, g = want[1], got[1]
    k = next((i for i in range(max(len(w), len(g)))
              if i >= len(w) or i >= len(g) or w[i] != g[i]), 0)
    return ("%s: ld.so tried %d files, the trace has %d candidates; first difference at #%d:"
            "\n    ld.so: %s\n    trace: %s" % (show(want[0]), len(w), len(g), k + 1,
                                                 fmt_cand(w[k] if k < len(w) else None),
                                                 fmt_cand(g[k] if k < len(g) else None)))


# ---------------------------------------------------------------- the main scenario run

def main_run(ck, bundlefs, fx):
    a = fx.a
    actions = [
        ("open", "libbyname.so"),            # (2) by bare name, through the exe's RUNPATH
        ("open", "libbyenv.so"),             # (2) by bare name, through LD_LIBRARY_PATH
        ("open", a("plugins/libbypath.so")),  # (3) by path
        ("open", a("plugins/libearly.so")),  # (9) loaded and dlclose'd, then more loads
        ("close", a("plugins/libearly.so")),
        ("open", "libfoo.so"),               # (4) a symlink to libfoo.so.1.2.3
        ("via", "libviaopener.so"),          # (5) libopener calls dlopen; its RUNPATH finds it
        ("open", "libnothere.so"),           # (6) fails, searched everywhere
        ("via", "libnothere2.so"),           # (6) fails, libopener's RUNPATH included
        ("open", a("plugins/libmissing.so")),  # (6) fails, by path
        ("open", NON_UTF8),                  # (6) fails; a name that is not UTF-8
        ("open", "liba.so"),                 # (7) already loaded, same name
        ("open", "libalias.so"),             # (7) already loaded: a symlink to liba.so
        ("open", a("lib/liba.so")),          # (7) already loaded: liba.so by another path
        ("open", a("plugins/libclose.so")),  # (9) loaded, then dlclose'd as the last
        ("close", a("plugins/libclose.so")),  # loader activity before exit
        ("forkexec", a("kid/bin/kid")),      # (8) a child execs another program
        ("forkopen", "libforked.so"),        # (8) a forked child dlopens without exec
    ]
    argv = [a("bin/app").encode()]
    for act, arg in actions:
        argv += [act.encode(), arg if isinstance(arg, bytes) else arg.encode()]
    out = fx.p("main.trace.json")
    report = fx.p("main.report")
    env = clean_env()
    env.update(TRACE_REPORT=report, LD_LIBRARY_PATH=a("env") + ":" + a("sym"),
               LD_DEBUG="libs", LD_DEBUG_OUTPUT=fx.p("lddebug"))
    r = run([bundlefs, "trace", "-o", out, "--"] + argv, env=env, cwd=fx.root)
    tag = "run"
    ok = ck.check(r.returncode == 0, tag, "bundlefs trace exited %d (want 0)\nstdout: %s\n"
                  "stderr: %s" % (r.returncode, r.stdout.decode(errors="replace"),
                                  r.stderr.decode(errors="replace")))
    ck.check(r.stdout == b"" and r.stderr == b"", tag, "the run printed something: stdout %r "
             "stderr %r" % (r.stdout[:500], r.stderr[:500]))
    if not ok or not os.path.exists(out):
        return
    with open(out) as f:
        t = json.load(f)
    with open(out, "rb") as f:
        raw = f.read()
    ck.check(t.get("format") == "bundlefs-trace" and t.get("version") == 1, tag,
             "format/version %r/%r" % (t.get("format"), t.get("version")))
    ck.check([b(x) for x in t["command"]] == argv, tag, "command %r != argv" % t["command"])
    ck.check(t["cwd"] == fx.root, tag, "cwd %r, want %r" % (t["cwd"], fx.root))
    ck.check(t["exit_code"] == 0 and t["exit_signal"] == 0, tag, "exit_code/exit_signal %r/%r"
             % (t["exit_code"], t["exit_signal"]))
    ck.check(t["warnings"] == [], tag, "warnings: %r" % t["warnings"])
    ck.check({"hex": NON_UTF8.hex()} in t["command"] and NON_UTF8.hex().encode() in raw, tag,
             "the non-UTF-8 argument is not written as {\"hex\": \"%s\"}" % NON_UTF8.hex())

    check_structure(ck, t)
    rep = Report(report)
    searches = ld_debug_searches(fx.root, "lddebug")
    procs = [Proc(t, i) for i in range(len(t["processes"]))]
    roots = [p for p in procs if p.j["parent"] == -1]
    ck.check(len(roots) == 1, tag, "%d root processes (want 1)" % len(roots))
    if not roots:
        return
    main = roots[0]
    mpid = main.j["pid"]
    ck.check(main.j["origin"] == "exec" and b(main.j["exe"]) == argv[0] and
             [b(x) for x in main.j["argv"]] == argv, tag,
             "root process: origin %r exe %r argv differs" % (main.j["origin"], main.j["exe"]))
    check_process(ck, "main", main, rep, searches)
    scenarios_main(ck, fx, main)

    # (8) the two children
    kids = [p for p in procs if b(p.j["exe"]) == a("kid/bin/kid").encode()]
    forks = [p for p in procs if p.j["origin"] == "fork"]
    tag = "8-fork-exec"
    if ck.check(len(kids) == 1, tag, "%d processes run kid (want 1)" % len(kids)):
        kid = kids[0]
        parent = procs[kid.j["parent"]] if kid.j["parent"] >= 0 else None
        # The child that exec'd may appear as a fork image of its own (same pid) or not.
        if parent is not None and parent.j["origin"] == "fork" and \
                parent.j["pid"] == kid.j["pid"]:
            forks.remove(parent)
            parent = procs[parent.j["parent"]] if parent.j["parent"] >= 0 else None
        ck.check(kid.j["origin"] == "exec" and parent is main and kid.j["ppid"] == mpid, tag,
                 "kid: origin %r parent %r ppid %r (want exec, the root's index %d, pid %d)"
                 % (kid.j["origin"], kid.j["parent"], kid.j["ppid"], main.index, mpid))
        ck.check(kid.j["argv"] == [a("kid/bin/kid")], tag, "kid: argv %r" % kid.j["argv"])
        ck.check(not any(o["inherited"] for o in kid.j["objects"]), tag,
                 "kid: an exec'd image inherits nothing, yet objects are marked inherited")
        kid_exe = [o["id"] for o in kid.j["objects"] if o["name"] == ""]
        l = kid.load(b"libkid.so", "needed", kid_exe[0] if kid_exe else None)
        ck.check(l and l["status"] == "loaded" and cands(l)[-1] ==
                 (a("kid/bin/../lib/libkid.so").encode(), "runpath"), tag,
                 "kid: needed libkid.so from kid, by its RUNPATH: %r" % l)
        check_process(ck, tag, kid, rep, searches)
    tag = "8-fork"
    if ck.check(len(forks) == 1, tag, "%d fork processes besides the exec'd child (want 1)"
                % len(forks)):
        fk = forks[0]
        ck.check(fk.j["parent"] == main.index and fk.j["ppid"] == mpid and
                 b(fk.j["exe"]) == argv[0], tag, "fork child: parent %r ppid %r exe %r"
                 % (fk.j["parent"], fk.j["ppid"], fk.j["exe"]))
        forked = a("lib/libforked.so").encode()
        for o in fk.j["objects"]:
            r_ = b(o["realpath"])
            want_inh = r_ != forked
            ck.check(o["inherited"] == want_inh, tag, "fork child: object %s inherited=%r"
                     % (show(r_ or b(o["name"])), o["inherited"]))
        ck.check([b(l["name"]) for l in fk.loads] == [b"libforked.so"], tag,
                 "fork child: loads %r, want only its dlopen of libforked.so"
                 % [l["name"] for l in fk.loads])
        ck.check(not any(l["kind"] == "dlopen" and b(l["name"]) == b"libforked.so"
                         for l in main.loads), tag, "the fork child's dlopen is in the parent")
        check_process(ck, tag, fk, rep, searches)
    ck.check(set(rep.maps) == set(p.j["pid"] for p in procs if p.j["origin"] == "exec" or
                                  p in forks), "8-fork",
             "processes that reported %r, processes in the trace %r"
             % (sorted(rep.maps), [(p.j["pid"], p.j["origin"]) for p in procs]))


def scenarios_main(ck, fx, main):
    """What each scenario of the main run must show, beyond the general checks."""
    a = lambda *p: fx.a(*p).encode()
    obj_of = lambda real: main.by_real(real)
    exe = obj_of(a("bin/app"))
    ida = lambda real: (obj_of(real) or {}).get("id", "<%s not mapped>" % show(real))

    tag = "1-needed-chain"
    for req, name, real, step in ((a("bin/app"), b"liba.so", a("lib/liba.so"), "runpath"),
                                  (a("lib/liba.so"), b"libb.so", a("deep/libb.so"), "runpath"),
                                  (a("deep/libb.so"), b"libc_.so", a("deep/sub/libc_.so"),
                                   "runpath")):
        l = main.load(name, "needed", ida(req))
        if ck.check(l, tag, "no needed load of %s from %s" % (show(name), show(req))):
            ck.check(l["status"] == "loaded" and main.real(l["object"]) == real and
                     l["mode"] == -1 and cands(l) and cands(l)[-1][1] == step, tag,
                     "%s from %s: status %r object %s mode %r last candidate %s" % (
                         show(name), show(req), l["status"], show(main.real(l["object"])),
                         l["mode"], fmt_cand(cands(l)[-1] if cands(l) else None)))
    l = main.load(b"libc_.so", "needed")
    ck.check(l and not any(s == "libpath" for _, s in cands(l)), tag,
             "libc_.so (libb's DT_RPATH comes before LD_LIBRARY_PATH) has libpath candidates")

    def dl(name, requester, status, real, step=None, tag_=None):
        l = main.load(name, "dlopen")
        if not ck.check(l, tag_, "no dlopen load of %s" % show(name)):
            return None
        ck.check(l["requester"] == ida(requester), tag_, "%s: requester %r, want %r (%s)" % (
            show(name), l["requester"], ida(requester), show(requester)))
        ck.check(l["status"] == status, tag_, "%s: status %r, want %r" % (show(name), l["status"],
                                                                        status))
        if real is not None:
            ck.check(main.real(l["object"]) == real, tag_, "%s: object %s, want %s" % (
                show(name), show(main.real(l["object"])), show(real)))
        if step is not None:
            ck.check(cands(l) and cands(l)[-1][1] == step, tag_, "%s: found by %s, want step %r"
                     % (show(name), fmt_cand(cands(l)[-1] if cands(l) else None), step))
        return l

    dl(b"libbyname.so", a("bin/app"), "loaded", a("lib/libbyname.so"), "runpath", "2-dlopen-name")
    dl(b"libbyenv.so", a("bin/app"), "loaded", a("env/libbyenv.so"), "libpath", "2-dlopen-name")
    dl(a("plugins/libbypath.so"), a("bin/app"), "loaded", a("plugins/libbypath.so"),
       None, "3-dlopen-path")

    tag = "4-symlink"
    l = dl(b"libfoo.so", a("bin/app"), "loaded", a("sym/libfoo.so.1.2.3"), "libpath", tag)
    if l and main.obj(l["object"]):
        o = main.obj(l["object"])
        st = os.stat(a("sym/libfoo.so.1.2.3"))
        ck.check(b(o["realpath"]) == a("sym/libfoo.so.1.2.3") and
                 (o["dev"], o["ino"]) == (st.st_dev, st.st_ino), tag,
                 "libfoo.so: object realpath %r dev/ino %r, want the target %s"
                 % (o["realpath"], (o["dev"], o["ino"]), show(a("sym/libfoo.so.1.2.3"))))
        ck.check(not main.load(b"libfoo.so.1.2.3") and not main.load(b"libfoo.so.1"), tag,
                 "the trace asks for the target's name instead of libfoo.so")

    tag = "5-dlopen-from-library"
    l = dl(b"libviaopener.so", a("lib/libopener.so"), "loaded", a("opener/libviaopener.so"),
           "runpath", tag)
    if l:
        ck.check(cands(l) and cands(l)[-1][0] == a("bin/../lib/../opener/libviaopener.so"), tag,
                 "libviaopener.so found by %s, want by libopener's RUNPATH $ORIGIN/../opener"
                 % fmt_cand(cands(l)[-1] if cands(l) else None))

    tag = "6-dlopen-fails"
    for name, req in ((b"libnothere.so", a("bin/app")), (b"libnothere2.so", a("lib/libopener.so")),
                      (a("plugins/libmissing.so"), a("bin/app")), (NON_UTF8, a("bin/app"))):
        l = dl(name, req, "failed", None, None, tag)
        if l:
            ck.check(l["object"] == -1, tag, "%s: object %r" % (show(name), l["object"]))
    for name, wanted in ((b"libnothere.so", [(a("env/libnothere.so"), "libpath"),
                                             (a("bin/../lib/libnothere.so"), "runpath")]),
                         (b"libnothere2.so", [(a("env/libnothere2.so"), "libpath"),
                                              (a("bin/../lib/../opener/libnothere2.so"),
                                               "runpath")])):
        l = main.load(name, "dlopen")
        for c in wanted:
            ck.check(l and c in cands(l), tag, "%s: candidate %s [%s] missing" % (
                show(name), show(c[0]), c[1]))
        ck.check(l and any(s_ == "default" for _, s_ in cands(l)), tag,
                 "%s: no candidate in the system folders (step default)" % show(name))
    l = main.load(NON_UTF8, "dlopen")
    ck.check(l and isinstance(l["name"], dict) and l["name"] == {"hex": NON_UTF8.hex()}, tag,
             "a name that is not UTF-8 must be {\"hex\": ...}: %r" % (l and l["name"]))

    tag = "7-already-loaded"
    liba = a("lib/liba.so")
    for name in (b"liba.so", b"libalias.so", liba):
        dl(name, a("bin/app"), "already-loaded", liba, None, tag)
    ck.check(sum(1 for o in main.j["objects"] if b(o["realpath"]) == liba) == 1, tag,
             "liba.so is listed more than once among the objects")

    tag = "9-dlclose"
    closed = (a("plugins/libearly.so"), a("plugins/libclose.so"))
    for real in closed:
        l = dl(real, a("bin/app"), "loaded", real, None, tag)
        if l and main.obj(l["object"]):
            ck.check(main.obj(l["object"])["closed"] is True, tag, "%s was dlclose'd but has "
                     "closed=%r" % (show(real), main.obj(l["object"])["closed"]))
    ck.check(exe and all(not o["closed"] for o in main.j["objects"]
                         if b(o["realpath"]) not in closed), tag,
             "objects mapped until exit have closed=true: %r" % [
                 o["name"] for o in main.j["objects"] if o["closed"]])


# ---------------------------------------------------------------- (10) and (11)

def clean_env():
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("LD_") or k in ("TRACE_REPORT", "BUNDLEFS_TRACE_DIR"):
            del env[k]
    return env


def static_run(ck, bundlefs, fx):
    tag = "10-static"
    prog, why = build_static(fx)
    if prog is None:
        ck.note(tag, "not tested (neither passed nor failed): " + why)
        return
    plain = run([prog], env=clean_env())
    out = fx.p("static.trace.json")
    r = run([bundlefs, "trace", "-o", out, "--", prog], env=clean_env(), cwd=fx.root)
    ck.check(r.returncode == plain.returncode == 5, tag, "exit status %d, the program's is %d "
             "(want 5)" % (r.returncode, plain.returncode))
    ck.check(r.stdout == plain.stdout, tag, "stdout %r, the program's is %r" % (r.stdout,
                                                                            plain.stdout))
    msg = r.stderr.decode(errors="replace")
    ck.check(msg.startswith("bundlefs trace:") and prog in msg, tag,
             "no message naming the program on stderr: %r" % msg)
    if not ck.check(os.path.exists(out), tag, "no trace written"):
        return
    with open(out) as f:
        t = json.load(f)
    ck.check(t["exit_code"] == 5 and t["exit_signal"] == 0, tag, "exit_code %r" % t["exit_code"])
    ps = t["processes"]
    if ck.check(len(ps) == 1, tag, "%d processes (want 1)" % len(ps)):
        p = ps[0]
        ck.check(p["audited"] is False and isinstance(p["not_audited_why"], str) and
                 p["not_audited_why"].strip(), tag, "audited %r, not_audited_why %r"
                 % (p["audited"], p["not_audited_why"]))
        ck.check(p["parent"] == -1 and p["loads"] == [] and
                 os.path.realpath(b(p["exe"])) == prog.encode(), tag,
                 "process: parent %r exe %r loads %r" % (p["parent"], p["exe"], p["loads"]))


def status_run(ck, bundlefs, fx):
    prog = fx.p("status/status")
    for tag, args, want in (("11-exit-status", ["exit", "3"], 3),
                            ("11-signal", ["signal"], -signal.SIGTERM)):
        plain = run([prog] + args, env=clean_env())
        out = fx.p(tag + ".trace.json")
        r = run([bundlefs, "trace", "-o", out, "--", prog] + args, env=clean_env(), cwd=fx.root)
        ck.check(plain.returncode == want, tag, "the program itself ended with %d, want %d"
                 % (plain.returncode, want))
        ck.check(r.returncode == want, tag, "bundlefs trace ended with %d, want %d (%s)"
                 % (r.returncode, want, "death by SIGTERM" if want < 0 else "exit 3"))
        ck.check(r.stdout == plain.stdout, tag, "stdout differs: %r vs the program's %r"
                 % (r.stdout, plain.stdout))
        ck.check(r.stderr == plain.stderr, tag, "stderr differs: %r vs the program's %r"
                 % (r.stderr, plain.stderr))
        if not ck.check(os.path.exists(out), tag, "no trace written"):
            continue
        with open(out) as f:
            t = json.load(f)
        code, sig = (want, 0) if want >= 0 else (-1, -want)
        ck.check((t["exit_code"], t["exit_signal"]) == (code, sig), tag,
                 "exit_code/exit_signal %r/%r, want %r/%r" % (t["exit_code"], t["exit_signal"],
                                                              code, sig))
        ps = t["processes"]
        if ck.check(len(ps) == 1 and ps[0]["audited"], tag, "processes: %r" % ps):
            ck.check(ps[0]["reached_exit"] == (want >= 0), tag, "reached_exit %r"
                     % ps[0]["reached_exit"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundlefs", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    if not shutil.which("gcc"):
        print("SKIP: gcc is not installed")
        return 77
    for tool in ("readelf",):
        if not shutil.which(tool):
            die("%s is missing (binutils)" % tool)
    bundlefs = os.path.realpath(args.bundlefs)
    fx = Fixtures(args.work)
    build(fx)
    ck = Checks()
    for part in (main_run, static_run, status_run):
        try:
            part(ck, bundlefs, fx)
        except (KeyError, TypeError, IndexError, ValueError, AttributeError) as e:
            # A trace of the wrong shape: say where, and go on with the other parts.
            ck.check(False, part.__name__, "the trace does not have the documented shape "
                     "(%s: %s)\n%s" % (type(e).__name__, e, traceback.format_exc()))
    print("%d checks passed, %d failed" % (ck.passed, ck.failed))
    return 1 if ck.failed else 0


if __name__ == "__main__":
    sys.exit(main())

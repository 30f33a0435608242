#!/usr/bin/env python3
"""Tests of `bundlefs why` and `bundlefs diff` over hand-made layouts.

    python3 -S tests/cli/test_why_diff.py --bundlefs PATH/TO/bundlefs --work WORKDIR why|diff

Writes bundle.json files (format "bundlefs-layout", version 1) describing a small Python app
whose object graph is known by construction, runs the command on them and checks the text and
--json answers against that graph: chains and their steps, roots, excluded and missing names,
unknown names, added/removed/changed objects, changed resolutions and exact size numbers.
Exit status: 0 all checks passed, 1 some failed (each printed with FAIL).
"""
import argparse
import copy
import hashlib
import json
import os
import shutil
import subprocess
import sys

TIMEOUT = 60
MTIME = 1700000000000000000


class Checks:
    def __init__(self):
        self.failed = 0
        self.passed = 0

    def check(self, cond, scenario, what, detail=None):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL [%s] %s" % (scenario, what))
            if detail is not None:
                print("  " + str(detail).replace("\n", "\n  "))
        return cond


# ---- layouts ----

def hash_of(tag):
    return hashlib.md5(tag.encode()).hexdigest()  # 32 lowercase hex digits, like XXH3-128


def real_name(source, h):
    base = os.path.basename(source)
    i = base.find(".so")
    stem, ext = (base[:i], base[i:]) if i > 0 else (base, "")
    return "reals/r/%s-%s%s" % (stem, h[:16], ext)


class Obj:
    """An object of the graph; deps are (name, kind, status, target Obj or None, found, step,
    origin)."""

    def __init__(self, source, size, root=None, content=None, aliases=()):
        self.source = source
        self.size = size
        self.root = root
        self.hash = hash_of(content or source)
        self.real = real_name(source, self.hash)
        self.deps = []
        self.aliases = list(aliases)

    def dep(self, name, kind, status, target, found, step, origin="static"):
        self.deps.append((name, kind, status, target, found, step, origin))
        return self


def jstr(s):
    """A layout string: bytes that are not UTF-8 as {"hex": ...}, as the format says."""
    return {"hex": s.hex()} if isinstance(s, bytes) else s


def parents_of(path):
    parts = path.split("/")[:-1]
    return ["/".join(parts[:i + 1]) for i in range(len(parts))]


def make_layout(objs, excluded=(), missing=(), extra_files=()):
    """A valid layout: every folder before its children, one file entry per real, the aliases
    as symlinks, a launcher, and extra_files (path, source, size) that are not objects."""
    files = []  # (path, source, size, hash)
    for o in objs:
        files.append((o.real, o.source, o.size, o.hash))
    for path, source, size in extra_files:
        files.append((path, source, size, hash_of(source)))
    links = [(a, o.real) for o in objs for a in o.aliases]
    paths = [f[0] for f in files] + [l[0] for l in links] + ["bin/app"]
    dirs = sorted({d for p in paths for d in parents_of(p)})
    entries = [{"path": d, "type": "dir", "mode": 0o755, "mtime_ns": MTIME} for d in dirs]
    entries.append({"path": "bin/app", "type": "generated", "mode": 0o755, "mtime_ns": MTIME,
                    "content": "#!/bin/sh\nexec \"${0%/*}/b/python3.11\" \"$@\"\n"})
    for path, source, size, h in files:
        entries.append({"path": path, "type": "file", "mode": 0o644, "mtime_ns": MTIME,
                        "source": source, "size": size, "hash": h, "edit": None})
    for path, real in links:
        up = "../" * path.count("/")
        entries.append({"path": path, "type": "symlink", "target": up + real})
    index = {id(o): i for i, o in enumerate(objs)}
    jobjs = []
    for o in objs:
        deps = [{"name": jstr(n), "kind": k, "status": s,
                 "target": index[id(t)] if t is not None else None,
                 "found": f, "step": st, "origin": og}
                for n, k, s, t, f, st, og in o.deps]
        jobjs.append({"real": o.real, "source": o.source, "hash": o.hash, "size": o.size,
                      "root": o.root, "deps": deps, "aliases": o.aliases})
    return {"format": "bundlefs-layout", "version": 1, "name": "app",
            "platform": "linux-x86_64", "launcher": "bin/app",
            "requires": {"glibc": "GLIBC_2.34", "glibcxx": None, "cxxabi": None},
            "entries": entries, "objects": jobjs,
            "excluded": [{"name": n, "path": p, "rule": r} for n, p, r in excluded],
            "missing": [{"requester": q, "name": jstr(n), "tried": t} for q, n, t in missing],
            "warnings": []}


LIB = "/usr/lib/x86_64-linux-gnu"
LIBC = "/lib/x86_64-linux-gnu/libc.so.6"
NUMPY = "/usr/lib/python3/dist-packages/numpy/core"
UMATH = "_multiarray_umath.cpython-311-x86_64-linux-gnu.so"
SSL = "_ssl.cpython-311-x86_64-linux-gnu.so"
MISSING_TRIED = [LIB + "/blas/libmissing.so.1", LIB + "/libmissing.so.1"]
NON_UTF8 = b"libn\xffo.so"  # a name that is bytes, not text


def graph_a():
    """python3.11 (program) -dlopen-> umath -needed-> libblas -needed-> libgfortran; python
    -needed-> libz -needed-> libshort, which libblas asks for too (a longer chain); libzstd a
    root of the trace; two libplugin.so (different files) dlopen'd by libz and umath; libc
    excluded; libmissing.so.1 missing."""
    o = {}
    o["python"] = Obj("/usr/bin/python3.11", 6000000, root="program")
    o["umath"] = Obj(NUMPY + "/" + UMATH, 900000,
                     aliases=["site/0-dist-packages/numpy/core/" + UMATH])
    o["blas"] = Obj(LIB + "/blas/libblas.so.3.11.0", 500000)
    o["gfortran"] = Obj(LIB + "/libgfortran.so.5.0.0", 3000000)
    o["z"] = Obj(LIB + "/libz.so.1.2.13", 120000)
    o["short"] = Obj(LIB + "/libshort.so.1.0", 1000)
    o["zstd"] = Obj(LIB + "/libzstd.so.1.5.4", 800000, root="trace")
    o["plugin_a"] = Obj("/opt/a/libplugin.so", 2000)
    o["plugin_b"] = Obj("/opt/b/libplugin.so", 3000)
    o["python"].dep("libc.so.6", "needed", "excluded", None, LIBC, "cache", "trace") \
        .dep(UMATH, "dlopen", "bundled", o["umath"], NUMPY + "/" + UMATH, "path", "trace") \
        .dep("libz.so.1", "needed", "bundled", o["z"], "/lib/x86_64-linux-gnu/libz.so.1",
             "cache", "trace")
    o["umath"].dep("libblas.so.3", "needed", "bundled", o["blas"], LIB + "/libblas.so.3",
                   "cache", "trace") \
        .dep("libplugin.so", "dlopen", "bundled", o["plugin_b"], "/opt/b/libplugin.so",
             "runpath", "static")
    o["blas"].dep("libgfortran.so.5", "needed", "bundled", o["gfortran"],
                  LIB + "/libgfortran.so.5", "rpath", "static") \
        .dep("libshort.so.1", "needed", "bundled", o["short"], LIB + "/libshort.so.1",
             "cache", "static") \
        .dep("libc.so.6", "needed", "excluded", None, LIBC, "cache", "static") \
        .dep("libmissing.so.1", "needed", "missing", None, None, None, "static")
    o["gfortran"].dep("libc.so.6", "needed", "excluded", None, LIBC, "cache", "static")
    o["zstd"].dep(NON_UTF8, "dlopen", "missing", None, None, None, "trace")
    o["z"].dep("libc.so.6", "needed", "excluded", None, LIBC, "cache", "trace") \
        .dep("libshort.so.1", "needed", "bundled", o["short"], LIB + "/libshort.so.1",
             "cache", "static") \
        .dep("libplugin.so", "dlopen", "bundled", o["plugin_a"], "/opt/a/libplugin.so",
             "libpath", "trace")
    return o


def layout_a():
    o = graph_a()
    objs = [o[k] for k in ("python", "umath", "blas", "gfortran", "z", "short", "zstd",
                           "plugin_a", "plugin_b")]
    return make_layout(objs, excluded=[("libc.so.6", LIBC, "glibc core")],
                       missing=[(o["blas"].source, "libmissing.so.1", MISSING_TRIED),
                                (o["zstd"].source, NON_UTF8, [])],
                       extra_files=[("site/0-dist-packages/numpy/__init__.py",
                                     "/usr/lib/python3/dist-packages/numpy/__init__.py", 7000)])


def layout_b():
    """A's next build: libgfortran excluded by a rule (so no longer an object), libz updated
    (new file, new bytes), _ssl added as a root of the Python universe, one more .py."""
    o = graph_a()
    z = Obj(LIB + "/libz.so.1.3", 125000, content="zlib 1.3")
    z.deps = o["z"].deps
    o["python"].deps = [(n, k, s, z if t is o["z"] else t, f, st, og)
                        for n, k, s, t, f, st, og in o["python"].deps]
    o["z"] = z
    o["blas"].deps = [(n, k, "excluded", None, f, st, og) if n == "libgfortran.so.5"
                      else (n, k, s, t, f, st, og) for n, k, s, t, f, st, og in o["blas"].deps]
    o["ssl"] = Obj("/usr/lib/python3.11/lib-dynload/" + SSL, 250000, root="python")
    objs = [o[k] for k in ("python", "umath", "blas", "z", "short", "zstd", "plugin_a",
                           "plugin_b", "ssl")]
    return make_layout(objs, excluded=[("libc.so.6", LIBC, "glibc core"),
                                       ("libgfortran.so.5", LIB + "/libgfortran.so.5",
                                        "--exclude libgfortran*")],
                       missing=[(o["blas"].source, "libmissing.so.1", MISSING_TRIED),
                                (o["zstd"].source, NON_UTF8, [])],
                       extra_files=[("site/0-dist-packages/numpy/__init__.py",
                                     "/usr/lib/python3/dist-packages/numpy/__init__.py", 7000),
                                    ("site/0-dist-packages/numpy/version.py",
                                     "/usr/lib/python3/dist-packages/numpy/version.py", 300)])


# ---- running ----

class Runner:
    def __init__(self, bundlefs, work):
        self.bundlefs = bundlefs
        self.work = work

    def write(self, name, doc):
        path = os.path.join(self.work, name)
        with open(path, "w") as f:
            json.dump(doc, f, indent=1)
        return path

    def run(self, *args):
        p = subprocess.run([self.bundlefs] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=TIMEOUT)
        return (p.returncode, p.stdout.decode(errors="surrogateescape"),
                p.stderr.decode(errors="surrogateescape"))

    def json(self, c, scenario, *args):
        rc, out, err = self.run(*args)
        try:
            return rc, json.loads(out)
        except ValueError:
            c.check(False, scenario, "--json output parses", out + err)
            return rc, None


def chain_lines(out):
    """The hop lines of a text answer: each "└─ " line, without its indent."""
    return [l.strip() for l in out.splitlines() if "└─ " in l]


# ---- why ----

def test_why(c, r):
    o = graph_a()
    a = r.write("a.json", layout_a())

    # a chain through three requests, each with its step and origin, from the root
    rc, out, err = r.run("why", a, "libgfortran.so.5")
    sc = "why chain"
    c.check(rc == 0, sc, "exit 0", err)
    lines = out.splitlines()
    c.check(lines and lines[0] == "libgfortran.so.5 (requested name): bundled as %s, from %s"
            % (o["gfortran"].real, o["gfortran"].source), sc, "header line", out)
    c.check(len(lines) > 1 and lines[1] ==
            "/usr/bin/python3.11  [root: program, the executable of a traced process]  = "
            + o["python"].real, sc, "root line", out)
    want = [
        "└─ %s  dlopen  step=path  origin=trace  -> %s/%s  = %s"
        % (UMATH, NUMPY, UMATH, o["umath"].real),
        "└─ libblas.so.3  needed  step=cache  origin=trace  -> %s/libblas.so.3  = %s"
        % (LIB, o["blas"].real),
        "└─ libgfortran.so.5  needed  step=rpath  origin=static  -> %s/libgfortran.so.5  = %s"
        % (LIB, o["gfortran"].real),
    ]
    c.check(chain_lines(out) == want, sc, "three hops, in order, with steps", out)
    c.check(lines[2:] == ["└─ " + want[0][3:], "   " + want[1], "      " + want[2]], sc,
            "one hop per line, indented by depth", out)

    rc, doc = r.json(c, sc, "why", "--json", a, "libgfortran.so.5")
    if doc is not None:
        chains = doc["chains"]
        c.check(rc == 0 and doc["name"] == "libgfortran.so.5" and
                doc["matched_as"] == "requested name", sc, "json: name, matched_as", doc)
        c.check(len(chains) == 1 and len(chains[0]) == 4, sc, "json: one chain of 4", chains)
        if len(chains) == 1 and len(chains[0]) == 4:
            ch = chains[0]
            c.check([(h["name"], h["kind"], h["step"], h["origin"]) for h in ch[1:]] ==
                    [(UMATH, "dlopen", "path", "trace"),
                     ("libblas.so.3", "needed", "cache", "trace"),
                     ("libgfortran.so.5", "needed", "rpath", "static")], sc,
                    "json: names, kinds, steps, origins", ch)
            c.check([h["real"] for h in ch] == [o[k].real for k in
                                                ("python", "umath", "blas", "gfortran")],
                    sc, "json: reals", ch)
            c.check(ch[3]["found"] == LIB + "/libgfortran.so.5" and
                    ch[3]["source"] == o["gfortran"].source and ch[3]["status"] == "bundled",
                    sc, "json: found, source, status", ch[3])
            c.check(ch[0]["kind"] == "root" and ch[0]["root"] == "program" and
                    ch[0]["source"] == "/usr/bin/python3.11", sc, "json: root hop", ch[0])
        c.check(doc["excluded"] == [] and doc["missing"] == [], sc,
                "json: not excluded, not missing", doc)

    # the shortest chain: libshort via libz (2 requests), not via umath and libblas (3)
    sc = "why shortest"
    rc, out, err = r.run("why", a, "libshort.so.1")
    c.check(rc == 0 and [l.split()[1] for l in chain_lines(out)] ==
            ["libz.so.1", "libshort.so.1"], sc, "chain through libz", out + err)

    # a root: the object itself, and why it is a root; found by source path and basename
    for name, how in (("/usr/bin/python3.11", "source path"), ("python3.11", "source basename"),
                      (o["python"].real, "bundle path")):
        sc = "why root " + how
        rc, out, err = r.run("why", a, name)
        lines = out.splitlines()
        c.check(rc == 0 and len(lines) == 2 and lines[0].startswith("%s (%s): " % (name, how))
                and "[root: program, the executable of a traced process]" in lines[1], sc,
                "root with its reason, no hop", out + err)
    sc = "why root trace"
    rc, doc = r.json(c, sc, "why", "--json", a, "libzstd.so.1.5.4")
    if doc is not None:
        c.check(rc == 0 and doc["matched_as"] == "source basename" and len(doc["chains"]) == 1
                and len(doc["chains"][0]) == 1 and doc["chains"][0][0]["root"] == "trace",
                sc, "a root of the trace", doc)

    # an alias (a package path that is a symlink to the real) and a real's file name
    sc = "why alias"
    rc, out, err = r.run("why", a, "site/0-dist-packages/numpy/core/" + UMATH)
    c.check(rc == 0 and "(bundle path): bundled as " + o["umath"].real in out and
            len(chain_lines(out)) == 1, sc, "alias -> its real", out + err)
    sc = "why real file name"
    rc, out, err = r.run("why", a, os.path.basename(o["blas"].real))
    c.check(rc == 0 and len(chain_lines(out)) == 2, sc, "real file name", out + err)

    # a path the loader found (a symlink to the source) is a path of this machine too
    sc = "why found path"
    rc, out, err = r.run("why", a, LIB + "/libblas.so.3")
    c.check(rc == 0 and out.startswith(LIB + "/libblas.so.3 (source path): bundled as " +
                                       o["blas"].real), sc, "found path", out + err)

    # several matches: two files asked for as libplugin.so, one chain each
    sc = "why several"
    rc, doc = r.json(c, sc, "why", "--json", a, "libplugin.so")
    if doc is not None:
        lasts = sorted(ch[-1]["source"] for ch in doc["chains"])
        c.check(rc == 0 and lasts == ["/opt/a/libplugin.so", "/opt/b/libplugin.so"], sc,
                "one chain per object", doc)
        steps = {ch[-1]["source"]: [h["step"] for h in ch[1:]] for ch in doc["chains"]}
        c.check(steps.get("/opt/a/libplugin.so") == ["cache", "libpath"] and
                steps.get("/opt/b/libplugin.so") == ["path", "runpath"], sc,
                "each through its own requester", steps)
    rc, out, err = r.run("why", a, "libplugin.so")
    c.check(out.count("(requested name): bundled as") == 2, sc, "text: two answers", out)

    # excluded: the rule, the path, who asks, and the shortest chain ending in the request
    sc = "why excluded"
    rc, out, err = r.run("why", a, "libc.so.6")
    c.check(rc == 0 and out.startswith('libc.so.6 (requested name): excluded by the rule '
                                       '"glibc core"') and LIBC in out.splitlines()[0],
            sc, "rule and path", out + err)
    c.check("asked by 4 objects; the shortest chain:" in out, sc,
            "requesters: python, libblas, libgfortran, libz, each once", out)
    c.check(chain_lines(out) == ["└─ libc.so.6  needed  step=cache  origin=trace  -> %s  "
                                 "excluded (glibc core)" % LIBC], sc,
            "chain: the root's own request", out)
    rc, doc = r.json(c, sc, "why", "--json", a, "libc.so.6")
    if doc is not None:
        ex = doc["excluded"]
        c.check(len(ex) == 1 and ex[0]["rule"] == "glibc core" and ex[0]["path"] == LIBC and
                sorted(ex[0]["requesters"]) == sorted(o[k].source for k in
                                                      ("python", "blas", "gfortran", "z")),
                sc, "json: rule, path and every requester once", ex)
        c.check(len(doc["chains"]) == 1 and doc["chains"][0][-1]["status"] == "excluded" and
                doc["chains"][0][-1]["real"] is None, sc, "json: the chain ends excluded", doc)

    # missing: who asked, every path tried, and the chain to the request
    sc = "why missing"
    rc, out, err = r.run("why", a, "libmissing.so.1")
    lines = out.splitlines()
    c.check(rc == 0 and lines and lines[0] ==
            "libmissing.so.1 (requested name): missing: the loader found no file when %s asked "
            "for libmissing.so.1" % o["blas"].source, sc, "who asked", out + err)
    c.check(["  tried " + p for p in MISSING_TRIED] == lines[1:3], sc, "paths tried", out)
    c.check(chain_lines(out)[-1] ==
            "└─ libmissing.so.1  needed  step=-  origin=static  -> (not found)  missing" and
            len(chain_lines(out)) == 3, sc, "chain ends in the missing request", out)
    rc, doc = r.json(c, sc, "why", "--json", a, "libmissing.so.1")
    if doc is not None:
        c.check(doc["missing"] == [{"requester": o["blas"].source, "name": "libmissing.so.1",
                                    "tried": MISSING_TRIED}], sc, "json: missing", doc)
        c.check(len(doc["chains"]) == 1 and doc["chains"][0][-1]["status"] == "missing" and
                doc["chains"][0][-1]["found"] is None, sc, "json: chain", doc)

    # a name that is not UTF-8: matched byte for byte, written as {"hex": ...} in --json
    sc = "why non-UTF-8"
    rc, out, err = r.run("why", a, NON_UTF8)
    c.check(rc == 0 and out.encode(errors="surrogateescape").startswith(
        NON_UTF8 + b" (requested name): missing") and len(chain_lines(out)) == 1, sc,
        "text: the bytes as they are", out + err)
    rc, doc = r.json(c, sc, "why", "--json", a, NON_UTF8)
    if doc is not None:
        c.check(doc["name"] == {"hex": NON_UTF8.hex()} and
                doc["chains"][0][-1]["name"] == {"hex": NON_UTF8.hex()} and
                doc["missing"][0]["name"] == {"hex": NON_UTF8.hex()}, sc, "json: hex", doc)

    # a long chain with a cycle back to its start: the search ends, the output stays linear
    sc = "why deep"
    n = 3000
    chain = [Obj("/opt/deep/libd%d.so" % i, 10, root="program" if i == 0 else None)
             for i in range(n)]
    for i in range(n):
        nxt = chain[(i + 1) % n]
        chain[i].dep("libd%d.so" % ((i + 1) % n), "needed", "bundled", nxt, nxt.source, "rpath")
    deep = r.write("deep.json", make_layout(chain))
    rc, out, err = r.run("why", deep, "libd%d.so" % (n - 1))
    hops = chain_lines(out)
    c.check(rc == 0 and len(hops) == n - 1 and hops[-1].startswith("[%d] └─ libd%d.so" %
                                                                   (n - 1, n - 1)) and
            len(out) < 400 * n, sc, "every hop, indent capped", (rc, len(hops), err))
    rc, doc = r.json(c, sc, "why", "--json", deep, "libd0.so")
    if doc is not None:
        c.check(len(doc["chains"]) == 1 and len(doc["chains"][0]) == 1, sc,
                "a root asked for by its last descendant is still a root", doc["chains"])

    # excluded by a rule in the next build: the chain of three requests ends excluded
    b = r.write("b.json", layout_b())
    sc = "why excluded rule"
    rc, out, err = r.run("why", b, "libgfortran.so.5")
    c.check(rc == 0 and '"--exclude libgfortran*"' in out and len(chain_lines(out)) == 3 and
            chain_lines(out)[-1].endswith("excluded (--exclude libgfortran*)"), sc,
            "three requests, then excluded", out + err)

    # unknown: exit 1, nothing on stdout, close names on stderr
    sc = "why unknown"
    rc, out, err = r.run("why", a, "libblaz.so.3")
    c.check(rc == 1 and out == "" and "libblaz.so.3" in err and "libblas.so.3" in err, sc,
            "exit 1, suggests libblas.so.3", (rc, out, err))
    rc, out, err = r.run("why", a, "/usr/lib/libgfortran.so")
    c.check(rc == 1 and "libgfortran.so.5" in err, sc, "a path: suggests by its basename",
            (rc, err))
    rc, out, err = r.run("why", a, "qqqq")
    c.check(rc == 1 and "close names" not in err and "qqqq" in err, sc,
            "nothing close: no suggestion", (rc, err))

    # errors: exit 2
    sc = "why errors"
    rc, out, err = r.run("why", os.path.join(r.work, "nope.json"), "x")
    c.check(rc == 2 and "nope.json" in err, sc, "unreadable layout: exit 2", (rc, err))
    bad = r.write("bad.json", {"format": "bundlefs-trace", "version": 1})
    rc, out, err = r.run("why", bad, "x")
    c.check(rc == 2 and "bad.json" in err, sc, "not a layout: exit 2", (rc, err))
    rc, out, err = r.run("why", a)
    c.check(rc == 2 and "usage" in err, sc, "one argument: usage, exit 2", (rc, err))
    rc, out, err = r.run("why", "--help")
    c.check(rc == 0 and out.startswith("usage: bundlefs why"), sc, "--help", (rc, out))


# ---- diff ----

def test_diff(c, r):
    la, lb = layout_a(), layout_b()
    a = r.write("a.json", la)
    b = r.write("b.json", lb)
    oa = graph_a()

    # identical: a copy, written differently (other key order, other times) is the same bundle
    sc = "diff identical"
    same = copy.deepcopy(la)
    for e in same["entries"]:
        if e["type"] == "dir":
            e["mtime_ns"] += 1
    same_path = os.path.join(r.work, "same.json")
    with open(same_path, "w") as f:
        json.dump(same, f, sort_keys=True)
    rc, out, err = r.run("diff", a, same_path)
    files_a = [e for e in la["entries"] if e["type"] == "file"]
    bytes_a = sum(e["size"] for e in files_a)
    c.check(rc == 0 and out == "identical: 9 objects, %d files, %d bytes\n"
            % (len(files_a), bytes_a), sc, "exit 0, one line", (rc, out, err))
    rc, doc = r.json(c, sc, "diff", "--json", a, same_path)
    if doc is not None:
        c.check(rc == 0 and doc["identical"] is True and doc["resolutions"] == [] and
                doc["objects"]["unchanged"] == 9 and doc["size"]["delta_bytes"] == 0, sc,
                "json: identical", doc)

    # the sizes, computed by hand: A has nine reals and __init__.py; B drops libgfortran
    # (3000000), replaces libz (120000 -> 125000), adds _ssl (250000) and version.py (300)
    want_a = 6000000 + 900000 + 500000 + 3000000 + 120000 + 1000 + 800000 + 2000 + 3000 + 7000
    want_b = want_a - 3000000 - 120000 + 125000 + 250000 + 300
    c.check(bytes_a == want_a == 11333000 and want_b == 8588300, "diff sizes",
            "the test's own arithmetic")

    sc = "diff text"
    rc, out, err = r.run("diff", a, b)
    lines = out.splitlines()
    z_old = oa["z"]
    z_new_hash = hash_of("zlib 1.3")
    ssl_src = "/usr/lib/python3.11/lib-dynload/" + SSL
    want = [
        "--- " + a,
        "+++ " + b,
        "objects: 1 added, 1 removed, 1 changed, 7 unchanged",
        "+ %s  %s  hash %s  250000 bytes" % (SSL, ssl_src, hash_of(ssl_src)),
        "- libgfortran.so.5  %s  hash %s  3000000 bytes" % (oa["gfortran"].source,
                                                           oa["gfortran"].hash),
        "~ libz.so.1",
        "    - %s  hash %s  120000 bytes" % (z_old.source, z_old.hash),
        "    + %s/libz.so.1.3  hash %s  125000 bytes" % (LIB, z_new_hash),
        "resolutions: 1 changed",
        "~ libblas.so.3 asks libgfortran.so.5 (needed): bundled %s/libgfortran.so.5 [rpath] = "
        "%s -> excluded %s/libgfortran.so.5 [rpath]" % (LIB, oa["gfortran"].source, LIB),
        "other entries: 1 added, 0 removed, 0 changed (--json lists them)",
        "size: 11333000 -> 8588300 bytes (-2744700), 10 -> 11 files (+1)",
    ]
    c.check(rc == 1, sc, "exit 1", (rc, err))
    c.check(lines == want, sc, "the whole report",
            "\n".join(["got:"] + lines + ["want:"] + want))

    sc = "diff json"
    rc, doc = r.json(c, sc, "diff", "--json", a, b)
    if doc is not None:
        c.check(rc == 1 and doc["identical"] is False, sc, "exit 1, not identical", rc)
        objs = doc["objects"]
        c.check([x["source"] for x in objs["added"]] == [ssl_src] and
                [x["identity"] for x in objs["removed"]] == ["libgfortran.so.5"] and
                objs["unchanged"] == 7, sc, "added, removed, unchanged", objs)
        ch = objs["changed"]
        c.check(len(ch) == 1 and ch[0]["identity"] == "libz.so.1" and
                ch[0]["old"]["hash"] == z_old.hash and ch[0]["new"]["hash"] == z_new_hash and
                ch[0]["old"]["source"] == z_old.source and
                ch[0]["new"]["source"] == LIB + "/libz.so.1.3" and
                ch[0]["new"]["names"] == ["libz.so.1"], sc, "changed: libz", ch)
        res = doc["resolutions"]
        c.check(len(res) == 1 and res[0]["requester"] == "libblas.so.3" and
                res[0]["name"] == "libgfortran.so.5" and res[0]["kind"] == "needed" and
                res[0]["old"]["status"] == "bundled" and
                res[0]["old"]["target"] == oa["gfortran"].source and
                res[0]["new"]["status"] == "excluded" and res[0]["new"]["target"] is None,
                sc, "resolution bundled -> excluded", res)
        c.check(doc["size"] == {"a_bytes": 11333000, "b_bytes": 8588300,
                                "delta_bytes": -2744700, "a_files": 10, "b_files": 11,
                                "delta_files": 1}, sc, "size numbers", doc["size"])
        ent = doc["entries"]
        c.check(ent["added"] == [{"path": "site/0-dist-packages/numpy/version.py",
                                  "type": "file"}] and ent["removed"] == [] and
                ent["changed"] == [], sc, "entries listed", ent)
        c.check(doc["fields"] == [], sc, "no field changed", doc["fields"])

    # the other way round: added and removed swap, the resolution goes excluded -> bundled
    sc = "diff reversed"
    rc, doc = r.json(c, sc, "diff", "--json", b, a)
    if doc is not None:
        objs = doc["objects"]
        c.check([x["identity"] for x in objs["added"]] == ["libgfortran.so.5"] and
                [x["source"] for x in objs["removed"]] == [ssl_src], sc, "swapped", objs)
        res = doc["resolutions"]
        c.check(len(res) == 1 and res[0]["old"]["status"] == "excluded" and
                res[0]["new"]["status"] == "bundled", sc, "excluded -> bundled", res)
        c.check(doc["size"]["delta_bytes"] == 2744700, sc, "positive delta", doc["size"])

    # a found path that changes, a request made on one side only, entries changed and removed,
    # a required version
    sc = "diff more"
    lc = copy.deepcopy(la)
    py = lc["objects"][0]
    py["deps"][2]["found"] = "/usr/lib/x86_64-linux-gnu/libz.so.1"
    py["deps"].append({"name": "libextra.so", "kind": "dlopen", "status": "missing",
                       "target": None, "found": None, "step": None, "origin": "trace"})
    lc["requires"]["glibc"] = "GLIBC_2.35"
    lc["entries"] = [e for e in lc["entries"] if e["path"] != "site/0-dist-packages/numpy/"
                     "__init__.py"]
    for e in lc["entries"]:
        if e["path"] == "bin/app":
            e["content"] += "# changed\n"
            e["mode"] = 0o700
    c_path = r.write("c.json", lc)
    rc, doc = r.json(c, sc, "diff", "--json", a, c_path)
    if doc is not None:
        res = {(x["requester"], x["name"]): x for x in doc["resolutions"]}
        z = res.get(("python3.11", "libz.so.1"))
        c.check(rc == 1 and z is not None and z["old"]["found"] == "/lib/x86_64-linux-gnu/"
                "libz.so.1" and z["new"]["found"] == "/usr/lib/x86_64-linux-gnu/libz.so.1",
                sc, "found path changed", doc["resolutions"])
        x = res.get(("python3.11", "libextra.so"))
        c.check(x is not None and x["old"] is None and x["new"]["status"] == "missing", sc,
                "request on one side only", doc["resolutions"])
        c.check(len(res) == 2, sc, "nothing else", doc["resolutions"])
        ent = doc["entries"]
        c.check(ent["removed"] == [{"path": "site/0-dist-packages/numpy/__init__.py",
                                    "type": "file"}] and
                ent["changed"] == [{"path": "bin/app", "type": "generated",
                                    "what": ["mode", "content"]}], sc,
                "entries removed and changed", ent)
        c.check(doc["fields"] == [{"field": "requires.glibc", "old": "GLIBC_2.34",
                                   "new": "GLIBC_2.35"}], sc, "required glibc", doc["fields"])
        c.check(doc["size"]["delta_bytes"] == -7000 and doc["size"]["delta_files"] == -1, sc,
                "size", doc["size"])
    rc, out, err = r.run("diff", a, c_path)
    c.check(rc == 1 and "~ requires.glibc: GLIBC_2.34 -> GLIBC_2.35" in out and
            "other entries: 0 added, 1 removed, 1 changed (--json lists them)" in out and
            "~ python3.11 asks libextra.so (dlopen): not asked -> missing (not found) [-]" in out
            and "size: 11333000 -> 11326000 bytes (-7000), 10 -> 9 files (-1)" in out, sc,
            "text", out + err)

    # errors
    sc = "diff errors"
    rc, out, err = r.run("diff", a, os.path.join(r.work, "nope.json"))
    c.check(rc == 2 and "nope.json" in err and out == "", sc, "unreadable: exit 2", (rc, err))
    rc, out, err = r.run("diff", a)
    c.check(rc == 2 and "usage" in err, sc, "one layout: usage, exit 2", (rc, err))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bundlefs", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("case", choices=["why", "diff"])
    args = ap.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    c = Checks()
    r = Runner(os.path.abspath(args.bundlefs), args.work)
    (test_why if args.case == "why" else test_diff)(c, r)
    print("%s: %d checks passed, %d failed" % (args.case, c.passed, c.failed))
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())

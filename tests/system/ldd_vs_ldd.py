#!/usr/bin/env python3
"""Differential system test: `bundlefs ldd --format=tsv F` against the real glibc `ldd F`.

Files compared: every ELF executable in /usr/bin and every ELF shared object (ET_DYN) in
/usr/lib/x86_64-linux-gnu and its subfolders, regular files and symlinks alike, each real file
once (by real path); plus a few programs built here at test time for the outcomes this machine
rarely or never shows (a missing library in the middle of the list, a file that is not an
object, $ORIGIN reached through a symlink, a dependency that needs the main object back).
For each one the set of paths the loader binds (ld.so's l_name, as ldd prints it) must be the
same on both sides, and so must any failure.

What ldd does that a real start would not, and how each is handled here:

* ldd is a shell script that runs `ld.so --verify F` and then `LD_TRACE_LOADED_OBJECTS=1
  ld.so F`: an explicit loader invocation, never an exec. For an executable, $ORIGIN is then
  the directory of the path given (a real exec takes it from /proc/self/exe, the real path).
  Every file is therefore given to both tools by its real path, where the two coincide.
* As root, `test -x` fails for a file without any execute bit, so ldd warns "you do not have
  execution permission" (most libraries are mode 644) and still traces it: that warning is
  ignored; any other stderr line is a failure of the comparison.
* `ld.so --verify` refusing a file ("not a dynamic executable": not ELF, another machine, no
  dynamic section) is skipped and counted; bundlefs must refuse it too (exit 2).
* When the main object has no DT_NEEDED entry (ld.so itself, a library that needs nothing),
  ld.so's trace prints "statically linked" instead of the list (elf/rtld.c), even for a
  dynamic object. That is an empty set of dependencies; bundlefs must report none either (or
  refuse the file as static). (A main object with DT_FILTER/DT_AUXILIARY but no DT_NEEDED
  would hide its filtees behind that line; none exists here, and it would show as a
  disagreement, not pass.)
* On libc.so.6 or ld.so the main object is the C library or loader itself: requests for its
  SONAME bind to the main object (no second copy), which ldd never lists, and which bundlefs
  prints as `<exe>`; both are excluded from the sets.
* In trace mode a missing library does not stop the loader: ld.so fakes an entry
  ("NAME => not found") at that place in the load order and goes on, whereas a real start
  (which bundlefs emulates) stops at the first one. So ldd's "not found" case is checked as:
  bundlefs exits 1, its final ERROR line names ldd's first missing library, and its resolved
  set equals what ldd listed before that first "not found" line (the objects loaded earlier
  in breadth-first order; ld.so is listed at its place in the search list, which is also the
  order of the first request for it).
* Other load errors (a found file that is not a valid object) stop ld.so even in trace mode:
  "F: error while loading shared libraries: MSG" with nothing listed; bundlefs's final
  ERROR must be the same MSG.
* linux-vdso.so.1 is the kernel's, not a file: ignored.
Anything ldd prints that none of the above explains is reported as a failure, never passed.
"""

import argparse
import concurrent.futures
import os
import re
import stat
import subprocess
import sys
import tempfile

ET_EXEC, ET_DYN = 2, 3
VDSO = "linux-vdso.so.1"
NOEXEC_WARNING = re.compile(r"^ldd: warning: you do not have execution permission for `.*'$")
RE_FOUND = re.compile(r"^\t(.+) => (.+) \(0x[0-9a-f]+\)$")
RE_MISSING = re.compile(r"^\t(.+) => not found$")
RE_BARE = re.compile(r"^\t(.+) \(0x[0-9a-f]+\)$")
RE_LOAD_ERROR = re.compile(r"^.*: error while loading shared libraries: (.*)$")


def elf_type(path):
    """e_type of an ELF file, or None if it is not ELF (or cannot be read)."""
    try:
        with open(path, "rb") as f:
            head = f.read(20)
    except OSError:
        return None
    if len(head) < 20 or head[:4] != b"\x7fELF" or head[5] not in (1, 2):
        return None
    return int.from_bytes(head[16:18], "little" if head[5] == 1 else "big")


def collect(bin_dir, lib_dir, recursive):
    """[(real path, group)] and the count of entries that are not candidates, per group."""
    seen, files, ignored = set(), [], {}

    def consider(path, group, types):
        real = os.path.realpath(path)
        try:
            if not stat.S_ISREG(os.stat(real).st_mode):
                return
        except OSError:
            return
        if elf_type(real) not in types:
            ignored[group] = ignored.get(group, 0) + 1
            return
        if real not in seen:
            seen.add(real)
            files.append((real, group))

    for name in sorted(os.listdir(bin_dir)):
        consider(os.path.join(bin_dir, name), "bin", (ET_EXEC, ET_DYN))
    for root, dirs, names in os.walk(lib_dir):
        dirs.sort()
        for name in sorted(names):
            consider(os.path.join(root, name), "lib", (ET_DYN,))
        if not recursive:
            break
    return files, ignored


FIXTURE_LIB = "int fx_{name}(void) {{ return {n}; }}\n"
FIXTURE_MAIN = "int main(void) { return 0; }\n"


def build_fixtures(top, cc):
    """Builds the fixture programs under `top`; returns {path: the ldd outcome it is built
    to produce} (paths as given, symlinks included: the comparison takes real paths)."""
    def sh(*argv):
        subprocess.run(argv, cwd=top, check=True, env=clean_env())

    def lib(name, *extra):
        src = os.path.join(top, f"{name}.c")
        with open(src, "w") as f:
            f.write(FIXTURE_LIB.format(name=name, n=len(name)))
        sh(cc, "-shared", "-fPIC", f"-Wl,-soname,lib{name}.so", "-o",
           os.path.join(top, "lib", f"lib{name}.so"), src, *extra)

    def prog(out, *extra):
        src = os.path.join(top, "main.c")
        with open(src, "w") as f:
            f.write(FIXTURE_MAIN)
        sh(cc, "-o", out, src, "-Wl,--no-as-needed", *extra)

    for d in ("lib", "bin", "link"):
        os.makedirs(os.path.join(top, d))
    origin_rpath = "-Wl,-rpath,$ORIGIN/../lib,--enable-new-dtags"
    libdir = "-L" + os.path.join(top, "lib")
    # A missing library between two found ones: ld.so's trace goes on, a real start stops.
    lib("gone")
    prog("bin/missing", libdir, "-lz", "-lgone", "-lm", origin_rpath)
    os.unlink(os.path.join(top, "lib", "libgone.so"))
    # A dependency found on the search path that is not an object: fatal even when tracing.
    lib("bad")
    prog("bin/notelf", libdir, "-lbad", origin_rpath)
    with open(os.path.join(top, "lib", "libbad.so"), "w") as f:
        f.write("this is not an ELF file, it is long enough to have a header\n" * 4)
    # $ORIGIN of an executable reached through a symlink.
    lib("leaf")
    prog("bin/origin", libdir, "-lleaf", origin_rpath)
    os.symlink("../bin/origin", os.path.join(top, "link", "origin"))
    # libcyca needs libcycb, which needs libcyca: given libcyca as the main object, that
    # request binds to the main object by SONAME.
    lib("cyca")
    lib("cycb", libdir, "-Wl,--no-as-needed", "-lcyca", origin_rpath.replace("/../lib", ""))
    lib("cyca", libdir, "-Wl,--no-as-needed", "-lcycb", origin_rpath.replace("/../lib", ""))
    return {os.path.join(top, p): kind for p, kind in
            (("bin/missing", "list+missing"), ("bin/notelf", "load-error"),
             ("link/origin", "list"), ("lib/libcyca.so", "list"))}


def clean_env():
    # Both tools read LD_LIBRARY_PATH, LD_PRELOAD, ...: compare the plain system setup.
    return {k: v for k, v in os.environ.items() if not k.startswith("LD_")}


def run(argv, cwd, timeout):
    try:
        p = subprocess.run(argv, cwd=cwd, env=clean_env(), capture_output=True,
                           timeout=timeout, errors="surrogateescape")
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return None, "", f"timed out after {timeout} s"


def parse_ldd(rc, out, err):
    """ldd's view: a dict with kind in {not-dynamic, static, list, load-error, failed}."""
    res = {"rc": rc, "entries": [], "missing": [], "unparsed": []}
    err_lines = [l for l in err.splitlines() if not NOEXEC_WARNING.match(l)]
    if rc is None:
        return dict(res, kind="failed", why=err)
    if err_lines == ["\tnot a dynamic executable"]:
        return dict(res, kind="not-dynamic")
    res["unparsed"] += ["stderr: " + l for l in err_lines]
    static = load_error = None
    for line in out.splitlines():
        m = RE_MISSING.match(line)
        if m:
            res["entries"].append(("missing", m.group(1)))
            res["missing"].append(m.group(1))
            continue
        m = RE_FOUND.match(line)
        if m:
            res["entries"].append(("path", m.group(2)))
            continue
        m = RE_BARE.match(line)
        if m and m.group(1).startswith("/"):
            res["entries"].append(("path", m.group(1)))
            continue
        if m and m.group(1) == VDSO:
            continue
        if line == "\tstatically linked":
            static = True
            continue
        m = RE_LOAD_ERROR.match(line)
        if m:
            load_error = m.group(1)
            continue
        res["unparsed"].append(line)
    if res["unparsed"]:
        return dict(res, kind="failed", why="unexplained ldd output")
    if load_error is not None and not res["entries"] and rc != 0:
        return dict(res, kind="load-error", error=load_error)
    if static and not res["entries"] and rc == 0:
        return dict(res, kind="static")
    if rc != 0 or load_error is not None or static:
        return dict(res, kind="failed", why=f"ldd exit status {rc} with this output")
    return dict(res, kind="list")


def parse_bundlefs(rc, out, err):
    res = {"rc": rc, "paths": set(), "fatal": None, "err": err.strip(), "bad": []}
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) != 3:
            res["bad"].append(line)
        elif f[0] == "-" and f[1] == "-" and f[2].startswith("ERROR: "):
            res["fatal"] = f[2][len("ERROR: "):]
        elif not f[2].startswith("ERROR: ") and f[2] not in ("<exe>", VDSO):
            res["paths"].add(f[2])
    return res


def compare(path, bundlefs, cwd, timeout):
    """(ldd's outcome, verdict): verdict ('ok'|'skip:<reason>'|'diff'|'ldd-failed', text)."""
    lr = parse_ldd(*run(["ldd", path], cwd, timeout))
    return lr["kind"] + ("+missing" if lr["missing"] else ""), verdict(path, lr, bundlefs, cwd,
                                                                       timeout)


def verdict(path, lr, bundlefs, cwd, timeout):
    b_raw = run([bundlefs, "ldd", "--format=tsv", path], cwd, timeout)
    br = parse_bundlefs(*b_raw)

    def diff(msg, expected=None):
        lines = [msg, f"  ldd: exit {lr['rc']}, {lr['kind']}"]
        for kind, what in lr["entries"]:
            lines.append(f"    {what} => not found" if kind == "missing" else f"    {what}")
        stderr = f", stderr: {br['err']}" if br["err"] else ""
        lines.append(f"  bundlefs: exit {br['rc']}{stderr}")
        for p in sorted(br["paths"]):
            lines.append(f"    {p}")
        if br["fatal"]:
            lines.append(f"    fatal ERROR: {br['fatal']}")
        if expected is not None:
            only_l, only_b = sorted(expected - br["paths"]), sorted(br["paths"] - expected)
            lines += [f"  only ldd: {p}" for p in only_l]
            lines += [f"  only bundlefs: {p}" for p in only_b]
        return "diff", "\n".join(lines)

    if br["rc"] is None:
        return diff("bundlefs timed out")
    if br["bad"]:
        return diff("bundlefs printed malformed tsv lines: " + repr(br["bad"][:3]))
    kind = lr["kind"]
    if kind == "failed":
        return "ldd-failed", f"{lr['why']}\n" + "\n".join("  " + l for l in lr["unparsed"])
    if kind == "not-dynamic":
        if br["rc"] == 2:
            return "skip:ldd says not a dynamic executable (bundlefs refuses it too)", ""
        return diff("ldd: not a dynamic executable, bundlefs accepted it")
    if kind == "static":
        if br["rc"] == 2 and "static" in br["err"]:
            return "skip:ldd says statically linked (bundlefs refuses it as static)", ""
        if br["rc"] == 0 and not br["paths"]:
            return "skip:ldd says statically linked (no DT_NEEDED; bundlefs: no dependencies)", ""
        return diff("ldd: statically linked, bundlefs disagrees", set())
    if kind == "load-error":
        if br["rc"] == 1 and br["fatal"] == lr["error"]:
            return "ok", ""
        return diff(f"ldd: load error '{lr['error']}', bundlefs disagrees")
    paths = [w for k, w in lr["entries"] if k == "path"]
    if lr["missing"]:
        first = next(i for i, (k, _) in enumerate(lr["entries"]) if k == "missing")
        before = {w for k, w in lr["entries"][:first] if k == "path"} - {path}
        missing = lr["missing"][0]
        if br["rc"] != 1 or not br["fatal"] or not br["fatal"].startswith(missing + ":"):
            return diff(f"ldd: first missing library {missing}; bundlefs does not stop there",
                        before)
        if br["paths"] != before:
            return diff(f"ldd: first missing library {missing}; the objects loaded before it "
                        "differ", before)
        return "ok", ""
    expected = set(paths) - {path}
    if br["rc"] != 0 or br["fatal"]:
        return diff("ldd: program starts; bundlefs says it would not", expected)
    if br["paths"] != expected:
        return diff("the resolved sets differ", expected)
    return "ok", ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bundlefs", required=True, help="the bundlefs binary")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=120, help="per tool run, seconds")
    ap.add_argument("--top-level-only", action="store_true",
                    help="do not descend into subfolders of the library directory")
    ap.add_argument("--bin-dir", default="/usr/bin")
    ap.add_argument("--lib-dir", default="/usr/lib/x86_64-linux-gnu")
    ap.add_argument("--cc", default="cc", help="C compiler for the fixtures")
    ap.add_argument("--no-fixtures", action="store_true")
    ap.add_argument("files", nargs="*", help="compare only these files (for debugging)")
    args = ap.parse_args()
    bundlefs = os.path.abspath(args.bundlefs)

    if args.files:
        files, ignored = [(os.path.realpath(f), "cmdline") for f in args.files], {}
    else:
        files, ignored = collect(args.bin_dir, args.lib_dir, not args.top_level_only)
    by_group = {}
    for _, g in files:
        by_group[g] = by_group.get(g, 0) + 1
    print(f"candidates: {len(files)} distinct real files "
          + ", ".join(f"{g}: {n}" for g, n in sorted(by_group.items()))
          + ("; not candidates (not ELF or wrong e_type): "
             + ", ".join(f"{g}: {n}" for g, n in sorted(ignored.items())) if ignored else ""),
          flush=True)

    results = {}
    # An empty working directory: relative RPATH/RUNPATH entries resolve against it for both.
    with tempfile.TemporaryDirectory(prefix="ldd_vs_ldd.") as tmp, \
            concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        cwd = os.path.join(tmp, "cwd")
        os.mkdir(cwd)
        fixtures = {}
        if not args.no_fixtures:
            fixtures = {os.path.realpath(f): k for f, k in
                        build_fixtures(os.path.join(tmp, "fixtures"), args.cc).items()}
            files += [(f, "fixture") for f in fixtures]
            print(f"fixtures built: {len(fixtures)}", flush=True)
        futs = {pool.submit(compare, p, bundlefs, cwd, args.timeout): p for p, _ in files}
        for fut in concurrent.futures.as_completed(futs):
            results[futs[fut]] = fut.result()

    kinds = {}
    for lkind, _ in results.values():
        kinds[lkind] = kinds.get(lkind, 0) + 1
    # A fixture that does not make ldd do what it was built for tests nothing.
    for p, want in sorted(fixtures.items()):
        if results[p][0] != want:
            results[p] = (results[p][0], ("ldd-failed", f"fixture built for ldd outcome {want}, "
                                          f"ldd gave {results[p][0]}"))
    compared = sum(1 for _, (o, _) in results.values() if o in ("ok", "diff"))
    skips, diffs, failed = {}, [], []
    for p in sorted(results):
        outcome, detail = results[p][1]
        if outcome.startswith("skip:"):
            skips[outcome[5:]] = skips.get(outcome[5:], 0) + 1
        elif outcome == "diff":
            diffs.append((p, detail))
        elif outcome == "ldd-failed":
            failed.append((p, detail))
    for p, detail in failed:
        print(f"LDD FAILED {p}: {detail}")
    for p, detail in diffs:
        print(f"DISAGREE {p}: {detail}")
    print(f"compared: {compared}, agreed: {compared - len(diffs)}, disagreed: {len(diffs)}, "
          f"ldd failed (unexplained output): {len(failed)}")
    for why, n in sorted(skips.items()):
        print(f"skipped: {n}: {why}")
    print("ldd outcomes: " + ", ".join(f"{k}: {n}" for k, n in sorted(kinds.items())))
    return 1 if diffs or failed else 0


if __name__ == "__main__":
    sys.exit(main())

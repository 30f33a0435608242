#!/usr/bin/python3
"""Acceptance tests of `bundlefs trace` on Debian's CPython (tests/trace, label trace).

  trace_python.py --bundlefs BIN --work DIR app     sqlite3, ssl, ctypes, cffi, multiprocessing
  trace_python.py --bundlefs BIN --work DIR chain   the same app with an app sitecustomize
  trace_python.py --bundlefs BIN --work DIR maps    numpy + PIL: the trace against /proc/self/maps

Each check compares the trace with what the run itself shows; a failed check prints what was
expected and what the trace holds, and the exit status is 1."""
import argparse
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run_trace(bundlefs, work, args, env=None, name="t"):
    out = os.path.join(work, name + ".trace.json")
    plain = subprocess.run([PYTHON] + args, capture_output=True, env=env, cwd=work)
    traced = subprocess.run([bundlefs, "trace", "-o", out, "--", PYTHON] + args,
                            capture_output=True, env=env, cwd=work)
    check(traced.returncode == plain.returncode,
          f"exit status {traced.returncode} under trace, {plain.returncode} without")
    check(traced.stdout == plain.stdout, f"stdout differs: {traced.stdout!r} vs {plain.stdout!r}")
    check(traced.stderr == plain.stderr, f"stderr differs: {traced.stderr!r} vs {plain.stderr!r}")
    with open(out) as f:
        t = json.load(f)
    check(t["format"] == "bundlefs-trace" and t["version"] == 1, "format/version")
    check(t["exit_code"] == plain.returncode, "exit_code in the trace")
    check(t["warnings"] == [], f"warnings: {t['warnings']}")
    return t


def objects_of(p):
    return {o["id"]: o for o in p["objects"]}


def loads_named(p, name):
    return [l for l in p["loads"] if l["name"] == name]


def requester_file(p, load):
    o = objects_of(p).get(load["requester"])
    return o and o["file"]


def object_file(p, load):
    o = objects_of(p).get(load["object"])
    return o and o["realpath"]


def ext_path(mod):
    out = subprocess.run([PYTHON, "-c", f"import {mod}; print({mod}.__file__)"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def real_of(name):
    """The file ld.so would map for a bare library name: ask the real loader."""
    out = subprocess.run([PYTHON, "-c", "import ctypes, sys; ctypes.CDLL(sys.argv[1]);"
                          "print([l.split()[-1] for l in open('/proc/self/maps') "
                          "if sys.argv[1].split('.so')[0] in l][0])", name],
                         capture_output=True, text=True, check=True)
    return os.path.realpath(out.stdout.strip())


def check_app(t, work, script):
    procs = t["processes"]
    roots = [p for p in procs if p["parent"] == -1]
    check(len(roots) == 1, f"one root process, got {len(roots)}")
    root = roots[0]
    check(root["audited"] and root["reached_exit"], "root audited and reached exit")
    ctypes_so, sqlite_so, ssl_so = ext_path("_ctypes"), ext_path("_sqlite3"), ext_path("_ssl")
    cffi_so = ext_path("_cffi_backend")

    for so, needs in ((sqlite_so, "libsqlite3.so.0"), (ssl_so, "libssl.so.3")):
        ls = loads_named(root, so)
        check(len(ls) == 1 and ls[0]["kind"] == "dlopen" and ls[0]["status"] == "loaded"
              and requester_file(root, ls[0]) == os.path.realpath(PYTHON),
              f"{so}: dlopen by the interpreter, loaded: {ls}")
        dep = [l for l in loads_named(root, needs) if requester_file(root, l) == so]
        check(len(dep) == 1 and dep[0]["kind"] == "needed" and dep[0]["status"] == "loaded",
              f"{needs}: NEEDED by {so}: {dep}")

    z = loads_named(root, "libz.so.1")
    zd = [l for l in z if l["kind"] == "dlopen"]
    check(len(zd) == 1 and requester_file(root, zd[0]) == ctypes_so
          and zd[0]["status"] == "already-loaded" and object_file(root, zd[0]) == real_of("libz.so.1"),
          f"ctypes.CDLL('libz.so.1'): dlopen by _ctypes, already loaded: {zd}")

    bz = loads_named(root, "libbz2.so.1.0")
    check(len(bz) == 1 and bz[0]["kind"] == "dlopen" and requester_file(root, bz[0]) == cffi_so
          and bz[0]["status"] == "loaded" and object_file(root, bz[0]) == real_of("libbz2.so.1.0"),
          f"ffi.dlopen('libbz2.so.1.0'): dlopen by _cffi_backend: {bz}")

    kids = [p for p in procs if p["origin"] == "fork" and p["parent"] == procs.index(root)]
    check(len(kids) == 1, f"one forked child of the root, got {len(kids)}")
    if kids:
        kid = kids[0]
        lz = loads_named(kid, "liblzma.so.5")
        check(len(lz) == 1 and lz[0]["kind"] == "dlopen" and lz[0]["status"] == "loaded"
              and requester_file(kid, lz[0]) == ctypes_so,
              f"child: ctypes.CDLL('liblzma.so.5') by _ctypes: {lz}")
        check(not loads_named(root, "liblzma.so.5"), "the child's load is not the parent's")
        check(any(o["inherited"] and o["file"] == ctypes_so for o in kid["objects"]),
              "the child inherited _ctypes")
        kp = kid["python"]
        check(kp is not None and kp["forked_from"] == root["pid"] and kp["end"] == "os._exit",
              f"child Python facts: forked_from, ended by os._exit: {kp and kp['end']}")

    py = root["python"]
    check(py is not None, "root has Python facts")
    if not py:
        return
    check(py["complete"] and py["end"] == "exit", "facts complete at exit")
    check(py["executable_realpath"] == os.path.realpath(PYTHON), "executable realpath")
    for key in ("prefix", "base_prefix", "exec_prefix", "base_exec_prefix", "platlibdir",
                "stdlib", "lib_dynload", "python_version", "cache_tag", "soabi", "cwd"):
        check(py.get(key), f"fact {key} is set")
    check(py["lib_dynload"] == os.path.dirname(sqlite_so), "lib-dynload dir")
    check(py["main_script"] == script, f"main script {py['main_script']} != {script}")
    check(py["cwd"] == work, "cwd")
    check(py["path_exit"] and py["path_exit"][0] == os.path.dirname(script),
          "sys.path at exit starts with the script's folder")
    hook = [p for p in py["path_start"] + py["path_exit"] if "pyhook" in p]
    check(not hook, f"the hook's folder is not in sys.path: {hook}")
    mods = {m["name"]: m for m in py["modules"]}
    check(mods.get("_sqlite3", {}).get("origin") == sqlite_so, "module _sqlite3 origin")
    check(mods.get("_cffi_backend", {}).get("origin") == cffi_so, "module _cffi_backend origin")
    check(mods.get("sqlite3", {}).get("origin", "").endswith("sqlite3/__init__.py"),
          "package sqlite3 origin")
    check("PYTHONPATH" not in py["env"] or "pyhook" not in py["env"]["PYTHONPATH"],
          "the hook is filtered from the recorded PYTHONPATH")
    check(not any(k.startswith("BUNDLEFS") for k in py["env"]), "no BUNDLEFS_* in env")


def case_app(bundlefs, work, chain):
    script = os.path.join(HERE, "py", "app.py")
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if chain:
        sc = os.path.join(work, "sc")
        os.makedirs(sc, exist_ok=True)
        marker = os.path.join(work, "sitecustomize.ran")
        with open(os.path.join(sc, "sitecustomize.py"), "w") as f:
            f.write(f"open({marker!r}, 'a').write('x')\n")
        env["PYTHONPATH"] = sc
    for code in (0, 3):
        if chain and os.path.exists(marker):
            os.unlink(marker)
        t = run_trace(bundlefs, work, [script, str(code)], env=env, name=f"app{code}")
        check_app(t, work, script)
        if chain:
            # the plain run and the traced run each ran it once in the parent
            check(open(marker).read() == "xx", "the app's sitecustomize ran once per run")
            py = [p for p in t["processes"] if p["parent"] == -1][0]["python"]
            check(py["env"].get("PYTHONPATH") == sc, "the app's PYTHONPATH is recorded")
            check(py["path_start"][0] == sc, "the app's PYTHONPATH entry leads sys.path")


def elf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def case_maps(bundlefs, work):
    script = os.path.join(HERE, "py", "numpy_pil.py")
    mapsfile = os.path.join(work, "maps.txt")
    t = run_trace(bundlefs, work, [script, mapsfile], name="maps")
    mapped = set()
    for line in open(mapsfile):
        path = line.rstrip("\n")
        if path.endswith(" (deleted)") or not elf(path):
            continue
        if os.path.basename(path) == "libbundlefs_audit.so":
            continue  # the recorder itself
        mapped.add(os.path.realpath(path))
    root = [p for p in t["processes"] if p["parent"] == -1][0]
    live = {o["realpath"] for o in root["objects"] if o["realpath"] and not o["closed"]}
    closed = {o["realpath"] for o in root["objects"] if o["realpath"] and o["closed"]}
    check(len(mapped) > 50, f"numpy + PIL map many objects ({len(mapped)})")
    check(mapped - live == set(), f"mapped at exit but not in the trace: {sorted(mapped - live)}")
    check(live - mapped == set(), f"in the trace as loaded but not mapped: {sorted(live - mapped)}")
    check(closed - mapped == closed, f"traced as dlclose'd but still mapped: {sorted(closed & mapped)}")
    print(f"maps: {len(mapped)} mapped ELF files = {len(live)} live traced objects; "
          f"{len(closed)} dlclose'd")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bundlefs", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("case", choices=["app", "chain", "maps"])
    a = ap.parse_args()
    work = os.path.realpath(a.work)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    if a.case == "maps":
        case_maps(a.bundlefs, work)
    else:
        case_app(a.bundlefs, work, a.case == "chain")
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

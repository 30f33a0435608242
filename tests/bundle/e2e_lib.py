"""What the end-to-end bundle tests share: running commands, building C fixtures, the
trace -> build -> materialize -> move pipeline, and reading which files a run mapped.

Apps report the files mapped into their process on stderr, one "MAP <path>" line each (see
c/maps.c and py/maps_report.py); their stdout is what the user sees and must not change."""
import json
import os
import shutil
import subprocess
import sys

import sandbox

HERE = os.path.dirname(os.path.abspath(__file__))
C_SRC = os.path.join(HERE, "c")
PY_SRC = os.path.join(HERE, "py")
PYTHON = "/usr/bin/python3"  # Debian's interpreter: the one the apps are bundled with
TIMEOUT = 300


class Checks:
    def __init__(self):
        self.failed = 0
        self.passed = 0

    def check(self, cond, tag, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL [%s] %s" % (tag, what))
            sys.stdout.flush()
        return cond

    def finish(self):
        print("%d checks passed, %d failed" % (self.passed, self.failed))
        return 1 if self.failed else 0


def finish(ck, work):
    """The exit status; a Python bundle is over half a gigabyte: the work folder is removed
    when every check passed, kept for a look otherwise."""
    status = ck.finish()
    if status == 0:
        shutil.rmtree(work, ignore_errors=True)
    return status


def run(argv, env=None, cwd=None, timeout=TIMEOUT):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, env=env, cwd=cwd, timeout=timeout)


def text(b):
    return b.decode("utf-8", "replace")


def show_run(r):
    return "exit %d\n--- stdout\n%s--- stderr\n%s" % (
        r.returncode, text(r.stdout), "".join(l + "\n" for l in user_stderr(r.stderr)))


def fresh_dir(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def gcc(out, sources, *flags):
    """Compiles sources (names in c/) into out; raises with gcc's message on failure."""
    os.makedirs(os.path.dirname(out), exist_ok=True)
    argv = ["gcc", "-std=gnu17", "-O1", "-Wall", "-Wextra", "-Werror", "-o", out]
    argv += [os.path.join(C_SRC, s) for s in sources] + list(flags)
    r = run(argv)
    if r.returncode != 0:
        raise RuntimeError("cannot build %s:\n%s\n%s" % (out, " ".join(argv), text(r.stderr)))
    return out


def base_env(home):
    """The whole environment of every run, on the host and in the sandbox: nothing the
    caller's shell had (no LD_*, PYTHON*), so the two runs see the same."""
    os.makedirs(home, exist_ok=True)
    return {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "HOME": home}


# ---------------------------------------------------------------- maps

def maps_of(stderr):
    """The "MAP <path>" lines of a run, in order."""
    return [l[4:] for l in text(stderr).splitlines() if l.startswith("MAP ")]


def user_stderr(stderr):
    return [l for l in text(stderr).splitlines() if not l.startswith("MAP ")]


def is_elf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def is_loadable_elf(path):
    """An ELF executable or shared object (not a relocatable .o, which no loader maps)."""
    try:
        with open(path, "rb") as f:
            head = f.read(18)
    except OSError:
        return False
    return len(head) == 18 and head[:4] == b"\x7fELF" and \
        int.from_bytes(head[16:18], "little" if head[5] == 1 else "big") in (2, 3)


def split_maps(paths):
    """(glibc core files, other ELF files) among mapped paths, each a set of real paths."""
    core = sandbox.core_realpaths()
    elves = {os.path.realpath(p) for p in paths if is_elf(p)}
    return elves & core, elves - core


# ---------------------------------------------------------------- the pipeline

class Bundlefs:
    def __init__(self, path):
        self.path = os.path.realpath(path)

    def __call__(self, *args, env=None, cwd=None):
        return run([self.path] + list(args), env=env, cwd=cwd)


class Bundle:
    """A materialized bundle: its folder and its bundle.json."""

    def __init__(self, root, name):
        self.root = root
        self.name = name
        self.launcher = os.path.join(root, "bin", name)
        with open(os.path.join(root, "bundle.json")) as f:
            self.layout = json.load(f)
        self.source_of = {os.path.join(root, o["real"]): o["source"]
                          for o in self.layout["objects"]}


def make_bundle(ck, bf, work, name, cmd, env, cwd, plain):
    """trace -> build -> materialize -> mv to another folder. plain is the run of cmd without
    bundlefs (the trace must pass its exit status through). Returns the moved Bundle, or None
    after reporting what failed."""
    tag = name + ":pipeline"
    trace = os.path.join(work, name + ".trace.json")
    r = bf("trace", "-o", trace, "--", *cmd, env=env, cwd=cwd)
    if not ck.check(r.returncode == plain.returncode and r.stdout == plain.stdout, tag,
                    "bundlefs trace -o %s -- %s: exit %d (the program alone: %d), stdout %s\n%s"
                    % (trace, " ".join(cmd), r.returncode, plain.returncode,
                       "same" if r.stdout == plain.stdout else "differs", show_run(r))):
        return None
    layout = os.path.join(work, "out", "bundle.json")
    fresh_dir(os.path.dirname(layout))
    argv = ["build", "--trace", trace, "-o", layout, "--name", name]
    r = bf(*argv, env=env)
    if not ck.check(r.returncode == 0 and os.path.isfile(layout), tag,
                    "bundlefs %s: want exit 0 and the layout written\n%s"
                    % (" ".join(argv), show_run(r))):
        return None
    first = os.path.join(fresh_dir(os.path.join(work, "dist")), name)
    r = bf("materialize", layout, first, env=env)
    if not ck.check(r.returncode == 0 and os.path.isdir(first), tag,
                    "bundlefs materialize %s %s: want exit 0 and the folder\n%s"
                    % (layout, first, show_run(r))):
        return None
    check_tree(ck, name + ":tree", first, layout)
    moved = os.path.join(work, "elsewhere", "moved-" + name)
    fresh_dir(os.path.dirname(moved))
    r = run(["mv", first, moved])
    if not ck.check(r.returncode == 0, tag, "mv %s %s: %s" % (first, moved, text(r.stderr))):
        return None
    b = Bundle(moved, name)
    ck.check(os.access(b.launcher, os.X_OK) and b.layout.get("launcher") == "bin/" + name,
             tag, "no executable launcher bin/%s (layout says %r)"
             % (name, b.layout.get("launcher")))
    return b


def check_tree(ck, tag, root, layout_path):
    """The materialized folder holds exactly the layout's entries (plus bundle.json, a copy of
    the layout), each of its type, and every binary once: a loadable ELF file
    lives under reals/r/ and has one link (a relocatable .o is data: copied like any file)."""
    with open(layout_path, "rb") as f:
        raw = f.read()
    layout = json.loads(raw)
    want = {e["path"]: e["type"] for e in layout["entries"]}
    got = {}
    for dirpath, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(dirpath, n)
            rel = os.path.relpath(p, root)
            got[rel] = ("symlink" if os.path.islink(p) else "dir" if os.path.isdir(p)
                        else "file")
            if got[rel] == "file" and is_loadable_elf(p):
                ck.check(rel.startswith("reals/r/") and os.stat(p).st_nlink == 1, tag,
                         "%s: an ELF file outside reals/r or with several links" % rel)
    bj = os.path.join(root, "bundle.json")
    ck.check(got.pop("bundle.json", None) == "file" and open(bj, "rb").read() == raw, tag,
             "DEST/bundle.json is not a copy of the layout")
    kinds = {k: ("file" if v == "generated" else v) for k, v in want.items()}
    ck.check(got == kinds, tag, "the tree differs from the layout's entries:\n"
             "  only on disk: %s\n  only in the layout: %s\n  other type: %s" % (
                 sorted(set(got) - set(kinds))[:10], sorted(set(kinds) - set(got))[:10],
                 sorted(k for k in got if k in kinds and got[k] != kinds[k])[:10]))


# ---------------------------------------------------------------- runs compared

def compare(ck, tag, want, got, what):
    """stdout and exit status of got are those of want (the program on the host)."""
    return ck.check(got.returncode == want.returncode and got.stdout == want.stdout, tag,
                    "%s: exit %d, stdout differs: %s\n=== want (the program on this host)\n%s"
                    "=== got\n%s" % (what, got.returncode,
                                     "no" if got.stdout == want.stdout else "yes",
                                     show_run(want), show_run(got)))


def check_maps(ck, tag, host, bundle, got, where):
    """The run got of the bundle mapped, besides the glibc core, only reals of the bundle, one
    for each file the program mapped on the host (the layout names each real's source), and
    the same glibc core files."""
    hmaps, bmaps = maps_of(host.stderr), maps_of(got.stderr)
    if not ck.check(hmaps and bmaps, tag, "%s: no MAP lines (host %d, bundle %d)"
                    % (where, len(hmaps), len(bmaps))):
        return
    reals = os.path.join(bundle.root, "reals", "r") + "/"
    elves = [p for p in bmaps if is_elf(p)]
    core = sandbox.core_realpaths()
    strays = [p for p in elves if not p.startswith(reals) and os.path.realpath(p) not in core]
    ck.check(not strays, tag, "%s: mapped ELF files neither in %s nor glibc core: %s"
             % (where, reals, strays))
    hcore, hothers = split_maps(hmaps)
    bcore, bothers = split_maps(elves)
    ck.check(hcore == bcore, tag, "%s: glibc core mapped %s, on the host %s"
             % (where, sorted(bcore), sorted(hcore)))
    sources = {bundle.source_of.get(p, "<not an object of bundle.json: %s>" % p) for p in bothers}
    ck.check(sources == hothers, tag, "%s: the reals mapped are not the host's files\n"
             "  mapped on the host only: %s\n  mapped from the bundle only: %s" % (
                 where, sorted(hothers - sources), sorted(sources - hothers)))
    ck.check(len(bothers) == len(hothers), tag, "%s: %d reals mapped for %d host files"
             % (where, len(bothers), len(hothers)))


def in_sandbox(bundle, env, extra_binds=()):
    """The target machine: the bundle visible at the folder it was moved to, nothing else."""
    return sandbox.Sandbox(binds=[(bundle.root, bundle.root)] + list(extra_binds), env=env)

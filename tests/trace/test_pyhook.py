"""Tests the Python hook of `bundlefs trace` (tools/pyhook/sitecustomize.py).

Usage: /usr/bin/python3 tests/trace/test_pyhook.py HOOKDIR

Every check runs the real /usr/bin/python3 twice where it matters, once plainly and once with
the environment `bundlefs trace` sets up, and compares what the program saw and printed; then
it reads the records the hook wrote. Exit status 0 when every check passed, 1 otherwise, with
one line per failed assertion.
"""
import importlib.util
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

PY = "/usr/bin/python3"
TIMEOUT = 30
RECORD_KEYS = {
    "format", "version", "pid", "ppid", "forked_from", "started_ns", "complete", "end",
    "executable", "executable_realpath", "orig_argv", "argv", "python_version", "version_info",
    "implementation", "cache_tag", "abiflags", "multiarch", "soabi", "extension_suffixes",
    "prefix", "base_prefix", "exec_prefix", "base_exec_prefix", "platlibdir", "stdlib",
    "lib_dynload", "path_start", "path_exit", "modules", "hook_imported", "main_script",
    "main_module", "cwd", "env", "flags",
}
FLAG_KEYS = {"isolated", "ignore_environment", "no_site", "no_user_site", "safe_path"}

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
    return cond


class Run(object):
    """One finished (or killed) interpreter run and the records it left."""

    def __init__(self, proc_rc, out, err, trace_dir):
        self.rc, self.out, self.err = proc_rc, out, err
        self.trace_dir = trace_dir
        self.records = {}
        self.raw = {}
        self.leftovers = []
        for name in sorted(os.listdir(trace_dir)) if trace_dir else []:
            path = os.path.join(trace_dir, name)
            if not name.endswith(".json"):
                self.leftovers.append(name)
                continue
            with open(path, "rb") as f:
                self.raw[name] = f.read()
            try:
                self.records[name] = json.loads(self.raw[name].decode("ascii"),
                                                object_hook=unhex)
            except ValueError as e:
                self.records[name] = None
                failures.append("%s: not JSON (pure ASCII): %s" % (path, e))

    def only(self, what):
        """The single record of a run that starts no other Python process."""
        check(len(self.records) == 1, "%s: expected one record, found %s"
              % (what, sorted(self.records)))
        return next(iter(self.records.values()), None) or {}

    def by_pid(self, pid):
        return [r for r in self.records.values() if r and r.get("pid") == pid]


class Env(object):
    def __init__(self, hookdir, root):
        self.hookdir = hookdir
        self.root = root
        self.count = 0

    def base(self):
        # A fixed environment, so both runs of a comparison see the same one; bytecode is not
        # written so the hook folder in the source tree stays clean.
        return {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": self.root,
                "PYTHONDONTWRITEBYTECODE": "1"}

    def traced(self, env, trace_dir):
        env = dict(env)
        user = env.get("PYTHONPATH")
        env["PYTHONPATH"] = self.hookdir + (":" + user if user else "")
        env["BUNDLEFS_TRACE_DIR"] = trace_dir
        env["BUNDLEFS_TRACE_HOOK"] = self.hookdir
        return env

    def new_trace_dir(self):
        self.count += 1
        d = os.path.join(self.root, "trace-%d" % self.count)
        os.mkdir(d)
        return d

    def run(self, args, hook=True, extra=None, cwd=None, env_bytes=None, trace_dir=None):
        env = self.base()
        env.update(extra or {})
        if hook:
            trace_dir = trace_dir or self.new_trace_dir()
            env = self.traced(env, trace_dir)
            if trace_dir == "-":  # the hook without a trace directory
                del env["BUNDLEFS_TRACE_DIR"]
        benv = {os.fsencode(k): os.fsencode(v) for k, v in env.items()}
        benv.update(env_bytes or {})
        p = subprocess.run([PY] + args, env=benv, cwd=cwd or self.root, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=TIMEOUT)
        if hook and trace_dir != "-":
            trace_dir = os.path.join(cwd or self.root, trace_dir)  # it may be relative
        usable = hook and trace_dir != "-" and os.path.isdir(trace_dir)
        r = Run(p.returncode, p.stdout, p.stderr, trace_dir if usable else None)
        for name, rec in r.records.items():
            validate(rec, name, self.hookdir)
        check(not r.leftovers, "%s: files other than records left: %s" % (args, r.leftovers))
        return r

    def pair(self, args, what, **kw):
        """Runs args without and with the hook; the program must not tell the difference."""
        plain = self.run(args, hook=False, **dict(kw, trace_dir=None))
        traced = self.run(args, hook=True, **kw)
        check(plain.rc == traced.rc, "%s: exit status %r with the hook, %r without"
              % (what, traced.rc, plain.rc))
        check(plain.out == traced.out, "%s: stdout differs with the hook:\n  without: %r\n  with:"
              "    %r" % (what, plain.out, traced.out))
        check(plain.err == traced.err, "%s: stderr differs with the hook:\n  without: %r\n  with:"
              "    %r" % (what, plain.err, traced.err))
        return plain, traced

    def script(self, name, text):
        path = os.path.join(self.root, name)
        with open(path, "w") as f:
            f.write(text)
        return path


def validate(rec, name, hookdir):
    """What every record must satisfy, whatever the program did."""
    if rec is None:
        return
    w = "record %s" % name
    check(set(rec) == RECORD_KEYS, "%s: keys differ: missing %s, extra %s"
          % (w, sorted(RECORD_KEYS - set(rec)), sorted(set(rec) - RECORD_KEYS)))
    if set(rec) != RECORD_KEYS:
        return
    check(rec["format"] == "bundlefs-python-facts" and rec["version"] == 1,
          "%s: format/version %r/%r" % (w, rec["format"], rec["version"]))
    check(name.startswith("py-%d-" % rec["pid"]), "%s: pid %r not in the file name"
          % (w, rec["pid"]))
    check(rec["end"] in ("running", "exit", "os._exit"), "%s: end %r" % (w, rec["end"]))
    check(rec["complete"] is (rec["end"] == "exit"), "%s: complete %r with end %r"
          % (w, rec["complete"], rec["end"]))
    check(rec["end"] != "running" or rec["path_exit"] is None,
          "%s: path_exit %r in a start record" % (w, rec["path_exit"]))
    check(rec["executable"] == PY and rec["executable_realpath"] == os.path.realpath(PY),
          "%s: executable %r / %r" % (w, rec["executable"], rec["executable_realpath"]))
    check(rec["version_info"] == list(sys.version_info) and rec["python_version"] == sys.version,
          "%s: version_info %r" % (w, rec["version_info"]))
    check(rec["implementation"] == "cpython" and rec["cache_tag"] == sys.implementation.cache_tag,
          "%s: implementation %r %r" % (w, rec["implementation"], rec["cache_tag"]))
    check(rec["multiarch"] == getattr(sys.implementation, "_multiarch", None),
          "%s: multiarch %r" % (w, rec["multiarch"]))
    for key in ("prefix", "base_prefix", "exec_prefix", "base_exec_prefix"):
        check(rec[key] == getattr(sys, key), "%s: %s %r" % (w, key, rec[key]))
    check(rec["platlibdir"] == getattr(sys, "platlibdir", "lib"), "%s: platlibdir" % w)
    check(rec["stdlib"] == os.path.dirname(os.__file__), "%s: stdlib %r" % (w, rec["stdlib"]))
    check(isinstance(rec["extension_suffixes"], list) and rec["extension_suffixes"]
          and rec["extension_suffixes"][0].endswith(".so"),
          "%s: extension_suffixes %r" % (w, rec["extension_suffixes"]))
    names = [m.get("name") for m in rec["modules"]]
    check(names == sorted(names) and len(set(names)) == len(names),
          "%s: modules not sorted by name, or repeated" % w)
    check(all(set(m) == {"name", "origin", "file"} for m in rec["modules"]),
          "%s: a modules entry has keys other than name, origin, file" % w)
    check(rec["hook_imported"] == sorted(rec["hook_imported"])
          and set(rec["hook_imported"]) <= set(names),
          "%s: hook_imported %r not a sorted subset of modules" % (w, rec["hook_imported"]))
    check(not any(k.startswith("BUNDLEFS_") for k in rec["env"]),
          "%s: env leaks BUNDLEFS_ names: %r" % (w, sorted(rec["env"])))
    check(all(k.startswith("PYTHON") or k.startswith("LD_") for k in rec["env"]),
          "%s: env holds other names: %r" % (w, sorted(rec["env"])))
    check(set(rec["flags"]) == FLAG_KEYS and all(isinstance(v, bool)
                                                  for v in rec["flags"].values()),
          "%s: flags %r" % (w, rec["flags"]))
    for key in ("path_start", "path_exit"):
        check(not rec[key] or hookdir not in rec[key], "%s: %s holds the hook folder" % (w, key))


PROBE = r"""
import os, sys
mods_file = os.environ.get("PROBE_MODULES")
if mods_file:
    with open(mods_file + str(os.getpid()), "w") as f:
        f.write("\n".join(sorted(sys.modules)))
print("path", sys.path)
sc = sys.modules.get("sitecustomize")
print("sitecustomize", getattr(sc, "__file__", None) if sc else "absent")
print("argv", sys.argv)
print("main file", getattr(sys.modules["__main__"], "__file__", None))
how = sys.argv[1] if len(sys.argv) > 1 else "0"
if how == "msg":
    sys.exit("a message for stderr")
if how == "raise":
    raise ValueError("uncaught")
if how == "sqlite":
    import sqlite3
    print("sqlite", sqlite3.sqlite_version_info >= (3,))
sys.exit(int(how))
"""


def read_probe_modules(prefix):
    found = [f for f in os.listdir(os.path.dirname(prefix))
             if f.startswith(os.path.basename(prefix))]
    check(len(found) == 1, "probe: expected one module list at %s*, found %s" % (prefix, found))
    with open(os.path.join(os.path.dirname(prefix), found[0])) as f:
        text = f.read()
    os.unlink(os.path.join(os.path.dirname(prefix), found[0]))
    return set(text.split("\n"))


def test_transparent(t):
    """Point 1: output, exit status, sys.path, sys.argv unchanged; point 3/4 basic record."""
    probe = t.script("probe.py", PROBE)
    for how, want_rc in (("0", 0), ("3", 3), ("msg", 1), ("raise", 1)):
        what = "probe.py %s" % how
        t0 = time.monotonic_ns()
        plain, traced = t.pair(["probe.py", how], what)
        t1 = time.monotonic_ns()
        check(plain.rc == want_rc, "%s: exit status %r, expected %r" % (what, plain.rc, want_rc))
        rec = traced.only(what)
        if not rec:
            continue
        check(rec["complete"] is True and rec["end"] == "exit",
              "%s: complete/end %r/%r" % (what, rec["complete"], rec["end"]))
        check(t0 <= rec["started_ns"] <= t1, "%s: started_ns %r not CLOCK_MONOTONIC within "
              "[%d, %d]" % (what, rec["started_ns"], t0, t1))
        check(rec["argv"] == ["probe.py", how], "%s: argv %r" % (what, rec["argv"]))
        check(rec["orig_argv"] == [PY, "probe.py", how], "%s: orig_argv %r"
              % (what, rec["orig_argv"]))
        check(rec["main_script"] == probe, "%s: main_script %r, expected %r"
              % (what, rec["main_script"], probe))
        check(rec["cwd"] == t.root, "%s: cwd %r" % (what, rec["cwd"]))
        check(rec["forked_from"] is None and rec["ppid"] == os.getpid(),
              "%s: forked_from/ppid %r/%r" % (what, rec["forked_from"], rec["ppid"]))
        check(rec["path_exit"] == [t.root] + rec["path_start"],
              "%s: path_exit %r is not the script folder + path_start %r"
              % (what, rec["path_exit"], rec["path_start"]))
        check(rec["soabi"] and rec["extension_suffixes"][0] == "." + rec["soabi"] + ".so",
              "%s: soabi %r does not match extension_suffixes" % (what, rec["soabi"]))
    # sys.path as the no-hook program saw it is printed by the probe: the pair compared it.
    # -c and -m: argv[0] is not a file; -m sets __main__.__file__
    plain, traced = t.pair(["-c", "import sys; print(sys.path, sys.argv)", "x"], "-c")
    rec = traced.only("-c")
    if rec:
        check(rec["main_script"] == "-c" and rec["main_module"] is None,
              "-c: main_script/main_module %r/%r" % (rec["main_script"], rec["main_module"]))
    plain, traced = t.pair(["-m", "probe", "0"], "-m probe")
    rec = traced.only("-m probe")
    if rec:
        check(rec["main_module"] == probe and rec["main_script"] == probe,
              "-m probe: main_module/main_script %r/%r, expected %r"
              % (rec["main_module"], rec["main_script"], probe))


def test_no_new_imports(t):
    """Point 2: the program sees only the modules it would see without the hook, plus the
    ones the record names in hook_imported; the modules at exit include _sqlite3 from
    lib-dynload."""
    t.script("probe.py", PROBE)
    prefix = os.path.join(t.root, "mods-")
    extra = {"PROBE_MODULES": prefix}
    plain = t.run(["probe.py", "sqlite"], hook=False, extra=extra)
    without = read_probe_modules(prefix)
    traced = t.run(["probe.py", "sqlite"], hook=True, extra=extra)
    within = read_probe_modules(prefix)
    check(plain.out == traced.out and plain.err == traced.err and plain.rc == traced.rc,
          "probe.py sqlite: output differs with the hook")
    rec = traced.only("probe.py sqlite")
    if not rec:
        return
    hooked = set(rec["hook_imported"])
    check(within - hooked == without, "imports: the program sees other modules with the hook: "
          "extra %s, missing %s" % (sorted(within - hooked - without),
                                    sorted(without - within)))
    check(not (hooked & without), "imports: hook_imported %s names modules the program loads "
          "anyway" % sorted(hooked & without))
    check(hooked <= {"atexit", "time"}, "imports: the hook imported %s, more than atexit and "
          "time" % sorted(hooked))
    mods = {m["name"]: m for m in rec["modules"]}
    check(within <= set(mods), "imports: record misses modules: %s" % sorted(within - set(mods)))
    dyn = rec["lib_dynload"]
    check(dyn and os.path.basename(dyn) == "lib-dynload" and dyn in rec["path_start"],
          "lib_dynload %r" % dyn)
    sq = mods.get("_sqlite3", {})
    check(dyn and (sq.get("origin") or "").startswith(dyn + "/")
          and sq.get("file") == sq.get("origin"),
          "_sqlite3: origin %r is not under lib_dynload %r" % (sq.get("origin"), dyn))
    check(mods.get("sys", {}).get("origin") == "built-in", "sys: origin %r"
          % mods.get("sys", {}).get("origin"))
    check("sysconfig" not in mods,
          "modules: lists sysconfig, which only the hook imported, at exit")


def test_chain_app(t):
    """Point 1: an app's sitecustomize in PYTHONPATH runs once and stays sys.modules'."""
    app = os.path.join(t.root, "app")
    os.mkdir(app)
    counter = os.path.join(t.root, "app-ran")
    added = os.path.join(t.root, "added-by-app")
    with open(os.path.join(app, "sitecustomize.py"), "w") as f:
        f.write("import sys\nwith open(%r, 'a') as f: f.write('ran\\n')\n"
                "sys.path.append(%r)\n" % (counter, added))
    t.script("probe.py", PROBE)
    extra = {"PYTHONPATH": app}
    for hook in (False, True):
        if os.path.exists(counter):
            os.unlink(counter)
        r = t.run(["probe.py"], hook=hook, extra=extra)
        with open(counter) as f:
            runs = f.read().count("ran")
        check(runs == 1, "app sitecustomize ran %d times (hook %s)" % (runs, hook))
        check(("sitecustomize %s" % os.path.join(app, "sitecustomize.py")).encode() in r.out,
              "app sitecustomize is not sys.modules['sitecustomize'] (hook %s): %r"
              % (hook, r.out))
        if hook:
            rec = r.only("app sitecustomize")
            if rec:
                check(rec["env"].get("PYTHONPATH") == app, "app: env PYTHONPATH %r, expected %r"
                      % (rec["env"].get("PYTHONPATH"), app))
                check(rec["path_start"][0] == app and rec["path_start"][-1] == added,
                      "app: path_start %r lacks the app folder first and its addition last"
                      % rec["path_start"])
        else:
            plain_out = r.out
    check(plain_out == r.out, "app: stdout differs with the hook: %r / %r" % (plain_out, r.out))


def test_chain_system(t):
    """Point 1: the interpreter's own sitecustomize (Debian: /usr/lib/python3.X) still runs,
    once; with none on the path the name stays absent."""
    plain, traced = t.pair(["-c", "import sys; print(getattr(sys.modules.get('sitecustomize'),"
                            " '__file__', 'absent'))"], "system sitecustomize")
    system = os.path.join(os.path.dirname(os.__file__), "sitecustomize.py")
    if os.path.exists(system):
        check(plain.out.strip() == system.encode(), "system sitecustomize: %r, expected %r"
              % (plain.out, system))
        # Debian's tries `import apport_python_hook`: -X importtime shows each run of it.
        for hook in (False, True):
            r = t.run(["-X", "importtime", "-c", "pass"], hook=hook)
            n = r.err.count(b"apport_python_hook")
            check(n == 1, "system sitecustomize ran %d times (hook %s)" % (n, hook))
    # No sitecustomize anywhere: the stdlib folder is off the path when site.main() runs.
    stdlib = os.path.dirname(os.__file__)
    t.script("nosite.py", "import sys\nsys.path[:] = [p for p in sys.path if p != %r]\n"
             "import site\nsite.main()\nprint('sitecustomize' in sys.modules, sys.path)\n"
             % stdlib)
    plain, traced = t.pair(["-S", "nosite.py"], "no sitecustomize")
    check(plain.out.startswith(b"False "), "no sitecustomize: %r" % plain.out)
    rec = traced.only("no sitecustomize")
    if rec:
        check(rec["flags"]["no_site"] is True, "no sitecustomize: flags.no_site %r"
              % rec["flags"]["no_site"])


def test_chain_errors(t):
    """Point 1: what a chained sitecustomize raises is reported by site.py as without us."""
    for name, body in (("raises", "raise RuntimeError('boom')\n"),
                       ("imports", "import no_such_module_for_pyhook_test\n")):
        d = os.path.join(t.root, "bad-" + name)
        os.mkdir(d)
        with open(os.path.join(d, "sitecustomize.py"), "w") as f:
            f.write(body)
        plain, traced = t.pair(["-c", "import sys; print('sitecustomize' in sys.modules)"],
                               "sitecustomize that %s" % name, extra={"PYTHONPATH": d})
        check(b"Error in sitecustomize" in plain.err, "sitecustomize that %s: %r"
              % (name, plain.err))
        rec = traced.only("sitecustomize that %s" % name)
        check(rec.get("complete") is True, "sitecustomize that %s: no complete record" % name)


def test_os_exit(t):
    """Point 3: os._exit writes the record first."""
    t.script("osexit.py", "import os, sys\nprint('bye', flush=True)\nos._exit(5)\n")
    plain, traced = t.pair(["osexit.py"], "os._exit")
    check(plain.rc == 5, "os._exit: exit status %r" % plain.rc)
    rec = traced.only("os._exit")
    if rec:
        check(rec["end"] == "os._exit" and rec["complete"] is False,
              "os._exit: end/complete %r/%r" % (rec["end"], rec["complete"]))
        check(rec["main_module"] == os.path.join(t.root, "osexit.py"),
              "os._exit: main_module %r" % rec["main_module"])


def test_fork(t):
    """Point 3: a multiprocessing fork child writes its own record."""
    t.script("mp.py", "import multiprocessing as mp, os, sys\n"
             "def work(q):\n    q.put(os.getpid())\n"
             "if __name__ == '__main__':\n"
             "    ctx = mp.get_context('fork')\n    q = ctx.Queue()\n"
             "    p = ctx.Process(target=work, args=(q,))\n    p.start()\n"
             "    child = q.get(timeout=20)\n    p.join()\n"
             "    print('exit', p.exitcode)\n"
             "    sys.stderr.write('%d %d\\n' % (os.getpid(), child))\n")
    traced = t.run(["mp.py"])
    check(traced.rc == 0 and traced.out == b"exit 0\n", "fork: %r %r %r"
          % (traced.rc, traced.out, traced.err))
    try:
        parent, child = map(int, traced.err.split())
    except ValueError:
        failures.append("fork: no pids on stderr: %r" % traced.err)
        return
    prec, crec = traced.by_pid(parent), traced.by_pid(child)
    check(len(prec) == 1 and len(crec) == 1 and len(traced.records) == 2,
          "fork: records %s, expected one for %d and one for %d"
          % (sorted(traced.records), parent, child))
    if prec and crec:
        p, c = prec[0], crec[0]
        check(p["forked_from"] is None and p["complete"] is True,
              "fork: parent forked_from/complete %r/%r" % (p["forked_from"], p["complete"]))
        check(c["forked_from"] == parent and c["ppid"] == parent,
              "fork: child forked_from/ppid %r/%r, expected %d"
              % (c["forked_from"], c["ppid"], parent))
        check(c["end"] == "os._exit" and c["complete"] is False,
              "fork: child end/complete %r/%r" % (c["end"], c["complete"]))
        check(c["started_ns"] > p["started_ns"], "fork: child started_ns not after the parent's")
        check(any(m["name"] == "multiprocessing" for m in c["modules"]),
              "fork: child record lacks multiprocessing")


def test_fork_unannounced(t):
    """Point 3: a fork the at-fork handlers do not see (fork() called from C) still gets a
    record of its own instead of overwriting the parent's."""
    t.script("cfork.py", "import ctypes, os, sys\n"
             "pid = ctypes.CDLL(None).fork()\n"
             "if pid == 0:\n    os._exit(7)\n"
             "_, status = os.waitpid(pid, 0)\n"
             "print(os.getpid(), pid, os.waitstatus_to_exitcode(status))\n")
    traced = t.run(["cfork.py"])
    try:
        parent, child, code = map(int, traced.out.split())
    except ValueError:
        failures.append("C fork: %r %r" % (traced.out, traced.err))
        return
    check(code == 7, "C fork: child exit status %d" % code)
    prec, crec = traced.by_pid(parent), traced.by_pid(child)
    check(len(prec) == 1 and prec[0]["complete"] is True, "C fork: parent records %r" % prec)
    check(len(crec) == 1 and crec[0]["forked_from"] == parent and crec[0]["end"] == "os._exit",
          "C fork: child records %r" % [(r["forked_from"], r["end"]) for r in crec])


def test_fork_exec_and_children(t):
    """Point 1/3: children inherit the hook through the environment; a fork that execs
    Python again records under the same pid with the next free k."""
    t.script("forkexec.py", "import os, subprocess, sys\n"
             "pid = os.fork()\n"
             "if pid == 0:\n    os.execv(%r, [%r, '-c', 'pass'])\n"
             "os.waitpid(pid, 0)\n"
             "subprocess.run([%r, '-c', 'pass'], check=True)\n"
             "print(pid)\n" % (PY, PY, PY))
    traced = t.run(["forkexec.py"])
    check(traced.rc == 0, "fork+exec: %r %r" % (traced.rc, traced.err))
    child = int(traced.out or b"0")
    names = sorted(n for n in traced.records if n.startswith("py-%d-" % child))
    check(names == ["py-%d-0.json" % child, "py-%d-1.json" % child],
          "fork+exec: records of pid %d: %s" % (child, names))
    if len(names) == 2:
        forked, execd = traced.records[names[0]], traced.records[names[1]]
        check(forked["forked_from"] is not None and forked["end"] == "running",
              "fork+exec: the forked image's record %r/%r"
              % (forked["forked_from"], forked["end"]))
        check(execd["forked_from"] is None and execd["complete"] is True
              and execd["argv"] == ["-c"], "fork+exec: the exec'd record %r %r %r"
              % (execd["forked_from"], execd["complete"], execd["argv"]))
    check(len(traced.records) == 4, "fork+exec: expected 4 records (script, fork, exec, "
          "subprocess), found %s" % sorted(traced.records))


def test_killed(t):
    """Point 3: SIGKILL leaves the start record; point 2 at start-up."""
    t.script("sleeper.py", "import sys, time\nprint('ready', flush=True)\ntime.sleep(60)\n")
    trace_dir = t.new_trace_dir()
    env = t.traced(t.base(), trace_dir)
    p = subprocess.Popen([PY, "sleeper.py"], env=env, cwd=t.root, stdout=subprocess.PIPE)
    try:
        line = p.stdout.readline()
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=TIMEOUT)
    finally:
        p.stdout.close()
        if p.poll() is None:
            p.kill()
            p.wait()
    check(line == b"ready\n" and p.returncode == -signal.SIGKILL, "killed: %r %r"
          % (line, p.returncode))
    r = Run(p.returncode, b"", b"", trace_dir)
    for name, rec in r.records.items():
        validate(rec, name, t.hookdir)
    rec = r.only("killed")
    if not rec:
        return
    check(rec["pid"] == p.pid and rec["complete"] is False and rec["end"] == "running",
          "killed: pid/complete/end %r/%r/%r" % (rec["pid"], rec["complete"], rec["end"]))
    check(rec["path_exit"] is None, "killed: start record has exit facts")
    # The start record's modules: what python loads for `-c pass` plus the hook's own.
    prefix = os.path.join(t.root, "start-mods-")
    t.run(["-c", "import os, sys; open(%r + str(os.getpid()), 'w').write('\\n'.join(sys.modules))"
           % prefix], hook=False)
    baseline = read_probe_modules(prefix) | set(rec["hook_imported"])
    started = {m["name"] for m in rec["modules"]}
    check(started <= baseline, "start-up: the hook imported %s without listing them"
          % sorted(started - baseline))


def test_env(t):
    """Point 4: env keeps loading variables as the program saw them, minus the injection."""
    audit = "/nonexistent/bundlefs-audit.so"
    other = "/nonexistent/other-audit.so"
    extra = {"PYTHONPATH": "/nonexistent/user-pp", "LD_AUDIT": other + ":" + audit,
             "BUNDLEFS_TRACE_AUDIT": audit, "BUNDLEFS_OTHER": "x", "LD_LIBRARY_PATH": "/nowhere",
             "PYTHONHASHSEED": "7", "UNRELATED": "1"}
    r = t.run(["-c", "pass"], extra=extra,
              env_bytes={b"PYTHONFOO": b"\xff\xfe-value", b"PYTHONPATH": os.fsencode(
                  t.hookdir) + b":/nonexistent/user-pp:/nonexistent/\xff"})
    rec = r.only("env")
    want = {"PYTHONPATH": "/nonexistent/user-pp:/nonexistent/\udcff", "LD_AUDIT": other,
            "LD_LIBRARY_PATH": "/nowhere", "PYTHONHASHSEED": "7",
            "PYTHONFOO": "\udcff\udcfe-value", "PYTHONDONTWRITEBYTECODE": "1"}
    if rec:
        check(rec["env"] == want, "env: %r, expected %r" % (rec["env"], want))
        check(list(rec["env"]) == sorted(rec["env"]), "env: keys not sorted")
        check("/nonexistent/\udcff" in rec["path_start"], "env: non-UTF-8 PYTHONPATH element "
              "missing from path_start %r" % rec["path_start"])
        raw = next(iter(r.raw.values()))
        check(b'{"hex":"fffe2d76616c7565"}' in raw, "env: undecodable bytes not written as "
              "a hex object")
    # Only the injection: both keys go.
    r = t.run(["-c", "pass"], extra={"LD_AUDIT": audit, "BUNDLEFS_TRACE_AUDIT": audit})
    rec = r.only("env, injection only")
    if rec:
        check("PYTHONPATH" not in rec["env"] and "LD_AUDIT" not in rec["env"],
              "env, injection only: %r" % rec["env"])


HOSTILE = r"""
import importlib.util, os, sys, threading, time, types

class SpecRaises(types.ModuleType):
    @property
    def __spec__(self):
        raise RuntimeError("no spec for you")

class NotAModule(object):
    def __getattr__(self, name):
        raise RuntimeError(name)

sys.modules["spec_raises"] = SpecRaises("spec_raises")
sys.modules["not_a_module"] = NotAModule()
sys.modules["blocked"] = None
# A lazily loaded module runs its code on first attribute access: the hook must not.
spec = importlib.util.spec_from_file_location("lazy_probe", %(lazy)r)
spec.loader = importlib.util.LazyLoader(spec.loader)
lazy = importlib.util.module_from_spec(spec)
sys.modules["lazy_probe"] = lazy
spec.loader.exec_module(lazy)

def churn():
    i = 0
    while True:
        sys.modules["churn_%%d" %% (i %% 50)] = types.ModuleType("churn")
        sys.modules.pop("churn_%%d" %% ((i + 25) %% 50), None)
        i += 1
threading.Thread(target=churn, daemon=True).start()
threading.Thread(target=time.sleep, args=(0.2,)).start()

os.environ.pop("BUNDLEFS_TRACE_DIR", None)
os.environ.pop("PYTHONPATH", None)
os.chdir("/")
sys.path.append(b"/nonexistent/bytes\xff")
sys.path.append("/nonexistent/str\udcfe")
sys.path.append(42)
if sys.argv[1] == "list":
    import atexit
    atexit.register(__import__, "colorsys")  # must run before the hook's exit record
else:
    sys.path = "not a list"
    sys.argv = None
print("done")
"""


def test_hostile(t):
    """Point 5: odd modules, threads, deleted environment, non-UTF-8 and non-list sys.path."""
    lazy = t.script("lazy_probe.py", "open(%r, 'w').close()\n"
                    % os.path.join(t.root, "lazy-ran"))
    t.script("hostile.py", HOSTILE % {"lazy": lazy})
    for how in ("list", "nonlist"):
        what = "hostile %s" % how
        # A relative trace directory, and the program changes directory before it exits.
        os.mkdir(os.path.join(t.root, "rel-" + how))
        plain, traced = t.pair(["hostile.py", how], what, trace_dir="rel-" + how)
        check(plain.out == b"done\n", "%s: %r %r" % (what, plain.out, plain.err))
        check(not os.path.exists(os.path.join(t.root, "lazy-ran")),
              "%s: the lazily loaded module was executed" % what)
        rec = traced.only(what)
        if not rec:
            continue
        check(rec["complete"] is True, "%s: record not complete" % what)
        mods = {m["name"]: m for m in rec["modules"]}
        check(mods.get("spec_raises", {}).get("origin", 1) is None
              and mods.get("not_a_module", {}).get("origin", 1) is None
              and "blocked" not in mods and "lazy_probe" in mods
              and ("colorsys" in mods) == (how == "list"),
              "%s: odd modules recorded as %r" % (what, [mods.get(n) for n in (
                  "spec_raises", "not_a_module", "blocked", "lazy_probe", "colorsys")]))
        check(rec["cwd"] == t.root and rec["main_script"] == os.path.join(t.root, "hostile.py")
              or how == "nonlist", "%s: cwd/main_script %r/%r after chdir"
              % (what, rec["cwd"], rec["main_script"]))
        if how == "list":
            check(rec["path_exit"][-3:] == ["/nonexistent/bytes\udcff", "/nonexistent/str\udcfe",
                                            None], "%s: path_exit tail %r"
                  % (what, rec["path_exit"][-3:]))
        else:
            check(rec["path_exit"] is None and rec["argv"] is None and rec["main_script"] is None,
                  "%s: path_exit/argv %r/%r" % (what, rec["path_exit"], rec["argv"]))


def test_no_trace_dir(t):
    """Point 3: without a usable trace directory the hook records nothing, silently, and
    still restores sys.path and chains."""
    t.script("probe.py", PROBE)
    plain = t.run(["probe.py"], hook=False)
    notafile = t.script("a-file", "")
    for label, trace_dir in (("unset", "-"), ("missing", "/nonexistent/trace-dir"),
                             ("not a directory", notafile),
                             ("under a file", os.path.join(notafile, "sub"))):
        r = t.run(["probe.py"], trace_dir=trace_dir)
        check((r.rc, r.out, r.err) == (plain.rc, plain.out, plain.err),
              "trace dir %s: run differs: %r %r %r" % (label, r.rc, r.out, r.err))
    check(os.path.getsize(notafile) == 0, "trace dir not a directory: the file was written")


def test_encoder(t):
    """Point 5: the hook's own JSON encoder is valid for any str (loaded here under another
    name, so it neither chains nor records)."""
    spec = importlib.util.spec_from_file_location(
        "bundlefs_pyhook_under_test", os.path.join(t.hookdir, "sitecustomize.py"))
    hook = importlib.util.module_from_spec(spec)
    saved = os.environ.pop("BUNDLEFS_TRACE_DIR", None)
    try:
        spec.loader.exec_module(hook)
    finally:
        if saved is not None:
            os.environ["BUNDLEFS_TRACE_DIR"] = saved
    rng = random.Random(1234)
    alphabet = ['"', "\\", "\x00", "\x1f", "\x7f", "\n", "a", "\u00e9", "\u2028", "\ud800",
                "\udcff", "\udfff", "\U0001f600", "\uffff"]
    samples = ["", "plain/ascii path"] + ["".join(rng.choice(alphabet) for _ in range(12))
                                          for _ in range(500)]
    for s in samples:
        enc = hook._json_str(s)
        try:
            back = json.loads(enc, object_hook=unhex)
        except ValueError:
            back = ValueError
        # A str with NUL (no path has one) is null; text is a JSON string; a str with the
        # surrogates that stand for undecodable bytes is {"hex": those bytes} and comes back
        # exactly; other surrogates (no OS string has them) only need to give valid JSON.
        escapes_only = all(not "\ud800" <= c <= "\udfff" or "\udc80" <= c <= "\udcff"
                           for c in s)
        text = all(not "\ud800" <= c <= "\udfff" for c in s)
        if "\0" in s:
            ok = back is None
        elif text:
            ok = enc.startswith('"') and back == s
        else:
            ok = enc.startswith('{"hex":') and (back == s or not escapes_only)
        ok = ok and enc.isascii()
        if not check(ok, "encoder: %r encodes as %r, which reads back as %r" % (s, enc, back)):
            break
    check(hook._json_str("/x\udcff") == '{"hex":"2f78ff"}', "encoder: undecodable byte not hex")
    out = []
    hook._json({"a": [1, True, None, "x"], "b": {"c": -5}}, out)
    check(json.loads("".join(out)) == {"a": [1, True, None, "x"], "b": {"c": -5}},
          "encoder: nested value %r" % "".join(out))


def unhex(obj):
    """The reverse of the hook's {"hex": ...} form for strings that are not text."""
    if list(obj) == ["hex"]:
        raw = bytes.fromhex(obj["hex"])
        try:
            return raw.decode("utf-8", "surrogateescape")
        except UnicodeDecodeError:
            return raw.decode("utf-8", "surrogatepass")
    return obj


TESTS = [test_transparent, test_no_new_imports, test_chain_app, test_chain_system,
         test_chain_errors, test_os_exit, test_fork, test_fork_unannounced,
         test_fork_exec_and_children, test_killed, test_env, test_hostile, test_no_trace_dir,
         test_encoder]


def main(argv):
    if len(argv) != 2 or not os.path.isfile(os.path.join(argv[1], "sitecustomize.py")):
        sys.stderr.write("usage: %s HOOKDIR (the folder holding sitecustomize.py)\n" % argv[0])
        return 2
    hookdir = os.path.abspath(argv[1])
    sys.dont_write_bytecode = True  # test_encoder loads the hook: no __pycache__ in the tree
    for test in TESTS:
        root = tempfile.mkdtemp(prefix="pyhook-")
        before = len(failures)
        try:
            test(Env(hookdir, os.path.realpath(root)))
        except Exception as e:
            failures.append("%s: crashed: %s: %s" % (test.__name__, type(e).__name__, e))
        finally:
            shutil.rmtree(root, ignore_errors=True)
        print("%s %s" % ("ok  " if len(failures) == before else "FAIL", test.__name__))
    for f in failures:
        sys.stderr.write("FAIL: %s\n" % f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/python3
"""End-to-end tests of bundles (tests/bundle): trace an app, build its bundle, materialize it,
move the folder elsewhere with mv, and run bin/APP in a bwrap sandbox that holds nothing but
the glibc core, /bin/sh, /proc, /dev and the bundle (sandbox.py).

  e2e_apps.py --bundlefs BIN --work DIR python_stdlib  app (a): python3 -c with sqlite3, ssl,
                                                       zlib, ctypes and cffi
  e2e_apps.py --bundlefs BIN --work DIR numpy_pil      app (b): a numpy + PIL script
  e2e_apps.py --bundlefs BIN --work DIR c              app (c): a C program, 4-level NEEDED
                                                       graph, two libsame.so, a symlink chain
  e2e_apps.py --bundlefs BIN --work DIR two_depths     an extension module that is also a
                                                       DT_NEEDED of another one, at two depths

Every case compares the bundle's stdout and exit status with the program's own run on this
host, and the files the bundle's process mapped (its /proc/self/maps) with the host run's: only
reals of the bundle, one per host file, plus the same glibc core files. The C and two_depths
cases also run the bundle with LD_LIBRARY_PATH naming a folder of impostor libraries that
carry the bundled names: the bundled ones must still be loaded (the impostors do take over the
original program: checked first, so the test proves something).
Exit status: 0 all checks passed, 1 some failed, 77 bwrap or gcc is missing."""
import argparse
import os
import shutil
import sys

import e2e_lib as E
import fixtures as F

ARGS = ["one", "two words", "$HOME", "*"]  # "$@" must reach the program unchanged


def pipeline(ck, bf, work, name, cmd, traced_args, cwd, env, evil=None, runs=(ARGS,)):
    """Runs cmd + traced_args on the host and bundles that run; then runs bin/NAME ARGS in the
    sandbox for each ARGS of runs, against cmd + ARGS on the host (the launcher passes "$@" to
    the program; a -c CODE is part of cmd), and with LD_LIBRARY_PATH=/evil when evil is a
    folder of impostors."""
    plain = E.run(cmd + traced_args, env=env, cwd=cwd)
    # The apps exit with 10 + their argument count once they have done everything.
    if not ck.check(plain.returncode == 10 + len(traced_args), name,
                    "the app itself fails here:\n%s" % E.show_run(plain)):
        return
    bundle = E.make_bundle(ck, bf, work, name, cmd + traced_args, env, cwd, plain)
    if bundle is None:
        return
    for args in runs:
        tag = "%s:run %s" % (name, args)
        host = E.run(cmd + args, env=env, cwd=cwd)
        # Outside the sandbox first: a bundle that leans on this machine's files shows it here
        # only through the maps (the files are all there).
        local = E.run([bundle.launcher] + args, env=env, cwd=cwd)
        E.compare(ck, tag + " on the host", host, local, "bin/%s on this host" % name)
        E.check_maps(ck, tag + " on the host", host, bundle, local, "on this host")
        got = E.in_sandbox(bundle, env).run([bundle.launcher] + args)
        if E.compare(ck, tag + " in the sandbox", host, got, "bin/%s in the sandbox" % name):
            E.check_maps(ck, tag + " in the sandbox", host, bundle, got, "in the sandbox")
    if evil:
        ld_library_path(ck, name, cmd, cwd, env, bundle, evil)


def ld_library_path(ck, name, cmd, cwd, env, bundle, evil):
    tag = name + ":LD_LIBRARY_PATH"
    host = E.run(cmd, env=env, cwd=cwd)
    fooled = E.run(cmd, env=dict(env, LD_LIBRARY_PATH=evil), cwd=cwd)
    if not ck.check(b"EVIL" in fooled.stdout, tag, "the impostors in %s do not change the "
                    "original program's output, so this proves nothing:\n%s"
                    % (evil, E.show_run(fooled))):
        return
    box = E.in_sandbox(bundle, dict(env, LD_LIBRARY_PATH="/evil"), [(evil, "/evil")])
    got = box.run([bundle.launcher])
    if E.compare(ck, tag, host, got, "bin/%s with LD_LIBRARY_PATH=/evil in the sandbox" % name):
        E.check_maps(ck, tag, host, bundle, got, "with LD_LIBRARY_PATH=/evil")


# ---------------------------------------------------------------- app (a)

def case_python_stdlib(ck, bf, work):
    env = E.base_env(os.path.join(work, "home"))
    cwd = E.fresh_dir(os.path.join(work, "cwd"))
    code = "".join(open(os.path.join(E.PY_SRC, n)).read()
                   for n in ("maps_report.py", "stdlib_app.py"))
    pipeline(ck, bf, work, "pystd", [E.PYTHON, "-c", code], [], cwd, env)


# ---------------------------------------------------------------- app (b)

def case_numpy_pil(ck, bf, work):
    env = E.base_env(os.path.join(work, "home"))
    app = E.fresh_dir(os.path.join(work, "app"))
    for n in ("maps_report.py", "numpy_pil_app.py"):
        shutil.copy(os.path.join(E.PY_SRC, n), app)
    pipeline(ck, bf, work, "numpil", [E.PYTHON, os.path.join(app, "numpy_pil_app.py")], [],
             app, env)


# ---------------------------------------------------------------- app (c)

def case_c(ck, bf, work):
    env = E.base_env(os.path.join(work, "home"))
    exe, evil = F.build_c(os.path.join(work, "tree"))
    cwd = E.fresh_dir(os.path.join(work, "cwd"))
    pipeline(ck, bf, work, "capp", [exe], [], cwd, env, evil=evil)


# ---------------------------------------------------------------- two depths

def case_two_depths(ck, bf, work):
    env = E.base_env(os.path.join(work, "home"))
    main_py, evil = F.build_pkg(os.path.join(work, "app"))
    cwd = E.fresh_dir(os.path.join(work, "cwd"))
    # Traced with the extension module loaded by path first; the bundle must also work when
    # it is first loaded as _user's dependency.
    pipeline(ck, bf, work, "twodeep", [E.PYTHON, main_py], ["core"], cwd, env, evil=evil,
             runs=(["core"], ["user"], ["core", "two words"]))


CASES = {"python_stdlib": case_python_stdlib, "numpy_pil": case_numpy_pil, "c": case_c,
         "two_depths": case_two_depths}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundlefs", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("case", choices=sorted(CASES))
    a = ap.parse_args()
    for tool in ("bwrap", "gcc"):
        if not shutil.which(tool):
            print("SKIP: %s is not installed" % tool)
            return 77
    work = E.fresh_dir(os.path.realpath(a.work))
    ck = E.Checks()
    CASES[a.case](ck, E.Bundlefs(a.bundlefs), work)
    return E.finish(ck, work)


if __name__ == "__main__":
    sys.exit(main())

"""A bwrap sandbox shaped like the target machine of a Linux bundle (docs/DESIGN.md, "What the
target machine is assumed to have"): an empty root holding only the glibc core that bundles
exclude, the POSIX shell /bin/sh, /proc, /dev and the folders the caller binds (the bundle).

Each file is visible at its usual path, reached through the same symlinks as on this machine
(Debian is usrmerged: /lib -> usr/lib, /lib64 -> usr/lib64, /bin -> usr/bin), so the loader's
PT_INTERP and default search folders work as on a real target. There is no /etc (so no
ld.so.cache, no ld.so.preload), no /tmp and no network.

    import sandbox
    box = sandbox.Sandbox(binds=[("/path/of/bundle", "/path/of/bundle")],
                          env={"LC_ALL": "C"})
    result = box.run(["/path/of/bundle/bin/app", "arg"])

Also a command line tool, to poke around by hand:
    sandbox.py [--bind DIR]... [--setenv NAME VALUE]... -- CMD [ARGS...]
"""
import argparse
import os
import subprocess
import sys

LIBDIR = "/lib/x86_64-linux-gnu"
INTERP = "/lib64/ld-linux-x86-64.so.2"
SHELL = "/bin/sh"
# The files of the glibc core that the default policy excludes (ld-linux*, libc, libm,
# libmvec, libdl, librt, libpthread, libutil, libresolv, libnsl, libanl, libthread_db),
# under the names glibc 2.36 installs them. libnsl.so.2 is not glibc's (Debian's libnsl2).
GLIBC_CORE = ("ld-linux-x86-64.so.2", "libc.so.6", "libm.so.6", "libmvec.so.1", "libdl.so.2",
              "librt.so.1", "libpthread.so.0", "libutil.so.1", "libresolv.so.2", "libnsl.so.1",
              "libanl.so.1", "libthread_db.so.1")
MAX_LINKS = 40  # as the kernel's limit on symlinks followed in one lookup


def target_files():
    """The host paths a target machine provides: the glibc core, the interpreter, /bin/sh."""
    files = [INTERP, SHELL]
    for name in GLIBC_CORE:
        path = os.path.join(LIBDIR, name)
        if not os.path.exists(path):
            raise RuntimeError("sandbox: %s is missing on this machine (glibc core)" % path)
        files.append(path)
    return files


def core_realpaths():
    """The real files of the glibc core on this machine (what /proc/self/maps shows)."""
    return {os.path.realpath(os.path.join(LIBDIR, n)) for n in GLIBC_CORE}


def mirror_ops(path, ops, done, links=0):
    """Appends the bwrap operations that make path visible in the sandbox as on this machine:
    each symlink met on the way is recreated with its own target, and the file it finally
    names is bound read-only at its real path."""
    parts = [p for p in path.split("/") if p]
    cur = "/"
    for i, comp in enumerate(parts):
        here = os.path.join(cur, comp)
        if os.path.islink(here):
            if links >= MAX_LINKS:
                raise RuntimeError("sandbox: too many symlinks resolving %s" % path)
            target = os.readlink(here)
            if here not in done:
                ops += ["--symlink", target, here]
                done.add(here)
            rest = os.path.normpath(os.path.join(cur, target, *parts[i + 1:]))
            return mirror_ops(rest, ops, done, links + 1)
        cur = here
    if not os.path.exists(cur):
        raise RuntimeError("sandbox: %s does not exist" % path)
    if cur not in done:
        ops += ["--ro-bind", cur, cur]
        done.add(cur)
    return ops


class Sandbox:
    """binds: (host folder, path in the sandbox) pairs, read-only; writable: the same, read-write;
    env: the whole environment of the command; chdir: its working folder in the sandbox."""

    def __init__(self, binds=(), writable=(), env=None, chdir="/"):
        self.binds = list(binds)
        self.writable = list(writable)
        self.env = dict(env or {})
        self.chdir = chdir

    def argv(self, cmd):
        ops, done = [], set()
        for path in target_files():
            mirror_ops(path, ops, done)
        for src, dst in self.binds:
            ops += ["--ro-bind", src, dst]
        for src, dst in self.writable:
            ops += ["--bind", src, dst]
        argv = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session",
                "--cap-drop", "ALL", "--dev", "/dev", "--proc", "/proc"] + ops
        argv += ["--chdir", self.chdir, "--clearenv"]
        for k, v in sorted(self.env.items()):
            argv += ["--setenv", k, v]
        return argv + ["--"] + list(cmd)

    def run(self, cmd, timeout=120, **kw):
        """Runs cmd in the sandbox; stdout and stderr are captured (bytes)."""
        return subprocess.run(self.argv(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, timeout=timeout, **kw)


def main():
    ap = argparse.ArgumentParser(description="Run a command in a target-machine sandbox.")
    ap.add_argument("--bind", action="append", default=[], metavar="DIR",
                    help="make DIR visible (read-only) at the same path")
    ap.add_argument("--setenv", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    ap.add_argument("--print", action="store_true", help="print the bwrap command line only")
    ap.add_argument("cmd", nargs="+")
    a = ap.parse_args()
    box = Sandbox(binds=[(os.path.realpath(d), os.path.realpath(d)) for d in a.bind],
                  env=dict(a.setenv))
    argv = box.argv(a.cmd)
    if a.print:
        print(" ".join(argv))
        return 0
    return subprocess.call(argv)


if __name__ == "__main__":
    sys.exit(main())

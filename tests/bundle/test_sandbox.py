#!/usr/bin/python3
"""The sandbox of the bundle tests (sandbox.py) is the target machine DESIGN.md describes, and
hides this host:
  - the files visible in it are the glibc core, /bin/sh (and the symlinks leading to them as
    on this host), /proc, /dev and what the test binds: listed from inside with the shell;
  - /usr/bin/python3 and /etc do not exist there;
  - a program that needs a library outside the glibc core (libz) runs on the host and fails in
    the sandbox, with the loader's message;
  - the same program copied by hand with its libz into a relocatable folder (RPATH $ORIGIN)
    runs there through a POSIX sh launcher, loads libz from that folder, and can dlopen every
    library of the glibc core by name.

  test_sandbox.py --work DIR
Exit status: 0 all checks passed, 1 some failed, 77 bwrap or gcc is missing."""
import argparse
import os
import shutil
import sys

import e2e_lib as E
import sandbox

LIST_TREE = r'''
walk() {
  for f in "$1"/* "$1"/.[!.]* "$1"/..?*; do
    if [ -L "$f" ]; then echo "L $f"
    elif [ -d "$f" ]; then
      echo "D $f"
      case "$f" in /proc|/dev) ;; *) walk "$f" ;; esac
    elif [ -e "$f" ]; then echo "F $f"
    fi
  done
}
walk ""
'''


def expected_tree(extra_dir):
    """What the sandbox should show: each target file at its real path, every symlink on the
    way to it (as on this host), their folders, /proc, /dev and the bound folder."""
    files = {os.path.realpath(p) for p in sandbox.target_files()}
    links = set()
    for p in sandbox.target_files():
        cur = p
        for _ in range(sandbox.MAX_LINKS):
            parts = cur.split("/")
            for i in range(2, len(parts) + 1):
                head = "/".join(parts[:i])
                if os.path.islink(head):
                    links.add(head)
                    cur = os.path.normpath(os.path.join(os.path.dirname(head),
                                                        os.readlink(head), *parts[i:]))
                    break
            else:
                break
    dirs = {"/proc", "/dev"}
    for p in files | links | {extra_dir}:
        d = os.path.dirname(p)
        while d != "/":
            dirs.add(d)
            d = os.path.dirname(d)
    return files, links, dirs | {extra_dir}


def check_tree(ck, bound):
    box = sandbox.Sandbox(binds=[(bound, bound)])
    r = box.run(["/bin/sh", "-c", LIST_TREE])
    if not ck.check(r.returncode == 0, "tree", "listing the sandbox failed:\n" + E.show_run(r)):
        return
    seen = {"F": set(), "L": set(), "D": set()}
    for line in E.text(r.stdout).splitlines():
        kind, path = line.split(" ", 1)
        if not (path.startswith("/proc/") or path.startswith("/dev/") or
                path.startswith(bound + "/")):
            seen[kind].add(path)
    files, links, dirs = expected_tree(bound)
    for kind, want in (("F", files), ("L", links), ("D", dirs)):
        ck.check(seen[kind] == want, "tree", "%s in the sandbox: extra %s, missing %s" % (
            {"F": "files", "L": "symlinks", "D": "folders"}[kind],
            sorted(seen[kind] - want), sorted(want - seen[kind])))
    ck.check(len(files) == len(sandbox.GLIBC_CORE) + 1, "tree",
             "%d files: want the %d glibc core files and the shell" % (len(files),
                                                                       len(sandbox.GLIBC_CORE)))


def check_absent(ck):
    box = sandbox.Sandbox()
    r = box.run(["/usr/bin/python3", "-c", "print(1)"])
    ck.check(r.returncode != 0 and r.stdout == b"" and b"No such file" in r.stderr, "hidden",
             "/usr/bin/python3 started in the sandbox:\n" + E.show_run(r))
    r = box.run(["/bin/sh", "-c", "for p in /usr/bin/python3 /etc /etc/ld.so.cache /tmp "
                 "/usr/lib/x86_64-linux-gnu/libz.so.1; do [ -e $p ] && echo $p; done; echo end"])
    ck.check(r.returncode == 0 and r.stdout == b"end\n", "hidden",
             "host files visible in the sandbox:\n" + E.show_run(r))


def check_programs(ck, work):
    prog = E.gcc(os.path.join(work, "plain", "zprog"), ["zprog.c", "maps.c"], "-lz", "-lm")
    host = E.run([prog])
    if not ck.check(host.returncode == 0 and b"round trip ok" in host.stdout, "unbundled",
                    "the test program fails on the host:\n" + E.show_run(host)):
        return
    box = sandbox.Sandbox(binds=[(os.path.dirname(prog), os.path.dirname(prog))])
    r = box.run([prog])
    ck.check(r.returncode == 127 and r.stdout == b"" and
             b"libz.so.1: cannot open shared object file" in r.stderr, "unbundled",
             "a program needing libz.so.1 must fail in the sandbox (exit 127, the loader's "
             "message):\n" + E.show_run(r))

    # By hand, what a bundle does: the program, its libz beside it, RPATH $ORIGIN, a launcher.
    hand = E.fresh_dir(os.path.join(work, "hand"))
    E.gcc(os.path.join(hand, "bin", "b", "zprog"), ["zprog.c", "maps.c"], "-lz", "-lm",
          "-Wl,--disable-new-dtags,-rpath,$ORIGIN/../../lib")
    os.makedirs(os.path.join(hand, "lib"))
    libz = os.path.realpath("/usr/lib/x86_64-linux-gnu/libz.so.1")
    shutil.copy(libz, os.path.join(hand, "lib", "libz.so.1"))
    launcher = os.path.join(hand, "bin", "zprog")
    with open(launcher, "w") as f:
        f.write('#!/bin/sh\ncase "$0" in */*) here=${0%/*} ;; *) here=. ;; esac\n'
                'exec "$here/b/zprog" "$@"\n')
    os.chmod(launcher, 0o755)
    moved = os.path.join(work, "moved", "hand")
    E.fresh_dir(os.path.dirname(moved))
    os.rename(hand, moved)
    core = ["libm.so.6", "libmvec.so.1", "libdl.so.2", "librt.so.1", "libpthread.so.0",
            "libutil.so.1", "libresolv.so.2", "libnsl.so.1", "libanl.so.1", "libthread_db.so.1"]
    host = E.run([prog] + core)
    box = sandbox.Sandbox(binds=[(moved, moved)])
    r = box.run([os.path.join(moved, "bin", "zprog")] + core)
    ck.check(r.returncode == host.returncode == 0 and r.stdout == host.stdout, "by-hand",
             "the hand-made bundle in the sandbox:\n%s\nwant:\n%s" % (E.show_run(r),
                                                                     E.show_run(host)))
    mapped = [p for p in E.maps_of(r.stderr) if E.is_elf(p)]
    ck.check(os.path.join(moved, "lib", "libz.so.1") in mapped and
             all(p.startswith(moved + "/") or os.path.realpath(p) in sandbox.core_realpaths()
                 for p in mapped), "by-hand", "mapped: %s" % mapped)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    for tool in ("bwrap", "gcc"):
        if not shutil.which(tool):
            print("SKIP: %s is not installed" % tool)
            return 77
    work = E.fresh_dir(os.path.realpath(a.work))
    ck = E.Checks()
    check_tree(ck, E.fresh_dir(os.path.join(work, "bound")))
    check_absent(ck)
    check_programs(ck, work)
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Whether each benchmarked tool finds the same closure as glibc's ldd for one file.

  ldd_closures.py BUNDLEFS FILE

bundlefs is held to the system test's rule (tests/system/ldd_vs_ldd.py: the same l_name paths
as ldd); libtree and lddtree print paths of their own making (they do not read ld.so.cache),
so they are compared by real path. Prints one line per tool; exits 1 if bundlefs disagrees.
"""

import importlib.util
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SYSTEST = os.path.join(HERE, "..", "..", "tests", "system", "ldd_vs_ldd.py")


def load_systest():
    spec = importlib.util.spec_from_file_location("ldd_vs_ldd", SYSTEST)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def output(argv):
    return subprocess.run(argv, capture_output=True, errors="surrogateescape").stdout


def real_set(paths, exclude):
    """Absolute paths by real path; anything else (a name a tool did not find) kept as is."""
    return {os.path.realpath(p) if p.startswith("/") else p for p in paths} - {exclude}


def main():
    bundlefs, path = os.path.abspath(sys.argv[1]), os.path.realpath(sys.argv[2])
    t = load_systest()
    with tempfile.TemporaryDirectory(prefix="ldd_closures.") as cwd:
        lkind, (verdict, detail) = t.compare(path, bundlefs, cwd, 300)
        ldd = t.parse_ldd(*t.run(["ldd", path], cwd, 300))
        bf = t.parse_bundlefs(*t.run([bundlefs, "ldd", "--format=tsv", path], cwd, 300))
        # `libtree -p -vv`: one "path [how found]" per tree line, the root without brackets.
        libtree = re.findall(r"(/[^\s]+) \[", output(["libtree", "-p", "-vv", path]))
        lddtree = output(["lddtree", "-l", path]).split()
    want = real_set([w for k, w in ldd["entries"] if k == "path"], path)
    print(f"ldd\t{len(want)} objects ({lkind})")
    status = "same l_name paths as ldd" if verdict == "ok" else f"DIFFERS from ldd: {detail}"
    print(f"bundlefs ldd\t{len(bf['paths'])} objects, {status}")
    for name, got in (("libtree -vv", real_set(libtree, path)),
                      ("lddtree", real_set(lddtree, path))):
        if got == want:
            print(f"{name}\t{len(got)} objects, same real paths as ldd")
        else:
            unfound = sorted(p for p in got - want if not p.startswith("/"))
            extra = sorted(p for p in got - want if p.startswith("/"))
            print(f"{name}\t{len(got) - len(unfound)} objects, differs from ldd by real path: "
                  f"{len(want - got)} missing ({' '.join(sorted(want - got))}), "
                  f"{len(extra)} extra ({' '.join(extra)}), "
                  f"{len(unfound)} names not found ({' '.join(unfound)})")
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())

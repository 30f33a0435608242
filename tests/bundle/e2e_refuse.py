#!/usr/bin/python3
"""What bundlefs must refuse, end to end (tests/bundle, acceptance 3):
  - bundling a bundle: app (c) is bundled and materialized, its bin/APP is traced, and
    `bundlefs build` from that trace (and the one-step `bundlefs build -- CMD` form) must exit
    2 with a message naming the bundle, writing nothing;
  - a bundle.json whose entries would escape DEST (the valid layout of app (c) with one entry
    edited: path "../x", "bin/../../escaped", an absolute path, a symlink whose target leaves
    the bundle): `bundlefs materialize` must exit 2 with a message naming the entry, and leave
    no DEST, no temporary sibling and nothing outside DEST.
The untouched layout materializes (exit 0), so each refusal is the edit's doing; and a layout
written into a folder that holds the program (a project folder) is no bundle: building twice
there must work.

  e2e_refuse.py --bundlefs BIN --work DIR
Exit status: 0 all checks passed, 1 some failed, 77 gcc is missing."""
import argparse
import copy
import json
import os
import shutil
import sys

import e2e_lib as E
import fixtures as F


def listing(d):
    out = []
    for dirpath, dirs, files in os.walk(d):
        out += [os.path.join(dirpath, n) for n in dirs + files]
    return sorted(out)


def refuse_bundle_of_bundle(ck, bf, work, bundle, env):
    tag = "bundle-of-bundle"
    trace = os.path.join(work, "again.trace.json")
    r = bf("trace", "-o", trace, "--", bundle.launcher, env=env, cwd=work)
    if not ck.check(r.returncode == 10 and os.path.isfile(trace), tag,
                    "tracing the bundle's bin/capp: want its exit status 10 and a trace\n"
                    + E.show_run(r)):
        return
    out = E.fresh_dir(os.path.join(work, "again"))
    for argv in (["build", "--trace", trace, "-o", os.path.join(out, "bundle.json"),
                  "--name", "again"],
                 ["build", "-o", os.path.join(out, "bundle.json"), "--name", "again", "--",
                  bundle.launcher]):
        before = listing(work)
        r = bf(*argv, env=env, cwd=work)
        msg = E.text(r.stderr)
        ck.check(r.returncode == 2, tag, "bundlefs %s: want exit 2\n%s"
                 % (" ".join(argv), E.show_run(r)))
        # The one-step form runs the program first: its own stderr comes before the verdict.
        last = E.user_stderr(r.stderr)[-1:] or [""]
        ck.check(last[0].startswith("bundlefs build:") and bundle.root in last[0], tag,
                 "bundlefs %s: the last line on stderr must say that %s is a bundle (name "
                 "it): %r" % (" ".join(argv[:3]), bundle.root, msg))
        ck.check(listing(work) == before, tag, "bundlefs %s wrote files: %s"
                 % (" ".join(argv[:3]), sorted(set(listing(work)) - set(before))))


def layout_beside_app(ck, bf, work, env):
    """What is refused is a bundle's output, not every folder holding a bundle.json: a user who
    writes the layout into the project folder (an ancestor of the program) must be able to
    build again."""
    tag = "layout-beside-app"
    trace = os.path.join(work, "capp.trace.json")
    layout = os.path.join(work, "bundle.json")  # work/ holds tree/bin/app
    for attempt in ("first", "second"):
        r = bf("build", "--trace", trace, "-o", layout, "--name", "capp", env=env)
        ck.check(r.returncode == 0 and os.path.isfile(layout), tag,
                 "%s `bundlefs build --trace %s -o %s`: want exit 0 (the folder holds a layout "
                 "file, not a bundle)\n%s" % (attempt, trace, layout, E.show_run(r)))
    if os.path.exists(layout):
        os.unlink(layout)


def bad_layouts(layout, absolute):
    """(what, the entry path a message must name, the edited layout) for each escape; every
    escape aims at a file named "escaped" beside DEST (or at absolute)."""
    entries = layout["entries"]
    afile = next(e for e in entries if e["type"] == "file")
    adir = next(e for e in entries if e["type"] == "dir")

    def with_entry(entry, first=True):
        l = copy.deepcopy(layout)
        l["entries"].insert(0 if first else len(l["entries"]), entry)
        return l

    out = [("a directory ../x", "../x", with_entry(dict(adir, path="../x"))),
           ("a file ../escaped", "../escaped", with_entry(dict(afile, path="../escaped"))),
           ("a file bin/../../escaped", "bin/../../escaped",
            with_entry(dict(afile, path="bin/../../escaped"), first=False)),
           ("an absolute path", absolute, with_entry(dict(afile, path=absolute)))]
    for target in ("../../escaped", absolute):
        out.append(("a symlink to " + target, "bin/escape",
                    with_entry({"path": "bin/escape", "type": "symlink", "target": target},
                               first=False)))
    # An existing entry renamed in place: a layout needs no extra entry to escape.
    l = copy.deepcopy(layout)
    i = next(i for i, e in enumerate(l["entries"]) if e["type"] == "file")
    l["entries"][i]["path"] = "../escaped"
    out.append(("an entry renamed to ../escaped", "../escaped", l))
    return out


def refuse_escapes(ck, bf, work, layout_path, env):
    with open(layout_path) as f:
        layout = json.load(f)
    parent = E.fresh_dir(os.path.join(work, "m"))
    dest = os.path.join(parent, "dest")
    absolute = os.path.join(work, "escaped-absolute")
    r = bf("materialize", layout_path, dest, env=env)
    if not ck.check(r.returncode == 0 and os.path.isdir(dest), "escape",
                    "the untouched layout does not materialize:\n" + E.show_run(r)):
        return
    shutil.rmtree(dest)
    for i, (what, name, bad) in enumerate(bad_layouts(layout, absolute)):
        tag = "escape: " + what
        path = os.path.join(work, "bad%d.json" % i)
        with open(path, "w") as f:
            json.dump(bad, f, indent=1)
        before = listing(work)
        r = bf("materialize", path, dest, env=env)
        msg = E.text(r.stderr)
        ck.check(r.returncode == 2, tag, "want exit 2\n" + E.show_run(r))
        ck.check(msg.startswith("bundlefs materialize:") and name in msg, tag,
                 "the message must name the entry %r: %r" % (name, msg))
        ck.check(listing(work) == before, tag, "files left behind: %s"
                 % sorted(set(listing(work)) - set(before)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundlefs", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    if not shutil.which("gcc"):
        print("SKIP: gcc is not installed")
        return 77
    work = E.fresh_dir(os.path.realpath(a.work))
    bf = E.Bundlefs(a.bundlefs)
    env = E.base_env(os.path.join(work, "home"))
    exe, _ = F.build_c(os.path.join(work, "tree"))
    cwd = E.fresh_dir(os.path.join(work, "cwd"))
    ck = E.Checks()
    plain = E.run([exe], env=env, cwd=cwd)
    bundle = E.make_bundle(ck, bf, work, "capp", [exe], env, cwd, plain)
    if bundle:
        refuse_bundle_of_bundle(ck, bf, work, bundle, env)
        refuse_escapes(ck, bf, work, os.path.join(work, "out", "bundle.json"), env)
        layout_beside_app(ck, bf, work, env)
    return E.finish(ck, work)


if __name__ == "__main__":
    sys.exit(main())

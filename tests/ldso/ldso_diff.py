#!/usr/bin/env python3
"""Differential test: `bundlefs ldd --format=tsv` against glibc's ld.so.

  ldso_diff.py --list
  ldso_diff.py --coverage LDSO.md
  ldso_diff.py --work DIR --scenario NAME (--bundlefs PATH | --truth-only)

For one scenario (scenarios/*.py): build its fixtures from source under
DIR, run the real program (which reports the link map, every DT_NEEDED
binding and its dlopen results), check the scenario's expectations against
that real outcome, then run bundlefs ldd under the same conditions and
compare: object order, every DT_NEEDED binding, dlopen results, start-up and
preload errors. Exit 0 = agree, 1 = differ or broken, 77 = cannot run here
(needs root, or no overlayfs)."""
import argparse
import glob
import importlib.util
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # keep the source tree free of __pycache__

from ldso_compare import ParseError, compare, parse_real, parse_tsv  # noqa: E402
from ldso_coverage import missing_scenarios  # noqa: E402
from ldso_exec import run_bundlefs, run_real  # noqa: E402
from ldso_expect import check_expectations  # noqa: E402
from ldso_fixtures import FixtureError  # noqa: E402
from ldso_layout import Layout  # noqa: E402

SKIP = 77


def load_scenarios():
    scenarios = {}
    for path in sorted(glob.glob(os.path.join(HERE, "scenarios", "*.py"))):
        name = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location("ldso_scenarios_" + name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for scn in module.SCENARIOS:
            if scn.name in scenarios:
                raise SystemExit("duplicate scenario name %s in %s" % (scn.name, path))
            scenarios[scn.name] = scn
    return scenarios


def _dump(title, layout, result):
    print("---- %s (cwd %s): %s" % (title, layout.show(layout.subst(layout.scn.cwd)),
                                   layout.show(result.describe())))
    print("exit %d" % result.returncode)
    if result.stdout:
        print(layout.show(result.stdout.rstrip("\n")))
    if result.stderr:
        print("stderr:\n" + layout.show(result.stderr.rstrip("\n")))


def _environment_missing(result):
    return result.returncode != 0 and result.stderr.startswith(("mount:", "unshare:"))


def _real_side(scn, layout):
    """Runs the real program; returns (result, parsed) or (result, failures)."""
    result = run_real(layout)
    try:
        real = parse_real(result)
    except ParseError as e:
        return result, None, [str(e)]
    return result, real, check_expectations(scn, real, layout)


def _tool_side(real, layout, bundlefs):
    result = run_bundlefs(layout, bundlefs)
    if not result.stdout.strip() and result.returncode != 0:
        return result, ["bundlefs ldd printed nothing (exit %d)" % result.returncode]
    try:
        return result, compare(real, parse_tsv(result), layout.show)
    except ParseError as e:
        return result, [str(e)]


def run_scenario(scn, work, bundlefs):
    if scn.needs_root and os.geteuid() != 0:
        print("SKIP %s: needs root (private mount namespace or set-uid)" % scn.name)
        return SKIP
    layout = Layout(scn, work)
    try:
        layout.build()
        real_result, real, failures = _real_side(scn, layout)
        if _environment_missing(real_result):
            print("SKIP %s: %s" % (scn.name, real_result.stderr.strip()))
            return SKIP
        print("scenario %s: %s\n@ = %s" % (scn.name, scn.rule, layout.root))
        _dump("real ld.so", layout, real_result)
        if failures:
            print("FAIL: the real loader does not show this scenario's rule:")
            print("\n".join("  " + f for f in failures))
            return 1
        if bundlefs is None:
            print("OK (real loader only)")
            return 0
        tool_result, diffs = _tool_side(real, layout, bundlefs)
        _dump("bundlefs ldd", layout, tool_result)
        if diffs:
            print("FAIL: bundlefs ldd disagrees with ld.so:")
            print("\n".join(diffs))
            return 1
        print("OK")
        return 0
    except (FixtureError, subprocess.TimeoutExpired) as e:
        print("FAIL: %s: %s" % (scn.name, layout.show(str(e))))
        return 1
    finally:
        layout.cleanup()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--list", action="store_true", help="print the scenario names")
    ap.add_argument("--coverage", metavar="LDSO.md",
                    help="check that every [V: name] rule of the specification has a scenario")
    ap.add_argument("--work", help="directory for the scenarios' fixtures")
    ap.add_argument("--scenario", action="append", default=[],
                    help="scenario to run (repeatable; 'all' runs every one)")
    ap.add_argument("--bundlefs", help="the bundlefs executable")
    ap.add_argument("--truth-only", action="store_true",
                    help="only check the scenarios against the real loader")
    args = ap.parse_args()
    scenarios = load_scenarios()
    if args.list:
        print("\n".join(scenarios))
        return 0
    if args.coverage:
        missing = missing_scenarios(args.coverage, scenarios)
        print("\n".join(missing) if missing else
              "every [V: name] of %s has a scenario (%d scenarios)" % (args.coverage, len(scenarios)))
        return 1 if missing else 0
    if not args.work or not args.scenario or (args.bundlefs is None) == (not args.truth_only):
        ap.error("need --work, --scenario and exactly one of --bundlefs / --truth-only")
    names = list(scenarios) if args.scenario == ["all"] else args.scenario
    unknown = [n for n in names if n not in scenarios]
    if unknown:
        ap.error("unknown scenario(s): " + ", ".join(unknown))
    bundlefs = None if args.truth_only else os.path.abspath(args.bundlefs)
    codes = [run_scenario(scenarios[n], args.work, bundlefs) for n in names]
    if len(names) > 1:
        bad = [n for n, c in zip(names, codes) if c == 1]
        print("==== %d scenarios, %d failed%s" % (len(names), len(bad),
                                                  (": " + " ".join(bad)) if bad else ""))
    if any(c == 1 for c in codes):
        return 1
    return SKIP if all(c == SKIP for c in codes) else 0


if __name__ == "__main__":
    sys.exit(main())

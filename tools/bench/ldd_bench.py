#!/usr/bin/env python3
"""Times a set of commands side by side and prints their medians and their ratio to the first
one. Used by tools/bench/ldd.sh; with hyperfine when installed (its JSON export), else with a
timing loop of its own.

  ldd_bench.py --runs N [--warmup W] [--no-hyperfine] 'CMD1' 'CMD2' ...

Each CMD is one command line split like a shell would split it (no shell is run). Failing
exit statuses are allowed: some tools reject some inputs, which is part of the workload.
Prints one line per command, in order: `median_s<TAB>min_s<TAB>max_s<TAB>runs`.
"""

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def with_hyperfine(cmds, runs, warmup):
    with tempfile.TemporaryDirectory(prefix="ldd_bench.") as tmp:
        out = os.path.join(tmp, "h.json")
        subprocess.run(["hyperfine", "--shell=none", "--ignore-failure", "--style=none",
                        f"--runs={runs}", f"--warmup={warmup}", "--export-json", out, *cmds],
                       check=True, stdout=subprocess.DEVNULL)
        with open(out) as f:
            return [r["times"] for r in json.load(f)["results"]]


def with_loop(cmds, runs, warmup):
    times = []
    for cmd in cmds:
        argv = shlex.split(cmd)
        samples = []
        for i in range(warmup + runs):
            t0 = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if i >= warmup:
                samples.append(time.perf_counter() - t0)
        times.append(samples)
    return times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, required=True)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--no-hyperfine", action="store_true")
    ap.add_argument("cmds", nargs="+")
    args = ap.parse_args()
    use_hf = shutil.which("hyperfine") and not args.no_hyperfine
    print(f"# timer: {'hyperfine' if use_hf else 'python3 loop'}", file=sys.stderr)
    times = (with_hyperfine if use_hf else with_loop)(args.cmds, args.runs, args.warmup)
    for cmd, t in zip(args.cmds, times):
        print(f"{statistics.median(t):.6f}\t{min(t):.6f}\t{max(t):.6f}\t{len(t)}")


if __name__ == "__main__":
    sys.exit(main())

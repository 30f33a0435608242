#!/usr/bin/env python3
"""Times a set of commands side by side and prints their medians and their ratio to the first
one. Used by tools/bench/ldd.sh; with hyperfine when installed (its JSON export), else with a
timing loop of its own.

  ldd_bench.py --runs N [--warmup W] [--no-hyperfine] 'CMD1' 'CMD2' ...

Each CMD is one command line split like a shell would split it (no shell is run). Failing
exit statuses are allowed: some tools reject some inputs, which is part of the workload.
Prints one line per command, in order: `median_s<TAB>min_s<TAB>max_s<TAB>runs<TAB>cpu_s`, the
wall times of one run and the mean CPU time (user + system) of one run. On a machine shared
with other work the wall times wait for a CPU; the CPU time does not.
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
            return [(r["times"], r["user"] + r["system"]) for r in json.load(f)["results"]]


def with_loop(cmds, runs, warmup):
    quiet = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_WRONLY, 0) for fd in (1, 2)]
    results = []
    for cmd in cmds:
        argv = shlex.split(cmd)
        samples, cpu = [], []
        for i in range(warmup + runs):
            t0 = time.perf_counter()
            pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=quiet)
            _, _, usage = os.wait4(pid, 0)
            if i >= warmup:
                samples.append(time.perf_counter() - t0)
                cpu.append(usage.ru_utime + usage.ru_stime)
        results.append((samples, statistics.mean(cpu)))
    return results


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
    for t, cpu in times:
        print(f"{statistics.median(t):.6f}\t{min(t):.6f}\t{max(t):.6f}\t{len(t)}\t{cpu:.6f}")


if __name__ == "__main__":
    sys.exit(main())

"""Times commands interleaved (round after round, each command once per round), so the drift
of a shared machine hits them alike; prints median and minimum wall time and median CPU
time (user + system of the whole process tree) of each, over the first command's.

  trace_bench.py ROUNDS LABEL NAME=COMMAND... (COMMAND split as a shell would, not run by one)"""
import resource
import shlex
import statistics
import subprocess
import sys
import time


def once(argv):
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return time.perf_counter() - start, cpu


def main():
    rounds, label = int(sys.argv[1]), sys.argv[2]
    cmds = [arg.split("=", 1) for arg in sys.argv[3:]]
    cmds = [(name, shlex.split(cmd)) for name, cmd in cmds]
    for _, argv in cmds:  # warm-up
        for _ in range(3):
            once(argv)
    wall = {name: [] for name, _ in cmds}
    cpu = {name: [] for name, _ in cmds}
    for _ in range(rounds):
        for name, argv in cmds:
            w, c = once(argv)
            wall[name].append(w)
            cpu[name].append(c)
    base = cmds[0][0]
    bw, bm, bc = (statistics.median(wall[base]), min(wall[base]), statistics.median(cpu[base]))
    print(f"{label} ({rounds} interleaved rounds):")
    for name, _ in cmds:
        w, m, c = statistics.median(wall[name]), min(wall[name]), statistics.median(cpu[name])
        print(f"  {name:9s} median {w * 1000:7.1f} ms (x{w / bw:4.2f})   min {m * 1000:7.1f} ms "
              f"(x{m / bm:4.2f})   cpu {c * 1000:7.1f} ms (x{c / bc:4.2f})")


if __name__ == "__main__":
    main()

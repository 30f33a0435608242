"""Times one command without hyperfine: after a warm-up run, RUNS runs, each preceded by the
(untimed) PREPARE command; prints the median wall time in seconds.

  build_bench.py RUNS PREPARE COMMAND   (both split as a shell would, not run by one)"""
import shlex
import statistics
import subprocess
import sys
import time


def once(prepare, argv):
    subprocess.run(prepare, check=True)
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main():
    runs, prepare, argv = int(sys.argv[1]), shlex.split(sys.argv[2]), shlex.split(sys.argv[3])
    once(prepare, argv)
    print(statistics.median(once(prepare, argv) for _ in range(runs)))


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Benchmark: what tracing costs. Side by side in one run, interleaved round by round
# (tools/bench/trace_bench.py: RUNS rounds, default 30, after 3 warm-up runs each):
#   plain      /usr/bin/python3 -c "import numpy"
#   traced     bundlefs trace -o FILE -- the same      (recorder + Python hook + merge + write)
#   ld_audit   the same with only the recorder (LD_AUDIT), no hook, no merge: the in-process cost
# and the same for python3 + numpy + PIL. Prints median and minimum wall time and median CPU
# time (user + system), each over plain.
# The issue's target: tracing adds less than 15% to a python3 + numpy start-up.
#
#   tools/bench/trace.sh                  builds bundlefs in build/ at the repository root
#   BUNDLEFS=path RUNS=n tools/bench/trace.sh
set -euo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
unset LD_LIBRARY_PATH LD_PRELOAD PYTHONPATH
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
runs=${RUNS:-30}

. "$root/tools/deps.sh"
bundlefs_install_deps

. "$here/bench_lib.sh"
bundlefs=$(bench_bundlefs)
recorder=$(dirname "$bundlefs")/libbundlefs_audit.so

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-trace.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/rec"

bench() { # label, python code
  python3 "$here/trace_bench.py" "$runs" "$1" \
    "plain=/usr/bin/python3 -c '$2'" \
    "traced=$bundlefs trace -o $work/t.json -- /usr/bin/python3 -c '$2'" \
    "ld_audit=env LD_AUDIT=$recorder BUNDLEFS_TRACE_DIR=$work/rec /usr/bin/python3 -c '$2'"
  rm -f "$work"/rec/*
}

bench numpy "import numpy"
bench numpy_pil "import numpy, PIL.Image"

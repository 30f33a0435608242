#!/usr/bin/env bash
# Benchmark: `bundlefs ldd` against libtree, lddtree and glibc's ldd, side by side in one run.
#   (a) the OpenCV Python extension module (cv2*.so, ~360 libraries): each tool RUNS times
#       (default 30, after 3 warm-up runs), median wall time of one invocation;
#   (b) every ELF file in /usr/bin (each real file once): one invocation per file per tool,
#       total wall time, repeated REPS times (default 3), median.
# Prints the medians (and the mean CPU time, which waiting for a busy CPU does not inflate),
# each tool's time divided by bundlefs's, then whether each tool's closure of the cv2 module
# is the one glibc's ldd reports (bundlefs: the same l_name paths).
#
#   tools/bench/ldd.sh                  builds bundlefs in build/ at the repository root
#   BUNDLEFS=path tools/bench/ldd.sh    uses that binary
#   CV2=path RUNS=n REPS=n              override the module and the repetition counts
#
# Timing is by hyperfine when installed (--shell=none, output to /dev/null), else by a python3
# loop (tools/bench/ldd_bench.py). Every tool reads the same system state: LD_LIBRARY_PATH and
# LD_PRELOAD are unset, and PATH is Debian's default so that lddtree's `#!/usr/bin/env python3`
# finds the system python3 (with python3-pyelftools), not a user's pyenv shim.
# libtree hides and does not descend into glibc, libstdc++ and libgcc_s by default; the
# `libtree -vv` row walks the whole closure, as the other three tools do.
set -euo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
unset LD_LIBRARY_PATH LD_PRELOAD
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
runs=${RUNS:-30}
reps=${REPS:-3}

. "$root/tools/deps.sh"
bundlefs_install_deps python3-opencv hyperfine python3-pyelftools
for tool in libtree lddtree ldd python3; do
  command -v "$tool" >/dev/null || { echo "ldd.sh: $tool is not installed" >&2; exit 2; }
done

. "$here/bench_lib.sh"
bundlefs=$(bench_bundlefs)

cv2=${CV2:-$(find /usr/lib/python3/dist-packages -name 'cv2*.so' \( -type f -o -type l \) \
               2>/dev/null | sort | head -n1)}
if [ -z "$cv2" ]; then
  echo "ldd.sh: no cv2*.so found (install python3-opencv or set CV2)" >&2
  exit 2
fi
cv2=$(realpath "$cv2")

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-ldd.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Real paths, so every tool sees the same file and the same $ORIGIN.
python3 - "$work/bin.list" <<'EOF'
import os, sys
seen = []
for name in sorted(os.listdir("/usr/bin")):
    real = os.path.realpath(os.path.join("/usr/bin", name))
    try:
        with open(real, "rb") as f:
            if f.read(4) == b"\x7fELF" and real not in seen:
                seen.append(real)
    except OSError:
        pass
with open(sys.argv[1], "wb") as f:
    f.write(b"".join(p.encode() + b"\0" for p in seen))
EOF
nbin=$(tr -cd '\0' <"$work/bin.list" | wc -c)

names=("bundlefs ldd" "libtree" "libtree -vv" "lddtree" "ldd")
tools=("$bundlefs ldd --format=tsv" "libtree" "libtree -vv" "lddtree" "ldd")
one=() all=()
for t in "${tools[@]}"; do
  one+=("$t $cv2")
  all+=("xargs -0 -n1 -a $work/bin.list $t")
done

echo "bundlefs: $bundlefs"
echo "cv2 module: $cv2"
echo "/usr/bin: $nbin ELF files"
echo "(a) cv2: ${runs} runs per tool..." >&2
python3 "$here/ldd_bench.py" --runs "$runs" --warmup 3 "${one[@]}" >"$work/a.tsv"
echo "(b) /usr/bin: ${reps} runs per tool..." >&2
# One untimed pass puts the files in the page cache; lddtree's python modules are already
# there from (a). A warm-up run per tool would double the time of lddtree's minutes.
xargs -0 -n1 -a "$work/bin.list" "$bundlefs" ldd --format=tsv >/dev/null 2>&1 || true
python3 "$here/ldd_bench.py" --runs "$reps" --warmup 0 "${all[@]}" >"$work/b.tsv"

printf '%s\n' "${names[@]}" | paste - "$work/a.tsv" "$work/b.tsv" | awk -F'\t' -v runs="$runs" \
  -v reps="$reps" -v nbin="$nbin" '
  NR == 1 { a0 = $2; ac0 = $6; b0 = $7; bc0 = $11 }
  { rows[NR] = $0 }
  END {
    printf "\n%-12s | %-53s | %s\n", "", "(a) cv2 module: one run, median of " runs,
           "(b) " nbin " files in /usr/bin: total, median of " reps
    printf "%-12s | %8s %18s %7s %7s %7s | %7s %16s %7s %7s %7s\n", "tool", "wall ms",
           "min..max", "ratio", "cpu ms", "ratio", "wall s", "min..max", "ratio", "cpu s", "ratio"
    row = "%-12s | %8.2f %8.2f..%-8.2f %6.2fx %7.2f %6.2fx | " \
          "%7.2f %7.2f..%-7.2f %6.2fx %7.2f %6.2fx\n"
    for (i = 1; i <= NR; i++) {
      split(rows[i], f, "\t")
      printf row, f[1], f[2] * 1000, f[3] * 1000, f[4] * 1000, f[2] / a0, f[6] * 1000,
             f[6] / ac0, f[7], f[8], f[9], f[7] / b0, f[11], f[11] / bc0
    }
    print "wall: median wall time; cpu: mean user + system time of the process tree;"
    print "ratio: the tool'"'"'s time divided by bundlefs'"'"'s (above 1: bundlefs is faster)"
  }'

echo
echo "closure of the cv2 module, compared with glibc's ldd in this run:"
python3 "$here/ldd_closures.py" "$bundlefs" "$cv2"

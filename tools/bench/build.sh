#!/usr/bin/env bash
# Benchmark: building and materializing bundles of real apps, and materialize against `cp -a`
# of the same materialized tree (what copying a finished dist folder costs).
#   numpy_pil   app (b) of tests/bundle: numpy (BLAS) + PIL, run as a script
#   cv2         python3 -c "import cv2; cv2.imencode(...)" (python3-opencv, ~360 libraries)
# Each app is traced once (not timed); then, RUNS times each (default 10, after a warm-up;
# hyperfine when installed, else tools/bench/build_bench.py), with the output removed before
# each run:
#   build        bundlefs build --trace T -o bundle.json
#   materialize  bundlefs materialize bundle.json DEST
#   cp -a        cp -a DEST COPY
# Prints the medians in a table, with cp -a's time over materialize's.
#
#   tools/bench/build.sh                  builds bundlefs in build/ at the repository root
#   BUNDLEFS=path RUNS=n tools/bench/build.sh
set -euo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
unset LD_LIBRARY_PATH LD_PRELOAD PYTHONPATH PYTHONHOME
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
runs=${RUNS:-10}

. "$root/tools/deps.sh"
bundlefs_install_deps python3-opencv hyperfine
. "$here/bench_lib.sh"
bundlefs=$(bench_bundlefs)

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-build.XXXXXX")
trap 'rm -rf "$work"' EXIT

# median_of NAME PREPARE COMMAND: the median wall time of COMMAND in seconds, PREPARE run
# (untimed) before each run.
median_of() {
  if command -v hyperfine >/dev/null; then
    hyperfine --runs "$runs" --warmup 1 --prepare "$2" --export-json "$work/h.json" \
      -n "$1" "$3" >/dev/null 2>&1 || { echo "build.sh: $3 failed:" >&2; $3 >&2; exit 1; }
    /usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' "$work/h.json"
  else
    /usr/bin/python3 "$here/build_bench.py" "$runs" "$2" "$3"
  fi
}

cv2_code='import cv2, numpy
img = numpy.zeros((120, 160, 3), numpy.uint8)
cv2.circle(img, (80, 60), 40, (0, 200, 255), -1)
ok, png = cv2.imencode(".png", cv2.GaussianBlur(img, (5, 5), 0))
print(cv2.__version__, ok, len(png))'

# The script's folder is bundled whole (app/), so nothing else goes there.
mkdir -p "$work/src/numpy_pil"
cp "$root/tests/bundle/py/numpy_pil_app.py" "$root/tests/bundle/py/maps_report.py" \
  "$work/src/numpy_pil/"

printf '%-10s %6s %6s %7s | %9s %12s %9s | %s\n' app files reals MB build materialize "cp -a" \
  "cp -a / materialize"
for app in numpy_pil cv2; do
  d="$work/$app"
  mkdir -p "$d"
  case $app in
    numpy_pil) cmd=(/usr/bin/python3 "$work/src/numpy_pil/numpy_pil_app.py") ;;
    cv2) cmd=(/usr/bin/python3 -c "$cv2_code") ;;
  esac
  # (app (b) exits with 10 + its argument count on purpose: the status is not checked)
  (cd "$d" && "$bundlefs" trace -o "$d/t.json" -- "${cmd[@]}" >/dev/null 2>&1) || :
  [ -s "$d/t.json" ] || { echo "build.sh: tracing $app wrote no trace" >&2; exit 1; }
  "$bundlefs" build --trace "$d/t.json" -o "$d/bundle.json" --name "$app" >/dev/null 2>&1 || {
    echo "build.sh: bundlefs build --trace $d/t.json failed:" >&2
    "$bundlefs" build --trace "$d/t.json" -o "$d/bundle.json" --name "$app" >&2; exit 1; }
  "$bundlefs" materialize "$d/bundle.json" "$d/dist" >/dev/null
  [ "$("$d/dist/bin/$app" 2>/dev/null)" = "$(cd "$d" && "${cmd[@]}" 2>/dev/null)" ] ||
    { echo "build.sh: $d/dist/bin/$app does not print what the app prints" >&2; exit 1; }
  files=$(find "$d/dist" -type f | wc -l)
  reals=$(find "$d/dist/reals/r" -type f | wc -l)
  mb=$(du -sb "$d/dist" | awk '{printf "%.1f", $1 / 1e6}')
  t_build=$(median_of build "rm -f $d/b.json" \
    "$bundlefs build --trace $d/t.json -o $d/b.json --name $app")
  t_mat=$(median_of materialize "rm -rf $d/m" "$bundlefs materialize $d/bundle.json $d/m")
  t_cp=$(median_of cp "rm -rf $d/c" "cp -a $d/dist $d/c")
  /usr/bin/python3 -c '
import sys
app, files, reals, mb, b, m, c = sys.argv[1:]
b, m, c = float(b), float(m), float(c)
print("%-10s %6s %6s %7s | %7.0f ms %9.0f ms %6.0f ms | x%.2f" % (app, files, reals, mb,
      b * 1000, m * 1000, c * 1000, c / m))' "$app" "$files" "$reals" "$mb" "$t_build" "$t_mat" "$t_cp"
done
echo "(medians of $runs runs each; x > 1: materialize is faster than copying the finished tree)"

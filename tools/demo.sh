#!/usr/bin/env bash
# The demo: installs what is missing, builds bundlefs, then turns the sample Python app in
# tools/demo/app (SQLite, zlib through ctypes, numpy) into a self-contained folder:
#   trace it with Debian's /usr/bin/python3, build the bundle, materialize it into
#   build/demo/dist, run dist/bin/report here and in a sandbox that has nothing but glibc
#   and /bin/sh (bwrap), and print the bundle's size.
set -euo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
unset LD_LIBRARY_PATH LD_PRELOAD PYTHONPATH PYTHONHOME
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tools/deps.sh"
bundlefs_install_deps
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build" -j"$(nproc)" --target bundlefs >/dev/null
bf="$root/build/tools/bundlefs"

demo="$root/build/demo"
rm -rf "$demo"
mkdir -p "$demo"
# The app runs from a copy, so its __pycache__ folders stay out of the repository.
cp -R "$root/tools/demo/app" "$demo/app"
cd "$demo"

bold='' plain=''
[ -t 1 ] && bold=$'\033[1m' plain=$'\033[0m'
step() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; }

step python3 app/report.py
/usr/bin/python3 app/report.py

step bundlefs trace -o app.trace.json -- python3 app/report.py
"$bf" trace -o app.trace.json -- /usr/bin/python3 app/report.py >/dev/null
echo "(recorded what the run loaded)"

step bundlefs build --trace app.trace.json -o bundle.json --name report
"$bf" build --trace app.trace.json -o bundle.json --name report

step bundlefs materialize bundle.json dist
"$bf" materialize bundle.json dist

step dist/bin/report
dist/bin/report

step "dist/bin/report    # in a bwrap sandbox holding only glibc, /bin/sh and dist/"
/usr/bin/python3 -S "$root/tests/bundle/sandbox.py" --bind dist -- "$demo/dist/bin/report"

step "summary of build/demo/dist"
files=$(find dist -type f | wc -l)
links=$(find dist -type l | wc -l)
reals=$(find dist/reals/r -type f | wc -l)
bytes=$(du -sb dist | cut -f1)
printf '  %d files (%d binaries under reals/r), %d symlinks, %d MB\n' \
  "$files" "$reals" "$links" $(( (bytes + 500000) / 1000000 ))
/usr/bin/python3 - bundle.json <<'PY'
import json, sys
print("  needs on the target: glibc >= %s, /bin/sh, and the libraries listed as excluded above"
      % ((json.load(open(sys.argv[1])).get("requires") or {}).get("glibc") or "?").replace("GLIBC_", ""))
PY

#!/usr/bin/env bash
# The demo: installs what is missing, builds bundlefs, and shows which files glibc's loader
# would bind for a Python extension module, without running it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tools/deps.sh"
bundlefs_install_deps python3 libpython3-stdlib
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build" -j"$(nproc)" --target bundlefs >/dev/null
bf="$root/build/tools/bundlefs"

ext=$(/usr/bin/python3 -c 'import _ssl; print(_ssl.__file__)')
echo "\$ bundlefs ldd $ext"
"$bf" ldd "$ext"
echo
echo "\$ bundlefs ldd --format=tsv $ext"
"$bf" ldd --format=tsv "$ext"

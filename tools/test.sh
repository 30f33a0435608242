#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every test through ctest.
#   tools/test.sh            the default suite (unit, ld.so differential, fuzz replay), then the
#                            same suite again in an ASan+UBSan build, then the system label
#   tools/test.sh --quick    the default suite in the normal build only
# Exits non-zero on any failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tools/deps.sh"
bundlefs_install_deps

quick=0
[ "${1:-}" = "--quick" ] && quick=1
jobs=$(nproc)

build() { # build DIR [CMAKE ARGS...]
  local dir=$1; shift
  cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j"$jobs" >/dev/null
}

build "$root/build"
ctest --test-dir "$root/build" --output-on-failure -j"$jobs" -LE system
[ $quick -eq 1 ] && exit 0

build "$root/build-san" -DBUNDLEFS_SANITIZE=ON
ctest --test-dir "$root/build-san" --output-on-failure -j"$jobs" -LE system

ctest --test-dir "$root/build" --output-on-failure -L system

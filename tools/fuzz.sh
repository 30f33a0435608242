#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) and runs each for SECONDS (default 600),
# starting from the real files listed in tests/fuzz/seeds-<name>.txt.
#   tools/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tools/deps.sh"
bundlefs_install_deps
secs=${1:-600}
shift || true
dir="$root/build-fuzz"
CC=clang cmake -S "$root" -B "$dir" -DBUNDLEFS_FUZZ=ON -DBUNDLEFS_SANITIZE=ON >/dev/null
cmake --build "$dir" -j"$(nproc)" >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$root"/tests/fuzz/fuzz_*.c; do t=$(basename "$f" .c); targets+=("${t#fuzz_}"); done
fi
for t in "${targets[@]}"; do
  corpus="$dir/corpus-$t"
  mkdir -p "$corpus"
  if [ -f "$root/tests/fuzz/seeds-$t.txt" ]; then
    grep -v '^#' "$root/tests/fuzz/seeds-$t.txt" | while read -r pat; do
      [ -n "$pat" ] || continue
      for f in $pat; do [ -f "$f" ] && cp -L "$f" "$corpus/seed-$(basename "$f")"; done
    done
  fi
  echo "fuzz_$t: ${secs}s"
  # Inputs are cut at 64 KiB: headers, program headers and most dynamic sections fit, and runs
  # stay fast; the unit tests cover whole files.
  "$dir/tests/fuzz/fuzz_$t" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="$dir/crash-$t-" "$corpus" 2>&1 | grep -E '^(stat::|#[0-9]+ +DONE|==|SUMMARY)' || true
  if ls "$dir"/crash-"$t"-* >/dev/null 2>&1; then
    echo "fuzz_$t: crash inputs in $dir/crash-$t-*" >&2
    exit 1
  fi
done

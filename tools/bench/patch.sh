#!/usr/bin/env bash
# Benchmark: rewriting every library of the python3-opencv closure (the cv2 module and the
# ~360 libraries it loads) with the same edit, side by side in one run (hyperfine, RUNS runs
# each, default 5, output folders emptied and the page cache written back before each run,
# so that no run pays for writing back the 400 MB its predecessor left dirty):
#   patchelf         cp + patchelf --set-rpath per file (patchelf edits in place)
#   bundlefs         bundlefs patch --set-rpath ... --out-dir DIR FILE... (one process)
#   bundlefs-images  bundlefs patch --dry-run: the rewrites as images, nothing written (what
#                    the FUSE mount serves from)
# Prints each median and patchelf's time over bundlefs's, and how many files bundlefs changed
# in place, in place with tables moved up (shifted) or grew.
#
#   tools/bench/patch.sh                  builds bundlefs in build/ at the repository root
#   BUNDLEFS=path RUNS=n tools/bench/patch.sh
set -euo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
unset LD_LIBRARY_PATH LD_PRELOAD
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
runs=${RUNS:-5}

. "$root/tools/deps.sh"
bundlefs_install_deps python3-opencv hyperfine patchelf
. "$here/bench_lib.sh"
bundlefs=$(bench_bundlefs)

cv2=$(find /usr/lib/python3/dist-packages -name 'cv2*.so' \( -type f -o -type l \) | sort | head -n1)
[ -n "$cv2" ] || { echo "patch.sh: no cv2*.so (python3-opencv)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-patch.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The closure as ld.so would load it, each real file once.
{ realpath "$cv2"; "$bundlefs" ldd --format=tsv "$cv2" | cut -f3 | grep '^/' | xargs realpath; } |
  sort -u > "$work/files"
rpath='$ORIGIN/../../symlinks/0123456789abcdef0123456789abcdef01234567'
mkdir -p "$work/pe" "$work/bf"
cat > "$work/patchelf.sh" <<SH
while read -r f; do
  out="$work/pe/\$(basename "\$f")"
  cp "\$f" "\$out" && patchelf --set-rpath '$rpath' "\$out"
done < "$work/files"
SH
mapfile -t files < "$work/files"
printf '%s\n' "${files[@]}" | xargs du -cb | tail -n1 | awk '{printf "%d files, %.0f MB\n", '"${#files[@]}"', $1 / 1e6}'

hyperfine --runs "$runs" --export-json "$work/h.json" \
  --prepare "rm -rf $work/pe $work/bf && sync && mkdir $work/pe $work/bf" \
  -n patchelf "bash $work/patchelf.sh" \
  -n bundlefs "$bundlefs patch --set-rpath '$rpath' --out-dir $work/bf ${files[*]}" \
  -n bundlefs-images "$bundlefs patch --dry-run --set-rpath '$rpath' ${files[*]}" >/dev/null

python3 - "$work/h.json" <<'PY'
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(sys.argv[1]))["results"]}
for name in ("patchelf", "bundlefs", "bundlefs-images"):
    print(f"  {name:16s} median {r[name] * 1000:9.1f} ms   patchelf / this: x{r['patchelf'] / r[name]:6.1f}")
PY
"$bundlefs" patch --dry-run --json --set-rpath "$rpath" "${files[@]}" |
  python3 -c 'import collections, json, sys; c = collections.Counter(x["change"] for x in json.load(sys.stdin)); print("  bundlefs:", ", ".join(f"{c[k]} {k}" for k in ("in-place", "shifted", "grown")))'

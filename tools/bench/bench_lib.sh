# Sourced by the benchmarks: the bundlefs binary to time, $BUNDLEFS or a fresh build in
# build/ at the repository root (root must be set).
bench_bundlefs() {
  local bin=${BUNDLEFS:-}
  if [ -z "$bin" ]; then
    cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$root/build" -j"$(nproc)" --target bundlefs >/dev/null
    bin=$root/build/tools/bundlefs
  fi
  realpath "$bin"
}

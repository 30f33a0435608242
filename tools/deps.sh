# Sourced by tools/test.sh and tools/demo.sh: installs the Debian packages bundlefs needs to
# build and test, and only when one is missing (apt-get update first, as on a fresh machine).
bundlefs_packages=(
  build-essential cmake pkg-config python3 python3-dev python3-numpy python3-pil python3-cffi gcc-multilib bubblewrap patchelf
  libfuse3-dev fuse3 libxxhash-dev libcmocka-dev libjansson-dev
  clang lld libclang-rt-14-dev
  elfutils binutils pax-utils libtree util-linux
)

bundlefs_install_deps() {
  local missing=()
  for p in "${bundlefs_packages[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}" >&2
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends \
    "${missing[@]}" >/dev/null
}

"""Facts about this machine's loader, read at test time (never hard-coded):
the active glibc-hwcaps levels, the $PLATFORM value, the $LIB value."""
import functools
import subprocess

LDSO = "/lib64/ld-linux-x86-64.so.2"


@functools.lru_cache(maxsize=None)
def _help_lines():
    out = subprocess.run([LDSO, "--help"], capture_output=True, text=True,
                         check=True).stdout
    return tuple(out.splitlines())


def _section(title):
    lines, inside = [], False
    for line in _help_lines():
        if line.startswith(title):
            inside = True
        elif inside and line and not line.startswith(" "):
            break
        elif inside and line.strip():
            lines.append(line.strip())
    return lines


@functools.lru_cache(maxsize=None)
def hwcaps_levels():
    """glibc-hwcaps subdirectories searched on this CPU, highest priority
    first (e.g. x86-64-v4, x86-64-v3, x86-64-v2)."""
    return tuple(line.split()[0]
                 for line in _section("Subdirectories of glibc-hwcaps")
                 if "searched" in line)


@functools.lru_cache(maxsize=None)
def platform():
    """The $PLATFORM value ld.so uses (AT_PLATFORM, or glibc's substitute
    such as haswell on suitable Intel CPUs)."""
    for line in _section("Legacy HWCAP subdirectories"):
        if "AT_PLATFORM" in line:
            return line.split()[0]
    raise RuntimeError("ld.so --help does not name the AT_PLATFORM subdirectory")


@functools.lru_cache(maxsize=None)
def legacy_hwcap():
    """The first searched legacy hwcap name (x86_64 on x86_64)."""
    for line in _section("Legacy HWCAP subdirectories"):
        if "searched" in line and "AT_PLATFORM" not in line and not line.startswith("tls "):
            return line.split()[0]
    raise RuntimeError("ld.so --help lists no searched legacy hwcap subdirectory")


@functools.lru_cache(maxsize=None)
def dst_lib():
    """Debian builds ld.so with $LIB = lib/<multiarch triplet>."""
    triplet = subprocess.run(["gcc", "-print-multiarch"], capture_output=True,
                             text=True, check=True).stdout.strip()
    return "lib/" + triplet if triplet else "lib64"


@functools.lru_cache(maxsize=None)
def libc_link_input():
    """What `-lc` means to gcc (the libc.so linker script), for linking with ld."""
    return subprocess.run(["gcc", "-print-file-name=libc.so"], capture_output=True,
                          text=True, check=True).stdout.strip()

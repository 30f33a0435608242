"""Builds a scenario's files from source with gcc: libraries, the executable
(linked with reporter.c), symlinks and deliberately broken candidates.

Arbitrary DT_NEEDED strings ("$ORIGIN/x.so", "sub/librel.so", "libq.so.01")
come from linking against stub libraries whose DT_SONAME is that string.
Compiled objects and stubs are shared between scenarios under <work>/_cache,
published with an atomic rename so parallel tests can share them."""
import hashlib
import os
import shutil
import struct
import subprocess

import ldso_host
from ldso_model import Lib

HERE = os.path.dirname(os.path.abspath(__file__))

DT_RUNPATH = 29
DT_DEPAUDIT = 0x6ffffefb
SHT_DYNAMIC = 6

# kind -> list of (file offset, bytes) written over a valid x86-64 library
MUTATIONS = {
    "class32": [(4, b"\x01")],             # EI_CLASS = ELFCLASS32
    "machine": [(18, struct.pack("<H", 183))],  # e_machine = EM_AARCH64
    "osabi": [(7, b"\x09")],               # EI_OSABI = FreeBSD
    "eidata": [(5, b"\x02")],              # EI_DATA = big endian
    "eiversion": [(6, b"\x02")],           # EI_VERSION != EV_CURRENT
    "pad": [(9, b"\x01")],                 # non-zero EI_PAD
    "eversion": [(20, struct.pack("<I", 2))],   # e_version != EV_CURRENT
    "phentsize": [(54, struct.pack("<H", 32))],  # e_phentsize wrong
}

LINKER_SCRIPT = ("/* GNU ld script: not an ELF file, but ld.so must not skip it */\n"
                 "GROUP ( libc.so.6 )\n")


class FixtureError(Exception):
    pass


def _run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise FixtureError("command failed: %s\n%s%s" % (" ".join(cmd), proc.stdout, proc.stderr))


class Builder:
    def __init__(self, work, root, subst):
        self.cache = os.path.join(work, "_cache")
        self.root = root
        self.subst = subst
        os.makedirs(self.cache, exist_ok=True)

    def _cached(self, key, suffix, make):
        digest = hashlib.sha256(repr(key).encode()).hexdigest()[:24]
        final = os.path.join(self.cache, digest + suffix)
        if not os.path.exists(final):
            tmp = "%s.%d.tmp" % (final, os.getpid())
            make(tmp)
            os.replace(tmp, final)
        return final

    def _object(self, source, flags):
        path = os.path.join(HERE, source)
        with open(path, "rb") as f:
            text = f.read()
        return self._cached((source, text, flags), ".o",
                            lambda out: _run(["gcc", "-c", *flags, "-o", out, path]))

    def fixture_object(self):
        return self._object("fixture_lib.c", ("-fPIC", "-O0", "-Wall", "-Wextra", "-Werror"))

    def reporter_object(self):
        return self._object("reporter.c", ("-fPIE", "-O1", "-std=c17", "-D_GNU_SOURCE",
                                           "-Wall", "-Wextra", "-Werror"))

    def stub(self, soname):
        def make(out):
            empty = self._cached("empty", ".o", lambda o: _run(
                ["gcc", "-c", "-x", "c", "-o", o, "/dev/null"]))
            _run(["ld", "-shared", "-soname", soname, "-o", out, empty])
        return self._cached(("stub", soname), ".so", make)

    def _ld_options(self, needed, rpath, runpath, nodeflib):
        """Options for ld itself (gcc gets each one behind -Xlinker)."""
        # Stubs may shadow real libraries (a stub named ld-linux-x86-64.so.2
        # hides ld.so's symbols from libc.so.6), so do not check them.
        opts = ["--no-as-needed", "--allow-shlib-undefined"]
        opts += [self.stub(self.subst(n)) for n in needed]
        if rpath is not None:
            opts += ["--disable-new-dtags", "-rpath", self.subst(rpath)]
            if runpath is not None:
                # ld writes only one of the two tags; DT_DEPAUDIT carries the
                # RUNPATH string and is renamed after linking.
                opts += ["--depaudit", self.subst(runpath)]
        elif runpath is not None:
            opts += ["--enable-new-dtags", "-rpath", self.subst(runpath)]
        if nodeflib:
            opts += ["-z", "nodefaultlib"]
        return opts

    def _finish_link(self, out, rpath, runpath):
        if rpath is not None and runpath is not None:
            _retag_dynamic(out, DT_DEPAUDIT, DT_RUNPATH)

    def library(self, path, lib: Lib):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        soname = os.path.basename(path) if lib.soname is None else lib.soname
        soname_opts = ["-soname", self.subst(soname)] if soname else []
        if lib.kind == "directory":
            os.makedirs(path)
            return
        if lib.kind == "script":
            with open(path, "w") as f:
                f.write(LINKER_SCRIPT)
            return
        if lib.kind == "et_rel":
            shutil.copyfile(self.fixture_object(), path)
            return
        if lib.kind == "elf32":
            src = os.path.join(self.root, ".empty32.c")
            with open(src, "w") as f:
                f.write("int fixture_elf32;\n")
            _run(["gcc", "-m32", "-shared", "-nostdlib", "-fPIC", "-o", path, src,
                  *_for_gcc(soname_opts)])
            return
        # ld directly: a library needs no start files, and the gcc driver
        # would double the cost of the suite's most frequent step.
        _run(["ld", "-shared", "-o", path, self.fixture_object(), *soname_opts,
              *self._ld_options(lib.needed, lib.rpath, lib.runpath, lib.nodeflib),
              ldso_host.libc_link_input()])
        self._finish_link(path, lib.rpath, lib.runpath)
        if lib.kind == "short":
            with open(path, "r+b") as f:
                f.truncate(40)
        elif lib.kind in MUTATIONS:
            with open(path, "r+b") as f:
                for offset, data in MUTATIONS[lib.kind]:
                    f.seek(offset)
                    f.write(data)
        elif lib.kind != "ok":
            raise FixtureError("unknown library kind %r" % lib.kind)
        if lib.setuid:
            os.chmod(path, 0o4755)

    def executable(self, path, exe):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        _run(["gcc", "-o", path, self.reporter_object(),
              *_for_gcc(self._ld_options(exe.needed, exe.rpath, exe.runpath, exe.nodeflib))])
        self._finish_link(path, exe.rpath, exe.runpath)


def _for_gcc(ld_options):
    return [x for opt in ld_options for x in ("-Xlinker", opt)]


def _retag_dynamic(path, old, new):
    with open(path, "r+b") as f:
        data = bytearray(f.read())
        shoff, = struct.unpack_from("<Q", data, 0x28)
        shentsize, shnum = struct.unpack_from("<HH", data, 0x3a)
        for i in range(shnum):
            sh = shoff + i * shentsize
            sh_type, = struct.unpack_from("<I", data, sh + 4)
            if sh_type != SHT_DYNAMIC:
                continue
            offset, size = struct.unpack_from("<QQ", data, sh + 0x18)
            for entry in range(offset, offset + size, 16):
                tag, = struct.unpack_from("<q", data, entry)
                if tag == old:
                    struct.pack_into("<q", data, entry, new)
                    f.seek(0)
                    f.write(data)
                    return
    raise FixtureError("%s: no dynamic tag %#x to rename" % (path, old))

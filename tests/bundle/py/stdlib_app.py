# App (a) of tests/bundle, run as `python3 -c CODE ARGS` (CODE: maps_report.py + this file):
# sqlite3, ssl, zlib, ctypes and cffi loading libraries by name. Prints a deterministic
# report and its arguments, exits with 10 + the number of arguments.
import ctypes
import hashlib
import sqlite3
import ssl
import sys
import zlib

import cffi

con = sqlite3.connect(":memory:")
con.execute("create table t (k integer primary key, v text)")
con.executemany("insert into t (v) values (?)", [(str(i * i),) for i in range(100)])
print("sqlite", sqlite3.sqlite_version, con.execute("select count(*), sum(length(v)) from t "
                                                    "where v like '%1%'").fetchone())
# No CA files exist in the sandbox: only what does not depend on them is printed.
ctx = ssl.create_default_context()
print("ssl", ssl.OPENSSL_VERSION, ctx.verify_mode == ssl.CERT_REQUIRED, ctx.check_hostname,
      ssl.HAS_TLSv1_3, hashlib.new("sha3_256", b"bundlefs").hexdigest()[:16])
data = b"bundlefs " * 1000
packed = zlib.compress(data, 9)
print("zlib", zlib.ZLIB_RUNTIME_VERSION, len(packed), zlib.decompress(packed) == data,
      zlib.crc32(data))
# ctypes and cffi: libz is already mapped (the interpreter needs it), liblzma and libbz2 are
# not: those two are found by the loader's search from the bundle.
z = ctypes.CDLL("libz.so.1")
z.zlibVersion.restype = ctypes.c_char_p
lzma = ctypes.CDLL("liblzma.so.5")
lzma.lzma_version_string.restype = ctypes.c_char_p
print("ctypes", z.zlibVersion().decode(), lzma.lzma_version_string().decode())
ffi = cffi.FFI()
ffi.cdef("const char *zlibVersion(void); const char *BZ2_bzlibVersion(void);")
fz = ffi.dlopen("libz.so.1")
fb = ffi.dlopen("libbz2.so.1.0")
print("cffi", ffi.string(fz.zlibVersion()).decode(), ffi.string(fb.BZ2_bzlibVersion()).decode())
print("args", sys.argv[1:])
sys.stdout.flush()
maps_report()
sys.exit(10 + len(sys.argv) - 1)

# The Python app of tests/trace/trace_python.py: every way a Python program loads native code.
import ctypes
import multiprocessing
import sqlite3
import ssl
import sys

import cffi


def child():
    # a fork child that loads a library of its own through ctypes
    ctypes.CDLL("liblzma.so.5")


if __name__ == "__main__":
    ctypes.CDLL("libz.so.1")  # already mapped: the interpreter needs it
    ffi = cffi.FFI()
    ffi.cdef("int BZ2_bzlibVersion(void);")
    bz2 = ffi.dlopen("libbz2.so.1.0")
    con = sqlite3.connect(":memory:")
    print(con.execute("select 6 * 7").fetchone()[0], ssl.OPENSSL_VERSION.split()[0])
    multiprocessing.set_start_method("fork")
    p = multiprocessing.Process(target=child)
    p.start()
    p.join()
    print("child exit", p.exitcode)
    sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)

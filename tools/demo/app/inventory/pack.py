"""zlib through ctypes: the C library itself, loaded by name as any FFI would."""
import ctypes

_z = ctypes.CDLL("libz.so.1")
_z.zlibVersion.restype = ctypes.c_char_p
_z.compressBound.restype = ctypes.c_ulong
_z.crc32.restype = ctypes.c_ulong
_z.crc32.argtypes = (ctypes.c_ulong, ctypes.c_char_p, ctypes.c_uint)


def version():
    return _z.zlibVersion().decode()


def compress(data):
    size = ctypes.c_ulong(_z.compressBound(len(data)))
    out = ctypes.create_string_buffer(size.value)
    if _z.compress2(out, ctypes.byref(size), data, ctypes.c_ulong(len(data)), 9) != 0:
        raise RuntimeError("compress2 failed")
    return out.raw[:size.value]


def decompress(data, length):
    size = ctypes.c_ulong(length)
    out = ctypes.create_string_buffer(length)
    if _z.uncompress(out, ctypes.byref(size), data, ctypes.c_ulong(len(data))) != 0:
        raise RuntimeError("uncompress failed")
    return out.raw[:size.value]


def crc32(data):
    return _z.crc32(0, data, len(data))

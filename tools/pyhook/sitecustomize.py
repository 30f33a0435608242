"""bundlefs trace, Python half.

`bundlefs trace` puts this folder first on PYTHONPATH, so site.py imports this file as
`sitecustomize`. It records the Python facts of the process into
$BUNDLEFS_TRACE_DIR/py-<pid>-<k>.json and then runs the `sitecustomize` the program would have
run without it. The program must not be able to tell: no output, no exception of ours, no
module imported at start-up that it would not have imported anyway (so no `json`, no
`threading`), sys.path and sys.modules['sitecustomize'] as without the hook, and os.environ
untouched, because child processes inherit the hook through it.

Record life cycle: a start record ("complete": false, "end": "running") as soon as the file is
reserved, rewritten after the chained sitecustomize; the complete record from an atexit handler
registered before any of the program's, so it runs after them; an "os._exit" record from a
wrapper around os._exit; a forked child starts a record of its own. A process killed by a
signal keeps its last record. Every rewrite goes through <name>.tmp and os.replace, so a reader
never sees half a record.
"""
import sys

# Before anything else: what the program had loaded, to tell the hook's own imports apart.
_MODULES_BEFORE = frozenset(sys.modules)

import os  # noqa: E402  (site.py has imported it: no new module)
import _imp  # noqa: E402  (loaded by the import system's bootstrap)

_FORMAT = "bundlefs-python-facts"
_FORMAT_VERSION = 1
_MAX_RECORDS_PER_PID = 1000
_LOCK_TIMEOUT_S = 5.0
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
_MODULE_TYPE = type(sys)
# The module type's own __dict__ slot: reading it runs no Python code, unlike attribute access
# on a lazily loaded module (importlib.util.LazyLoader) or one with a module __getattr__.
_MODULE_DICT = _MODULE_TYPE.__dict__["__dict__"]


# ---- JSON: the `json` package is not loaded at start-up, and records must be valid JSON for
# any str. A str that is not valid Unicode text (the lone surrogates U+DC80..U+DCFF stand for
# undecodable bytes in paths and environment values) is written as {"hex": <its bytes>}, the
# form bundlefs uses for any string that is not UTF-8; a str holding NUL, which no path can,
# as null. Output is pure ASCII.

_ESCAPES = {c: "\\u%04x" % c for c in range(0x20)}
_ESCAPES.update({ord('"'): '\\"', ord("\\"): "\\\\", 8: "\\b", 9: "\\t", 10: "\\n",
                 12: "\\f", 13: "\\r"})


def _json_char(c):
    n = ord(c)
    if n < 0x80:
        return c
    if n < 0x10000:
        return "\\u%04x" % n
    n -= 0x10000
    return "\\u%04x\\u%04x" % (0xD800 + (n >> 10), 0xDC00 + (n & 0x3FF))


def _json_str(s):
    # Unbound str methods: a str subclass from the program cannot change the result.
    if "\0" in str.__str__(s):
        return "null"
    try:
        str.encode(s, "utf-8")
    except UnicodeEncodeError:
        try:
            raw = str.encode(s, "utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raw = str.encode(s, "utf-8", "surrogatepass")
        return '{"hex":"' + bytes.hex(raw) + '"}'
    t = str.translate(s, _ESCAPES)
    if not str.isascii(t):
        t = "".join(map(_json_char, t))
    return '"' + t + '"'


def _json(v, out):
    t = type(v)
    if v is None:
        out.append("null")
    elif v is True:
        out.append("true")
    elif v is False:
        out.append("false")
    elif issubclass(t, int):
        out.append(int.__repr__(v))
    elif issubclass(t, str):
        out.append(_json_str(v))
    elif t is list or t is tuple:
        out.append("[")
        for i, item in enumerate(v):
            if i:
                out.append(",")
            _json(item, out)
        out.append("]")
    elif t is dict:
        out.append("{")
        first = True
        for k, item in v.items():
            key = _json_str(k)
            if not key.startswith('"'):
                continue  # an object key must be a string: such a name is left out
            if not first:
                out.append(",")
            first = False
            out.append(key)
            out.append(":")
            _json(item, out)
        out.append("}")
    else:
        out.append("null")


# ---- Reading the program's objects without trusting them.

def _plain_str(v):
    """v as an exact str, or None: program objects may be anything."""
    t = type(v)
    if issubclass(t, str):
        return str.__str__(v)
    if issubclass(t, bytes):
        return os.fsdecode(bytes(v))
    return None


def _str_list(seq):
    """A copy of a list/tuple of path-like strings (sys.path, sys.argv), or None."""
    t = type(seq)
    if issubclass(t, list):
        items = list.copy(seq)
    elif issubclass(t, tuple):
        items = list(tuple.__iter__(seq))
    else:
        return None
    return [_plain_str(x) for x in items]


def _module_where(mod):
    """(origin, file) of a sys.modules value; (None, None) where they cannot be read safely."""
    origin = file = spec = None
    try:
        if issubclass(type(mod), _MODULE_TYPE):
            d = _MODULE_DICT.__get__(mod)
            if type(d) is dict:
                spec, file = d.get("__spec__"), d.get("__file__")
        else:
            spec = getattr(mod, "__spec__", None)
            file = getattr(mod, "__file__", None)
    except Exception:
        pass
    try:
        if spec is not None:
            origin = getattr(spec, "origin", None)
    except Exception:
        pass
    return _plain_str(origin), _plain_str(file)


def _modules():
    try:
        mods = sys.modules
        snapshot = dict.copy(mods) if type(mods) is dict else dict(mods)
    except Exception:
        return []
    rows = []
    for name, mod in snapshot.items():
        if mod is None or not issubclass(type(name), str):
            continue
        origin, file = _module_where(mod)
        rows.append((str.__str__(name), origin, file))
    rows.sort(key=lambda r: r[0])
    return [{"name": n, "origin": o, "file": f} for n, o, f in rows]


def _soabi():
    """SOABI without importing sysconfig (a few milliseconds per run): CPython's first
    extension suffix is "." + SOABI + the shared-library suffix (dynload_shlib.c)."""
    try:
        first = _plain_str(_imp.extension_suffixes()[0])
    except Exception:
        return None
    if not first or not first.startswith(".") or not first.endswith(".so") or first == ".so":
        return None
    return first[1:-3]


def _main_module():
    try:
        main = sys.modules.get("__main__")
        if issubclass(type(main), _MODULE_TYPE):
            return _plain_str(_MODULE_DICT.__get__(main).get("__file__"))
        return _plain_str(getattr(main, "__file__", None))
    except Exception:
        return None


def _stdlib_dir():
    d = _plain_str(getattr(sys, "_stdlib_dir", None))
    if d:
        return d
    f = _plain_str(getattr(os, "__file__", None))
    return os.path.dirname(f) if f else None


# ---- Where the hook is, and undoing what the injection changed.

def _hook_dirs():
    dirs = []
    try:
        f = globals().get("__file__")
        if isinstance(f, str) and f:
            dirs.append(os.path.dirname(os.path.abspath(f)))
        env = os.environ.get("BUNDLEFS_TRACE_HOOK")
        if env:
            dirs.append(os.path.abspath(env))
    except Exception:
        pass  # a relative path with the current directory gone
    return dirs


def _is_hook_dir(entry, hookdirs):
    # "" means the current directory at import time, never the hook the CLI added.
    e = _plain_str(entry)
    return bool(e) and os.path.abspath(e) in hookdirs


def _unhook_path(hookdirs):
    try:
        p = sys.path
        keep = [e for e in p if not _is_hook_dir(e, hookdirs)]
        if len(keep) != len(p):
            p[:] = keep  # in place: the list object is the program's
        cache = sys.path_importer_cache
        for key in [k for k in cache if _is_hook_dir(k, hookdirs)]:
            del cache[key]
    except Exception:
        pass


def _strip_pythonpath(value, hookdirs):
    parts = value.split(":")
    for i, part in enumerate(parts):
        if _is_hook_dir(part, hookdirs):
            del parts[i]
            break
    return ":".join(parts)


def _strip_audit(value, audit):
    if not audit:
        return value
    if value == audit:
        return ""
    if value.endswith(":" + audit):
        return value[:-len(audit) - 1]
    return value


def _loading_env(hookdirs):
    """The environment variables that change loading, as the program would see them without
    the injection."""
    env = {}
    for k, v in os.environ.items():
        if k.startswith("BUNDLEFS_") or not (k.startswith("PYTHON") or k.startswith("LD_")):
            continue
        if k == "PYTHONPATH":
            v = _strip_pythonpath(v, hookdirs)
        elif k == "LD_AUDIT":
            v = _strip_audit(v, os.environ.get("BUNDLEFS_TRACE_AUDIT"))
        if v or k not in ("PYTHONPATH", "LD_AUDIT"):
            env[k] = v
    return {k: env[k] for k in sorted(env)}


# ---- The record.

class _Recorder(object):
    def __init__(self, trace_dir, hookdirs, clock, hook_imported):
        self.dir = trace_dir
        self.clock = clock
        self.hook_imported = hook_imported
        self.pid = os.getpid()
        self.ppid = os.getppid()
        self.forked_from = None
        self.started_ns = clock()
        self.lock = _new_lock()
        try:
            self.cwd = os.getcwd()
        except OSError:
            self.cwd = None
        self.env = _loading_env(hookdirs)
        self.path_start = _str_list(sys.path)
        self.name = self._reserve()
        exe = _plain_str(sys.executable)
        impl = sys.implementation
        flags = sys.flags
        self.executable = exe
        self.executable_realpath = os.path.realpath(exe) if exe else None
        self.orig_argv = _str_list(getattr(sys, "orig_argv", None))
        self.extension_suffixes = list(_imp.extension_suffixes())
        self.stdlib = _stdlib_dir()
        self.impl = impl
        self.flags = {
            "isolated": bool(flags.isolated),
            "ignore_environment": bool(flags.ignore_environment),
            "no_site": bool(flags.no_site),
            "no_user_site": bool(flags.no_user_site),
            "safe_path": bool(getattr(flags, "safe_path", False)),
        }

    def _reserve(self):
        for k in range(_MAX_RECORDS_PER_PID):
            name = os.path.join(self.dir, "py-%d-%d.json" % (self.pid, k))
            try:
                os.close(os.open(name, _OPEN_FLAGS | os.O_EXCL, 0o644))
                return name
            except FileExistsError:
                continue
            except OSError:
                return None
        return None

    def forked(self):
        """In a forked child: the same facts, a record file of its own."""
        parent = self.pid
        self.pid = os.getpid()
        self.ppid = os.getppid()
        self.forked_from = parent
        self.started_ns = self.clock()
        # A lock held by a parent thread stays held in the child forever.
        self.lock = _new_lock()
        self.name = self._reserve()

    def _lib_dynload(self):
        for e in self.path_start or ():
            if e and os.path.basename(os.path.normpath(e)) == "lib-dynload":
                return e
        return None

    def _main_script(self, argv):
        a = argv[0] if argv else None
        if not a:
            return a
        p = os.path.normpath(os.path.join(self.cwd or "", a))
        return p if os.path.isabs(p) and os.path.exists(p) else a

    def _text(self, end):
        final = end != "running"
        modules = _modules()
        argv = _str_list(getattr(sys, "argv", None))
        record = {
            "format": _FORMAT,
            "version": _FORMAT_VERSION,
            "pid": self.pid,
            "ppid": self.ppid,
            "forked_from": self.forked_from,
            "started_ns": self.started_ns,
            "complete": end == "exit",
            "end": end,
            "executable": self.executable,
            "executable_realpath": self.executable_realpath,
            "orig_argv": self.orig_argv,
            "argv": argv,
            "python_version": sys.version,
            "version_info": list(sys.version_info),
            "implementation": self.impl.name,
            "cache_tag": self.impl.cache_tag,
            "abiflags": getattr(sys, "abiflags", ""),
            "multiarch": getattr(self.impl, "_multiarch", None),
            "soabi": _soabi(),
            "extension_suffixes": self.extension_suffixes,
            "prefix": sys.prefix,
            "base_prefix": getattr(sys, "base_prefix", sys.prefix),
            "exec_prefix": sys.exec_prefix,
            "base_exec_prefix": getattr(sys, "base_exec_prefix", sys.exec_prefix),
            "platlibdir": getattr(sys, "platlibdir", "lib"),
            "stdlib": self.stdlib,
            "lib_dynload": self._lib_dynload(),
            "path_start": self.path_start,
            "path_exit": _str_list(sys.path) if final else None,
            "modules": modules,
            "hook_imported": self.hook_imported,
            "main_script": self._main_script(argv),
            "main_module": _main_module(),
            "cwd": self.cwd,
            "env": self.env,
            "flags": self.flags,
        }
        out = []
        _json(record, out)
        out.append("\n")
        return "".join(out).encode("ascii")

    def write(self, end):
        """Never raises: the program must not see the hook fail."""
        try:
            if os.getpid() != self.pid:
                self.forked()  # a fork the at-fork handler did not see (fork() from C)
            if self.name is None:
                return
            # Reentrant: os._exit from a signal handler that interrupted a write.
            locked = self.lock is not None and self.lock.acquire(True, _LOCK_TIMEOUT_S)
            try:
                data = self._text(end)
                tmp = self.name + ".tmp"
                fd = os.open(tmp, _OPEN_FLAGS | os.O_TRUNC, 0o644)
                try:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view):]
                finally:
                    os.close(fd)
                os.replace(tmp, self.name)
            finally:
                if locked:
                    self.lock.release()
        except BaseException:
            pass


def _new_lock():
    t = sys.modules.get("_thread")
    return t.RLock() if t is not None else None


def _import_for_hook(name):
    """A module the hook needs; when the program had not loaded it, it shows in
    "hook_imported" so consumers can discount it."""
    return sys.modules.get(name) or __import__(name)


def _start(hookdirs):
    """The recorder, installed; None when nothing can be recorded. Never raises."""
    try:
        trace_dir = os.environ.get("BUNDLEFS_TRACE_DIR")
        if not trace_dir or not os.path.isdir(trace_dir):
            return None
        trace_dir = os.path.abspath(trace_dir)  # the program may chdir before it exits
        clock = _import_for_hook("time").monotonic_ns
        atexit = _import_for_hook("atexit")
        hook_imported = sorted(set(sys.modules) - _MODULES_BEFORE)
        rec = _Recorder(trace_dir, hookdirs, clock, hook_imported)
        if rec.name is None:
            return None
        # atexit runs handlers last-registered first: registering before the program has run
        # a line puts ours after all of the program's.
        atexit.register(rec.write, "exit")
        _wrap_os_exit(rec)
        register_at_fork = getattr(os, "register_at_fork", None)
        if register_at_fork is not None:
            register_at_fork(after_in_child=lambda: _child_start(rec))
        # the start record is written once the chained sitecustomize has run (_main)
        return rec
    except BaseException:
        return None


def _child_start(rec):
    try:
        rec.forked()
        rec.write("running")
    except BaseException:
        pass


def _wrap_os_exit(rec):
    real_exit = os._exit

    def _exit(status):
        rec.write("os._exit")
        real_exit(status)

    _exit.__doc__ = real_exit.__doc__
    os._exit = _exit


def _chain():
    """Imports the sitecustomize that the path holds after the hook's folder, as site.py would
    have; what it raises propagates so site.py reports it (or, for ImportError naming
    sitecustomize, leaves the name absent from sys.modules) exactly as without the hook."""
    mine = sys.modules.get("sitecustomize")
    if __name__ != "sitecustomize" or getattr(mine, "__dict__", None) is not globals():
        return
    del sys.modules["sitecustomize"]
    __import__("sitecustomize")


def _main():
    hookdirs = _hook_dirs()
    _unhook_path(hookdirs)
    rec = _start(hookdirs)
    try:
        _chain()
    finally:
        if rec is not None:
            rec.path_start = _str_list(sys.path)  # including what the chained one added
            rec.write("running")


_main()

"""Declarative description of one ld.so scenario and of what the real loader
must do in it.

Every path-like string may use two templates, expanded per scenario run:
  @      the scenario's root directory (absolute)
  %UP%   enough "../" to climb from the root directory to "/"
"""
from dataclasses import dataclass, field
from typing import Optional, Union


@dataclass
class Lib:
    """A fixture library. soname None means "the file's basename", False means
    no DT_SONAME. kind selects a deliberately broken or foreign file (see
    ldso_fixtures.MUTATIONS); "elf32" is a genuine i386 library."""
    soname: Union[str, None, bool] = None
    needed: tuple = ()
    rpath: Optional[str] = None
    runpath: Optional[str] = None
    nodeflib: bool = False
    kind: str = "ok"
    setuid: bool = False


@dataclass
class Exe:
    path: str = "app"
    needed: tuple = ()
    rpath: Optional[str] = None
    runpath: Optional[str] = None
    nodeflib: bool = False


# Expectations checked against the REAL loader, so that each scenario is
# shown to exercise its rule before bundlefs is compared with it.

OUTSIDE = "<outside the scenario directory>"


@dataclass
class Edge:
    """requester's DT_NEEDED `needed` is bound to `resolved` (OUTSIDE: to some
    object that is not a fixture of this scenario)."""
    requester: str
    needed: str
    resolved: str


@dataclass
class Loaded:
    path: str


@dataclass
class NotLoaded:
    path: str


@dataclass
class Order:
    """These objects appear in the link map in this relative order."""
    paths: tuple


@dataclass
class StartError:
    """The program cannot start; ld.so's message contains (or, if exact, is)
    `text`."""
    text: str
    exact: bool = False


@dataclass
class Dlopen:
    """A dlopen call of the scenario returned `result` (an l_name), or failed
    with a message containing `result` when it starts with "ERROR: "."""
    caller: str
    name: str
    result: str


@dataclass
class PreloadError:
    text: str


@dataclass
class Scenario:
    name: str
    rule: str
    exe: Exe = field(default_factory=Exe)
    libs: dict = field(default_factory=dict)
    symlinks: dict = field(default_factory=dict)   # path -> link target
    hardlinks: dict = field(default_factory=dict)  # path -> existing path
    dirs: tuple = ()
    files: dict = field(default_factory=dict)      # path -> text
    env: dict = field(default_factory=dict)
    cwd: str = "@"
    invoke: Optional[str] = None                   # default "@/" + exe.path
    ldso_opts: tuple = ()                          # explicit ld.so invocation
    dlopen: tuple = ()                             # (caller or None, name)
    secure: bool = False
    cache: Optional[tuple] = None                  # ld.so.conf dirs
    after_cache: dict = field(default_factory=dict)  # path -> Lib or None
    preload_file: Optional[str] = None             # /etc/ld.so.preload
    system_libs: dict = field(default_factory=dict)  # path under /usr/lib
    expect: tuple = ()

    @property
    def explicit(self):
        return bool(self.ldso_opts)

    @property
    def invocation(self):
        return self.invoke if self.invoke is not None else "@/" + self.exe.path

    @property
    def needs_namespace(self):
        return (self.cache is not None or self.preload_file is not None
                or bool(self.system_libs))

    @property
    def needs_root(self):
        return self.needs_namespace or self.secure

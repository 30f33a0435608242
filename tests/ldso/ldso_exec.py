"""Runs the real program and `bundlefs ldd` under identical conditions: same
cwd, same environment, and for cache/preload/system-dir scenarios the same
private mount namespace contents (tmpfs over /etc holding the scenario's
ld.so.cache and ld.so.preload, overlay over /usr/lib)."""
import os
import shlex
import subprocess
from dataclasses import dataclass

from ldso_host import LDSO
from ldso_layout import SYSTEM_PATH

TIMEOUT = 30


@dataclass
class Result:
    argv: list       # the program's command line, without the namespace wrapper
    env: dict        # the scenario's variables it ran with
    namespace: bool  # ran in a private mount namespace
    returncode: int
    stdout: str
    stderr: str

    def describe(self):
        env = " ".join("%s=%s" % (k, shlex.quote(v)) for k, v in self.env.items())
        return "%s%s%s" % ("[private mount namespace] " if self.namespace else "",
                           env + " " if env else "", " ".join(map(shlex.quote, self.argv)))


def _namespace_script(layout, env):
    scn = layout.scn
    q = shlex.quote
    lines = ["set -e"]
    if scn.system_libs:
        lines.append("mount -t overlay overlay -o lowerdir=/usr/lib,upperdir=%s,workdir=%s /usr/lib"
                     % (q(layout.upper), q(layout.ovlwork)))
    # ld.so reads nothing else from /etc; neither may bundlefs ldd.
    lines.append("mount -t tmpfs -o mode=755 tmpfs /etc")
    for name in ("ld.so.cache", "ld.so.preload"):
        src = os.path.join(layout.etc, name)
        if os.path.exists(src):
            lines.append("cp %s /etc/%s" % (q(src), name))
    # Exported only now, and exec'd directly: no other dynamically linked
    # program may run with the scenario's LD_* variables or ld.so.preload,
    # or its preload errors would mix with the real program's.
    lines += ["export %s=%s" % (k, q(v)) for k, v in env.items()]
    lines.append('exec "$@"')
    return "\n".join(lines)


def _run(layout, argv, extra_env):
    scenario_env = {k: layout.subst(v) for k, v in layout.scn.env.items()}
    env = {"PATH": SYSTEM_PATH, **scenario_env, **extra_env}
    cmd = argv
    if layout.scn.needs_namespace:
        cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c",
               _namespace_script(layout, env), "sh", *argv]
        env = {"PATH": SYSTEM_PATH}
    proc = subprocess.run(cmd, cwd=layout.subst(layout.scn.cwd), capture_output=True,
                          text=True, errors="replace", timeout=TIMEOUT, env=env)
    return Result(argv, scenario_env, layout.scn.needs_namespace, proc.returncode,
                  proc.stdout, proc.stderr)


def run_real(layout):
    scn = layout.scn
    argv = [LDSO, *[layout.subst(o) for o in scn.ldso_opts]] if scn.explicit else []
    argv.append(layout.subst(scn.invocation))
    for caller, name in scn.dlopen:
        argv += ["-" if caller is None else layout.subst(caller), layout.subst(name)]
    return _run(layout, argv, {})


def run_bundlefs(layout, bundlefs):
    scn = layout.scn
    argv = [bundlefs, "ldd", "--format=tsv", *[layout.subst(o) for o in scn.ldso_opts]]
    if scn.secure:
        argv.append("--secure")
    for caller, name in scn.dlopen:
        if caller is None:
            argv += ["--dlopen", layout.subst(name)]
        else:
            argv += ["--dlopen-from", layout.subst(caller), layout.subst(name)]
    argv.append(layout.subst(scn.invocation))
    # A sanitizer build of bundlefs must tolerate the scenario's LD_PRELOAD.
    asan = os.environ.get("ASAN_OPTIONS", "")
    extra = {"ASAN_OPTIONS": (asan + ":" if asan else "") + "verify_asan_link_order=0"}
    if "UBSAN_OPTIONS" in os.environ:
        extra["UBSAN_OPTIONS"] = os.environ["UBSAN_OPTIONS"]
    return _run(layout, argv, extra)

"""Lays a scenario out on disk: its root directory, fixtures, ld.so.cache,
/etc/ld.so.preload replacement, overlay for /usr/lib and set-uid bits."""
import os
import pwd
import shutil
import subprocess
import tempfile

from ldso_fixtures import Builder, FixtureError

SECURE_USER = "nobody"
SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


def _traversable_by_others(path):
    path = os.path.realpath(path)
    while True:
        if not os.stat(path).st_mode & 0o001:
            return False
        if path == "/":
            return True
        path = os.path.dirname(path)


class Layout:
    def __init__(self, scn, work):
        self.scn = scn
        os.makedirs(work, exist_ok=True)
        self.work = os.path.realpath(work)
        base = os.path.join(self.work, scn.name.replace("/", "__"))
        self.temporary = None
        if scn.secure and not _traversable_by_others(self.work):
            # The set-uid executable runs as SECURE_USER, who must reach the
            # fixtures; a build tree under /root would hide them.
            self.temporary = tempfile.mkdtemp(prefix="bundlefs-ldso-")
            base = os.path.join(self.temporary, "s")
        self.root = base
        self.meta = os.path.join(self.root, ".ldso")
        self.etc = os.path.join(self.meta, "etc")
        self.upper = os.path.join(self.meta, "upper")
        self.ovlwork = os.path.join(self.meta, "ovlwork")

    def subst(self, text):
        if text is None:
            return None
        up = "../" * len([c for c in self.root.split("/") if c])
        return text.replace("%UP%", up).replace("@", self.root)

    def path(self, name):
        """A fixture path: relative names are relative to the root. Fixtures
        never go elsewhere (system libraries go to the overlay's upper dir)."""
        name = os.path.join(self.root, self.subst(name))
        if not os.path.normpath(name).startswith(self.root + "/"):
            raise FixtureError("fixture path %s is outside the scenario directory" % name)
        return name

    def show(self, text):
        """Inverse of subst for messages: the root prints as @."""
        return text.replace(self.root, "@")

    def cleanup(self):
        if self.temporary is not None:
            shutil.rmtree(self.temporary, ignore_errors=True)

    def build(self):
        scn = self.scn
        if os.path.lexists(self.root):
            shutil.rmtree(self.root)
        os.makedirs(self.etc)
        builder = Builder(self.work, self.root, self.subst)
        for path, lib in sorted(scn.libs.items()):
            builder.library(self.path(path), lib)
        for path, lib in sorted(scn.system_libs.items()):
            builder.library(os.path.join(self.upper, path), lib)
        if scn.system_libs:
            os.makedirs(self.ovlwork)
        builder.executable(self.path(scn.exe.path), scn.exe)
        for d in scn.dirs:
            os.makedirs(self.path(d), exist_ok=True)
        for path, text in scn.files.items():
            self._parent(path)
            with open(self.path(path), "w") as f:
                f.write(self.subst(text))
        for path, target in scn.symlinks.items():
            self._parent(path)
            os.symlink(self.subst(target), self.path(path))
        for path, existing in scn.hardlinks.items():
            self._parent(path)
            os.link(self.path(existing), self.path(path))
        self._etc_files()
        for path, lib in scn.after_cache.items():
            os.unlink(self.path(path))
            if lib is not None:
                builder.library(self.path(path), lib)
        if scn.secure:
            self._make_setuid()

    def _parent(self, path):
        os.makedirs(os.path.dirname(self.path(path)), exist_ok=True)

    def _etc_files(self):
        scn = self.scn
        cache = os.path.join(self.etc, "ld.so.cache")
        if scn.cache is not None:
            conf = os.path.join(self.etc, "ld.so.conf")
            with open(conf, "w") as f:
                f.write("".join(self.subst(d) + "\n" for d in scn.cache))
            generate_cache(cache, conf)
        elif scn.needs_namespace:
            shutil.copyfile("/etc/ld.so.cache", cache)
        preload = os.path.join(self.etc, "ld.so.preload")
        if scn.preload_file is not None:
            with open(preload, "w") as f:
                f.write(self.subst(scn.preload_file))
        elif scn.needs_namespace and os.path.exists("/etc/ld.so.preload"):
            shutil.copyfile("/etc/ld.so.preload", preload)

    def _make_setuid(self):
        for dirpath, dirnames, _ in os.walk(self.root):
            for d in dirnames:
                os.chmod(os.path.join(dirpath, d), 0o755)
        os.chmod(self.root, 0o755)
        if self.temporary is not None:
            os.chmod(self.temporary, 0o755)
        user = pwd.getpwnam(SECURE_USER)
        exe = self.path(self.scn.exe.path)
        os.chown(exe, user.pw_uid, user.pw_gid)
        os.chmod(exe, 0o4755)


def generate_cache(cache, conf):
    """The real ldconfig writes the cache. It also rewrites its aux-cache in
    /var/cache/ldconfig; a private tmpfs there keeps the host untouched."""
    script = ("if [ -d /var/cache/ldconfig ]; then "
              "mount -t tmpfs tmpfs /var/cache/ldconfig || exit 1; fi; "
              'exec ldconfig -X -C "$1" -f "$2"')
    proc = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                           script, "sh", cache, conf], capture_output=True, text=True,
                          env={"PATH": SYSTEM_PATH})
    if proc.returncode != 0 or not os.path.exists(cache):
        raise FixtureError("ldconfig failed:\n" + proc.stdout + proc.stderr)

"""The C fixtures of the bundle tests, built with gcc at test time: app (c) and the Python
package of acceptance 2, each with a folder of impostor libraries (evil/) that carry the
bundled names and answer EVIL."""
import os
import shutil

import e2e_lib as E


def so(out, fn, text, *flags, next_fn=None):
    defs = ["-DLIB_FN=" + fn, '-DLIB_TEXT="%s"' % text]
    if next_fn:
        defs.append("-DLIB_NEXT=" + next_fn)
    return E.gcc(out, ["lib.c"], "-shared", "-fPIC", *defs, *flags)


def rpath(d):
    return "-Wl,--disable-new-dtags,-rpath," + d


def runpath(d):
    return "-Wl,--enable-new-dtags,-rpath," + d


def build_c(root):
    """The tree of app (c):
      bin/app                 NEEDED liba.so libb.so libalt.so.3, RUNPATH $ORIGIN/../lib,
                              dlopen("libplug.so")
      lib/liba.so             NEEDED libx.so, RPATH $ORIGIN/../dir1
      dir1/libx.so -> libsame.so   (SONAME libx.so) NEEDED libdeep.so, RUNPATH $ORIGIN/../deep
      deep/libdeep.so         NEEDED libleaf.so, RPATH $ORIGIN/leaf
      deep/leaf/libleaf.so    (4th level below the program)
      lib/libb.so             NEEDED liby.so, RUNPATH $ORIGIN/../dir2
      dir2/liby.so -> libsame.so   (SONAME liby.so): another file of the same name
      lib/libalt.so.3 -> ../etc/alternatives/libalt.so.3 -> ../../opt/alt/libalt.so.3.0
      lib/libplug.so
    and evil/: a library of each requested name that answers EVIL."""
    p = lambda *x: os.path.join(root, *x)
    E.fresh_dir(root)
    so(p("deep/leaf/libleaf.so"), "leaf_hello", "leaf")
    so(p("deep/libdeep.so"), "deep_hello", "deep", "-L" + p("deep/leaf"), "-l:libleaf.so",
       rpath("$ORIGIN/leaf"), next_fn="leaf_hello")
    so(p("dir1/libsame.so"), "x_where", "libsame.so of dir1", "-Wl,-soname,libx.so",
       "-L" + p("deep"), "-l:libdeep.so", runpath("$ORIGIN/../deep"),
       "-Wl,-rpath-link," + p("deep/leaf"), next_fn="deep_hello")
    os.symlink("libsame.so", p("dir1/libx.so"))
    so(p("dir2/libsame.so"), "y_where", "libsame.so of dir2", "-Wl,-soname,liby.so")
    os.symlink("libsame.so", p("dir2/liby.so"))
    so(p("opt/alt/libalt.so.3.0"), "alt_hello", "alt through two symlinks",
       "-Wl,-soname,libalt.so.3")
    os.makedirs(p("etc/alternatives"))
    os.symlink("../../opt/alt/libalt.so.3.0", p("etc/alternatives/libalt.so.3"))
    os.makedirs(p("lib"))
    os.symlink("../etc/alternatives/libalt.so.3", p("lib/libalt.so.3"))
    link = "-Wl,-rpath-link," + ":".join(p(d) for d in ("dir1", "dir2", "deep", "deep/leaf"))
    so(p("lib/liba.so"), "a_hello", "a", "-L" + p("dir1"), "-l:libx.so",
       rpath("$ORIGIN/../dir1"), link, next_fn="x_where")
    so(p("lib/libb.so"), "b_hello", "b", "-L" + p("dir2"), "-l:liby.so",
       runpath("$ORIGIN/../dir2"), next_fn="y_where")
    so(p("lib/libplug.so"), "plug_hello", "plug", "-L" + p("deep/leaf"), "-l:libleaf.so",
       runpath("$ORIGIN/../deep/leaf"), next_fn="leaf_hello")
    E.gcc(p("bin/app"), ["app.c", "maps.c"], "-L" + p("lib"), "-l:liba.so", "-l:libb.so",
          "-l:libalt.so.3", runpath("$ORIGIN/../lib"), link)
    for fn, name in (("a_hello", "liba.so"), ("b_hello", "libb.so"), ("x_where", "libx.so"),
                     ("y_where", "liby.so"), ("deep_hello", "libdeep.so"),
                     ("leaf_hello", "libleaf.so"), ("alt_hello", "libalt.so.3"),
                     ("plug_hello", "libplug.so")):
        so(p("evil", name), fn, "EVIL " + name, "-Wl,-soname," + name)
    return p("bin/app"), p("evil")


def build_pkg(app):
    """app/pkg_main.py and the package beside it:
      pkgtwo/.libs/libpkghelper.so.1
      pkgtwo/native/_core<EXT>         NEEDED libpkghelper.so.1, RUNPATH $ORIGIN/../.libs
      pkgtwo/sub/deeper/_user<EXT>     NEEDED _core<EXT> libpkghelper.so.1,
                                       RUNPATH $ORIGIN/../../native:$ORIGIN/../../.libs
    and evil/libpkghelper.so.1, which answers EVIL."""
    ask = "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'), " \
          "sysconfig.get_paths()['include'])"
    ext, inc = E.text(E.run([E.PYTHON, "-c", ask]).stdout).split()
    p = lambda *x: os.path.join(app, *x)
    E.fresh_dir(app)
    for n in ("pkg_main.py", "maps_report.py"):
        shutil.copy(os.path.join(E.PY_SRC, n), app)
    for d in ("pkgtwo", "pkgtwo/native", "pkgtwo/sub", "pkgtwo/sub/deeper"):
        os.makedirs(p(d), exist_ok=True)
        open(p(d, "__init__.py"), "w").close()
    so(p("pkgtwo/.libs/libpkghelper.so.1"), "helper_text", "helper",
       "-Wl,-soname,libpkghelper.so.1")
    pyflags = ["-shared", "-fPIC", "-I" + inc]
    E.gcc(p("pkgtwo/native/_core" + ext), ["ext_core.c"], *pyflags, "-L" + p("pkgtwo/.libs"),
          "-l:libpkghelper.so.1", runpath("$ORIGIN/../.libs"))
    E.gcc(p("pkgtwo/sub/deeper/_user" + ext), ["ext_user.c"], *pyflags,
          "-L" + p("pkgtwo/native"), "-l:_core" + ext, "-L" + p("pkgtwo/.libs"),
          "-l:libpkghelper.so.1", runpath("$ORIGIN/../../native:$ORIGIN/../../.libs"))
    so(os.path.join(os.path.dirname(app), "evil", "libpkghelper.so.1"), "helper_text",
       "EVIL helper", "-Wl,-soname,libpkghelper.so.1")
    return p("pkg_main.py"), os.path.join(os.path.dirname(app), "evil")

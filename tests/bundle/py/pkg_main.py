# The app of acceptance 2 (tests/bundle): a package beside the script whose extension module
# pkgtwo.native._core (3 folders deep) is also a DT_NEEDED of pkgtwo.sub.deeper._user (4 deep);
# both need pkgtwo/.libs/libpkghelper.so.1. argv[1] says which module is imported first:
# "core" (the extension module is loaded by path, then found again by name) or "user" (it is
# loaded as a dependency, then imported by path: the loader must see one object).
import sys

from maps_report import maps_report

order = sys.argv[1] if len(sys.argv) > 1 else "core"
if order == "core":
    import pkgtwo.native._core as core
    import pkgtwo.sub.deeper._user as user
else:
    import pkgtwo.sub.deeper._user as user
    import pkgtwo.native._core as core
print("order", order)
print("core", core.value())
print("user", user.value())
sys.stdout.flush()
maps_report()
sys.exit(10 + len(sys.argv) - 1)

# Writes the files mapped into this process (from /proc/self/maps) to stderr, one "MAP <path>"
# line each, once, in order: the tests compare them with what the bundle should load. Imported
# by the script apps; prepended to the code of the `python3 -c` app.
import sys


def maps_report():
    with open("/proc/self/maps") as f:
        lines = f.read().splitlines()
    seen = set()
    for line in lines:
        fields = line.split(None, 5)
        if len(fields) == 6 and fields[5].startswith("/") and fields[5] not in seen:
            seen.add(fields[5])
            sys.stderr.write("MAP " + fields[5] + "\n")
    sys.stderr.flush()

# A real app for tests/trace/trace_python.py: numpy and PIL doing work; at the end it writes
# the files mapped into the process (from /proc/self/maps) to the file named by argv[1].
import sys

import numpy
import PIL.Image

a = numpy.arange(256 * 256, dtype=numpy.uint32).reshape(256, 256)
img = PIL.Image.fromarray((a % 251).astype(numpy.uint8))
img = img.resize((64, 64)).rotate(45)
print(int(numpy.asarray(img).sum()), numpy.linalg.det(numpy.eye(3) * 2))
with open("/proc/self/maps") as maps, open(sys.argv[1], "w") as out:
    for line in maps:
        parts = line.split(None, 5)
        if len(parts) == 6 and parts[5].startswith("/"):
            out.write(parts[5].rstrip("\n") + "\n")

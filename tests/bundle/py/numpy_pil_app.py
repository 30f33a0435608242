# App (b) of tests/bundle: numpy (a matrix product through BLAS) and PIL (draw, filter, save
# as PNG) doing real work. Prints a deterministic report (the matrices hold small integers,
# so the product is exact whatever the BLAS kernel) and exits with 10 + the argument count.
import hashlib
import io
import sys

import numpy
import PIL.Image
import PIL.ImageDraw
import PIL.ImageFilter

from maps_report import maps_report

n = 200
a = (numpy.arange(n * n, dtype=numpy.float64).reshape(n, n) % 7) - 3
b = (numpy.arange(n * n, dtype=numpy.float64).reshape(n, n).T % 5) - 2
c = numpy.dot(a, b)
print("numpy", numpy.__version__, c.shape, round(float(c.sum()), 3), round(float((c * c).sum()), 3))
print("linalg", round(float(numpy.linalg.det(numpy.eye(4) * 2 + 1)), 6))

img = PIL.Image.new("RGB", (160, 120), (20, 40, 60))
draw = PIL.ImageDraw.Draw(img)
draw.ellipse((20, 10, 140, 110), fill=(200, 120, 30), outline=(255, 255, 255))
draw.line((0, 0, 159, 119), fill=(0, 255, 0), width=3)
img = img.filter(PIL.ImageFilter.GaussianBlur(2)).rotate(30)
png = io.BytesIO()
img.save(png, format="PNG")
back = PIL.Image.open(io.BytesIO(png.getvalue()))
print("pil", PIL.__version__, back.size, back.mode,
      hashlib.sha256(back.tobytes()).hexdigest()[:16], len(png.getvalue()))
print("args", sys.argv[1:])
sys.stdout.flush()
maps_report()
sys.exit(10 + len(sys.argv) - 1)

"""A summary of quantities and prices: with numpy when it is installed, else by hand."""
try:
    import numpy
except ImportError:
    numpy = None


def summary(qtys, prices):
    if numpy is None:
        value = sum(q * p for q, p in zip(qtys, prices))
        return "stock value %.2f (numpy not installed)" % value
    q = numpy.array(qtys, dtype=numpy.float64)
    p = numpy.array(prices, dtype=numpy.float64)
    return "stock value %.2f, mean price %.2f, price spread %.2f (numpy %s)" % (
        float(q @ p), float(p.mean()), float(p.std()), numpy.__version__)

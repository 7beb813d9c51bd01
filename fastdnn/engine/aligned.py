"""Zeroed workspace arrays whose data start on a cache line, each row padded to whole lines.

Why: the kernels' vector code (kernels/small.py, lanes.py) loads and stores whole vectors of
a tile's rows; with AVX-512 a vector is a 64-byte cache line, and one that starts anywhere
but on a line's first byte touches two lines and costs two accesses. numpy's allocator
aligns to 16 bytes only, so a buffer's rows fell at random offsets and a mid-size layer's
products ran about a fifth slower from them (measured: docs/performance.md).

Guarantees: only where values lie changes (no value, hence no bit of any result); a 2-D
array has its rows' length rounded up to whole lines, so a caller reads the first columns
it asked for of each row and never the padding, which stays zero.
"""
import numpy as np

from ..kernels.codes import LINE


def zeros(shape, dtype, padded=True):
    """A zeroed C array of ``shape`` and ``dtype`` whose data start on a cache line. Where
    ``padded``, (rows, n) comes back as (rows, n') with n' >= n the least whose rows fill
    whole lines (every row then starts on a line too)."""
    dtype = np.dtype(dtype)
    shape = (shape,) if np.ndim(shape) == 0 else tuple(int(s) for s in shape)
    per_line = max(1, LINE // dtype.itemsize)
    if padded and len(shape) == 2:
        shape = (shape[0], -(-shape[1] // per_line) * per_line)
    n = int(np.prod(shape))
    raw = np.zeros(n + per_line, dtype)
    start = (-raw.ctypes.data % LINE) // dtype.itemsize
    return raw[start: start + n].reshape(shape)

"""Flat-buffer helpers the kernels share: a 2-D view of a flat buffer, and a copy loop.

Guarantees: ``view`` never copies (a C-contiguous reshape of a slice); ``copy`` writes
element by element (Numba compiles a slice assignment through generic code that costs about
2 s of a first, empty-cache compile). Both are inlined into their callers.
"""
from ._jit import kernel


@kernel(inline=True)
def view(buf, off, rows, cols):
    # A (rows, cols) C-contiguous view of the flat buf starting at off.
    return buf[off: off + rows * cols].reshape(rows, cols)


@kernel(inline=True)
def copy(out, a):
    # out, a: (n,). out = a.
    for i in range(a.size):
        out[i] = a[i]

"""Flat-buffer helpers the kernels share: a 2-D view of a flat buffer, copy and add loops,
and a number in an array's dtype.

Guarantees: ``view`` never copies (a C-contiguous reshape of a slice); ``copy`` and
``add_into`` write element by element (Numba compiles a slice assignment through generic code that costs about
2 s of a first, empty-cache compile). Both are inlined into their callers. ``in_dtype_of``
rounds a float64 setting to the array's dtype once, as numpy (NEP 50) treats a Python float
next to a float32 array: the arithmetic then stays in that dtype.
"""
from numba.extending import overload

from ._jit import JIT_OPTIONS, kernel


@kernel(inline=True)
def view(buf, off, rows, cols):
    # A (rows, cols) C-contiguous view of the flat buf starting at off.
    return buf[off: off + rows * cols].reshape(rows, cols)


@kernel(inline=True)
def copy(out, a):
    # out, a: (n,). out = a.
    for i in range(a.size):
        out[i] = a[i]


@kernel(inline=True)
def add_into(out, a):
    # out, a: (n,). out += a, element by element.
    for i in range(a.size):
        out[i] += a[i]


def in_dtype_of(arr, x):
    """x (a number) as a scalar of arr's dtype."""


@overload(in_dtype_of, jit_options=JIT_OPTIONS)
def _ov_in_dtype_of(arr, x):
    cast = arr.dtype

    def impl(arr, x):
        return cast(x)
    return impl

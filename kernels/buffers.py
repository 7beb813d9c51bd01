"""Flat-buffer helpers the kernels share: a 2-D view of a flat buffer, copy and add loops,
a request for a buffer's cache lines, and a number in an array's dtype.

Guarantees: ``view`` never copies (a C-contiguous reshape of a slice); ``copy`` and
``add_into`` write element by element (Numba compiles a slice assignment through generic
code that costs about 2 s of a first, empty-cache compile). All three are inlined into their
callers; ``prefetch_for_write`` is a hint that changes no value. ``in_dtype_of``
rounds a float64 setting to the array's dtype once, as numpy (NEP 50) treats a Python float
next to a float32 array: the arithmetic then stays in that dtype.
"""
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload

from ._jit import JIT_OPTIONS, kernel
from .codes import LINE


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


@intrinsic
def _prefetch_write(typingctx, arr, i):
    # Asks for arr[i]'s cache line in this core's caches, to be written: a hint (x86's
    # prefetchw, LLVM's llvm.prefetch elsewhere), never a fault, whatever the address.
    if not isinstance(arr, types.Array):
        return None

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(fn, [builder.bitcast(builder.gep(data, [args[1]]), i8p),
                          ir.Constant(i32, 1), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()
    return types.none(arr, types.intp), codegen


@kernel(inline=True)
def prefetch_for_write(a, k0, k1):
    # a: (n,). Asks for the cache lines of a[k0:k1] in this core's caches, to be written.
    # Where another core read them last, each write would otherwise wait, in turn, for
    # that core's copy to be dropped; asked for first, the waits overlap each other and
    # whatever the caller does next.
    for k in range(k0, k1, LINE // a.itemsize):
        _prefetch_write(a, k)


def in_dtype_of(arr, x):
    """x (a number) as a scalar of arr's dtype."""


@overload(in_dtype_of, jit_options=JIT_OPTIONS)
def _ov_in_dtype_of(arr, x):
    cast = arr.dtype

    def impl(arr, x):
        return cast(x)
    return impl

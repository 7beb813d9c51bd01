"""Matrix products for the kernels: the BLAS ``?gemm`` called directly, row-major.

Why: Numba's ``np.dot(a, b, out)`` always overwrites ``out`` (beta = 0), so a tile's weight
gradient was a product into a temporary plus a loop adding it into the chunk's sums: a
second pass over a matrix as large as the layer's weights, a tile. ``gemm`` takes beta, so
the product accumulates into the sums in place (C = op(A)·op(B) + C), and transposes are
flags, not array layouts.

Guarantees: every product calls the library that linking.py bound for this process (SciPy's
BLAS, the one Numba's ``np.dot`` calls, unless FASTDNN_BLAS chose another), through the
symbols ``fastdnn_sgemm``/``fastdnn_dgemm``, so cached kernels link to it as Numba's own
helpers do. It runs on the thread that calls it (the engine holds BLAS to one thread:
runtime/threads.py), hence the same bits for the same operands whatever else runs. Every
array is 2-D and C-contiguous; an empty product leaves ``beta·C``.
"""
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from . import linking
from ._jit import kernel

linking.bind()

_CHAR = ir.IntType(8)
_INT = ir.IntType(32)        # the Fortran interface's integers (LP64)


@intrinsic
def _xxgemm(typingctx, trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc):
    # Column-major ?gemm: c (m, n) = op(a)·op(b) + beta·c, op(x) = x^T where trans_x.
    if not all(isinstance(x, types.Array) and x.dtype == c.dtype for x in (a, b, c)):
        return None
    dtype = c.dtype
    sig = types.none(types.boolean, types.boolean, types.intp, types.intp, types.intp, a,
                     types.intp, b, types.intp, types.float64, c, types.intp)

    def codegen(context, builder, signature, args):
        ta, tb, m_, n_, k_, a_, lda_, b_, ldb_, beta_, c_, ldc_ = args
        void_p = cgutils.voidptr_t
        # ?gemm(transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc): every
        # argument by address, as Fortran passes them.
        fnty = ir.FunctionType(ir.VoidType(), [void_p] * 13)
        symbol = linking.SYMBOLS[0 if dtype == types.float32 else 1]
        fn = cgutils.get_or_insert_function(builder.module, fnty, symbol)

        def slot(value):
            return builder.bitcast(cgutils.alloca_once_value(builder, value), void_p)

        def flag(t):
            return slot(builder.select(t, ir.Constant(_CHAR, ord("T")),
                                       ir.Constant(_CHAR, ord("N"))))

        def size(value):
            return slot(builder.trunc(value, _INT))

        def data(ty, value):
            return builder.bitcast(context.make_array(ty)(context, builder, value).data, void_p)

        alpha = slot(context.get_constant(dtype, 1.0))
        beta = slot(context.cast(builder, beta_, types.float64, dtype))
        builder.call(fn, (flag(ta), flag(tb), size(m_), size(n_), size(k_), alpha,
                          data(a, a_), size(lda_), data(b, b_), size(ldb_), beta,
                          data(c, c_), size(ldc_)))
        return context.get_dummy_value()
    return sig, codegen


@kernel(inline=True)
def gemm(C, A, B, trans_a, trans_b, beta):
    # C: (M, N) out = op(A)·op(B) + beta·C, op(X) = X^T where trans_X; A: (M, K) or (K, M),
    # B: (K, N) or (N, K); all C-contiguous. Row-major C is column-major C^T = op(B)^T·op(A)^T:
    # the operands swap, the flags stay.
    M, N = C.shape
    K = A.shape[0] if trans_a else A.shape[1]
    if M == 0 or N == 0:
        return
    if K == 0:
        for i in range(M):
            for j in range(N):
                C[i, j] = beta * C[i, j] if beta != 0.0 else 0.0
        return
    _xxgemm(trans_b, trans_a, N, M, K, B, B.shape[1], A, A.shape[1], beta, C, N)

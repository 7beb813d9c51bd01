"""Matrix products for the kernels: the BLAS ``?gemm`` called directly, row-major.

Why: Numba's ``np.dot(a, b, out)`` always overwrites ``out`` (beta = 0), so a tile's weight
gradient was a product into a temporary plus a loop adding it into the chunk's sums: a
second pass over a matrix as large as the layer's weights, a tile. ``gemm`` takes beta, so
the product accumulates into the sums in place (C = op(A)·op(B) + C), and transposes are
flags, not array layouts.

Guarantees: the same BLAS as Numba's ``np.dot`` (SciPy's ``cython_blas``, reached through
Numba's own ``numba_xxgemm`` helper, so cached kernels link as np.dot's do), on the thread
that calls it (the engine holds BLAS to one thread: runtime/threads.py), hence the same
bits for the same operands whatever else runs. Every array is 2-D and C-contiguous; an
empty product leaves ``beta·C``.
"""
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.linalg import check_blas_return, get_blas_kind

from ._jit import kernel

_CHAR = ir.IntType(8)


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
        intp = context.get_value_type(types.intp)
        void_p = cgutils.voidptr_t
        fnty = ir.FunctionType(ir.IntType(32), [_CHAR, _CHAR, _CHAR, intp, intp, intp, void_p,
                                                 void_p, intp, void_p, intp, void_p, void_p,
                                                 intp])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "numba_xxgemm")
        alpha = cgutils.alloca_once_value(builder, context.get_constant(dtype, 1.0))
        beta_slot = cgutils.alloca_once_value(
            builder, context.cast(builder, beta_, types.float64, dtype))

        def flag(t):
            return builder.select(t, ir.Constant(_CHAR, ord("t")), ir.Constant(_CHAR, ord("n")))

        def data(ty, value):
            return builder.bitcast(context.make_array(ty)(context, builder, value).data, void_p)

        kind = ir.Constant(_CHAR, ord(get_blas_kind(dtype)))
        res = builder.call(fn, (kind, flag(ta), flag(tb), m_, n_, k_,
                                builder.bitcast(alpha, void_p), data(a, a_), lda_, data(b, b_),
                                ldb_, builder.bitcast(beta_slot, void_p), data(c, c_), ldc_))
        check_blas_return(context, builder, res)
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

"""Products of small layers without a BLAS call: vector code written in LLVM IR.

Why: a BLAS call has a fixed cost (argument checks, a lock, packing both operands) of about
2 µs; on a layer of a few hundred weights the products of a tile of 256 samples are smaller
than that. A layer of n units on n_prev inputs is *small* (``small_layer``) when it has at
most codes.SMALL_WEIGHTS weights or one unit: its products run here; so do those of
narrow tiles and of mid-size layers whose tile operand stays in the caches (codes.small_rows:
there the single-threaded BLAS packs its operands at every call and reaches about half a
core's rate in float32); all others go through blas.gemm. The choice depends on the shapes
and dtype alone, so it is part of the fixed summation order: the same bits for any thread
count.

The forms, for C (M, N), all arrays 2-D and C-contiguous, beta·C first (``beta = 0``
writes C without reading it):
* ``C = A·B`` and ``C = A^T·B`` (a layer's Z, the gradient for its input), rows_product:
  entry (i, j) = beta·C[i, j], then op(A)[i, k]·B[k, j] added for k = 0, 1, ... in order
  (where B's rows lie far apart, B is read from panels copied to the stack: moves only).
* ``C = A·B^T`` (a layer's weight gradient, a sum over the tile's samples), dot_product:
  entry (i, j) a lane dot of rows A[i] and B[j]: LANES[dtype] lanes (16 float32, 8 float64:
  two AVX2 registers or one AVX-512 register), lane q summing the terms k = q mod LANES in
  order over the blocks of LANES terms (a last, partial block padded with zeros: 0·0 added
  to a lane); the lanes halved pairwise to one value (lane q + lane q + width/2, until one
  is left); then added to beta·C[i, j] where beta is not 0.
Each term is one fused multiply-add (a·b + s rounded once, IEEE's fusedMultiplyAdd: half the
instructions of a multiply and an add, and never less accurate); lane sums and beta·C are
separate adds and multiplies. The order is the vector code's, written in LLVM IR (lanes.py)
so that no optimiser can change it, and a fused multiply-add is exact arithmetic rounded
once on every CPU (in software where one has no FMA unit): the same bits on every x86
machine, with or without AVX-512. Register blocks (small_ir.ROWS rows by one lane vector: 12
AVX2 registers of sums, with the row of B and a broadcast entry of A the 16 it has; by two
lane vectors where the code is compiled for AVX-512, 12 of its 32 registers, since six
chains of fused multiply-adds leave its two units idle a quarter of the time; 2 x
small_ir.DOT_COLUMNS dots, 4 x DOT_COLUMNS on AVX-512) share loads and overlap the chains of
adds; the columns left over in a row are one masked vector: neither changes any entry's
order, so the block's shape may depend on the machine. Each product is one function per
dtype in an LLVM module, however many kernels call it there (lanes.shared): compiled once,
not at every call site. A rows_product may end in a fused epilogue (small_ir.EPILOGUES): the
bias and RELU of a layer's Z, or the RELU mask of an input gradient, applied to each block
of sums in registers before it is stored, with the bits of the separate passes.
"""
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload, register_jitable

from ._jit import JIT_OPTIONS, kernel
from .blas import gemm
from .codes import (K_BLOCK, blas_float32_layer1, blocked_dw1, rows_weight_gradient,
                    rows_z1, small_gram, small_layer, small_product, small_rows,
                    transposed_blas_dw1, transposed_dw1, transposed_w1_sums, transposes_x)
from .lanes import c_matrices, matrix
from .small_ir import dots_body, rows_call, shared_call

# The rules (codes.py: plain Python, which the engine calls too), callable in kernels.
register_jitable(small_layer)
register_jitable(small_product)
register_jitable(small_rows)
register_jitable(rows_weight_gradient)
register_jitable(small_gram)
register_jitable(transposes_x)
register_jitable(transposed_dw1)
register_jitable(blas_float32_layer1)
register_jitable(transposed_w1_sums)
register_jitable(transposed_blas_dw1)
register_jitable(blocked_dw1)
register_jitable(rows_z1)


@intrinsic
def rows_product(typingctx, C, A, B, trans_a, beta):
    # C (M, N) = beta·C + op(A)·B: each entry beta·C (0 when beta is 0: C unread), then
    # op(A)[i, k]·B[k, j] added for k = 0, 1, ... Register-blocked: ROWS rows (the rows left
    # over: one block of fewer) of C by one lane vector of columns (two on AVX-512) held in
    # registers through the sum over k.
    if not c_matrices(C, A, B):
        return None

    def codegen(context, builder, signature, args):
        N = matrix(context, builder, signature.args[0], args[0])[2]
        return shared_call(context, builder, signature, args, "rows", rows_call,
                           [args[3], N.type(0), N])
    return types.none(C, A, B, trans_a, beta), codegen


def _fused_rows(context, builder, signature, args, product, trans_a, epilogue, pointers):
    # A rows_product with a fused epilogue (small_ir.EPILOGUES), beta 0: C, A, B are the
    # intrinsic's arguments at positions ``product``, the epilogue's pointers the data of
    # those at ``pointers``.
    operands = [signature.args[k] for k in product]
    N = matrix(context, builder, operands[0], args[product[0]])[2]
    extra = [matrix(context, builder, signature.args[k], args[k])[0] for k in pointers]
    flags = [ir.Constant(ir.IntType(1), int(trans_a)), N.type(0), N]
    return shared_call(context, builder, types.none(*operands), [args[k] for k in product],
                       "rows", rows_call, flags, (epilogue, extra))


@intrinsic
def rows_product_from(typingctx, C, A, k0, B, beta):
    # C (M, N) = beta·C + A[:, k0:k0 + K]·B, A (M, >= k0 + K), B (K, N): rows_product of
    # those columns of A, read where they lie (no copy): one block of a product summed over
    # blocks of its K (add_times_blocked).
    if not (c_matrices(C, A, B) and isinstance(k0, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        N = matrix(context, builder, signature.args[0], args[0])[2]
        start = context.cast(builder, args[2], signature.args[2], types.intp)
        no = ir.Constant(ir.IntType(1), 0)
        return shared_call(context, builder, types.none(C, A, B, beta),
                           [args[0], args[1], args[3], args[4]], "rows", rows_call,
                           [no, N.type(0), N], a_column=start)
    return types.none(C, A, k0, B, beta), codegen


@intrinsic
def rows_bias_relu(typingctx, Z, A, W, B, b):
    # Z (M, N) = W·B + b, A = relu(Z) (np.maximum(0, Z)), W (M, K), B (K, N), b (M, 1): one
    # pass, the bias and activation applied to each block of sums in registers before it is
    # stored. Each entry of Z: rows_product's sum, then + b[i] rounded once: the bits of
    # rows_product followed by linear.bias_activation_forward.
    if not c_matrices(Z, A, W, B, b):
        return None

    def codegen(context, builder, signature, args):
        return _fused_rows(context, builder, signature, args, (0, 2, 3), False, "_bias_relu",
                           (4, 1))
    return types.none(Z, A, W, B, b), codegen


@intrinsic
def rows_relu_gradient(typingctx, dZ, W, G, Z):
    # dZ (M, N) = W^T·G where Z > 0, else 0 (relu_backward of the product: NaN in Z keeps
    # the product), W (K, M), G (K, N), Z (M, N): one pass, the mask applied to each block
    # of sums in registers before it is stored. The bits of rows_product(dA, W, G, True,
    # 0) followed by activations.relu_backward.
    if not c_matrices(dZ, W, G, Z):
        return None

    def codegen(context, builder, signature, args):
        return _fused_rows(context, builder, signature, args, (0, 1, 2), True, "_relu_grad",
                           (3,))
    return types.none(dZ, W, G, Z), codegen


@intrinsic
def rows_columns(typingctx, C, A, B, j0, j1):
    # C[:, j0:j1] = A·B[:, j0:j1] (C (M, N), A (M, K), B (K, N); 0 <= j0 <= j1 <= N): those
    # columns of rows_product(C, A, B, False, 0.0), with its bits (each entry is its own
    # sum), the others untouched: a task of a product split by columns.
    if not (c_matrices(C, A, B) and isinstance(j0, types.Integer)
            and isinstance(j1, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        cols = [context.cast(builder, args[k], signature.args[k], types.intp) for k in (3, 4)]
        no = ir.Constant(ir.IntType(1), 0)
        return shared_call(context, builder, signature,
                           [*args[:3], context.get_constant(types.float64, 0.0)], "rows",
                           rows_call, [no, *cols])
    return types.none(C, A, B, j0, j1), codegen


@intrinsic
def dot_product(typingctx, C, A, B, beta):
    # C (M, N) = beta·C + A·B^T, A (M, K), B (N, K): entry (i, j) a lane dot of row i of A
    # and row j of B (module docstring), plus beta·C[i, j] where beta is not 0.
    # Register-blocked: 2 x 2 entries at a time (1 x ROWS for a row left over), sharing
    # their rows' loads.
    if not c_matrices(C, A, B):
        return None

    def codegen(context, builder, signature, args):
        return shared_call(context, builder, signature, args, "dots", dots_body, [])
    return types.none(C, A, B, beta), codegen


@kernel(inline=True)
def times(C, A, B, trans_a, small):
    # C (M, N) = op(A)·B, op(A) = A^T where trans_a: rows_product where ``small`` (the
    # product's small_rows, or a small first layer), else the BLAS. (One form a call: a
    # call site compiles only the code it runs.)
    if small:
        rows_product(C, A, B, trans_a, 0.0)
    else:
        gemm(C, A, B, trans_a, False, 0.0)


@kernel(inline=True)
def times_t(C, A, B, small):
    # C (M, N) = A·B^T: dot_product where ``small``, else the BLAS.
    if small:
        dot_product(C, A, B, 0.0)
    else:
        gemm(C, A, B, False, True, 0.0)


def sums_target(g, tmp, M, N):
    """(C (M, N), beta) where a product is added into the flat sums g: g itself with beta 1
    where g has the product's dtype (tmp's), else tmp with beta 0 (float64 sums of float32
    products, the Gram path: sums_finish then adds it)."""


def sums_finish(g, tmp, M, N):
    """g += tmp[:M·N] where sums_target gave tmp; nothing otherwise."""


@overload(sums_target, jit_options=JIT_OPTIONS)
def _ov_sums_target(g, tmp, M, N):
    # Decided by the types at compile time.
    if g.dtype == tmp.dtype:
        return lambda g, tmp, M, N: (g[: M * N].reshape(M, N), 1.0)
    return lambda g, tmp, M, N: (tmp[: M * N].reshape(M, N), 0.0)


@overload(sums_finish, jit_options=JIT_OPTIONS)
def _ov_sums_finish(g, tmp, M, N):
    if g.dtype == tmp.dtype:
        return lambda g, tmp, M, N: None

    def add(g, tmp, M, N):
        for k in range(M * N):
            g[k] += tmp[k]
    return add


@kernel(inline=True)
def add_dots(g, tmp, A, B, small):
    # g: (M·N,) the flat sums += A·B^T, A (M, K), B (N, K): dot_product where ``small`` (the
    # layer's small_layer), else the BLAS. tmp: sums_target's scratch.
    M, N = A.shape[0], B.shape[0]
    C, beta = sums_target(g, tmp, M, N)
    if small:
        dot_product(C, A, B, beta)
    else:
        gemm(C, A, B, False, True, beta)
    sums_finish(g, tmp, M, N)


@kernel(inline=True)
def add_times_blocked(g, tmp, A, B):
    # g: (M·N,) the flat sums += A·B, A (M, K), B (K, N), by rows_product over blocks of
    # K_BLOCK rows of B (a first layer's dZ_1·X_t: codes.blocked_dw1): each entry's terms
    # still added in the order k = 0, 1, ... onto its sum (stored and read back between
    # blocks: moves only), so the bits of rows_product(C, A, B, False, beta) in one call.
    M, K, N = A.shape[0], B.shape[0], B.shape[1]
    C, beta = sums_target(g, tmp, M, N)
    for k0 in range(0, K, K_BLOCK):
        rows_product_from(C, A, k0, B[k0: min(K, k0 + K_BLOCK)], beta if k0 == 0 else 1.0)
    sums_finish(g, tmp, M, N)


@kernel(inline=True)
def add_times(g, tmp, A, B, small):
    # g: (M·N,) the flat sums += A·B, A (M, K), B (K, N): rows_product where ``small``,
    # else the BLAS. tmp: sums_target's scratch.
    M, N = A.shape[0], B.shape[1]
    C, beta = sums_target(g, tmp, M, N)
    if small:
        rows_product(C, A, B, False, beta)
    else:
        gemm(C, A, B, False, False, beta)
    sums_finish(g, tmp, M, N)

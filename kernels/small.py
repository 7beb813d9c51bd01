"""Products of small layers without a BLAS call: vector code written in LLVM IR.

Why: a BLAS call has a fixed cost (argument checks, a lock, packing both operands) of about
2 µs; on a layer of a few hundred weights the products of a tile of 256 samples are smaller
than that. A layer of n units on n_prev inputs is *small* (``small_layer``) when it has at
most codes.SMALL_WEIGHTS weights or one unit: its products run here, all others through
blas.gemm. The choice depends on the layer's shape alone, so it is part of the fixed
summation order: the same bits for any thread count.

The forms, for C (M, N), all arrays 2-D and C-contiguous, beta·C first (``beta = 0``
writes C without reading it):
* ``C = A·B`` and ``C = A^T·B`` (a layer's Z, the gradient for its input), rows_product:
  entry (i, j) = beta·C[i, j], then op(A)[i, k]·B[k, j] added for k = 0, 1, ... in order.
* ``C = A·B^T`` (a layer's weight gradient, a sum over the tile's samples), dot_product:
  entry (i, j) a lane dot of rows A[i] and B[j]: LANES[dtype] lanes (16 float32, 8 float64:
  two AVX2 registers or one AVX-512 register), lane q summing the terms k = q mod LANES in
  order over the whole blocks of LANES terms; the lanes halved pairwise to one value (lane
  q + lane q + width/2, until one is left); then the remaining terms added in order; then
  added to beta·C[i, j] where beta is not 0.
Every multiply and add is rounded on its own (no fused multiply-add). The order is the
vector code's, written in LLVM IR (llvmlite) so that no optimiser can change it (Numba's
loops never vectorise a sum without fast-math reassociation, which fastdnn does not use):
the same bits on every x86 machine, with or without AVX-512. Register blocks (ROWS rows by
one lane vector; 2 x 2 dots) share loads and overlap the chains of adds; they change no
entry's order. Each product is one function per dtype in an LLVM module, however many
kernels call it there (_shared_call): compiled once, not at every call site.
"""
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload, register_jitable

from ._jit import JIT_OPTIONS, kernel
from .blas import gemm
from .codes import small_layer, transposes_x

LANES = {types.float32: 16, types.float64: 8}
ROWS = 4                                  # rows of C a register block of rows_product
#                                           holds (vectors of columns for one row alone)
_I32 = ir.IntType(32)


# The rules (codes.py: plain Python, which the engine calls too), callable in kernels.
register_jitable(small_layer)
register_jitable(transposes_x)


class _Vec:
    """IR helpers for one kernel's dtype: lane vectors of LANES[dtype] values."""

    def __init__(self, context, builder, dtype):
        self.b = builder
        self.ft = context.get_value_type(dtype)
        self.width = LANES[dtype]
        self.vt = ir.VectorType(self.ft, self.width)
        self.intp = context.get_value_type(types.intp)
        self.align = context.get_abi_sizeof(self.ft)     # x86 loads need no more

    def n(self, value):
        return ir.Constant(self.intp, value)

    def at(self, base, idx):
        return self.b.gep(base, [idx])

    def load(self, base, idx):
        return self.b.load(self.b.bitcast(self.at(base, idx), self.vt.as_pointer()),
                           align=self.align)

    def store(self, value, base, idx):
        self.b.store(value, self.b.bitcast(self.at(base, idx), self.vt.as_pointer()),
                     align=self.align)

    def splat(self, x):
        v = self.b.insert_element(ir.Constant(self.vt, ir.Undefined), x, ir.Constant(_I32, 0))
        return self.b.shuffle_vector(v, v, ir.Constant(ir.VectorType(_I32, self.width),
                                                       [0] * self.width))

    def zeros(self):
        return ir.Constant(self.vt, [ir.Constant(self.ft, 0.0)] * self.width)

    def lane_sum(self, acc):
        # One value: the vector's halves added pairwise until one lane is left.
        width = self.width
        while width > 1:
            half = width // 2
            lo, hi = (self.b.shuffle_vector(acc, acc, ir.Constant(
                ir.VectorType(_I32, half), list(range(o, o + half)))) for o in (0, half))
            acc, width = self.b.fadd(lo, hi), half
        return self.b.extract_element(acc, ir.Constant(_I32, 0))

    def mul_add(self, slot, x, y):
        # slot = slot + x·y (two roundings, in this order).
        self.b.store(self.b.fadd(self.b.load(slot), self.b.fmul(x, y)), slot)


def _typed(C, A, B):
    return (C.dtype in LANES and all(isinstance(x, types.Array) and x.ndim == 2
                                     and x.layout == "C" and x.dtype == C.dtype
                                     for x in (C, A, B)))


def _matrix(context, builder, ty, value):
    # (data pointer, rows, cols) of a 2-D C array.
    arr = context.make_array(ty)(context, builder, value)
    return (arr.data, *cgutils.unpack_tuple(builder, arr.shape, 2))


def _shared_call(context, builder, signature, args, kind, body, flags):
    # Call the module's one function for this product and dtype (C, A, B, the flags, beta):
    # emitted by ``body`` on its first call in a module, linkonce_odr, so that the modules
    # Numba links into one keep one copy: the vector code is optimised and compiled once per
    # module, not at every call site.
    dtype = signature.args[0].dtype
    values = [x for k in range(3) for x in _matrix(context, builder, signature.args[k], args[k])]
    values += list(flags) + [context.cast(builder, args[-1], types.float64, dtype),
                             builder.fcmp_ordered("!=", args[-1],
                                                  ir.Constant(ir.DoubleType(), 0.0))]
    fnty = ir.FunctionType(ir.VoidType(), [x.type for x in values])
    fn = cgutils.get_or_insert_function(builder.module, fnty, f"fastdnn_small_{kind}_{dtype}")
    if fn.is_declaration:
        fn.linkage = "linkonce_odr"
        fn.attributes.add("noinline")
        inner = ir.IRBuilder(fn.append_basic_block("entry"))
        p = list(fn.args)
        body(_Vec(context, inner, dtype), p[0:3], p[3:6], p[6:9], p[9:-2], p[-2], p[-1])
        inner.ret_void()
    builder.call(fn, values)
    return context.get_dummy_value()


def _rows_body(v, cm, am, bm, flags, scale, keep):
    # rows_product's body (its function's parameters: C, A, B as _matrix triples, trans_a,
    # beta in C's dtype, whether beta is not 0).
    builder = v.b
    (c, M, N), (a, _, a_cols), (b, K, _), trans = cm, am, bm, flags[0]
    a_i = builder.select(trans, v.n(1), a_cols)      # op(A)[i, k] at i·a_i + k·a_k
    a_k = builder.select(trans, a_cols, v.n(1))

    def a_entry(i, k):
        return builder.load(v.at(a, builder.add(builder.mul(i, a_i), builder.mul(k, a_k))))

    def block(ii, j0, vecs):
        # Rows ii of C, columns j0 .. j0 + vecs·width, held in registers over k.
        cols = [builder.add(j0, v.n(u * v.width)) for u in range(vecs)]
        acc = {}
        for i in ii:
            for j in cols:
                at = builder.add(builder.mul(i, N), j)
                first = builder.select(keep, builder.fmul(v.splat(scale), v.load(c, at)),
                                       v.zeros())
                acc[i, j] = cgutils.alloca_once_value(builder, first)
        with cgutils.for_range(builder, K) as loop:
            row = [v.load(b, builder.add(builder.mul(loop.index, N), j)) for j in cols]
            for i in ii:
                a_ik = v.splat(a_entry(i, loop.index))
                for j, b_kj in zip(cols, row):
                    v.mul_add(acc[i, j], a_ik, b_kj)
        for (i, j), slot in acc.items():
            v.store(builder.load(slot), c, builder.add(builder.mul(i, N), j))

    def rows(i0, count, vecs):
        # Rows i0 .. i0 + count: blocks of vecs vectors of columns (one row alone needs
        # several chains of adds in flight), then single vectors, then one column at a
        # time.
        ii = [builder.add(i0, v.n(r)) for r in range(count)]
        step = v.n(vecs * v.width)
        wide = builder.mul(builder.sdiv(N, step), step)
        full = builder.mul(builder.sdiv(N, v.n(v.width)), v.n(v.width))
        with cgutils.for_range_slice(builder, v.n(0), wide, step) as (j0, _):
            block(ii, j0, vecs)
        if vecs > 1:
            with cgutils.for_range_slice(builder, wide, full, v.n(v.width)) as (j0, _):
                block(ii, j0, 1)
        with cgutils.for_range_slice(builder, full, N, v.n(1)) as (j, _):
            for i in ii:
                cij = v.at(c, builder.add(builder.mul(i, N), j))
                first = builder.select(keep, builder.fmul(scale, builder.load(cij)),
                                       ir.Constant(v.ft, 0.0))
                slot = cgutils.alloca_once_value(builder, first)
                with cgutils.for_range(builder, K) as loop:
                    bkj = builder.load(v.at(b, builder.add(builder.mul(loop.index, N), j)))
                    v.mul_add(slot, a_entry(i, loop.index), bkj)
                builder.store(builder.load(slot), cij)

    full_m = builder.mul(builder.sdiv(M, v.n(ROWS)), v.n(ROWS))
    with cgutils.for_range_slice(builder, v.n(0), full_m, v.n(ROWS)) as (i0, _):
        rows(i0, ROWS, 1)
    with cgutils.for_range_slice(builder, full_m, M, v.n(1)) as (i0, _):
        rows(i0, 1, ROWS)


def _dots_body(v, cm, am, bm, flags, scale, keep):
    # dot_product's body (parameters as _rows_body's, no flags).
    builder = v.b
    (c, M, N), (a, _, K), (b, _, _) = cm, am, bm
    full_k = builder.mul(builder.sdiv(K, v.n(v.width)), v.n(v.width))

    def entries(i0, j0, rows, cols):
        ar = [builder.mul(builder.add(i0, v.n(r)), K) for r in range(rows)]
        bc = [builder.mul(builder.add(j0, v.n(s)), K) for s in range(cols)]
        acc = {(r, s): cgutils.alloca_once_value(builder, v.zeros())
               for r in range(rows) for s in range(cols)}
        with cgutils.for_range_slice(builder, v.n(0), full_k, v.n(v.width)) as (k, _):
            x = [v.load(a, builder.add(o, k)) for o in ar]
            y = [v.load(b, builder.add(o, k)) for o in bc]
            for (r, s), slot in acc.items():
                v.mul_add(slot, x[r], y[s])
        for (r, s), slot in acc.items():
            total = cgutils.alloca_once_value(builder, v.lane_sum(builder.load(slot)))
            with cgutils.for_range_slice(builder, full_k, K, v.n(1)) as (k, _):
                v.mul_add(total, builder.load(v.at(a, builder.add(ar[r], k))),
                          builder.load(v.at(b, builder.add(bc[s], k))))
            i, j = builder.add(i0, v.n(r)), builder.add(j0, v.n(s))
            cij = v.at(c, builder.add(builder.mul(i, N), j))
            d = builder.load(total)
            builder.store(builder.select(keep, builder.fadd(
                builder.fmul(scale, builder.load(cij)), d), d), cij)

    # 2 x 2 blocks where both M and N have them.
    two = v.n(2)
    full_m = builder.mul(builder.sdiv(M, two), two)
    full_n = builder.mul(builder.sdiv(N, two), two)
    with cgutils.for_range_slice(builder, v.n(0), full_m, two) as (i0, _):
        with cgutils.for_range_slice(builder, v.n(0), full_n, two) as (j0, _):
            entries(i0, j0, 2, 2)
    # A row left over (M odd: the single row of a one-unit layer's gradient, say): 1 x
    # ROWS blocks, then one entry at a time.
    four = v.n(ROWS)
    full_4 = builder.mul(builder.sdiv(N, four), four)
    with cgutils.for_range_slice(builder, full_m, M, v.n(1)) as (i, _):
        with cgutils.for_range_slice(builder, v.n(0), full_4, four) as (j0, _):
            entries(i, j0, 1, ROWS)
    with cgutils.for_range(builder, M) as rows:
        left = builder.icmp_signed("<", rows.index, full_m)
        with cgutils.for_range_slice(builder, builder.select(left, full_n, full_4), N,
                                     v.n(1)) as (j, _):
            entries(rows.index, j, 1, 1)


@intrinsic
def rows_product(typingctx, C, A, B, trans_a, beta):
    # C (M, N) = beta·C + op(A)·B: each entry beta·C (0 when beta is 0: C unread), then
    # op(A)[i, k]·B[k, j] added for k = 0, 1, ... Register-blocked: ROWS rows of C by one
    # lane vector of columns held in registers through the sum over k.
    if not _typed(C, A, B):
        return None

    def codegen(context, builder, signature, args):
        return _shared_call(context, builder, signature, args, "rows", _rows_body, [args[3]])
    return types.none(C, A, B, trans_a, beta), codegen


@intrinsic
def dot_product(typingctx, C, A, B, beta):
    # C (M, N) = beta·C + A·B^T, A (M, K), B (N, K): entry (i, j) a lane dot of row i of A
    # and row j of B (module docstring), plus beta·C[i, j] where beta is not 0.
    # Register-blocked: 2 x 2 entries at a time (1 x ROWS for a row left over), sharing
    # their rows' loads.
    if not _typed(C, A, B):
        return None

    def codegen(context, builder, signature, args):
        return _shared_call(context, builder, signature, args, "dots", _dots_body, [])
    return types.none(C, A, B, beta), codegen


@kernel(inline=True)
def times(C, A, B, trans_a, small):
    # C (M, N) = op(A)·B, op(A) = A^T where trans_a: rows_product where ``small`` (the
    # layer's small_layer), else the BLAS. (One form a call: a call site compiles only the
    # code it runs.)
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

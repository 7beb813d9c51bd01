"""A tile of X transposed through registers: a small first layer's tile, sample by sample
in X^T's rows, becomes feature by feature (the rows form of its product, small.py); a
C-ordered X's tile, feature by feature in X's rows, becomes sample by sample (source.py).

Guarantees: moves only (no rounding): dst is exactly src^T, for any shape. 8 x 8 float32
(4 x 4 float64) blocks, one 256-bit register a row, go through shuffles that x86 has as
single instructions, in LLVM IR (lanes.py: why IR).
"""
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from ._jit import kernel
from .buffers import view
from .lanes import I32, c_matrices, matrix, shared

# Samples a pass of transpose moves: at most BLOCK_SAMPLES, and no more rows of src than
# fit PASS_BYTES (at least one block), so that they stay in the first-level cache while
# each column block is moved. Measured (one thread, best of 7, Zen 3): 500 x 20 float32
# 1.67 -> 1.2 µs, float64 3.3 -> 2.0-2.5; 512 x 60 float32 4.9 -> 3.5 (passes of 128
# samples); a layer's 64 x 256 float32 activations (rows of 1 KiB: 32 a pass, not all 64)
# 2.7-4.0 -> 1.6-2.6 µs.
BLOCK_SAMPLES, PASS_BYTES = 128, 1 << 15


# 8 x 8 float32 (4 x 4 float64) blocks, one 256-bit register a row, transposed by shuffles
# that x86 has as single instructions: unpack low/high pairs, then (8 x 8) pairs of pairs,
# then 128-bit halves. Entry (j, i) of the result is entry i of row j's register.
_PAIRS = {8: ([0, 8, 1, 9, 4, 12, 5, 13], [2, 10, 3, 11, 6, 14, 7, 15]),
          4: ([0, 4, 2, 6], [1, 5, 3, 7])}
_QUADS = ([0, 1, 8, 9, 4, 5, 12, 13], [2, 3, 10, 11, 6, 7, 14, 15])
_HALVES = {8: ([0, 1, 2, 3, 8, 9, 10, 11], [4, 5, 6, 7, 12, 13, 14, 15]),
           4: ([0, 1, 4, 5], [2, 3, 6, 7])}


def _transpose_registers(builder, rows):
    # rows: R vectors of R lanes (R = 8 or 4) -> their transpose, R vectors.
    R = len(rows)

    def shuffle(x, y, mask):
        return builder.shuffle_vector(x, y, ir.Constant(ir.VectorType(I32, R), mask))

    lo, hi = _PAIRS[R]
    u = [f(rows[p], rows[p + 1]) for p in range(0, R, 2)
         for f in (lambda x, y: shuffle(x, y, lo), lambda x, y: shuffle(x, y, hi))]
    if R == 8:                   # u: lanes (0 1 | 2 3 of each half) of row pairs
        u = [shuffle(u[q + a], u[q + a + 2], m) for q in (0, 4) for a in (0, 1)
             for m in _QUADS]
    lo, hi = _HALVES[R]
    half = R // 2
    return [shuffle(u[j], u[j + half], lo) for j in range(half)] + \
        [shuffle(u[j], u[j + half], hi) for j in range(half)]


def _transpose_body(v, p):
    # transpose's body: dst (n, t) C from src (t, n), its rows ``lds`` values apart
    # (parameters dst, src, t, n, lds).
    builder = v.b
    dst, src, t, n, lds = p
    R = 32 // v.align                                  # one 256-bit register a row
    vt = ir.VectorType(v.ft, R)

    def move(s, k):
        builder.store(builder.load(v.at(src, builder.add(builder.mul(s, lds), k))),
                      v.at(dst, builder.add(builder.mul(k, t), s)))

    def block(s0, k0, count=None):
        # Samples s0 .. s0 + R, columns k0 .. k0 + R (or the count < R left: masked loads,
        # and only their rows of dst stored).
        def row(i):
            at = builder.add(builder.mul(builder.add(s0, v.n(i)), lds), k0)
            return v.load(src, at, vt) if count is None else \
                v.masked_load(src, at, v.mask(count, vt), vt)
        cols = _transpose_registers(builder, [row(i) for i in range(R)])
        for j, col in enumerate(cols):
            at = builder.add(builder.mul(builder.add(k0, v.n(j)), t), s0)
            if count is None:
                v.store(col, dst, at)
            elif j < R - 1:
                with builder.if_then(builder.icmp_signed("<", v.n(j), count)):
                    v.store(col, dst, at)

    # Passes of sb samples (BLOCK_SAMPLES, fewer where src's rows are long): their rows of
    # src stay in L1 while each column block is moved (one pass over all samples a column
    # block re-read src from L2 for each).
    r = v.n(R)
    blocks = builder.sdiv(v.n(PASS_BYTES // v.align), builder.mul(n, r))   # of R rows each
    most = v.n(BLOCK_SAMPLES // R)
    blocks = builder.select(builder.icmp_signed(">", blocks, most), most, blocks)
    blocks = builder.select(builder.icmp_signed("<", blocks, v.n(1)), v.n(1), blocks)
    sb = builder.mul(r, blocks)
    full_t = builder.mul(builder.sdiv(t, r), r)
    full_n = builder.mul(builder.sdiv(n, r), r)
    with cgutils.for_range_slice(builder, v.n(0), full_t, sb) as (b0, _):
        b1 = builder.add(b0, sb)
        b1 = builder.select(builder.icmp_signed("<", b1, full_t), b1, full_t)
        with cgutils.for_range_slice(builder, v.n(0), full_n, r) as (k0, _):
            with cgutils.for_range_slice(builder, b0, b1, r) as (s0, _):
                block(s0, k0)
        with builder.if_then(builder.icmp_signed("<", full_n, n)):     # the columns left
            with cgutils.for_range_slice(builder, b0, b1, r) as (s0, _):
                block(s0, full_n, builder.sub(n, full_n))
    with cgutils.for_range_slice(builder, full_t, t, v.n(1)) as (s, _):    # samples left
        with cgutils.for_range(builder, n) as loop:
            move(s, loop.index)


@intrinsic
def transpose_strided(typingctx, dst, a, start, stride):
    # dst (n, t) C = src^T, src (t, n) the values of the flat array a from ``start`` on, its
    # rows ``stride`` values apart (a block of a larger C array: a C-ordered X's features
    # by a tile's samples; src itself for transpose). (Moves only: no rounding.)
    if not (isinstance(dst, types.Array) and isinstance(a, types.Array) and a.ndim == 1
            and c_matrices(dst) and a.dtype == dst.dtype
            and isinstance(start, types.Integer) and isinstance(stride, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        dtype = signature.args[0].dtype
        d = matrix(context, builder, signature.args[0], args[0])
        data = context.make_array(signature.args[1])(context, builder, args[1]).data
        first, lds = (context.cast(builder, args[k], signature.args[k], types.intp)
                      for k in (2, 3))
        return shared(context, builder, f"fastdnn_transpose_{dtype}", dtype,
                      [d[0], builder.gep(data, [first]), d[2], d[1], lds], _transpose_body)
    return types.none(dst, a, start, stride), codegen


@kernel(inline=True)
def transpose(dst, src):
    # dst (n, t) = src (t, n)^T, both C-contiguous: R x R blocks of registers (R = 8
    # float32, 4 float64), BLOCK_SAMPLES samples a pass; the columns left (n mod R) by
    # blocks of masked loads; the samples left (t mod R) one value at a time. (Moves only:
    # no rounding.) transpose_strided over src's rows, n values apart.
    transpose_strided(dst, src.reshape(-1), 0, src.shape[1])


@kernel(inline=True)
def transpose_into(buf, src):
    # src (t, n) C transposed into the flat buffer buf (at least n·t values): its (n, t) C
    # view returned.
    t, n = src.shape
    dst = view(buf, 0, n, t)
    transpose(dst, src)
    return dst

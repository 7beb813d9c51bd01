"""The vector code of small.py's products, written in LLVM IR (lanes.py: why IR): register
blocks, B's panels on the stack, and rows_product's fused epilogues.

Guarantees: each entry of C is the sum small.py's docstring promises, in its order; what this
module chooses (block shapes by the target, panels, the loop order over blocks, the epilogue
applied to a block's sums before they are stored) only moves values or applies, per entry,
the same rounding as a separate pass would: the same bits on every x86 machine, with or
without AVX-512. Each body is one linkonce function per dtype in an LLVM
module (lanes.shared), emitted by the intrinsics in small.py.
"""
import functools
import os

from llvmlite import ir
from numba import types
from numba.core import cgutils

from .lanes import matrix, shared

ROWS = 6                                  # rows of C a register block of rows_product
LEFT_VECTORS = 4                          # vectors of columns a block of few rows holds
# (on AVX2; twice as many, and two a block of ROWS rows, on AVX-512: lanes.wide_registers)
DOT_COLUMNS = 4                           # columns of a dot_product block (2 rows, or 1 left)
# rows_product copies B in panels of columns (into PANEL_BYTES on its stack) where B's rows
# lie at least PACK_STRIDE bytes apart, B has more than PACK_MIN rows and C more than 2·ROWS
# (a panel is then read by three blocks of rows or more). Measured (one thread, best of 5,
# Zen 3): 64x128 weights' Z at 1024 samples, float32, 306-317 -> 190-201 µs (the BLAS 253),
# float64 800-838 -> 407 (the BLAS 459).
PACK_STRIDE, PACK_MIN = 2048, 16


def _level2_bytes():
    """The first core's second-level cache in bytes (Linux's sysfs), 0 where unknown."""
    base = "/sys/devices/system/cpu/cpu0/cache"
    try:
        for index in sorted(os.listdir(base)):
            with open(os.path.join(base, index, "level")) as f:
                if f.read().strip() != "2":
                    continue
            with open(os.path.join(base, index, "size")) as f:
                size = f.read().strip().upper()
            scale = {"K": 1 << 10, "M": 1 << 20}.get(size[-1:], 1)
            return int(size.rstrip("KM")) * scale
    except (OSError, ValueError):
        pass
    return 0


# A panel takes a quarter of the second-level cache (512 KiB where unknown), from 64 to 256
# KiB: every block of rows reads it there. A wider panel is read by each block of rows over
# more columns a call (add_times_blocked's products, K_BLOCK rows of X_t 12 KiB apart in
# cifar-mlp's layer 1: 106 -> 114 -> 117 GFLOP/s at 64 / 128 / 256 KiB, one thread, 2 MiB of
# L2, Intel Xeon); the same bits at any width (moves only), so the width may be the machine's.
PANEL_BYTES = min(1 << 18, max(1 << 16, (_level2_bytes() or 1 << 19) // 4))
# rows_product's epilogues (what _rows_body does with a block's sums; a call passes the
# number of its own): "" stores them in C; "_bias_relu" (bias, out): C = sum + bias[i],
# out = relu(C) (rows_bias_relu); "_relu_grad" (z,): C = sum where z > 0, else 0, as
# activations.relu_backward (rows_relu_gradient).
EPILOGUES = ("", "_bias_relu", "_relu_grad")


def shared_call(context, builder, signature, args, kind, body, flags, epilogue=None,
                a_column=None):
    # A product's shared function for its dtype (C, A, B, the flags, beta, then the
    # epilogue: its number in EPILOGUES and two pointers, null where unused). epilogue:
    # (name, pointers) for a rows_product's fused epilogue (beta 0), None for none.
    # a_column: where A's columns start (an intp; None: 0): A is then read from that column
    # on, its rows still A's row length apart (the body's A stride), B giving the length.
    dtype = signature.args[0].dtype
    values = [x for k in range(3) for x in matrix(context, builder, signature.args[k], args[k])]
    if a_column is not None:
        values[3] = builder.gep(values[3], [a_column])
    beta = args[-1] if epilogue is None else context.get_constant(types.float64, 0.0)
    values += list(flags) + [context.cast(builder, beta, types.float64, dtype),
                             builder.fcmp_ordered("!=", beta,
                                                  ir.Constant(ir.DoubleType(), 0.0))]
    what, extra = epilogue or ("", [])
    null = ir.Constant(context.get_value_type(dtype).as_pointer(), None)
    values += [ir.Constant(ir.IntType(64), EPILOGUES.index(what))] + \
        (list(extra) + [null, null])[:2]
    return shared(context, builder, f"fastdnn_small_{kind}_{dtype}", dtype, values,
                  lambda v, p: body(v, p[0:3], p[3:6], p[6:9], p[9:-5], p[-5], p[-4],
                                    p[-3:]))


def rows_call(v, cm, am, bm, flags, scale, keep, epilogue):
    # rows_product's function (its parameters: C, A, B as lanes.matrix triples, trans_a,
    # the columns c0 .. c1 of C to compute, beta in C's dtype, whether beta is not 0, then the
    # epilogue: shared_call's three values).
    # Where B's rows lie PACK_STRIDE bytes or more apart, the k-th rows of a block's columns
    # fall in a few sets of the first-level cache and evict each other (from L2, or from L3
    # where B outgrows L2, once per block of rows): such a product, where a panel of B's
    # columns as wide as the widest block fits PANEL_BYTES, takes B in panels, each copied
    # into a buffer on this function's stack (rows one vector past the panel's width apart,
    # so that they fall in different sets) before every block of rows reads it there; all
    # others read B where it is, as one panel. One call of the body (_rows_body) a panel:
    # moves only, each entry's order unchanged, so the same bits either way.
    builder = v.b
    (_, M, N), (b, K, _), (_, c0, c1) = cm, bm, flags
    unit, w = v.n(LEFT_VECTORS * v.width), v.n(v.width)     # (a multiple of any ROWS block)
    per_row = builder.sdiv(v.n(PANEL_BYTES // v.align),
                           builder.select(builder.icmp_signed("<", K, v.n(1)), v.n(1), K))
    fit = builder.sdiv(builder.sub(per_row, w), unit)      # widest blocks a panel holds
    tests = (builder.icmp_signed(">=", builder.mul(N, v.n(v.align)), v.n(PACK_STRIDE)),
             builder.icmp_signed(">=", fit, v.n(1)),
             builder.icmp_signed(">", K, v.n(PACK_MIN)),
             builder.icmp_signed(">", M, v.n(2 * ROWS)))
    packs = functools.reduce(builder.and_, tests)
    whole = builder.sub(c1, c0)
    panel = builder.select(packs, builder.mul(unit, fit), builder.select(
        builder.icmp_signed("<", whole, v.n(1)), v.n(1), whole))
    ld = builder.select(packs, builder.add(panel, w), N)
    # (A dynamic alloca, of one vector where nothing is packed: a fixed array this large
    # takes LLVM's scalar passes seconds to analyse in every module.)
    buf = builder.alloca(v.ft, size=builder.select(packs, v.n(PANEL_BYTES // v.align), w))
    buf.align = 64
    values = [*cm, *am, *bm, flags[0]]
    with cgutils.for_range_slice(builder, c0, c1, panel) as (p0, _):
        p1 = builder.add(p0, panel)
        p1 = builder.select(builder.icmp_signed("<", p1, c1), p1, c1)
        with builder.if_then(packs):
            full = builder.add(p0, builder.mul(builder.sdiv(builder.sub(p1, p0), w), w))
            with cgutils.for_range(builder, K) as loop:    # whole vectors, then one masked
                src = builder.mul(loop.index, N)
                dst = builder.sub(builder.mul(loop.index, ld), p0)
                with cgutils.for_range_slice(builder, p0, full, w) as (j, _):
                    v.store(v.load(b, builder.add(src, j)), buf, builder.add(dst, j))
                with builder.if_then(builder.icmp_signed("<", full, p1)):
                    mask = v.mask(builder.sub(p1, full))
                    v.masked_store(v.masked_load(b, builder.add(src, full), mask), buf,
                                   builder.add(dst, full), mask)
        bp = [builder.select(packs, buf, b), ld, builder.select(packs, p0, v.n(0))]
        shared(v.context, builder, f"fastdnn_small_rows_body_{v.dtype}", v.dtype,
               values + [p0, p1] + bp + [scale, keep] + list(epilogue),
               lambda u, p: _rows_body(u, p[0:3], p[3:6], p[6:9], p[9:12], p[12:15], p[15],
                                       p[16], p[17:]))


def _rows_body(v, cm, am, bm, flags, bp, scale, keep, epilogue):
    # The rows form of C's columns c0 .. c1 (flags: trans_a, c0, c1), B's entry (k, j) read
    # at bp[0][k·bp[1] + j - bp[2]] (B itself, or a panel's copy). epilogue: (its number
    # in EPILOGUES, two pointers): one branch a block between the stores it names (one
    # function for all three: each would otherwise compile the whole body again).
    builder = v.b
    (c, M, N), (a, _, a_cols), (_, K, _), (trans, c0, c1) = cm, am, bm, flags
    bsrc, bld, boff = bp
    a_i = builder.select(trans, v.n(1), a_cols)      # op(A)[i, k] at i·a_i + k·a_k
    a_k = builder.select(trans, a_cols, v.n(1))

    def a_entry(i, k):
        return builder.load(v.at(a, builder.add(builder.mul(i, a_i), builder.mul(k, a_k))))

    def block(ii, j0, vecs, mask=None):
        # Rows ii of C, columns j0 .. j0 + vecs·width, held in registers over k; with a
        # mask (one vector), only its lanes' columns are read and written.
        def load(base, at):
            return v.load(base, at) if mask is None else v.masked_load(base, at, mask)

        cols = [builder.add(j0, v.n(u * v.width)) for u in range(vecs)]
        acc = {}
        for i in ii:
            for j in cols:
                at = builder.add(builder.mul(i, N), j)
                first = builder.select(keep, builder.fmul(v.splat(scale), load(c, at)),
                                       v.zeros())
                acc[i, j] = cgutils.alloca_once_value(builder, first)
        with cgutils.for_range(builder, K) as loop:
            row = [load(bsrc, builder.add(builder.mul(loop.index, bld), builder.sub(j, boff)))
                   for j in cols]
            for i in ii:
                a_ik = v.splat(a_entry(i, loop.index))
                for j, b_kj in zip(cols, row):
                    v.mul_add(acc[i, j], a_ik, b_kj)

        def put(value, base, at):
            if mask is None:
                v.store(value, base, at)
            else:
                v.masked_store(value, base, at, mask)

        def store(what):
            for (i, j), slot in acc.items():
                at = builder.add(builder.mul(i, N), j)
                value = builder.load(slot)
                if what == EPILOGUES[1]:               # _bias_relu
                    bias, out = first, second
                    value = builder.fadd(value, v.splat(builder.load(v.at(bias, i))))
                    # activations.relu_forward: z where z >= 0 or NaN (-0.0 kept), else +0.0
                    put(builder.select(builder.fcmp_unordered(">=", value, v.zeros()), value,
                                       v.zeros()), out, at)
                elif what == EPILOGUES[2]:             # _relu_grad
                    z = load(first, at)
                    # activations.relu_backward: 0 where z <= 0 (not where z is NaN)
                    value = builder.select(builder.fcmp_ordered("<=", z, v.zeros()),
                                           v.zeros(), value)
                put(value, c, at)

        code, first, second = epilogue
        with builder.if_else(builder.icmp_signed("==", code, code.type(0))) as (plain, fused):
            with plain:
                store(EPILOGUES[0])
            with fused:
                with builder.if_else(builder.icmp_signed("==", code, code.type(1))) as (b, g):
                    with b:
                        store(EPILOGUES[1])
                    with g:
                        store(EPILOGUES[2])

    def rows(i0, count, vecs):
        # Rows i0 .. i0 + count, columns c0 .. c1: blocks of vecs vectors of columns (one
        # row alone needs several chains of adds in flight), then single vectors, then the
        # columns left in one masked vector.
        ii = [builder.add(i0, v.n(r)) for r in range(count)]

        def stop(step):           # the last column block of step columns ends here
            n = builder.sub(c1, c0)
            return builder.add(c0, builder.mul(builder.sdiv(n, step), step))
        step = v.n(vecs * v.width)
        wide, full = stop(step), stop(v.n(v.width))
        with cgutils.for_range_slice(builder, c0, wide, step) as (j0, _):
            block(ii, j0, vecs)
        if vecs > 1:
            with cgutils.for_range_slice(builder, wide, full, v.n(v.width)) as (j0, _):
                block(ii, j0, 1)
        with builder.if_then(builder.icmp_signed("<", full, c1)):
            block(ii, full, 1, v.mask(builder.sub(c1, full)))

    # Blocks of ROWS rows, then the M mod ROWS rows left over as one block of that many (a
    # single row with several vectors of columns: chains of adds in flight).
    full_m = builder.mul(builder.sdiv(M, v.n(ROWS)), v.n(ROWS))
    per_row = 2 if v.wide else 1
    with cgutils.for_range_slice(builder, v.n(0), full_m, v.n(ROWS)) as (i0, _):
        rows(i0, ROWS, per_row)
    left = builder.sub(M, full_m)
    for count in range(1, ROWS):
        with builder.if_then(builder.icmp_signed("==", left, v.n(count))):
            rows(full_m, count, max(1, per_row * LEFT_VECTORS // count))


def dots_body(v, cm, am, bm, flags, scale, keep, _epilogue):
    # dot_product's body (parameters as rows_call's, no flags).
    builder = v.b
    (c, M, N), (a, _, K), (b, _, _) = cm, am, bm
    full_k = builder.mul(builder.sdiv(K, v.n(v.width)), v.n(v.width))

    def entries(i0, j0, rows, cols):
        ar = [builder.mul(builder.add(i0, v.n(r)), K) for r in range(rows)]
        bc = [builder.mul(builder.add(j0, v.n(s)), K) for s in range(cols)]
        acc = {(r, s): cgutils.alloca_once_value(builder, v.zeros())
               for r in range(rows) for s in range(cols)}

        def add_block(k, mask=None):
            if mask is None:
                x = [v.load(a, builder.add(o, k)) for o in ar]
                y = [v.load(b, builder.add(o, k)) for o in bc]
            else:
                x = [v.masked_load(a, builder.add(o, k), mask) for o in ar]
                y = [v.masked_load(b, builder.add(o, k), mask) for o in bc]
            for (r, s), slot in acc.items():
                v.mul_add(slot, x[r], y[s])

        with cgutils.for_range_slice(builder, v.n(0), full_k, v.n(v.width)) as (k, _):
            add_block(k)
        with builder.if_then(builder.icmp_signed("<", full_k, K)):
            add_block(full_k, v.mask(builder.sub(K, full_k)))
        for (r, s), slot in acc.items():
            i, j = builder.add(i0, v.n(r)), builder.add(j0, v.n(s))
            cij = v.at(c, builder.add(builder.mul(i, N), j))
            d = v.lane_sum(builder.load(slot))
            builder.store(builder.select(keep, builder.fadd(
                builder.fmul(scale, builder.load(cij)), d), d), cij)

    # 2 x DOT_COLUMNS blocks where M and N have them (eight sums in flight: a fused
    # multiply-add's latency hidden; 4 x DOT_COLUMNS on AVX-512), then 2 x 2 where N has
    # a pair left.
    two, cols = v.n(2), v.n(DOT_COLUMNS)
    full_m = builder.mul(builder.sdiv(M, two), two)
    full_cols = builder.mul(builder.sdiv(N, cols), cols)
    full_n = builder.mul(builder.sdiv(N, two), two)
    full4 = v.n(0)                # rows done in 4 x DOT_COLUMNS blocks (AVX-512 only)
    if v.wide:
        # 16 sums and 8 loads a block of lanes (32 registers: 2 x DOT_COLUMNS leaves its
        # loads a third of the block's time): rows 4 at a time first.
        four = v.n(4)
        full4 = builder.mul(builder.sdiv(M, four), four)
        with cgutils.for_range_slice(builder, v.n(0), full4, four) as (i0, _):
            with cgutils.for_range_slice(builder, v.n(0), full_cols, cols) as (j0, _):
                entries(i0, j0, 4, DOT_COLUMNS)
    with cgutils.for_range_slice(builder, v.n(0), full_m, two) as (i0, _):
        start = builder.select(builder.icmp_signed("<", i0, full4), full_cols, v.n(0))
        with cgutils.for_range_slice(builder, start, full_cols, cols) as (j0, _):
            entries(i0, j0, 2, DOT_COLUMNS)
        with cgutils.for_range_slice(builder, full_cols, full_n, two) as (j0, _):
            entries(i0, j0, 2, 2)
    # A row left over (M odd: the single row of a one-unit layer's gradient, say): 1 x
    # DOT_COLUMNS blocks, then one entry at a time.
    with cgutils.for_range_slice(builder, full_m, M, v.n(1)) as (i, _):
        with cgutils.for_range_slice(builder, v.n(0), full_cols, cols) as (j0, _):
            entries(i, j0, 1, DOT_COLUMNS)
    with cgutils.for_range(builder, M) as rows:
        left = builder.icmp_signed("<", rows.index, full_m)
        with cgutils.for_range_slice(builder, builder.select(left, full_n, full_cols), N,
                                     v.n(1)) as (j, _):
            entries(rows.index, j, 1, 1)

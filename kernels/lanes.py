"""Lane vectors written in LLVM IR: the helpers that the vector kernels are built from
(small.py's products, transpose.py), and ``sum8``, the 8-accumulator sum in one vector.

Why IR: Numba's loops never vectorise a sum without fast-math reassociation (which fastdnn
does not use), and its SLP vectoriser is off, so scalar code written with several
accumulators stays scalar. Written as IR, the vector code has the order the source says,
which no optimiser may change: the same bits on every x86 machine, with or without
AVX-512, and for any thread count.
"""
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload

from ._jit import JIT_OPTIONS

LANES = {types.float32: 16, types.float64: 8}   # a product's vectors: 2 AVX2 registers
I32 = ir.IntType(32)


def wide_registers(context):
    """Whether the code is compiled for AVX-512 (32 registers of 64 bytes: one a lane
    vector) rather than AVX2 (16 of 32 bytes: two a lane vector). Register blocks may be
    sized by it: a block's shape never changes an entry's order, so the bits are the same."""
    features = getattr(context.codegen(), "_tm_features", None)
    if features is None:                  # (Numba's codegen names its target's features)
        from llvmlite import binding
        features = binding.get_host_cpu_features().flatten()
    return "+avx512f" in features.split(",")


class Vec:
    """IR helpers for one kernel's dtype: lane vectors of LANES[dtype] values."""

    def __init__(self, context, builder, dtype):
        self.b = builder
        self.context, self.dtype = context, dtype
        self.ft = context.get_value_type(dtype)
        self.width = LANES[dtype]
        self.vt = ir.VectorType(self.ft, self.width)
        self.intp = context.get_value_type(types.intp)
        self.align = context.get_abi_sizeof(self.ft)     # x86 loads need no more
        self.wide = wide_registers(context)

    def n(self, value):
        return ir.Constant(self.intp, value)

    def at(self, base, idx):
        return self.b.gep(base, [idx])

    def load(self, base, idx, vt=None):
        # A vector of type vt (default: the lane vector) from base[idx] on.
        return self.b.load(self.b.bitcast(self.at(base, idx), (vt or self.vt).as_pointer()),
                           align=self.align)

    def store(self, value, base, idx):
        self.b.store(value, self.b.bitcast(self.at(base, idx), value.type.as_pointer()),
                     align=self.align)

    def splat(self, x, vt=None):
        vt = vt or self.vt
        v = self.b.insert_element(ir.Constant(vt, ir.Undefined), x, ir.Constant(I32, 0))
        return self.b.shuffle_vector(v, v, ir.Constant(ir.VectorType(I32, vt.count),
                                                       [0] * vt.count))

    def mask(self, count, vt=None):
        # The lanes below count (0 < count < lanes) of a vector of type vt (default: the
        # lane vector): a mask of masked_load and masked_store.
        width = (vt or self.vt).count
        lanes = ir.VectorType(self.intp, width)
        return self.b.icmp_signed("<", ir.Constant(lanes, list(range(width))),
                                  self.splat(count, lanes))

    def _masked(self, op, vt, args):
        # LLVM's masked load or store (AVX2 vmaskmov; AVX-512 masks) of a vector of type vt:
        # the lanes off the mask are neither read nor written, so a vector may reach past an
        # array's end.
        name = f"llvm.masked.{op}.v{vt.count}f{self.align * 8}.p0"
        fnty = ir.FunctionType(vt if op == "load" else ir.VoidType(), [a.type for a in args])
        return self.b.call(cgutils.get_or_insert_function(self.b.module, fnty, name), args)

    def masked_load(self, base, idx, mask, vt=None):
        vt = vt or self.vt
        ptr = self.b.bitcast(self.at(base, idx), vt.as_pointer())
        return self._masked("load", vt, [ptr, ir.Constant(I32, self.align), mask,
                                         self.zeros(vt)])

    def masked_store(self, value, base, idx, mask):
        ptr = self.b.bitcast(self.at(base, idx), value.type.as_pointer())
        self._masked("store", value.type, [value, ptr, ir.Constant(I32, self.align), mask])

    def zeros(self, vt=None):
        vt = vt or self.vt
        return ir.Constant(vt, [ir.Constant(self.ft, 0.0)] * vt.count)

    def lane_sum(self, acc):
        # One value: the vector's halves added pairwise until one lane is left.
        width = self.width
        while width > 1:
            half = width // 2
            lo, hi = (self.b.shuffle_vector(acc, acc, ir.Constant(
                ir.VectorType(I32, half), list(range(o, o + half)))) for o in (0, half))
            acc, width = self.b.fadd(lo, hi), half
        return self.b.extract_element(acc, ir.Constant(I32, 0))

    def mul_add(self, slot, x, y):
        # slot = x·y + slot, one fused multiply-add: rounded once, the same bits on every
        # machine (llvm.fma is never split into a multiply and an add; a CPU without an FMA
        # unit computes it in software).
        vt = x.type
        name = f"llvm.fma.v{vt.count}f{self.align * 8}"
        fn = cgutils.get_or_insert_function(self.b.module, ir.FunctionType(vt, [vt] * 3), name)
        self.b.store(self.b.call(fn, [x, y, self.b.load(slot)]), slot)


def c_matrices(*arrays):
    """Whether the Numba types ``arrays`` are 2-D C-contiguous arrays of one dtype of LANES
    (what the vector kernels take)."""
    first = arrays[0]
    return isinstance(first, types.Array) and first.dtype in LANES and all(
        isinstance(x, types.Array) and x.ndim == 2 and x.layout == "C"
        and x.dtype == first.dtype for x in arrays)


def matrix(context, builder, ty, value):
    # (data pointer, rows, cols) of a 2-D C array.
    arr = context.make_array(ty)(context, builder, value)
    return (arr.data, *cgutils.unpack_tuple(builder, arr.shape, 2))


def shared(context, builder, name, dtype, values, body):
    # Call the module's one function ``name`` on ``values``: emitted by body(Vec, its
    # parameters) on its first call in a module, linkonce_odr, so that the modules Numba
    # links into one keep one copy: the vector code is optimised and compiled once per
    # module, not at every call site.
    fnty = ir.FunctionType(ir.VoidType(), [x.type for x in values])
    fn = cgutils.get_or_insert_function(builder.module, fnty, name)
    if fn.is_declaration:
        fn.linkage = "linkonce_odr"
        fn.attributes.add("noinline")
        inner = ir.IRBuilder(fn.append_basic_block("entry"))
        body(Vec(context, inner, dtype), list(fn.args))
        inner.ret_void()
    builder.call(fn, values)
    return context.get_dummy_value()


# ---- sum8 ---------------------------------------------------------------------------------
def sum8(buf):
    """buf: (k,) float32 or float64. Its sum in float64 by 8 accumulators: accumulator q
    sums the values i = q (mod 8) of the whole blocks of 8, in order; the values left over
    are added to accumulator 0 in order; then ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 +
    s7)). Independent chains let the adds pipeline (one running sum is bound by the add's
    latency), and they are no less accurate. For a contiguous buf the 8 accumulators are one
    vector (the same bits)."""
    k = buf.size
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    stop = k - k % 8
    f = np.float64                        # (float32 values too: numpy's scalars would not)
    for i in range(0, stop, 8):
        s0 += f(buf[i])
        s1 += f(buf[i + 1])
        s2 += f(buf[i + 2])
        s3 += f(buf[i + 3])
        s4 += f(buf[i + 4])
        s5 += f(buf[i + 5])
        s6 += f(buf[i + 6])
        s7 += f(buf[i + 7])
    for i in range(stop, k):
        s0 += f(buf[i])
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))


_scalar_sum8 = sum8


def _sum8_body(v, p):
    # lane_sum8's body: *out (float64) = sum8 of (data, size).
    builder = v.b
    data, size, out = p
    f64 = ir.DoubleType()
    vd, vf = ir.VectorType(f64, 8), ir.VectorType(v.ft, 8)
    acc = cgutils.alloca_once_value(builder, ir.Constant(vd, [ir.Constant(f64, 0.0)] * 8))
    eight = v.n(8)
    stop = builder.mul(builder.sdiv(size, eight), eight)
    with cgutils.for_range_slice(builder, v.n(0), stop, eight) as (i, _):
        x = v.load(data, i, vf)
        if v.ft != f64:
            x = builder.fpext(x, vd)
        builder.store(builder.fadd(builder.load(acc), x), acc)
    s0 = cgutils.alloca_once_value(builder, builder.extract_element(builder.load(acc),
                                                                    ir.Constant(I32, 0)))
    with cgutils.for_range_slice(builder, stop, size, v.n(1)) as (i, _):
        x = builder.load(v.at(data, i))
        if v.ft != f64:
            x = builder.fpext(x, f64)
        builder.store(builder.fadd(builder.load(s0), x), s0)
    s = builder.insert_element(builder.load(acc), builder.load(s0), ir.Constant(I32, 0))
    width = 8
    while width > 1:                  # adjacent pairs: (s0 + s1), (s2 + s3), ...
        half = width // 2
        even, odd = (builder.shuffle_vector(s, s, ir.Constant(
            ir.VectorType(I32, half), list(range(o, width, 2)))) for o in (0, 1))
        s, width = builder.fadd(even, odd), half
    builder.store(builder.extract_element(s, ir.Constant(I32, 0)), out)


def _contiguous(buf):
    # A contiguous 1-D float32 or float64 array: what lane_sum8 reads.
    return (isinstance(buf, types.Array) and buf.ndim == 1 and buf.layout == "C"
            and buf.dtype in LANES)


@intrinsic
def lane_sum8(typingctx, buf):
    # sum8 of a contiguous 1-D float32 or float64 array: the 8 accumulators one vector.
    if not _contiguous(buf):
        return None

    def codegen(context, builder, signature, args):
        arr = context.make_array(signature.args[0])(context, builder, args[0])
        out = cgutils.alloca_once(builder, ir.DoubleType())
        shared(context, builder, f"fastdnn_sum8_{signature.args[0].dtype}",
               signature.args[0].dtype, [arr.data, builder.extract_value(arr.shape, 0), out],
               _sum8_body)
        return builder.load(out)
    return types.float64(buf), codegen


@overload(sum8, jit_options=JIT_OPTIONS)
def _ov_sum8(buf):
    if _contiguous(buf):
        return lambda buf: lane_sum8(buf)
    return _scalar_sum8

"""The tiled kernels' workspace: how samples are cut into tiles and chunks, and each chunk's
buffers.

Guarantees: tile widths and chunk counts are set by the shapes alone (never by the thread
count), so they are part of the fixed summation order that makes results the same bits on
any number of threads; every buffer of a run is allocated here, once.
"""
import numpy as np

from .. import kernels as K
from .aligned import zeros as aligned_zeros
from ..kernels.codes import rows_z1, small_layer, small_rows, transposes_x
from ..kernels.linking import code as blas_code
from .network import step_work

# Samples per tile (measured on the scaling shapes, 2-core build machine): 256 keeps a tile's
# activations in L2 for narrow networks; where a weight matrix is large, each tile's BLAS
# call re-packs it, and 1024 samples amortise that, unless a tile of X would pass
# TILE_VALUES values: a copied tile (bytes of images, C-ordered X) then leaves the caches
# between its products, and each thread holds one.
TILE, WIDE_TILE, WIDE_WEIGHTS, TILE_VALUES = 256, 1024, 1 << 16, 3 << 20
# Such a network with a mid-size later layer in the vector code (codes.small_rows, not a
# small layer) takes half of WIDE_TILE: that layer's product reads its tile operand from
# L2, and at WIDE_TILE samples the tile's activations and gradients outgrow it (mnist's
# [784,128,64,1], float32: 2.6 MB against a 2 MiB L2), halving the product's rate (64x128
# at 938 samples 247 µs a tile in the step, 118 alone; at 469, 74). Measured on a 2-core
# Intel Xeon (best of 4 calls of 2 iterations, three runs each): [784,128,64,1] float32
# 135.6-137.2 -> 129.6-131.6 ms, float64 256-259 -> 247-251, [784,128,64,10] float32
# 139.6-142.0 -> 134.3-136.5; networks without such a layer gain nothing ([784,256,1],
# [1000,128,1] within 2%) or lose ([2048,128,1] 4%, [3072,256,128,1] float64 8%).
# A narrow network (a tile's rows of X, Z and A, n_0 + 2·Σ n_l, at most NARROW_ROWS: 256 KiB
# in float64 at NARROW_TILE samples) takes NARROW_TILE samples a tile: its step is mostly
# each tile's fixed costs (every pass's and product's set-up), and the tile still fits in
# the caches. Measured on the 2-core Zen 3 machine, three runs each: [20,10,1] 3-7% faster
# a step at 512 than at 256 (m = 1,000 and 4,000, both dtypes); [50,64,32,1] and
# [100,64,64,64,64,1] (300 and more rows) no faster in float32, 5-10% slower in float64.
NARROW_TILE, NARROW_ROWS = 512, 64
# A float32 network whose every layer runs in the vector code (codes.small_rows) takes
# VECTOR_TILE samples a tile, not TILE, on steps of at least two tiles of TILE: a 64-unit
# layer's tile (32 KiB) then stays in a 48 KiB first-level cache. Measured (2 threads,
# best of 6 calls of 3 iterations, two runs each): 2-core Intel Xeon, tabular
# [50,64,32,1] 20.8-20.9 -> 18.5-18.7 ms, deep [100,64,64,64,64,1] 34.5-35.5 -> 31.2-31.6
# (float64: tabular 5% faster, deep 1% slower: left at TILE); 2-core Zen 3 (32 KiB), tabular
# 20.5-21.6 -> 20.8-21.2 (docs/performance.md).
VECTOR_TILE = 128
# A step of fewer samples than two tiles is cut into two chunks (one a core) when each
# half is worth waking a core for: at least SPLIT_WORK multiply-adds in float64, twice that
# in float32 (whose arithmetic takes about half the time, while a wake-up costs the same).
# Measured on the 2-core Zen 3 machine (Adam epochs, alternating runs): float64 halves of
# 0.18-0.2 M ([64,32,16,1] in batches of 64, [50,64,32,1] in batches of 32) 8-11% faster
# split, 0.09 M even; float32 halves of 0.2 M 19% slower split, 0.4 M 5-15% faster.
SPLIT_WORK = 1 << 17
# The Gram path cuts a step's samples into chunks of at least GRAM_CHUNK (one a core): its
# layers 2..L, cost and backward pass then run in parallel like its S·G. Measured on the
# 2-core Zen 3 machine, the cat data (m = 209, two chunks): a step float32 34 -> 29.5 µs.
GRAM_CHUNK = 100


def _narrow(dims):
    """Whether a tile of the network has at most NARROW_ROWS rows of X, Z and A."""
    return dims[0] + 2 * sum(dims[1:]) <= NARROW_ROWS


def tile_width(dims):
    """Samples per tile: set by the shapes only (never by the thread count), so it is part
    of the fixed summation order."""
    biggest = max(dims[l] * dims[l - 1] for l in range(1, len(dims)))
    if _narrow(dims):
        return NARROW_TILE
    T = WIDE_TILE if biggest > WIDE_WEIGHTS else TILE
    if T == WIDE_TILE and _later_rows_layer(dims):
        T //= 2
    while T > TILE and T * dims[0] > TILE_VALUES:
        T //= 2
    return T


def _later_rows_layer(dims):
    """Whether a layer after the first runs its products in the vector code at WIDE_TILE
    samples without being a small layer (codes.small_rows, codes.small_layer)."""
    return any(small_rows(dims[l], dims[l - 1], WIDE_TILE, 8)
               and not small_layer(dims[l], dims[l - 1]) for l in range(2, len(dims)))


def step_tile(dims, samples, itemsize=8):
    """Samples a tile for steps of ``samples``: tile_width(dims), or half a step (a multiple
    of 8) when the step is under two tiles and each half is SPLIT_WORK or more (``itemsize``
    4, float32: twice that; a narrow network's: half a step of more than TILE samples, so
    that a step of two tiles of the usual width still runs on two cores; a float32 network
    all in the vector code: VECTOR_TILE on steps of two tiles or more); never wider than
    the step (rounded up to 8): a mini-batch's tiles are as narrow as they run, which the
    rules by tile width (codes.transposes_x) read. Set by the shapes and dtype only: part of
    the summation order."""
    return min(_widest_tile(dims, samples, itemsize), max(8, _up_to_8(samples)))


def _widest_tile(dims, samples, itemsize):
    T = tile_width(dims)
    if T == TILE and samples >= 2 * TILE and _in_vector_code(dims, itemsize):
        return VECTOR_TILE
    half = -(-samples // 2)
    if samples < 2 * T and _narrow(dims):
        return max(TILE, min(T, _up_to_8(half)))
    if samples < 2 * T and half * step_work(dims, 1, False) * itemsize >= SPLIT_WORK * 8:
        return min(T, _up_to_8(half))
    return T


def _in_vector_code(dims, itemsize):
    """Whether a float32 network's every layer runs in the vector code on tiles of
    VECTOR_TILE samples (codes.small_rows)."""
    return itemsize == 4 and all(small_rows(dims[l], dims[l - 1], VECTOR_TILE, itemsize)
                                 for l in range(1, len(dims)))


def _up_to_8(n):
    return -(-n // 8) * 8


def kernel_samples(XT, xorder, YT, order, sw=K.Samples._field_defaults["sw"]):
    """The kernels' Samples. Numba compiles a kernel for each argument type (dtype, layout
    and writability included), so the arrays go in few forms: an X^T whose tiles can be
    views of it (C-contiguous in the compute dtype, Y^T's) and Y^T as read-only views (a
    memory map and a writable array share one kernel); any other array X^T as its bytes
    and their form (x_bytes: all of them share one kernel). A sparse X^T (kernels.CSR) is
    passed as it is. Nothing is copied (see x_bytes for the exception)."""
    if isinstance(XT, np.ndarray) and not (XT.flags.c_contiguous and XT.dtype == YT.dtype):
        XT, form = x_bytes(XT)
    else:                        # the kernels read a typed array's or a CSR's shape only
        XT = _read_only(XT) if isinstance(XT, np.ndarray) else XT
        form = _form(-1, 0, 0, 0, XT.shape)
    return K.Samples(XT, form, xorder, _read_only(YT), order, sw)


def x_bytes(XT):
    """(bytes, form) for XT (rows, n0), an array in one of kernels.SOURCE_DTYPES: a read-only
    uint8 view of its memory from its lowest address, and its form ((FORM_SIZE,) int64: where
    each value lies in it, kernels/codes.py). Never a copy, except for an array whose values
    are not in native byte order or not aligned (the kernels read machine words)."""
    if XT.dtype.type not in K.SOURCE_DTYPES:
        raise TypeError(f"X^T must be one of {[np.dtype(t).name for t in K.SOURCE_DTYPES]} "
                        f"here, got {XT.dtype}")
    if not (XT.dtype.isnative and XT.flags.aligned):
        XT = np.ascontiguousarray(XT, XT.dtype.newbyteorder("="))
    (m, n0), (s0, s1), item = XT.shape, XT.strides, XT.itemsize
    # Strides in values; a length-1 axis's is never used (numpy may leave it anything): C's.
    rs, cs = (s0 // item if m > 1 else n0), (s1 // item if n0 > 1 else 1)
    if XT.flags.c_contiguous or XT.flags.f_contiguous:    # (a call's cost: the usual case)
        values, offset = XT.ravel(order="K"), 0           # the memory as it lies: a view
    else:
        lowest = XT[::-1 if rs < 0 else 1, ::-1 if cs < 0 else 1]
        span = 1 + (m - 1) * abs(rs) + (n0 - 1) * abs(cs) if XT.size else 0
        values = np.lib.stride_tricks.as_strided(lowest, (span,), (item,))
        offset = (m - 1) * max(0, -rs) + (n0 - 1) * max(0, -cs)
    raw = values.view(np.uint8)
    raw.flags.writeable = False
    return raw, _form(K.SOURCE_DTYPES.index(XT.dtype.type), offset, rs, cs, XT.shape)


def _form(kind, offset, rs, cs, shape):
    """Samples.form: (FORM_SIZE,) int64, each value at its kernels/codes.py FORM_* index."""
    form = [0] * K.FORM_SIZE
    form[K.FORM_KIND], form[K.FORM_OFFSET], form[K.FORM_RS], form[K.FORM_CS] = \
        kind, offset, rs, cs
    form[K.FORM_ROWS], form[K.FORM_COLS] = shape
    return np.array(form, np.int64)


def _read_only(a):
    """a, or a read-only view of it (never a copy; a itself stays writable)."""
    if not a.flags.writeable:
        return a
    view = a.view()
    view.flags.writeable = False
    return view


def max_threads():
    """Numba's most threads (each has its own copied tile of X)."""
    import numba
    return numba.config.NUMBA_NUM_THREADS


def chunks_for(T, samples):
    """How many chunks a batch of ``samples`` is cut into (tiles of T): set by the shapes
    only, part of the summation order (the kernels compute the same number)."""
    return min(K.CHUNKS, -(-samples // T))


def chunk_starts(T, b0, b1):
    """The n + 1 bounds of the chunks of the batch at positions b0..b1 (n = chunks_for;
    the kernels' kernels/tiled.chunk_start)."""
    n = chunks_for(T, b1 - b0)
    return [b0 + c * (b1 - b0) // n for c in range(n + 1)]


def _rows(dims):
    """(r_off, rows, widest): where layer l's rows start in a tile's stacked activations,
    their total, and the widest layer."""
    L = len(dims) - 1
    r_off = np.zeros(L + 1, np.int64)
    r_off[1:] = np.cumsum([0] + dims[1:-1])
    return r_off, sum(dims[1:]), max(dims[1:])


def allocate_tiles(dims, m, dtype, n_params, batch=None, copies=False, divisor=1.0, T=None):
    """The tiled kernels' per-chunk buffers for a network of ``dims`` on m samples
    (``n_params``: size of the gradient accumulators; 0 for a forward pass only; ``batch``:
    the mini-batch size, whose shuffled tiles are gathered, or None for full batches;
    ``copies``: X's tiles are copies, not views; ``divisor``: X is used as X / divisor;
    ``T``: samples a tile, step_tile(dims, steps' samples, dtype) unless given)."""
    r_off, rows, widest = _rows(dims)
    itemsize = np.dtype(dtype).itemsize
    T = T or step_tile(dims, min(m, batch or m), itemsize)
    C = chunks_for(T, min(m, batch or m))
    gather = T if batch or copies else 0     # labels of shuffled tiles: one buffer a chunk
    grads = widest * T * bool(n_params)
    return K.Tiles(
        r_off=r_off, T=T, chunks=C, blas=blas_code(),
        acts=aligned_zeros((C, rows * T), dtype),
        zs=aligned_zeros((C, rows * T), dtype), dA=aligned_zeros((C, grads), dtype),
        dZ=aligned_zeros((C, grads), dtype),
        wtmp=np.zeros((C, 0), dtype),     # sums in the products' dtype: dW added in place
        gacc=aligned_zeros((C, n_params), dtype), cost=np.zeros(C), total=np.zeros(1),
        weight=np.zeros(1),
        cbuf=aligned_zeros((C, T), dtype),
        xt=aligned_zeros((max_threads(), gather * dims[0]), dtype),
        xf=aligned_zeros((max_threads(), _first_operand(dims, T, itemsize)), dtype),
        xtag=np.full((max_threads(), 2), -1, np.int64), calls=np.zeros(1, np.int64),
        team=np.zeros(K.TEAM_STATE, np.int64),
        yt=aligned_zeros((C, gather * dims[-1]), dtype),
        idx=np.zeros((C, T), np.int64), divisor=float(divisor))


def _first_operand(dims, T, itemsize):
    """Values of a thread's transposed first-layer operand (Tiles.xf): a tile of X where
    codes.transposes_x, W1 where codes.rows_z1, none otherwise."""
    if transposes_x(dims[1], dims[0], T, itemsize):
        return T * dims[0]
    return dims[0] * dims[1] * rows_z1(dims[1], dims[0], T, itemsize, blas_code())


def gram_chunks(m):
    """Chunks of the Gram path's step on m samples: one a GRAM_CHUNK samples, at most
    kernels.GRAM_BLOCKS (set by m alone)."""
    return max(1, min(K.GRAM_BLOCKS, m // GRAM_CHUNK))


def gram_tiles(dims, m, dtype):
    """Tiles of the Gram path's gram_chunks(m) chunks, each one tile of its samples. The
    gradient sums are float64 (in float32, each sum rounds once, after its 1/m). Layer 1's
    weight gradient is never formed (the Gram path keeps S instead): the sums hold b1 and
    layers 2..L (engine/gram.without_w1's layout), and the scratch dW holds layers 2..L
    only, and only where the sums' dtype is not the products' (float32)."""
    r_off, rows, widest = _rows(dims)
    C = gram_chunks(m)
    T = -(-m // C)                                     # the widest chunk
    weights = [dims[l] * dims[l - 1] for l in range(2, len(dims))]     # layers 2..L
    sums = sum(dims[1:]) + sum(weights)
    wsize = 0 if np.dtype(dtype) == np.float64 else max([1] + weights)
    return K.Tiles(
        r_off=r_off, T=T, chunks=C, blas=blas_code(),
        acts=aligned_zeros((C, rows * T), dtype),
        zs=aligned_zeros((C, rows * T), dtype), dA=aligned_zeros((C, widest * T), dtype),
        dZ=aligned_zeros((C, widest * T), dtype), wtmp=aligned_zeros((C, wsize), dtype),
        gacc=aligned_zeros((C, sums), np.float64), cost=np.zeros(C), total=np.zeros(1),
        weight=np.zeros(1),
        cbuf=aligned_zeros((C, min(T, K.COST_BLOCK)), dtype), xt=np.zeros((C, 0), dtype),
        xf=np.zeros((C, 0), dtype), xtag=np.full((C, 2), -1, np.int64),
        calls=np.zeros(1, np.int64), team=np.zeros(K.TEAM_STATE, np.int64),
        yt=np.zeros((C, 0), dtype), idx=np.zeros((C, 0), np.int64), divisor=1.0)

"""The tiled kernels' workspace: how samples are cut into tiles and chunks, and each chunk's
buffers.

Guarantees: tile widths and chunk counts are set by the shapes alone (never by the thread
count), so they are part of the fixed summation order that makes results the same bits on
any number of threads; every buffer of a run is allocated here, once.
"""
import numpy as np

from .. import kernels as K
from .network import step_work

# Samples per tile (measured on the scaling shapes, 2-core build machine): 256 keeps a tile's
# activations in L2 for narrow networks; where a weight matrix is large, each tile's BLAS
# call re-packs it, and 1024 samples amortise that, unless a tile of X would pass
# TILE_VALUES values: a copied tile (bytes of images, C-ordered X) then leaves the caches
# between its products, and each thread holds one.
TILE, WIDE_TILE, WIDE_WEIGHTS, TILE_VALUES = 256, 1024, 1 << 16, 3 << 20
# A step of fewer samples than two tiles is cut into two chunks (one a core) when each
# half is worth waking a core for: at least SPLIT_WORK multiply-adds. Measured on the 2-core
# build machine (epochs of Adam and of gradient descent, [50,64,32,1], float32 and float64):
# halves of 64 samples (0.8 M) ran 20-35% faster than one chunk, halves of 32 (0.4 M) 5-15%
# faster; below a quarter of a million the gain is within the machine's noise.
SPLIT_WORK = 1 << 18


def tile_width(dims):
    """Samples per tile: set by the shapes only (never by the thread count), so it is part
    of the fixed summation order."""
    biggest = max(dims[l] * dims[l - 1] for l in range(1, len(dims)))
    T = WIDE_TILE if biggest > WIDE_WEIGHTS else TILE
    while T > TILE and T * dims[0] > TILE_VALUES:
        T //= 2
    return T


def step_tile(dims, samples):
    """Samples a tile for steps of ``samples``: tile_width(dims), or half a step (a multiple
    of 8) when the step is under two tiles and each half is SPLIT_WORK or more. Set by the
    shapes only: part of the summation order."""
    T = tile_width(dims)
    half = -(-samples // 2)
    if samples < 2 * T and half * step_work(dims, 1, False) >= SPLIT_WORK:
        return min(T, -(-half // 8) * 8)
    return T


def kernel_samples(XT, xorder, YT, order, sw=K.Samples._field_defaults["sw"]):
    """The kernels' Samples, X^T and Y^T passed as read-only views. The kernels only read
    them, and Numba compiles a kernel for each argument type, writability included: with
    every X and Y read-only, a writable array and a read-only one (a memory map, the
    read-only inputs of scikit-learn's checks) share one compiled kernel, not two. A sparse
    X^T (structs.CSR) is passed as it is."""
    return K.Samples(_read_only(XT), xorder, _read_only(YT), order, sw)


def _read_only(a):
    """a, or a read-only view of it (never a copy; a itself stays writable)."""
    if not isinstance(a, np.ndarray) or not a.flags.writeable:
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
    ``T``: samples a tile, step_tile(dims, steps' samples) unless given)."""
    r_off, rows, widest = _rows(dims)
    T = T or step_tile(dims, min(m, batch or m))
    C = chunks_for(T, min(m, batch or m))
    gather = T if batch or copies else 0     # labels of shuffled tiles: one buffer a chunk
    grads = widest * T * bool(n_params)
    return K.Tiles(
        r_off=r_off, T=T, chunks=C, acts=np.zeros((C, rows * T), dtype),
        zs=np.zeros((C, rows * T), dtype), dA=np.zeros((C, grads), dtype),
        dZ=np.zeros((C, grads), dtype),
        wtmp=np.zeros((C, 0), dtype),     # sums in the products' dtype: dW added in place
        gacc=np.zeros((C, n_params), dtype), cost=np.zeros(C), total=np.zeros(1),
        cbuf=np.zeros((C, T), dtype),
        xt=np.zeros((max_threads(), gather * dims[0]), dtype),
        yt=np.zeros((C, gather * dims[-1]), dtype),
        idx=np.zeros((C, T), np.int64), divisor=float(divisor))


def whole_batch_tile(dims, m, dtype, grad):
    """Tiles of one chunk whose one tile is all m samples, for the Gram path. Its gradient
    sums are float64: ``grad`` itself (scaled in place) in float64, a buffer of their own in
    float32 (each sum then rounds to float32 once, after its 1/m). Layer 1's weight
    gradient is never formed (the Gram path keeps S instead), so the scratch dW holds
    layers 2..L only, and only where the sums' dtype is not the products' (float32)."""
    r_off, rows, widest = _rows(dims)
    if grad.dtype == np.float64:
        wsize, sums = 0, grad.reshape(1, -1)
    else:
        wsize = max([1] + [dims[l] * dims[l - 1] for l in range(2, len(dims))])
        sums = np.zeros((1, grad.size))
    return K.Tiles(
        r_off=r_off, T=m, chunks=1, acts=np.zeros((1, rows * m), dtype),
        zs=np.zeros((1, rows * m), dtype), dA=np.zeros((1, widest * m), dtype),
        dZ=np.zeros((1, widest * m), dtype), wtmp=np.zeros((1, wsize), dtype),
        gacc=sums, cost=np.zeros(1), total=np.zeros(1),
        cbuf=np.zeros((1, min(m, K.COST_BLOCK)), dtype), xt=np.zeros((1, 0), dtype),
        yt=np.zeros((1, 0), dtype), idx=np.zeros((1, 0), np.int64), divisor=1.0)

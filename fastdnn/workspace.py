"""Where a network's numbers live: its dims, the flat parameter vector's layout, the tiles'
buffers, and a step's work. Set by the shapes alone (never by the thread count), so they are
part of the fixed summation order that makes results the same bits on any number of threads.
"""
import numpy as np

from . import _validate as v
from . import kernels as K


def step_work(dims, m, gram):
    """Multiply-adds of one training step (what decides whether it runs on every core)."""
    pairs = [dims[l] * dims[l - 1] for l in range(1, len(dims))]
    first = dims[1] * m * m if gram else 2 * pairs[0] * m
    return first + 3 * m * sum(pairs[1:])


# Samples per tile of the tiled step (measured on the scaling shapes, 2-core build machine):
# 256 keeps a tile's activations in L2 for narrow networks; where a weight matrix is large,
# each tile's BLAS call re-packs it, and 1024 samples amortise that, unless a tile of X
# would pass TILE_VALUES values: a copied tile (bytes of images, C-ordered X) then leaves
# the caches between its products, and each thread holds one.
TILE, WIDE_TILE, WIDE_WEIGHTS, TILE_VALUES = 256, 1024, 1 << 16, 3 << 20


def tile_width(dims):
    """Samples per tile: set by the shapes only (never by the thread count), so it is part
    of the fixed summation order."""
    biggest = max(dims[l] * dims[l - 1] for l in range(1, len(dims)))
    T = WIDE_TILE if biggest > WIDE_WEIGHTS else TILE
    while T > TILE and T * dims[0] > TILE_VALUES:
        T //= 2
    return T


def network_dims(parameters, n_x=None):
    """[n0, n1, ..., nL] of a parameters dict, checked: W_l (n_l, n_{l-1}), b_l (n_l, 1), and
    n0 == n_x when given (the rows of X)."""
    L = v.layer_count(parameters)
    dims = [v.array(parameters["W1"], "parameters['W1']").shape[1]]
    if n_x is not None and dims[0] != n_x:
        raise ValueError(f"parameters['W1'] has {dims[0]} columns but X has {n_x} rows "
                         "(features): they must be equal")
    for l in range(1, L + 1):
        W = v.array(parameters[f"W{l}"], f"parameters['W{l}']")
        b = v.array(parameters[f"b{l}"], f"parameters['b{l}']")
        if W.shape[1] != dims[-1]:
            raise ValueError(f"parameters['W{l}'] has shape {W.shape}, expected "
                             f"{dims[-1]} columns to follow layer {l - 1}")
        v.shape(b, f"parameters['b{l}']", (W.shape[0], 1), "one bias per row of W")
        dims.append(W.shape[0])
    return dims


def parameter_layout(dims):
    """(w_off, b_off, size): where W_l and b_l start in the flat parameter vector theta
    (W1, b1, W2, b2, ... in that order, each row-major), and theta's size."""
    L = len(dims) - 1
    w_off, b_off = np.zeros(L + 1, np.int64), np.zeros(L + 1, np.int64)
    p = 0
    for l in range(1, L + 1):
        w_off[l], p = p, p + dims[l] * dims[l - 1]
        b_off[l], p = p, p + dims[l]
    return w_off, b_off, p


def max_threads():
    """Numba's most threads (each has its own copied tile of X)."""
    import numba
    return numba.config.NUMBA_NUM_THREADS


def chunks_for(T, samples):
    """How many chunks a batch of ``samples`` is cut into (tiles of T): set by the shapes
    only, part of the summation order (the kernels compute the same number)."""
    return min(K.CHUNKS, -(-samples // T))


def allocate_tiles(dims, m, dtype, n_params, batch=None, copies=False, divisor=1.0):
    """The tiled kernels' per-chunk buffers for a network of ``dims`` on m samples
    (``n_params``: size of the gradient accumulators; 0 for a forward pass only; ``batch``:
    the mini-batch size, whose shuffled tiles are gathered, or None for full batches;
    ``copies``: X's tiles are copies, not views (see source_of); ``divisor``: X is used as
    X / divisor)."""
    L = len(dims) - 1
    r_off = np.zeros(L + 1, np.int64)
    r_off[1:] = np.cumsum([0] + dims[1:-1])
    rows, widest = sum(dims[1:]), max(dims[1:])
    T = tile_width(dims)
    C = chunks_for(T, min(m, batch or m))
    gather = T if batch or copies else 0     # labels of shuffled tiles: one buffer a chunk
    wsize = max(dims[l] * dims[l - 1] for l in range(1, L + 1)) if n_params else 0
    return K.Tiles(
        r_off=r_off, T=T, chunks=C, acts=np.zeros((C, rows * T), dtype),
        zs=np.zeros((C, rows * T), dtype), dA=np.zeros((C, widest * T * bool(n_params)), dtype),
        dZ=np.zeros((C, widest * T * bool(n_params)), dtype), wtmp=np.zeros((C, wsize), dtype),
        gacc=np.zeros((C, n_params), dtype), cost=np.zeros(C), total=np.zeros(1),
        cbuf=np.zeros((C, T), dtype),
        xt=np.zeros((max_threads(), gather * dims[0]), dtype),
        yt=np.zeros((C, gather * dims[-1]), dtype),
        idx=np.zeros((C, T), np.int64), divisor=float(divisor))


# dtypes the kernels read X in as they are (others are converted once, in a copy)
SOURCE_DTYPES = (np.uint8, np.float32, np.float64)


def source_of(X, dtype, divisor=None):
    """(XT, copies): what the tiled kernels read for X (n0, m), and whether its tiles are
    copies. XT is X^T, a view in X's own layout and dtype (never a full-size copy) unless
    X's dtype is not one the kernels read; tiles are views only where XT is C-contiguous in
    the compute ``dtype`` and nothing is divided (X F-ordered, as the course's flatten and a
    samples-in-rows array make it)."""
    if X.dtype.type not in SOURCE_DTYPES:
        X = X.astype(dtype)
    XT = X.T
    return XT, not (XT.flags.c_contiguous and XT.dtype == dtype and divisor is None)


def all_finite(X, block=1 << 16):
    """Whether X (n0, m) holds no NaN or infinity, checked by blocks of columns (no X-sized
    temporary); returns the first bad (row, column) or None."""
    if X.dtype.kind in "biu":
        return None
    for j0 in range(0, X.shape[1], block):
        part = X[:, j0:j0 + block]
        ok = np.isfinite(part)
        if not ok.all():
            i, j = np.argwhere(~ok)[0]
            return int(i), int(j0 + j)
    return None

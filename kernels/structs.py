"""The structs the kernels take: every training kernel's arguments are a few of these.

Guarantees: plain NamedTuples of arrays and numbers (no Numba import here), built by fastdnn
once a run (Net, Tiles, Gram, Optimizer) or once a call (Samples, Part), by the kernels
(Tile, Segment, Mask), or by calls.callee (Callee); a kernel reads them, writes the arrays
they hold, and never keeps one.
Shapes: L layers of n_0 .. n_L units, P parameters, m samples, mb samples a batch, T samples
a tile, C chunks of samples (C <= CHUNKS).

Names in the kernels: ``net`` a Net, ``tw`` the Tiles workspace, ``gw`` the Gram buffers,
``data`` the Samples, ``opt`` the Optimizer, ``part`` a Part, ``seg`` a Segment.
"""
from typing import NamedTuple

import numpy as np


class Net(NamedTuple):
    """A network's parameters and their gradient, flat: W1, b1, W2, b2, ... each row-major."""
    dims: np.ndarray      # (L+1,) int64: n_0 (features) .. n_L (output units)
    w_off: np.ndarray     # (L+1,) int64: where W_l starts in theta (entry 0 unused)
    b_off: np.ndarray     # (L+1,) int64: where b_l starts in theta (entry 0 unused)
    theta: np.ndarray     # (P,) the parameters; W_l is (n_l, n_{l-1}), b_l is (n_l, 1)
    grad: np.ndarray      # (P,) the last batch's gradient (1/mb included), theta's layout
    acts: np.ndarray      # (L+1,) int64: layer l's activation code (entry 0 unused; codes.py)
    loss: int             # COURSE_LOSS or SK_LOSS (codes.py)


class Tiles(NamedTuple):
    """Each chunk's buffers for one tile of its samples, and its running sums. The 2-D
    floating-point buffers start on cache lines, their rows padded to whole lines
    (fastdnn's engine/aligned.py): a row may hold more values than named; kernels read the
    named ones."""
    r_off: np.ndarray     # (L+1,) int64: first row of layer l in the stacked activations
    T: int                # samples a tile
    chunks: int           # chunks a full batch is cut into: min(CHUNKS, tiles), shapes only
    blas: int             # the BLAS the products call (codes.BLAS_*: the first layer's forms)
    acts: np.ndarray      # (C, Σ_{l>=1} n_l · T) activations A_l of the chunk's current tile
    zs: np.ndarray        # (C, Σ_{l>=1} n_l · T) pre-activations Z_l of that tile
    dA: np.ndarray        # (C, max n_l · T) gradient w.r.t. the layer below's activation
    dZ: np.ndarray        # (C, max n_l · T) gradient w.r.t. the current layer's Z
    wtmp: np.ndarray      # (C, max n_l · n_{l-1}) one tile's dW before it is added, where
    #                       gacc's dtype is not the products' (else (C, 0): added in place)
    gacc: np.ndarray      # (C, P) each chunk's gradient sums (no 1/mb yet), theta's layout
    cost: np.ndarray      # (C,) float64: each chunk's sum of cost terms
    total: np.ndarray     # (1,) float64: the epoch's cost so far (its batches', weighted)
    weight: np.ndarray    # (1,) float64: the current batch's size or weights' sum (a team's
    #                       step: set once, read by each of its update ranges)
    cbuf: np.ndarray      # (C, T) scratch for the cost's terms
    xt: np.ndarray        # (threads, T · n_0) each thread's copied tile of X, or (threads, 0)
    xf: np.ndarray        # (threads, n_0 · T) each thread's tile of X transposed, (n_0, t) C,
    #                       where codes.transposes_x(n_1, n_0, T); (threads, n_0 · n_1) its
    #                       W1^T, (n_0, n_1) C, where codes.rows_z1; or (threads, 0)
    xtag: np.ndarray      # (threads, 2) int64: which tile each thread's xf holds, (stamp,
    #                       first position), stamp -1 for none (Segment.stamp)
    calls: np.ndarray     # (1,) int64: the training calls so far (their stamps)
    team: np.ndarray      # (TEAM_STATE,) int64: the team's state in a call (team.py)
    yt: np.ndarray        # (C, T · n_L) gathered labels of a shuffled tile, or (C, 0)
    idx: np.ndarray       # (C, T) int64: the tile's sample indices (dropout's counter)
    divisor: float        # X's values are used as X / divisor (255.0 for bytes of images)


class Tile(NamedTuple):
    """One chunk's buffers for one tile of t samples (rows of Tiles' arrays; kernels make it)."""
    acts: np.ndarray      # (Σ n_l · T,) layer l's A at rows r_off[l]: (n_l, t) C
    zs: np.ndarray        # (Σ n_l · T,) layer l's Z, likewise
    dA: np.ndarray        # (max n_l · T,)
    dZ: np.ndarray        # (max n_l · T,)
    wtmp: np.ndarray      # (max n_l · n_{l-1},)
    g: np.ndarray         # (P,) the chunk's gradient sums
    r_off: np.ndarray     # (L+1,) int64
    t: int                # samples in this tile (<= T)


class Samples(NamedTuple):
    """Where a call's samples come from: rows of X^T and of Y^T, in an epoch's order."""
    XT: np.ndarray        # samples' rows of X^T (rows, n_0): C-contiguous in the compute
    #                       dtype (tiles are views), or another array's bytes (uint8,
    #                       read-only) read as form says, or a CSR
    form: np.ndarray      # (6,) int64: X^T's dtype, layout and shape (codes.FORM_*)
    xorder: np.ndarray    # (k,) int64: row of XT of each position (shuffled in memory or a
    #                       mapped file), or (0,): position p is row p - x0
    YT: np.ndarray        # (m, n_L) C: labels, one row a sample
    order: np.ndarray     # (m,) int64: the sample at each position of the epoch, or (0,)
    sw: np.ndarray = np.zeros(0)   # (m,) float64: each sample's weight, or (0,): all 1
    #                       (with weights, a batch's gradient and cost are divided by their
    #                       sum, not by mb)


class CSR(NamedTuple):
    """Samples' rows of X^T held sparse: scipy.sparse.csr_matrix's arrays (Samples.XT may be
    one; the kernels densify a tile's rows at a time, never the whole matrix)."""
    data: np.ndarray      # (nnz,) the stored values, in the compute dtype
    indices: np.ndarray   # (nnz,) int: each value's feature
    indptr: np.ndarray    # (m+1,) int: row r's values are data[indptr[r]:indptr[r+1]]
    shape: tuple          # (m, n_0)


class Part(NamedTuple):
    """The part of an epoch one call runs: positions p0..p1 of m, in batches of mb."""
    p0: int               # first position (on the epoch's batch grid)
    p1: int               # end position
    mb: int               # samples a batch
    m: int                # samples an epoch
    x0: int               # position of row 0 of Samples.XT when rows were gathered (else 0)
    W: int                # full batch in windows: rows a job's window holds (0: XT whole)
    first: bool           # a window: the batch's first (its step begins)
    last: bool            # a window: the batch's last (its update follows)


class Segment(NamedTuple):
    """Consecutive positions of one chunk of a batch that one call adds to its sums."""
    c: int                # the chunk
    s: int                # first position (on the chunk's tile grid)
    e: int                # end position
    x0: int               # position of row 0 of Samples.XT (rows gathered or in windows)
    fresh: bool           # the chunk's first segment: its sums start from zero
    stamp: int            # >= 1 where a position's tile is the same all through the call
    #                       (rows in order, one call's X), so that a thread may keep the
    #                       transposed tile it made (Tiles.xtag); -1 otherwise


class Callee(NamedTuple):
    """A compiled kernel to call through its address (calls.py; made by calls.callee)."""
    addr: int             # its native entry in this process
    key: int              # a hash of the argument types it was compiled for


class Mask(NamedTuple):
    """Inverted dropout's mask for one tile: a function of these and (layer, unit)."""
    keep_prob: float      # 1.0: no dropout
    seed: int
    step: int             # the optimizer step being taken (from 1)
    samples: np.ndarray   # (t,) int64: the tile's sample indices


class Gram(NamedTuple):
    """The first-layer Gram path's buffers (its tile is the whole batch: Tiles, T = m)."""
    G: np.ndarray         # (m, m) X^T X
    P0: np.ndarray        # (n_1, m) W1_0·X
    S: np.ndarray         # (n_1, m) Σ dZ1 over the steps taken
    Sn: np.ndarray        # (n_1, m) the next step's S while a step runs
    P: np.ndarray         # (n_1, m) scratch for S·G: a small one's (codes.small_gram)
    #                       columns in place, a large one's chunks as flat (n_1, t) blocks


class Optimizer(NamedTuple):
    """A training run's update rule, its settings and its state (allocated once)."""
    code: int             # GD, MOMENTUM, ADAM, SK_SGD, SK_NESTEROV or SK_ADAM (codes.py)
    lr: float             # learning rate
    beta: float           # momentum's
    beta1: float          # Adam's first moment
    beta2: float          # Adam's second moment
    epsilon: float        # Adam's
    lambd: float          # L2 strength (0: none)
    keep_prob: float      # dropout on hidden layers (1: none)
    seed: int             # dropout masks (and, in fastdnn, the epochs' shuffles)
    v: np.ndarray         # (P,) velocity or first moment, theta's layout (or (0,) for GD)
    s: np.ndarray         # (P,) Adam's second moment (or (0,))
    t: np.ndarray         # (1,) int64: steps taken

"""Sample-tiled, multi-core training step and forward pass (the direct first-layer path).

Why: done layer by layer, a step moves every layer's (n_l, m) activations through memory
several times. Samples interact only through the gradient sums, so a step can run tile by
tile: for T columns of X, forward through every layer, the cost's terms, backward through
every layer, and add the tile's dW/db to an accumulator. A tile's activations stay in cache,
and no (n_l, m) array exists.

Determinism: the m columns are cut into min(CHUNKS, number of tiles) fixed ranges: a number
set by the shapes, whatever the thread count (one thread, in the _serial twins, included).
Chunks run in parallel; each sums its tiles, in order, into its own accumulator; the
accumulators are then added in chunk order. Every product inside a tile is one BLAS call
made by one thread (the caller holds BLAS to one thread while these kernels run). So the
bits never depend on how many threads ran, and every sum is the course's sum up to order.

Layout: X arrives as XT = X^T, (m, n0) C-contiguous (so a tile of samples is one contiguous
block), Y as (m,). Per-chunk buffers live in a Tiles workspace allocated once.
"""
from typing import NamedTuple

import numba
import numpy as np

from ._jit import kernel
from .activations import RELU, SIGMOID, relu_backward
from .buffers import copy, view
from .linear import bias_activation_forward
from .loss import cross_entropy_sum, sigmoid_cross_entropy_backward, sum8
from .update import sgd_update

CHUNKS = 16   # most chunks of samples; their number depends on the shapes, never on threads


class Tiles(NamedTuple):
    """Per-chunk buffers of the tiled step. C = CHUNKS, T = tile width (samples)."""
    r_off: np.ndarray     # (L+1,) int64: first row of layer l in the stacked activations
    T: int                # samples per tile
    chunks: int           # chunks the samples are cut into: min(CHUNKS, tiles), shapes only
    acts: np.ndarray      # (C, Σ_{l>=1} n_l · T) activations A_l of the current tile
    zs: np.ndarray        # (C, Σ_{l>=1} n_l · T) pre-activations Z_l of the current tile
    dA: np.ndarray        # (C, max n_l · T) gradient w.r.t. the layer below's activation
    dZ: np.ndarray        # (C, max n_l · T) gradient w.r.t. the current layer's Z
    wtmp: np.ndarray      # (C, max n_l · n_{l-1}) one tile's dW before it is accumulated
    gacc: np.ndarray      # (C, P) each chunk's gradient sums (no 1/m yet), theta's layout
    cost: np.ndarray      # (C,) each chunk's sum of cross-entropy terms (float64)
    cbuf: np.ndarray      # (C, T) scratch for the cost's terms


@kernel(inline=True)
def _samples(XT, j0, t):
    # Samples j0 .. j0+t of XT (m, n0) C: a (t, n0) C array (one contiguous block).
    n0 = XT.shape[1]
    return view(XT.reshape(-1), j0 * n0, t, n0)


@kernel(inline=True)
def _tile_forward(acts, zs, XT_t, theta, dims, w_off, b_off, r_off):
    # One tile of t samples through every layer. XT_t: (t, n0) C (the tile of X^T).
    # acts, zs: this chunk's flat buffers; layer l's A and Z at rows r_off[l].
    L = dims.size - 1
    t = XT_t.shape[0]
    for l in range(1, L + 1):
        n, n_prev = dims[l], dims[l - 1]
        W = view(theta, w_off[l], n, n_prev)
        Z = view(zs, r_off[l] * t, n, t)
        if l == 1:
            np.dot(W, XT_t.T, Z)
        else:
            np.dot(W, view(acts, r_off[l - 1] * t, n_prev, t), Z)
        bias_activation_forward(view(acts, r_off[l] * t, n, t), Z, view(theta, b_off[l], n, 1),
                                RELU if l < L else SIGMOID)


@kernel(inline=True)
def _tile_backward(g, dA_buf, dZ_buf, wtmp, acts, zs, XT_t, Y_t, theta, dims, w_off, b_off,
                   r_off):
    # Adds one tile's gradient sums to g (theta's layout, no 1/m): db_l += Σ_j dZ_l,
    # dW_l += dZ_l · A_{l-1}^T. Needs the tile's forward pass in acts and zs.
    L = dims.size - 1
    t = XT_t.shape[0]
    nL = dims[L]
    # Output layer: dZ_L = A_L - Y (the course's dAL through sigmoid_backward, simplified).
    sigmoid_cross_entropy_backward(dZ_buf[: nL * t], acts[r_off[L] * t: (r_off[L] + nL) * t],
                                   Y_t)
    for l in range(L, 0, -1):
        n, n_prev = dims[l], dims[l - 1]
        dZ = view(dZ_buf, 0, n, t)
        for i in range(n):
            g[b_off[l] + i] += sum8(dZ[i])
        tmp = view(wtmp, 0, n, n_prev)
        if l == 1:
            np.dot(dZ, XT_t, tmp)
        else:
            np.dot(dZ, view(acts, r_off[l - 1] * t, n_prev, t).T, tmp)
        gw = g[w_off[l]: w_off[l] + n * n_prev]
        flat = tmp.reshape(-1)
        for k in range(n * n_prev):
            gw[k] += flat[k]
        if l == 1:
            break
        dA = view(dA_buf, 0, n_prev, t)
        np.dot(view(theta, w_off[l], n, n_prev).T, dZ, dA)
        # Layer below is relu: dZ_{l-1} = dA where Z_{l-1} > 0.
        relu_backward(dZ_buf[: n_prev * t], dA_buf[: n_prev * t],
                      zs[r_off[l - 1] * t: (r_off[l - 1] + n_prev) * t])


@kernel
def _chunk(c, tw, XT, Y, theta, dims, w_off, b_off):
    # Chunk c: its tiles in order, into tw.gacc[c] and tw.cost[c].
    m, n0 = XT.shape
    L = dims.size - 1
    g = tw.gacc[c]
    for k in range(g.size):
        g[k] = 0.0
    total = 0.0
    lo = c * m // tw.chunks
    hi = (c + 1) * m // tw.chunks
    for j0 in range(lo, hi, tw.T):
        t = min(tw.T, hi - j0)
        XT_t = _samples(XT, j0, t)
        Y_t = Y[j0: j0 + t]
        acts, zs = tw.acts[c], tw.zs[c]
        _tile_forward(acts, zs, XT_t, theta, dims, w_off, b_off, tw.r_off)
        r = tw.r_off[L]
        total += cross_entropy_sum(acts[r * t: (r + dims[L]) * t], Y_t, tw.cbuf[c])
        _tile_backward(g, tw.dA[c], tw.dZ[c], tw.wtmp[c], acts, zs, XT_t, Y_t, theta, dims,
                       w_off, b_off, tw.r_off)
    tw.cost[c] = total


# Compile time: Numba re-optimises a callee's machine code inside every caller that links it,
# so each separately compiled level costs a first (empty-cache) run again: the building
# blocks (_tile_forward, _tile_backward, _tiled_gradient) are inlined. _chunk stays a kernel
# of its own: inlined into the parallel loop, it slows Numba's parfor analysis more than it saves.
@kernel(inline=True)
def _tiled_gradient(grad, tw, XT, Y, theta, dims, w_off, b_off):
    # grad: (P,) out = the full-batch gradient (1/m included). Returns the cost.
    # XT: (m, n0) C. Y: (m,). theta: (P,) parameters. A building block of
    # tiled_train_steps (its prange is parallel only inside that parallel kernel).
    m = XT.shape[0]
    for c in numba.prange(tw.chunks):
        # int64(c): the parallel body sees c as uint64, the first typing pass as int64; one
        # type means _chunk compiles once, not twice.
        _chunk(np.int64(c), tw, XT, Y, theta, dims, w_off, b_off)
    inv_m = 1.0 / m
    total = 0.0
    for k in range(grad.size):
        s = tw.gacc[0, k]
        for c in range(1, tw.chunks):
            s += tw.gacc[c, k]
        grad[k] = inv_m * s
    for c in range(tw.chunks):
        total += tw.cost[c]
    return (-1.0 / m) * total


@kernel(inline=True)
def _probabilities(out, tw, XT, theta, dims, w_off, b_off):
    # out: (m,) the network's output for each sample, computed tile by tile, chunks in
    # parallel (each sample's value is independent of the split: same bits for any threads).
    m = XT.shape[0]
    L = dims.size - 1
    for c in numba.prange(tw.chunks):
        lo = c * m // tw.chunks
        hi = (c + 1) * m // tw.chunks
        for j0 in range(lo, hi, tw.T):
            t = min(tw.T, hi - j0)
            _tile_forward(tw.acts[c], tw.zs[c], _samples(XT, j0, t), theta, dims, w_off, b_off,
                          tw.r_off)
            r = tw.r_off[L]
            copy(out[j0: j0 + t], tw.acts[c][r * t: (r + 1) * t])


@kernel(inline=True)
def _train_steps(costs, grad, tw, XT, Y, theta, dims, w_off, b_off, lr):
    # costs: (k,) out, the cost at each of k steps (before that step's update).
    for it in range(costs.size):
        costs[it] = _tiled_gradient(grad, tw, XT, Y, theta, dims, w_off, b_off)
        sgd_update(theta, theta, grad, lr)


# Each entry point in two builds: on every core, and a _serial twin (one thread, same bits)
# for children forked after OpenMP ran and for work too small to share (fastdnn/_threads.py).
@kernel(parallel=True)
def tiled_probabilities(out, tw, XT, theta, dims, w_off, b_off):
    _probabilities(out, tw, XT, theta, dims, w_off, b_off)


@kernel
def tiled_probabilities_serial(out, tw, XT, theta, dims, w_off, b_off):
    _probabilities(out, tw, XT, theta, dims, w_off, b_off)


@kernel(parallel=True)
def tiled_train_steps(costs, grad, tw, XT, Y, theta, dims, w_off, b_off, lr):
    _train_steps(costs, grad, tw, XT, Y, theta, dims, w_off, b_off, lr)


@kernel
def tiled_train_steps_serial(costs, grad, tw, XT, Y, theta, dims, w_off, b_off, lr):
    _train_steps(costs, grad, tw, XT, Y, theta, dims, w_off, b_off, lr)

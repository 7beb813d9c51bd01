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

Layout: X arrives as XT = X^T, (m, n0): C-contiguous (a tile is then a view of one block) or
any other layout and dtype (a tile is then copied and converted: source.py); Y as YT = Y^T,
(m, nL). Per-chunk buffers live in a Tiles workspace allocated once.
The output layer is the course's sigmoid for nL = 1, a softmax over nL classes otherwise.

Mini-batches: an epoch walks the samples in batches (in a shuffled order, whose tiles are
gathered into a tile-sized buffer); each batch is cut into chunks by its own size, and each
step's update is the rule of optim.py (gradient descent, momentum or Adam, L2, dropout).
"""
from typing import NamedTuple

import numba
import numpy as np

from ._jit import kernel
from .activations import RELU, SIGMOID, relu_backward
from .codes import LINEAR
from .buffers import copy, view
from .linear import bias_activation_forward
from .loss import cross_entropy_sum, sum8
from .optim import dropout, l2_penalty, optimizer_update
from .source import tile_samples
from .softmax import (output_gradient, sigmoid_log_likelihood, softmax_forward,
                      softmax_log_likelihood)

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
    total: np.ndarray     # (1,) the epoch's cost so far: its batches', weighted (float64)
    cbuf: np.ndarray      # (C, T) scratch for the cost's terms
    xt: np.ndarray        # (threads, T · n0) each thread's copied tile of X (or (threads, 0))
    yt: np.ndarray        # (C, T · nL) their labels, gathered (or (C, 0))
    idx: np.ndarray       # (C, T) int64: the tile's sample indices (dropout's counter)
    divisor: float        # each value of X is X / divisor (255.0 for bytes of an image; 1.0)


@kernel(inline=True)
def _gather_labels(yt, YT, rows):
    # The labels of samples ``rows`` (t,) of YT (m, nL) C, copied: (t, nL).
    nL = YT.shape[1]
    for j in range(rows.size):
        for k in range(nL):
            yt[j * nL + k] = YT[rows[j], k]
    return view(yt, 0, rows.size, nL)


@kernel(inline=True)
def _tile_forward(acts, zs, XT_t, theta, dims, w_off, b_off, r_off, opt, step, samples):
    # One tile of t samples through every layer. XT_t: (t, n0) C (the tile of X^T).
    # acts, zs: this chunk's flat buffers; layer l's A and Z at rows r_off[l]. Dropout
    # (opt.keep_prob < 1) on hidden layers' activations, by step and sample index.
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
        A = view(acts, r_off[l] * t, n, t)
        if l == L and n > 1:
            bias_activation_forward(A, Z, view(theta, b_off[l], n, 1), LINEAR)
            softmax_forward(A, Z)
        else:
            bias_activation_forward(A, Z, view(theta, b_off[l], n, 1),
                                    RELU if l < L else SIGMOID)
        if l < L and opt.keep_prob < 1.0:
            dropout(A, l, samples, opt, step)


@kernel(inline=True)
def _tile_backward(g, dA_buf, dZ_buf, wtmp, acts, zs, XT_t, Y_t, theta, dims, w_off, b_off,
                   r_off, opt, step, samples):
    # Adds one tile's gradient sums to g (theta's layout, no 1/m): db_l += Σ_j dZ_l,
    # dW_l += dZ_l · A_{l-1}^T. Needs the tile's forward pass in acts and zs.
    L = dims.size - 1
    t = XT_t.shape[0]
    nL = dims[L]
    # Output layer: dZ_L = A_L - Y (the course's dAL through sigmoid_backward, simplified;
    # the same for a softmax with the categorical cross-entropy). Y_t: (t, nL).
    output_gradient(view(dZ_buf, 0, nL, t), view(acts, r_off[L] * t, nL, t), Y_t)
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
        if opt.keep_prob < 1.0:
            dropout(dA, l - 1, samples, opt, step)
        # Layer below is relu: dZ_{l-1} = dA where Z_{l-1} > 0.
        relu_backward(dZ_buf[: n_prev * t], dA_buf[: n_prev * t],
                      zs[r_off[l - 1] * t: (r_off[l - 1] + n_prev) * t])


@kernel
def _chunk(c, s, e, x0, fresh, tw, XT, xorder, YT, order, theta, dims, w_off, b_off, opt):
    # Positions s..e of chunk c (s on the chunk's tile grid), its tiles in order, added into
    # tw.gacc[c] and tw.cost[c] (zeroed first when ``fresh``). Sample at position p:
    # order[p] (p when order is empty); its row of X: XT[xorder[p - x0]] (XT[p - x0] when
    # xorder is empty). A chunk may come in several calls (streaming): the running sums
    # live in tw, so the sums are the same as in one call.
    L = dims.size - 1
    g = tw.gacc[c]
    if fresh:
        for k in range(g.size):
            g[k] = 0.0
        tw.cost[c] = 0.0
    total = tw.cost[c]
    step = opt.t[0]
    for j0 in range(s, e, tw.T):
        t = min(tw.T, e - j0)
        # A copied tile lives in this thread's buffer (scratch: it never changes a result).
        XT_t = tile_samples(tw.xt[numba.get_thread_id()], XT, xorder, j0 - x0, t, tw.divisor)
        if order.size == 0:
            Y_t = YT[j0: j0 + t]
            samples = tw.idx[c][:t]
            if opt.keep_prob < 1.0:                 # the indices only dropout reads
                for j in range(t):
                    samples[j] = j0 + j
        else:
            samples = order[j0: j0 + t]
            Y_t = _gather_labels(tw.yt[c], YT, samples)
        acts, zs = tw.acts[c], tw.zs[c]
        _tile_forward(acts, zs, XT_t, theta, dims, w_off, b_off, tw.r_off, opt, step, samples)
        r, nL = tw.r_off[L], dims[L]
        if nL == 1 and opt.logit_cost:
            total += sigmoid_log_likelihood(view(zs, r * t, 1, t), Y_t)
        elif nL == 1:
            total += cross_entropy_sum(acts[r * t: (r + 1) * t], Y_t.reshape(-1), tw.cbuf[c])
        else:
            total += softmax_log_likelihood(view(zs, r * t, nL, t), Y_t)
        _tile_backward(g, tw.dA[c], tw.dZ[c], tw.wtmp[c], acts, zs, XT_t, Y_t, theta, dims,
                       w_off, b_off, tw.r_off, opt, step, samples)
    tw.cost[c] = total


@kernel(inline=True)
def batch_chunks(tw, mb):
    # The chunks a batch of mb samples is cut into: min(tw.chunks, its tiles), its size alone.
    return min(tw.chunks, (mb + tw.T - 1) // tw.T)


@kernel(inline=True)
def chunk_start(c, nchunks, b0, b1):
    # First position of chunk c of the batch at positions b0..b1 (chunk c ends where c+1 starts).
    return b0 + c * (b1 - b0) // nchunks


@kernel(inline=True)
def batch_gradient(grad, tw, nchunks, mb, theta, dims, w_off, opt):
    # grad: (P,) out = the batch's gradient from its chunks' sums (1/mb included, L2 added),
    # the chunks added in order. Returns the batch's cost.
    inv_m = 1.0 / mb
    total = 0.0
    for k in range(grad.size):
        s = tw.gacc[0, k]
        for c in range(1, nchunks):
            s += tw.gacc[c, k]
        grad[k] = inv_m * s
    for c in range(nchunks):
        total += tw.cost[c]
    cost = (-1.0 / mb) * total
    if opt.lambd != 0.0:
        cost += (opt.lambd / (2 * mb)) * l2_penalty(grad, theta, dims, w_off, opt.lambd / mb)
    return cost


# Compile time: Numba re-optimises a callee's machine code inside every caller that links it,
# so each separately compiled level costs a first (empty-cache) run again: the building
# blocks (_tile_forward, _tile_backward, _tiled_gradient) are inlined. _chunk stays a kernel
# of its own: inlined into the parallel loop, it slows Numba's parfor analysis more than it saves.
@kernel(inline=True)
def _tiled_gradient(grad, tw, XT, xorder, x0, YT, order, b0, b1, theta, dims, w_off, b_off,
                    opt):
    # grad: (P,) out = the mini-batch's gradient (1/mb included, L2 added). Returns its cost.
    # Rows of X as _chunk reads them (xorder, x0).
    nchunks = batch_chunks(tw, b1 - b0)
    for c in numba.prange(nchunks):
        # int64(c): the parallel body sees c as uint64, the first typing pass as int64; one
        # type means _chunk compiles once, not twice.
        ci = np.int64(c)
        _chunk(ci, chunk_start(ci, nchunks, b0, b1), chunk_start(ci + 1, nchunks, b0, b1), x0,
               True, tw, XT, xorder, YT, order, theta, dims, w_off, b_off, opt)
    return batch_gradient(grad, tw, nchunks, b1 - b0, theta, dims, w_off, opt)


@kernel(inline=True)
def _probabilities(out, tw, XT, theta, dims, w_off, b_off, opt):
    # out: (nL, m) the network's output for each sample, computed tile by tile, chunks in
    # parallel (each sample's value is independent of the split: same bits for any threads).
    m = XT.shape[0]
    L = dims.size - 1
    for c in numba.prange(tw.chunks):
        lo = c * m // tw.chunks
        hi = (c + 1) * m // tw.chunks
        for j0 in range(lo, hi, tw.T):
            t = min(tw.T, hi - j0)
            XT_t = tile_samples(tw.xt[numba.get_thread_id()], XT, tw.idx[c][:0], j0, t,
                                tw.divisor)
            _tile_forward(tw.acts[c], tw.zs[c], XT_t, theta, dims, w_off, b_off, tw.r_off, opt,
                          0, tw.idx[c])
            r = tw.r_off[L]
            for k in range(dims[L]):
                copy(out[k, j0: j0 + t], tw.acts[c][(r + k) * t: (r + k + 1) * t])


@kernel(inline=True)
def batches(grad, tw, XT, xorder, x0, YT, order, p0, p1, mb, m, theta, dims, w_off, b_off,
            opt):
    # The steps of the batches of mb positions from p0 (on the epoch's batch grid) to p1 (the
    # epoch's end or a batch's), each the rule of optim.py; tw.total += each one's cost
    # weighted by its size / m. X's rows as _chunk reads them (xorder, x0).
    for b0 in range(p0, p1, mb):
        b1 = min(b0 + mb, p1)
        opt.t[0] += 1
        cost = _tiled_gradient(grad, tw, XT, xorder, x0, YT, order, b0, b1, theta, dims, w_off,
                               b_off, opt)
        optimizer_update(theta, grad, opt)
        tw.total[0] += ((b1 - b0) / m) * cost


@kernel(inline=True)
def _train_steps(costs, grad, tw, XT, YT, order, theta, dims, w_off, b_off, opt, mb):
    # costs: (k,) out: k epochs, each the cost of its mini-batches (before their updates),
    # weighted by their sizes. An epoch walks the samples in batches of mb, in the order of
    # ``order`` (m,), or as they are when order is empty; mb >= m: one full-batch step.
    m = XT.shape[0]
    for e in range(costs.size):
        tw.total[0] = 0.0
        batches(grad, tw, XT, order, 0, YT, order, 0, m, mb, m, theta, dims, w_off, b_off, opt)
        costs[e] = tw.total[0]


# Each entry point in two builds: on every core, and a _serial twin (one thread, same bits)
# for children forked after OpenMP ran and for work too small to share (fastdnn/_threads.py).
@kernel(parallel=True)
def tiled_probabilities(out, tw, XT, theta, dims, w_off, b_off, opt):
    _probabilities(out, tw, XT, theta, dims, w_off, b_off, opt)


@kernel
def tiled_probabilities_serial(out, tw, XT, theta, dims, w_off, b_off, opt):
    _probabilities(out, tw, XT, theta, dims, w_off, b_off, opt)


@kernel(parallel=True)
def tiled_train_steps(costs, grad, tw, XT, YT, order, theta, dims, w_off, b_off, opt, mb):
    _train_steps(costs, grad, tw, XT, YT, order, theta, dims, w_off, b_off, opt, mb)


@kernel
def tiled_train_steps_serial(costs, grad, tw, XT, YT, order, theta, dims, w_off, b_off, opt,
                             mb):
    _train_steps(costs, grad, tw, XT, YT, order, theta, dims, w_off, b_off, opt, mb)

"""Full-batch gradient descent on the first-layer Gram path, entirely compiled.

Guarantees: each step is the course's iteration for [LINEAR->RELU]*(L-1) -> LINEAR->SIGMOID
(forward, cost, backward, update, in that order and with its arithmetic; a softmax output
for K >= 2 units), working only inside buffers allocated once by the caller (a Gram struct
and Tiles of one tile, the whole batch): no allocation per step. Layers 2..L and the cost
are layers.py's, shared with the direct path (W1·X every step: the sample-tiled engine of
tiled.py).

* Gram:   full-batch GD only ever touches X through products with it. After t steps
          W1_t = W1_0 - (lr/m) S_t X^T  with  S_t = Σ_{k<t} dZ1_k  (n1, m), hence
          W1_t·X = W1_0·X - (lr/m) S_t (X^T X) = P0 - (lr/m) S_t G.
          Keeping S and G = X^T X (m, m, computed once) replaces two (n1 x n0 x m) products
          per step by one (n1 x m x m) product. P is rebuilt from S every step (not updated
          incrementally), so rounding never accumulates in P; W1 is recovered at the end
          with gram_weights(). theta keeps W1_0 in W1's slot while this path runs.

Threads: G and the per-step product S·G are cut into GRAM_BLOCKS fixed blocks (a split set
by the shapes, never by the thread count), each one single-threaded BLAS call, run in
parallel; so every core works and the bits are the same for any thread count. Each parallel
kernel has a ``_serial`` twin (the same body, one thread, the same bits) for children
forked from a process whose OpenMP threads ran, and for work too small to share.
"""
import numba
import numpy as np

from ._jit import kernel
from .buffers import copy, view
from .layers import backward, chunk_tile, forward, layer_z, reset_sums, tile_cost
from .optim import optimizer_update
from .structs import Mask
from .tiled import batch_gradient


GRAM_BLOCKS = 8    # X's samples in this many fixed blocks: G, P0 and W1 are built by them


@kernel(inline=True)
def block_start(b, m):
    # First sample of block b of GRAM_BLOCKS (block b ends where b + 1 starts).
    return b * m // GRAM_BLOCKS


@kernel
def gram_pair(G, XA, XB, a0, b0):
    # G's block of samples a0.. x b0.. = XA·XB^T, and its mirror (G stays exactly symmetric).
    # XA: (wa, n0) C, XB: (wb, n0) C: rows of X^T. One single-threaded BLAS call.
    wa, wb = XA.shape[0], XB.shape[0]
    tmp = np.empty((wa, wb), G.dtype)
    np.dot(XA, XB.T, tmp)
    for i in range(wa):
        for j in range(wb):
            G[a0 + i, b0 + j] = tmp[i, j]
            G[b0 + j, a0 + i] = tmp[i, j]


@kernel
def gram_p0_block(P0, W1, XB, b0):
    # P0's columns b0.. = W1·XB^T. P0: (n1, m). W1: (n1, n0). XB: (wb, n0) C.
    tmp = np.empty((W1.shape[0], XB.shape[0]), P0.dtype)
    np.dot(W1, XB.T, tmp)
    for i in range(tmp.shape[0]):
        for j in range(tmp.shape[1]):
            P0[i, b0 + j] = tmp[i, j]


@kernel
def gram_weights_block(acc, tmp, S, XB, b0, first):
    # acc: (n1, n0) += S[:, b0..]·XB (= when ``first``): W1_0 - c·acc, summed over the blocks
    # in order, is W1 = W1_0 - c·S·X^T. tmp: (n1, n0) scratch. S: (n1, m). XB: (wb, n0) C.
    Sb = np.ascontiguousarray(S[:, b0: b0 + XB.shape[0]])
    if first:
        np.dot(Sb, XB, acc)
        return
    np.dot(Sb, XB, tmp)
    for i in range(acc.shape[0]):
        for j in range(acc.shape[1]):
            acc[i, j] += tmp[i, j]


@kernel(inline=True)
def _gram_init(G, P0, XT, W1):
    # G: (m, m) out = X^T X. P0: (n1, m) out = W1·X. XT: (m, n0) C = X^T. W1: (n1, n0).
    # G's blocks (a, b), a <= b, of the GRAM_BLOCKS fixed sample blocks: each one
    # single-threaded BLAS call (gram_pair), run in parallel.
    m = XT.shape[0]
    for p in numba.prange(GRAM_BLOCKS * GRAM_BLOCKS):
        a, b = p // GRAM_BLOCKS, p % GRAM_BLOCKS
        a0, a1, b0, b1 = block_start(a, m), block_start(a + 1, m), block_start(b, m), \
            block_start(b + 1, m)
        if a <= b and a1 > a0 and b1 > b0:
            gram_pair(G, XT[a0:a1], XT[b0:b1], a0, b0)
    for b in range(GRAM_BLOCKS):
        b0, b1 = block_start(b, m), block_start(b + 1, m)
        if b1 > b0:
            gram_p0_block(P0, W1, XT[b0:b1], b0)


@kernel(parallel=True)
def gram_init(G, P0, XT, W1):
    _gram_init(G, P0, XT, W1)


@kernel
def gram_init_serial(G, P0, XT, W1):
    _gram_init(G, P0, XT, W1)


@kernel(inline=True)
def _sync(gw, c):
    # gw.P: (n1, m) out = P0 - c S·G, c = lr/m: W1·X rebuilt from the step sum S. gw.Pb:
    # (n1 m,) scratch. Columns j0..j1 of S·G are S·(G[j0:j1, :])^T (G = X^T X is symmetric):
    # rows of G are contiguous, so each of the GRAM_BLOCKS fixed blocks is one
    # single-threaded product.
    P, P0, S, G = gw.P, gw.P0, gw.S, gw.G
    n1, m = P.shape
    for blk in numba.prange(GRAM_BLOCKS):
        j0 = blk * m // GRAM_BLOCKS
        j1 = (blk + 1) * m // GRAM_BLOCKS
        w = j1 - j0
        if w > 0:
            out = view(gw.Pb, n1 * j0, n1, w)
            np.dot(S, view(G.reshape(-1), j0 * m, w, m).T, out)
            for i in range(n1):
                for j in range(w):
                    P[i, j0 + j] = P0[i, j0 + j] - c * out[i, j]


@kernel
def gram_sync(gw, c):
    # The steps' own sync, on one thread (the same bits): a one-off, after a resume.
    _sync(gw, c)


@kernel
def gram_weights(W1, tmp, W1_0, S, XT, c):
    # W1: (n1, n0) out = W1_0 - c S·X^T, the first layer's weights after the steps in S, the
    # product summed over the fixed sample blocks in order. tmp: (n1, n0) scratch (the
    # gradient's W1 slot, unused on this path). XT: (m, n0) C = X^T.
    m = XT.shape[0]
    for b in range(GRAM_BLOCKS):
        b0, b1 = block_start(b, m), block_start(b + 1, m)
        if b1 > b0:
            gram_weights_block(W1, tmp, S, XT[b0:b1], b0, b == 0)
    gram_weights_finish(W1, W1_0, c)


@kernel
def gram_weights_finish(W1, W1_0, c):
    # W1: (n1, n0) holds S·X^T; out: W1_0 - c·(S·X^T).
    for i in range(W1.shape[0]):
        for j in range(W1.shape[1]):
            W1[i, j] = W1_0[i, j] - c * W1[i, j]


@kernel(inline=True)
def _steps(costs, net, tw, gw, data, opt):
    # costs: (k,) out, the cost at each of k full-batch steps (before that step's update).
    # tw: Tiles of one chunk whose tile is the whole batch (T = m), its gradient sums in
    # float64 (engine/tiles.whole_batch_tile). data.YT: (m, n_L). W1's slot of theta holds
    # W1_0 and stays; everything after it is updated.
    m = data.YT.shape[0]
    first = net.b_off[1]
    S = gw.S.reshape(-1)
    n1 = net.dims[1]
    for it in range(costs.size):
        tile = chunk_tile(tw, 0, m)
        reset_sums(tw, 0, first)
        # Z_1 = W1·X, rebuilt from S every step (_sync), copied flat (see buffers.copy).
        copy(layer_z(tile, 1, n1).reshape(-1), gw.P.reshape(-1))
        mask = Mask(1.0, 0, 0, tw.idx[0][:0])
        forward(tile, net, mask)
        tw.cost[0] += tile_cost(tile, net, data.YT, tw.cbuf[0], data.sw, mask.samples)
        backward(tile, net, data.YT, mask, data.sw)
        dZ1 = tile.dZ
        for k in range(n1 * m):
            S[k] += dZ1[k]
        costs[it] = batch_gradient(net, tw, 1, m, opt, first)
        optimizer_update(net.theta[first:], net.grad[first:], opt)
        _sync(gw, opt.lr / m)


@kernel(parallel=True)
def train_steps(costs, net, tw, gw, data, opt):
    _steps(costs, net, tw, gw, data, opt)


@kernel
def train_steps_serial(costs, net, tw, gw, data, opt):
    _steps(costs, net, tw, gw, data, opt)

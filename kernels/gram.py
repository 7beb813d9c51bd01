"""Full-batch gradient descent on the first-layer Gram path, entirely compiled.

Guarantees: each step is the course's iteration for [LINEAR->RELU]*(L-1) -> LINEAR->SIGMOID
(forward, cost, backward, update, in that order and with its arithmetic; a softmax output
for K >= 2 units), working only inside buffers allocated once by the caller (a Gram struct
and the Tiles of the batch's chunks): no allocation per step. Layers 2..L and the cost
are layers.py's, shared with the direct path (W1·X every step: the sample-tiled engine of
tiled.py).

* Gram:   full-batch GD only ever touches X through products with it. After t steps
          W1_t = W1_0 - (lr/m) S_t X^T  with  S_t = Σ_{k<t} dZ1_k  (n1, m), hence
          W1_t·X = W1_0·X - (lr/m) S_t (X^T X) = P0 - (lr/m) S_t G.
          Keeping S and G = X^T X (m, m, computed once) replaces two (n1 x n0 x m) products
          per step by one (n1 x m x m) product. P is rebuilt from S every step (not updated
          incrementally), so rounding never accumulates in P; W1 is recovered at the end
          with gram_weights(). theta keeps W1_0 in W1's slot while this path runs.

Threads: a step's samples are cut into chunks (engine/tiles.gram_chunks: set by m alone,
never by the thread count), run in parallel, each one tile: its columns of P, layers 2..L,
cost and backward pass into the chunk's own gradient sums, added in chunk order. A chunk's
columns of S·G are a single-threaded BLAS call, or small.py's rows form where S·G is small
(codes.small_gram: the cat data's), the split set by m either way. G, P0 and W1 are
cut into GRAM_BLOCKS fixed sample blocks, one single-threaded BLAS call each. So every core
works and the bits are the same for any thread count. Each parallel kernel has a
``_serial`` twin (the same body, one thread, the same bits) for children forked from a
process whose OpenMP threads ran, and for work too small to share.
"""
import numba
import numpy as np

from ._jit import kernel
from .blas import gemm
from .buffers import copy, in_dtype_of, view
from .layers import backward, chunk_tile, forward, layer_z, reset_sums, tile_cost
from .optim import optimizer_update
from . import team
from .small import rows_columns, small_gram
from .structs import Mask
from .tiled import batch_gradient, chunk_start


GRAM_BLOCKS = 8    # X's samples in this many fixed blocks: G, P0 and W1 are built by them


@kernel(inline=True)
def block_start(b, m):
    # First sample of block b of GRAM_BLOCKS (block b ends where b + 1 starts).
    return b * m // GRAM_BLOCKS


@kernel(nrt=True)
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


@kernel(nrt=True)
def gram_p0_block(P0, W1, XB, b0):
    # P0's columns b0.. = W1·XB^T. P0: (n1, m). W1: (n1, n0). XB: (wb, n0) C.
    tmp = np.empty((W1.shape[0], XB.shape[0]), P0.dtype)
    np.dot(W1, XB.T, tmp)
    for i in range(tmp.shape[0]):
        for j in range(tmp.shape[1]):
            P0[i, b0 + j] = tmp[i, j]


@kernel(nrt=True)
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
def first_z(z1, gw, S, j0, c, small):
    # z1: (n1, t) out = columns j0 .. j0 + t of W1·X = P0 - c S·G (c = lr/m), rebuilt from
    # the step sum S (n1, m), never updated, so rounding never accumulates. small
    # (codes.small_gram): S·G's columns in small.py's rows form, in place in gw.P, else one
    # single-threaded BLAS call into the chunk's own block of gw.P's memory, (n1, t) flat
    # (columns j0.. of S·G are S·(G[j0:, :])^T, G = X^T X symmetric: rows of G are
    # contiguous). The columns' split is set by m alone (and in the rows form each entry is
    # its own sum whatever the split).
    n1, t = z1.shape
    m = S.shape[1]
    if small:
        rows_columns(gw.P, S, gw.G, j0, j0 + t)
        out, at = gw.P, j0
    else:
        out, at = view(gw.P.reshape(-1), n1 * j0, n1, t), 0
        gemm(out, S, view(gw.G.reshape(-1), j0 * m, t, m), False, True, 0.0)
    cd = in_dtype_of(z1, c)              # z1's own arithmetic (float32 stays float32)
    for i in range(n1):
        # Row slices, loops from 0: no negative-index test, so the loop vectorises.
        z, p0, o = z1[i], gw.P0[i, j0: j0 + t], out[i, at: at + t]
        for j in range(t):
            z[j] = p0[j] - cd * o[j]


@kernel(inline=True)
def _chunk_step(c, it, net, tw, gw, data, opt):
    # Chunk c of step it (its samples j0..j1, a split set by m alone): Z_1 from the step
    # sum S, forward, backward into its gradient sums, and S_next[:, j0:j1] = S[:, j0:j1] +
    # dZ1 (S is read whole by every chunk's first_z, so the new sum goes to the other
    # buffer: gw.S and gw.Sn alternate by step). Its gradient sums start at zero (the caller
    # zeroes them) and its cost's terms summed are returned (the caller stores them): a
    # constant stored in a prange body is miscompiled (numba 0.68; tiled._chunk's note),
    # and a store into tw.cost there was lost.
    n1, m = gw.S.shape
    S, S_next = (gw.S, gw.Sn) if it % 2 == 0 else (gw.Sn, gw.S)
    j0, j1 = chunk_start(c, tw.chunks, 0, m), chunk_start(c + 1, tw.chunks, 0, m)
    tile = chunk_tile(tw, c, j1 - j0)
    first_z(layer_z(tile, 1, n1), gw, S, j0, opt.lr / m, small_gram(n1, m))
    mask = Mask(1.0, 0, 0, tw.idx[c][:0])
    forward(tile, net, mask, False)
    Y_t = data.YT[j0:j1]
    cost = tile_cost(tile, net, Y_t, tw.cbuf[c], data.sw, mask.samples)
    tile = backward(tile, net, Y_t, mask, data.sw)
    dZ1 = view(tile.dZ, 0, n1, j1 - j0)
    for i in range(n1):
        s, s_next, d = S[i, j0:j1], S_next[i, j0:j1], dZ1[i]
        for j in range(j1 - j0):
            s_next[j] = s[j] + d[j]
    return cost


@kernel(inline=True)
def _steps(costs, net, tw, gw, data, opt):
    # costs: (k,) out, the cost at each of k full-batch steps (before that step's update).
    # net: the network from b1 on (engine/gram.without_w1: W1 stays W1_0, kept as S). tw:
    # Tiles of the batch's chunks (engine/tiles.gram_tiles), gradient sums in float64.
    # data.YT: (m, n_L). The step sum alternates between gw.S and gw.Sn (read whole by every
    # chunk, written by columns); it ends in gw.S.
    m = data.YT.shape[0]
    for it in range(costs.size):
        for c in range(tw.chunks):
            reset_sums(tw, c, 0)
        chunk_costs = tw.cost
        for c in numba.prange(tw.chunks):
            chunk_costs[c] = _chunk_step(c, it, net, tw, gw, data, opt)
        costs[it] = batch_gradient(net, tw, tw.chunks, m, opt)
        optimizer_update(net.theta, net.grad, opt, 0, net.theta.size)
    if costs.size % 2 == 1:
        copy(gw.S.reshape(-1), gw.Sn.reshape(-1))


@kernel
def _team_steps(costs, net, tw, gw, data, opt, sync):
    # One thread of the team (team.py) through _steps' steps: claims the current step's
    # chunks (its rank's first); the thread that finishes a step's last chunk adds the
    # chunks' sums and updates, then opens the next step. The same bits as _steps.
    m = data.YT.shape[0]
    rank, spins = -1, 0
    while True:
        it = team.current(sync)
        if it >= costs.size:
            return
        c, rank, spins = team.claim(sync, it, rank, tw.chunks, spins)
        if c < 0:                            # all claimed: wait for the step's end
            continue
        reset_sums(tw, c, 0)
        tw.cost[c] = _chunk_step(c, it, net, tw, gw, data, opt)
        if team.finish(sync, tw.chunks):
            costs[it] = batch_gradient(net, tw, tw.chunks, m, opt)
            optimizer_update(net.theta, net.grad, opt, 0, net.theta.size)
            team.open_step(sync, it + 1)


# The parallel build runs all its steps in one parallel region (team.py), as tiled's does.
@kernel(parallel=True)
def train_steps(costs, net, tw, gw, data, opt):
    team.reset(tw.team)
    for w in numba.prange(tw.chunks):        # at most one worker a chunk
        _team_steps(costs, net, tw, gw, data, opt, tw.team)
    if costs.size % 2 == 1:
        copy(gw.S.reshape(-1), gw.Sn.reshape(-1))


@kernel
def train_steps_serial(costs, net, tw, gw, data, opt):
    _steps(costs, net, tw, gw, data, opt)

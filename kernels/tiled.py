"""Sample-tiled, multi-core training step and forward pass (the direct first-layer path).

Why: done layer by layer, a step moves every layer's (n_l, m) activations through memory
several times. Samples interact only through the gradient sums, so a step can run tile by
tile: for T columns of X, forward through every layer, the cost's terms, backward through
every layer, and add the tile's dW/db to an accumulator (layers.py: the passes shared with
the Gram path). A tile's activations stay in cache, and no (n_l, m) array exists.

Determinism: a batch's positions are cut into min(codes.CHUNKS, number of tiles) fixed ranges: a
number set by the shapes, whatever the thread count (one thread, in the _serial twins,
included). Chunks run in parallel; each sums its tiles, in order, into its own accumulator;
the accumulators are then added in chunk order. Every product inside a tile is one BLAS
call made by one thread (the caller holds BLAS to one thread while these kernels run), or
a small layer's vector code (small.py, in its fixed order). So the bits never depend on
how many threads ran, and every sum is the course's up to order.

Layout: X arrives as Samples.XT = X^T, (m, n_0): C-contiguous in the tiles' dtype (a tile is
then a view of one block) or any other layout and dtype (a tile is then copied and converted:
source.py); Y as YT = Y^T, (m, n_L). Per-chunk buffers live in a Tiles workspace allocated
once. The output layer is the course's sigmoid for n_L = 1, a softmax over n_L classes
otherwise.

Mini-batches: an epoch walks its positions in batches (in a shuffled order, whose tiles are
gathered into a tile-sized buffer); each batch is cut into chunks by its own size, and each
step's update is the rule of optim.py (gradient descent, momentum or Adam, L2, dropout).
"""
import numba
import numpy as np
from numba.extending import overload

from ._jit import JIT_OPTIONS, kernel
from .calls import call_kernel, callee, check_callee
from .buffers import LINE, add_into, copy, in_dtype_of, prefetch_for_write, view
from .codes import FORM_ROWS
from .first_layer import first_layer_backward, first_layer_forward, transposed_weights
from .layers import backward, chunk_tile, forward, layer_a, reset_sums, tile_cost
from .optim import l2_gradient, l2_sum, optimizer_update
from .small import transposed_w1_sums
from . import team
from .transpose import transpose
from .source import tile_samples
from .structs import Mask, Part, Segment

# A team's step (tiled_train_steps) updates its parameters in ranges of at least this many
# entries, one a thread, where it has two or more chunks: each thread then keeps updating
# the same range, whose gradient, moments and parameters stay in its core's caches.
UPDATE_PART = 1024
SUM_BLOCK = 512   # entries of the chunks' sums added at a time (_chunks_total)


@kernel(inline=True)
def _gather_labels(yt, YT, rows):
    # The labels of samples ``rows`` (t,) of YT (m, n_L) C, copied: (t, n_L).
    nL = YT.shape[1]
    for j in range(rows.size):
        for k in range(nL):
            yt[j * nL + k] = YT[rows[j], k]
    return view(yt, 0, rows.size, nL)


@kernel(inline=True)
def _tile_labels(tw, c, data, j0, t, numbered):
    # (samples (t,), Y_t (t, n_L)) of the tile at positions j0..j0+t: the sample indices
    # (filled for in-order positions only when ``numbered``: dropout reads them) and labels.
    if data.order.size == 0:
        samples = tw.idx[c][:t]
        if numbered:
            for j in range(t):
                samples[j] = j0 + j
        return samples, data.YT[j0: j0 + t]
    samples = data.order[j0: j0 + t]
    return samples, _gather_labels(tw.yt[c], data.YT, samples)


@kernel
def _chunk(tw, seg, net, data, opt):
    # The tiles of positions seg.s..seg.e of chunk seg.c, in order, added into tw.gacc[c]
    # and tw.cost[c] (zeroed first when seg.fresh). Position p's row of X:
    # XT[xorder[p - x0]] (XT[p - x0] when xorder is empty). A chunk may come in several
    # segments (streaming): its running sums live in tw, so they are the same as in one call.
    # (The zeroing stays here, not in the parallel loop that calls this: an inlined store
    # of a constant in a prange body was miscompiled there, numba 0.68.)
    c, s, e, x0 = seg.c, seg.s, seg.e, seg.x0
    if seg.fresh:
        reset_sums(tw, c, 0)
    total = tw.cost[c]
    w1t = transposed_weights(tw, net)
    for j0 in range(s, e, tw.T):
        t = min(tw.T, e - j0)
        # A copied tile lives in this thread's buffer (scratch: it never changes a result).
        X_t = tile_samples(tw.xt[numba.get_thread_id()], data.XT, data.form, data.xorder,
                           j0 - x0, t, tw.divisor)
        samples, Y_t = _tile_labels(tw, c, data, j0, t,
                                    opt.keep_prob < 1.0 or data.sw.size > 0)
        tile = chunk_tile(tw, c, t)
        mask = Mask(opt.keep_prob, opt.seed, opt.t[0], samples)
        forward(tile, net, mask, first_layer_forward(tile, net, X_t, tw, seg.stamp, j0, w1t))
        total += tile_cost(tile, net, Y_t, tw.cbuf[c], data.sw, samples)
        first_layer_backward(backward(tile, net, Y_t, mask, data.sw), net, X_t, tw)
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
def _w1_block(net, tw):
    # (w0, w1): where W1's entries lie in theta when the chunks sum them transposed
    # (codes.transposed_w1_sums); (P, P) otherwise.
    n1, n0, w0 = net.dims[1], net.dims[0], net.w_off[1]
    if transposed_w1_sums(n1, n0, tw.T, tw.gacc.itemsize, tw.chunks, tw.blas):
        return w0, w0 + n1 * n0
    return net.grad.size, net.grad.size


@kernel
def gradient_part(net, tw, nchunks, mb, opt, k0, k1):
    # net.grad[k0:k1] out = those entries of the batch's gradient: its chunks' sums added
    # in order, times 1/mb, L2's term added. Where the chunks sum dW1 transposed, a range
    # that holds any of W1 holds all of it (update_parts: one range), whose gradient is made
    # in chunk 0's sums first (each entry read before it is written) and transposed into
    # grad. mb: the batch's samples, or the sum of their weights.
    grad = net.grad
    inv_m = in_dtype_of(tw.gacc, 1.0 / mb)     # float64 where the sums are (Gram path)
    w0, w1 = _w1_block(net, tw)
    _chunks_total(grad, tw.gacc, nchunks, inv_m, k0, min(k1, w0))
    if k0 <= w0 and w0 < w1 and w1 <= k1:
        _w1_total(grad, tw.gacc, nchunks, inv_m, w0, net.dims[1], net.dims[0])
    _chunks_total(grad, tw.gacc, nchunks, inv_m, max(k0, w1), k1)
    if opt.lambd != 0.0:
        l2_gradient(net, opt.lambd / mb, k0, k1)


@kernel(inline=True)
def batch_cost(net, tw, nchunks, mb, opt):
    # The batch's cost from its chunks' sums of cost terms, L2's term from theta as it is
    # (before the batch's update).
    total = 0.0
    for c in range(nchunks):
        total += tw.cost[c]
    cost = (-1.0 / mb) * total
    if opt.lambd != 0.0:
        cost += (opt.lambd / (2 * mb)) * l2_sum(net)
    return cost


@kernel
def batch_gradient(net, tw, nchunks, mb, opt):
    # net.grad out = the batch's gradient (gradient_part, every entry); returns its cost.
    gradient_part(net, tw, nchunks, mb, opt, 0, net.grad.size)
    return batch_cost(net, tw, nchunks, mb, opt)


@kernel(inline=True)
def update_parts(net, tw):
    # How many ranges of the parameters a team's step updates in parallel (one a thread):
    # one a chunk, each of at least UPDATE_PART entries; one where the chunks sum dW1
    # transposed (its transpose reads every chunk's W1).
    w0, w1 = _w1_block(net, tw)
    if w1 > w0:
        return 1
    return max(1, min(tw.chunks, net.grad.size // UPDATE_PART))


@kernel(inline=True)
def part_start(p, nparts, P):
    # First entry of range p of nparts (P at p = nparts): whole cache lines of float32 (of
    # float64 too), so that no line of theta, grad or the moments is written by two threads.
    if p >= nparts:
        return P
    return (p * P // nparts) // (LINE // 4) * (LINE // 4)


# Compile time (an empty cache): the large shared passes (layers.forward, tile_cost and
# backward, batch_gradient, optim.optimizer_update) are kernels of their own, typed and
# compiled once per dtype, cached, and linked into every entry point (tiled, Gram, streamed;
# parallel and serial); inlined, each entry point typed them again, and Numba's type
# inference of the flattened body was most of a first call. Small blocks are inlined: each
# separately compiled level is optimised again inside every caller that links it. _chunk
# stays a kernel of its own: inlined into the parallel loop, it slows Numba's parfor
# analysis more than it saves; and the entry points call it through its address
# (calls.py: chunk_fn, a Callee of chunk_callee), so that none of their builds links and
# compiles it again.
def chunk_callee(tw, net, data, opt):
    """The Callee of _chunk for a training kernel's arguments (its ``chunk_fn``: the tiled
    and streamed steps')."""
    return callee(_chunk, (tw, Segment(0, 0, 0, 0, True, np.int64(-1)), net, data, opt))


@kernel(inline=True)
def _segment(c, nchunks, b0, b1, x0, stamp):
    # Chunk c (int64) of the batch at positions b0..b1, whole (stamp: Segment's). (c as
    # int64: the parallel body sees a prange index as uint64, the first typing pass as
    # int64; one type means _chunk compiles once, not twice.)
    return Segment(c, chunk_start(c, nchunks, b0, b1), chunk_start(c + 1, nchunks, b0, b1),
                   x0, True, stamp)


@kernel(inline=True)
def _batch_gradient(net, tw, data, opt, b0, b1, x0, chunk_fn):
    # net.grad out = the gradient of the batch at positions b0..b1 (1/mb included, L2
    # added). Returns its cost. Rows of X as _chunk reads them (x0); _chunk called through
    # chunk_fn.
    nchunks = batch_chunks(tw, b1 - b0)
    check_callee(chunk_fn, (tw, _segment(np.int64(0), nchunks, b0, b1, x0, np.int64(-1)), net,
                            data, opt))
    for c in numba.prange(nchunks):
        call_kernel(chunk_fn, (tw, _segment(np.int64(c), nchunks, b0, b1, x0, np.int64(-1)), net,
                                data, opt))
    return batch_gradient(net, tw, nchunks, batch_weight(data, b0, b1), opt)


@kernel
def _chunks_total(out, gacc, nchunks, inv_m, k0, k1):
    # out[k0:k1] = inv_m · (the first nchunks rows of gacc added in order), entry by entry.
    # Where out has gacc's dtype, in blocks of SUM_BLOCK entries, each summed row by row in
    # out (vector loops; the same sums, the same bits; a block stays in the first-level
    # cache through its rows); otherwise (the Gram path's float64 sums of float32 steps)
    # entry by entry.
    if out.itemsize != gacc.itemsize:
        for k in range(k0, k1):
            s = gacc[0, k]
            for c in range(1, nchunks):
                s += gacc[c, k]
            out[k] = inv_m * s
        return
    for b0 in range(k0, k1, SUM_BLOCK):
        b1 = min(b0 + SUM_BLOCK, k1)
        o = out[b0:b1]
        copy(o, gacc[0][b0:b1])
        for c in range(1, nchunks):
            add_into(o, gacc[c][b0:b1])
        for k in range(o.size):
            o[k] = inv_m * o[k]


def _w1_total(grad, gacc, nchunks, inv_m, w0, n1, n0):
    """grad's W1 (n1, n0) at w0 out = the chunks' transposed dW1 sums (n0, n1) added in
    order and scaled, made in chunk 0's sums, then transposed. Compiled to nothing where the
    sums' dtype is not grad's (the Gram path's float64 sums of float32 steps: they hold no
    W1, and neither do its float64 ones, for which it compiles but never runs)."""


@overload(_w1_total, jit_options=JIT_OPTIONS)
def _ov_w1_total(grad, gacc, nchunks, inv_m, w0, n1, n0):
    if grad.dtype != gacc.dtype:
        return lambda grad, gacc, nchunks, inv_m, w0, n1, n0: None

    def impl(grad, gacc, nchunks, inv_m, w0, n1, n0):
        _chunks_total(gacc[0], gacc, nchunks, inv_m, w0, w0 + n1 * n0)
        transpose(view(grad, w0, n1, n0), view(gacc[0], w0, n0, n1))
    return impl


@kernel(inline=True)
def batch_weight(data, b0, b1):
    # What the batch at positions b0..b1 is divided by: its size, or its weights' sum.
    if data.sw.size == 0:
        return np.float64(b1 - b0)
    total = 0.0
    for p in range(b0, b1):
        total += data.sw[p if data.order.size == 0 else data.order[p]]
    return total


@kernel(inline=True)
def batches(net, tw, data, opt, part, chunk_fn):
    # The steps of the batches of part.mb positions from part.p0 (on the epoch's batch grid)
    # to part.p1 (the epoch's end or a batch's), each the rule of optim.py; tw.total += each
    # one's cost weighted by its size / part.m. chunk_fn: _chunk's Callee.
    for b0 in range(part.p0, part.p1, part.mb):
        b1 = min(b0 + part.mb, part.p1)
        opt.t[0] += 1
        cost = _batch_gradient(net, tw, data, opt, b0, b1, part.x0, chunk_fn)
        optimizer_update(net.theta, net.grad, opt, 0, net.theta.size)
        tw.total[0] += ((b1 - b0) / part.m) * cost


@kernel(inline=True)
def _train_steps(costs, net, tw, data, opt, mb, chunk_fn):
    # costs: (k,) out: k epochs, each the cost of its batches of mb (before their updates),
    # weighted by their sizes; mb >= m: one full-batch step an epoch. Positions in the order
    # data.order (rows read through data.xorder, the same), or as they are when empty.
    m = data.YT.shape[0]
    part = Part(0, m, mb, m, 0, 0, False, False)
    for e in range(costs.size):
        tw.total[0] = 0.0
        batches(net, tw, data, opt, part, chunk_fn)
        costs[e] = tw.total[0]


@kernel
def _probability_chunk(out, net, tw, data, c):
    # out: (n_L, m) the network's output for the samples of chunk c (of tw.chunks equal
    # parts of the m samples), computed tile by tile.
    m = data.form[FORM_ROWS]
    L = net.dims.size - 1
    lo = c * m // tw.chunks
    hi = (c + 1) * m // tw.chunks
    for j0 in range(lo, hi, tw.T):
        t = min(tw.T, hi - j0)
        X_t = tile_samples(tw.xt[numba.get_thread_id()], data.XT, data.form,
                           data.xorder, j0, t, tw.divisor)
        tile = chunk_tile(tw, c, t)
        forward(tile, net, Mask(1.0, 0, 0, tw.idx[c][:0]),
                first_layer_forward(tile, net, X_t, tw, np.int64(-1), j0, False))
        A = layer_a(tile, L, net.dims[L])
        for k in range(net.dims[L]):
            copy(out[k, j0: j0 + t], A[k])


def probability_callee(out, net, tw, data):
    """The Callee of the forward pass's chunk loop for tiled_probabilities' arguments."""
    return callee(_probability_chunk, (out, net, tw, data, 0))


@kernel(inline=True)
def _probabilities(out, net, tw, data, chunk_fn):
    # out: (n_L, m) the network's output for each sample, the chunks in parallel (each
    # sample's value is independent of the split: same bits for any threads), each chunk's
    # loop called through chunk_fn.
    check_callee(chunk_fn, (out, net, tw, data, np.int64(0)))
    for c in numba.prange(tw.chunks):
        call_kernel(chunk_fn, (out, net, tw, data, np.int64(c)))


# Each entry point in two builds: on every core, and a _serial twin (one thread, same bits)
# for children forked after OpenMP ran and for work too small to share (engine/threads.py).
# chunk_fn: probability_callee(out, net, tw, data).
@kernel(parallel=True)
def tiled_probabilities(out, net, tw, data, chunk_fn):
    _probabilities(out, net, tw, data, chunk_fn)


@kernel
def tiled_probabilities_serial(out, net, tw, data, chunk_fn):
    _probabilities(out, net, tw, data, chunk_fn)


@kernel(inline=True)
def _step_batch(s, mb, m):
    # (batches an epoch, b0, b1): step s's batch at positions b0..b1 (batch s mod nb of
    # epoch s // nb; mb >= m: one full batch an epoch).
    nb = (m + mb - 1) // mb
    b0 = (s % nb) * mb
    return nb, b0, min(b0 + mb, m)


@kernel(inline=True)
def _call_stamp(tw, data):
    # The Segment.stamp of this call's chunks (tiled_train_steps counted it in tw.calls):
    # -1 where rows come in a shuffled order (a position's tile changes between epochs).
    if data.order.size == 0 and data.xorder.size == 0:
        return tw.calls[0]
    return np.int64(-1)


@kernel
def _update_part(net, tw, data, opt, s, mb, p, nparts):
    # Range p of nparts of step s's parameters: its gradient (the batch's weight from
    # tw.weight, set by _end_stage), then its update. The range's parameters were read by
    # every chunk of the step, on other cores too: their lines are asked for first, so that
    # the update's writes do not wait for them one by one (a range of 2,700 float32 on the
    # 2-core Xeon: 5-13 -> 1.8 µs).
    _, b0, b1 = _step_batch(s, mb, data.YT.shape[0])
    k0, k1 = part_start(p, nparts, net.grad.size), part_start(p + 1, nparts, net.grad.size)
    prefetch_for_write(net.theta, k0, k1)
    gradient_part(net, tw, batch_chunks(tw, b1 - b0), tw.weight[0], opt, k0, k1)
    optimizer_update(net.theta, net.grad, opt, k0, k1)


@kernel
def _end_stage(costs, net, tw, data, opt, g, mb, nparts):
    # Stage g's serial part (the team's, _team_steps), as in _train_steps; returns the next
    # stage. After step s = g // 2's chunks: its weight into tw.weight, its cost into
    # tw.total and, at an epoch's end, into costs (L2's term from theta before the
    # update), then, with one range (update_parts), its gradient and update. After its
    # update: the next step's count.
    m = data.YT.shape[0]
    s = g // 2
    nb, b0, b1 = _step_batch(s, mb, m)
    if g % 2 == 0:
        tw.weight[0] = batch_weight(data, b0, b1)
        if b0 == 0:
            tw.total[0] = 0.0
        tw.total[0] += ((b1 - b0) / m) * batch_cost(net, tw, batch_chunks(tw, b1 - b0),
                                                    tw.weight[0], opt)
        if b1 == m:
            costs[s // nb] = tw.total[0]
        if nparts > 1:
            return g + 1
        _update_part(net, tw, data, opt, s, mb, 0, 1)
    if s + 1 < costs.size * nb:
        opt.t[0] += 1
    return 2 * s + 2


@kernel
def _team_steps(costs, net, tw, data, opt, mb, chunk_fn, sync):
    # One thread of the team (team.py) through _train_steps' steps, each in two stages
    # (the team's steps): its chunks, then its update in update_parts ranges (with one
    # range, the chunks' last thread updates and the second stage is skipped). A thread
    # claims a stage's items one at a time, its rank's first, so it keeps the same chunk's
    # buffers and the same range's gradient and moments in its caches; the thread that
    # finishes a stage's last item does its serial part (_end_stage) and opens the next.
    # Returns when every step is done.
    m = data.YT.shape[0]
    stages = 2 * costs.size * _step_batch(0, mb, m)[0]
    nparts = update_parts(net, tw)
    stamp = _call_stamp(tw, data)
    rank, spins = -1, 0
    while True:
        g = team.current(sync)
        if g >= stages:
            return
        s = g // 2
        _, b0, b1 = _step_batch(s, mb, m)
        nchunks = batch_chunks(tw, b1 - b0)
        items = nchunks if g % 2 == 0 else nparts
        c, rank, spins = team.claim(sync, g, rank, items, spins)
        if c < 0:                            # all claimed: wait for the stage's end
            continue
        if g % 2 == 0:
            call_kernel(chunk_fn, (tw, _segment(np.int64(c), nchunks, b0, b1, 0, stamp), net,
                                   data, opt))
        else:
            _update_part(net, tw, data, opt, s, mb, c, nparts)
        if team.finish(sync, items):
            team.open_step(sync, _end_stage(costs, net, tw, data, opt, g, mb, nparts))


# chunk_fn: chunk_callee(tw, net, data, opt). The parallel build runs all its steps in one
# parallel region (team.py: the same bits as _train_steps, without a parallel loop's start
# and join a step). With rows in order, each position's tile is the same all through the
# call: a thread keeps the transposed tile it made (the team gives it the same chunk each
# step), stamped with the call's number so that no other call's X is ever taken for it.
@kernel(parallel=True)
def tiled_train_steps(costs, net, tw, data, opt, mb, chunk_fn):
    tw.calls[0] += 1
    check_callee(chunk_fn, (tw, _segment(np.int64(0), 1, 0, 1, 0, _call_stamp(tw, data)), net,
                            data, opt))
    team.reset(tw.team)
    if costs.size > 0:
        opt.t[0] += 1
    for w in numba.prange(tw.chunks):        # at most one worker a chunk
        _team_steps(costs, net, tw, data, opt, mb, chunk_fn, tw.team)


@kernel
def tiled_train_steps_serial(costs, net, tw, data, opt, mb, chunk_fn):
    _train_steps(costs, net, tw, data, opt, mb, chunk_fn)

"""The tiled training step fed by windows of samples (data streamed from a file).

Guarantees: the same bits as the in-memory step of tiled.py. A batch's chunks and each
chunk's tiles are the in-memory ones (set by the batch's size); only where a tile's rows come
from differs: a window holds, for a few chunks at once, a run of consecutive positions of each
(a segment starting on the chunk's tile grid). Each call adds those segments' tiles to their
chunks' running sums (tw.gacc, tw.cost), which persist between calls; the batch's last
window then adds the chunks in order and updates the parameters, as tiled.py does.

Layout: win (J·W, n0) C in the file's dtype: job k's rows at k·W .. k·W + (e - s); W = 0:
win holds every row at its own index (the file mapped whole);
jobs (J, 3) int64 rows (chunk c, first position s, end e), each chunk at most once a call.

Mini-batches need no split of a batch: segment_steps runs whole batches, tiled.py's own loop,
on rows gathered into a buffer or on the mapped file.
"""
import numba
import numpy as np

from ._jit import kernel
from .optim import optimizer_update
from .tiled import _chunk, batch_chunks, batch_gradient, batches, chunk_start


@kernel(inline=True)
def _window_step(grad, tw, win, W, jobs, YT, order, b0, b1, m, first, last, theta,
                 dims, w_off, b_off, opt):
    # tw.total: the epoch's running cost, to which the batch adds (mb/m)·cost when ``last``;
    # ``first``: the batch's first window (the step counter moves before any tile reads it,
    # as in tiled.py).
    mb = b1 - b0
    nchunks = batch_chunks(tw, mb)
    if first:
        opt.t[0] += 1
    for k in numba.prange(jobs.shape[0]):
        ki = np.int64(k)
        c, s, e = jobs[ki, 0], jobs[ki, 1], jobs[ki, 2]
        x0 = s - ki * W if W > 0 else 0
        _chunk(c, s, e, x0, s == chunk_start(c, nchunks, b0, b1), tw, win,
               tw.idx[0][:0], YT, order, theta, dims, w_off, b_off, opt)
    if last:
        cost = batch_gradient(grad, tw, nchunks, mb, theta, dims, w_off, opt)
        optimizer_update(theta, grad, opt)
        tw.total[0] += (mb / m) * cost


@kernel(parallel=True)
def window_step(grad, tw, win, W, jobs, YT, order, b0, b1, m, first, last, theta,
                dims, w_off, b_off, opt):
    _window_step(grad, tw, win, W, jobs, YT, order, b0, b1, m, first, last, theta,
                 dims, w_off, b_off, opt)


@kernel
def window_step_serial(grad, tw, win, W, jobs, YT, order, b0, b1, m, first, last,
                       theta, dims, w_off, b_off, opt):
    _window_step(grad, tw, win, W, jobs, YT, order, b0, b1, m, first, last, theta,
                 dims, w_off, b_off, opt)


# Mini-batches streamed: a segment of whole batches at a time, rows gathered into a buffer
# (xorder empty, x0 its first position) or read through the mapped file (xorder = order).
@kernel(parallel=True)
def segment_steps(grad, tw, XT, xorder, x0, YT, order, p0, p1, mb, m, theta, dims, w_off,
                  b_off, opt):
    batches(grad, tw, XT, xorder, x0, YT, order, p0, p1, mb, m, theta, dims, w_off, b_off, opt)


@kernel
def segment_steps_serial(grad, tw, XT, xorder, x0, YT, order, p0, p1, mb, m, theta, dims,
                         w_off, b_off, opt):
    batches(grad, tw, XT, xorder, x0, YT, order, p0, p1, mb, m, theta, dims, w_off, b_off, opt)

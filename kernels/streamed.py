"""The tiled training step fed by windows of samples (data streamed from a file).

Guarantees: the same bits as the in-memory step of tiled.py. A batch's chunks and each
chunk's tiles are the in-memory ones (set by the batch's size); only where a tile's rows come
from differs: a window holds, for a few chunks at once, a run of consecutive positions of each
(a segment starting on the chunk's tile grid). Each call adds those segments' tiles to their
chunks' running sums (Tiles.gacc, Tiles.cost), which persist between calls; the batch's last
window then adds the chunks in order and updates the parameters, as tiled.py does.

Layout: Samples.XT (J·W, n_0) C in the file's dtype: job k's rows at k·W .. k·W + (e - s);
Part.W = 0: XT holds every row at its own index (the file mapped whole);
jobs (J, 3) int64 rows (chunk c, first position s, end e), each chunk at most once a call.

Mini-batches need no split of a batch: segment_steps runs whole batches, tiled.py's own loop,
on rows gathered into a buffer or on the mapped file.
"""
import numba
import numpy as np

from ._jit import kernel
from .calls import call_kernel, check_callee
from .optim import optimizer_update
from .structs import Segment
from .tiled import batch_chunks, batch_gradient, batches, chunk_start


@kernel(inline=True)
def _job_segment(ki, jobs, nchunks, part):
    # Job ki's (int64) Segment of the full batch at positions part.p0..part.p1.
    c, s, e = jobs[ki, 0], jobs[ki, 1], jobs[ki, 2]
    return Segment(c, s, e, s - ki * part.W if part.W > 0 else 0,
                   s == chunk_start(c, nchunks, part.p0, part.p1), np.int64(-1))


@kernel(inline=True)
def _window_step(net, tw, data, opt, jobs, part, chunk_fn):
    # One window of the full batch at positions part.p0..part.p1: its jobs' segments added
    # to their chunks' sums (tiled._chunk, called through chunk_fn). part.first: the batch's
    # first window (the step counter moves before any tile reads it, as in tiled.py);
    # part.last: the batch's last (the update follows, and tw.total += (mb/m)·cost).
    mb = part.p1 - part.p0
    nchunks = batch_chunks(tw, mb)
    if part.first:
        opt.t[0] += 1
    if jobs.shape[0] > 0:
        check_callee(chunk_fn, (tw, _job_segment(np.int64(0), jobs, nchunks, part), net,
                                data, opt))
    for k in numba.prange(jobs.shape[0]):
        call_kernel(chunk_fn, (tw, _job_segment(np.int64(k), jobs, nchunks, part), net, data,
                               opt))
    if part.last:
        cost = batch_gradient(net, tw, nchunks, mb, opt)
        optimizer_update(net.theta, net.grad, opt, 0, net.theta.size)
        tw.total[0] += (mb / part.m) * cost


# chunk_fn: tiled.chunk_callee(tw, net, data, opt) (calls.NO_CALLEE where jobs is empty).
@kernel(parallel=True)
def window_step(net, tw, data, opt, jobs, part, chunk_fn):
    _window_step(net, tw, data, opt, jobs, part, chunk_fn)


@kernel
def window_step_serial(net, tw, data, opt, jobs, part, chunk_fn):
    _window_step(net, tw, data, opt, jobs, part, chunk_fn)


# Mini-batches streamed: a segment of whole batches at a time, rows gathered into a buffer
# (data.xorder empty, part.x0 its first position) or read through the mapped file
# (data.xorder = data.order).
@kernel(parallel=True)
def segment_steps(net, tw, data, opt, part, chunk_fn):
    batches(net, tw, data, opt, part, chunk_fn)


@kernel
def segment_steps_serial(net, tw, data, opt, part, chunk_fn):
    batches(net, tw, data, opt, part, chunk_fn)

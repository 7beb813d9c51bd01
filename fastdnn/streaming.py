"""Training data read from an HDF5 file while it trains: the samples never all in memory.

Guarantees: the same bits as the same run on the data in memory (kernels/streamed.py keeps
the in-memory chunks, tiles and sums; the Gram path's G, P0 and W1 come from the same fixed
sample blocks as in memory); the file is read once an epoch, in windows of consecutive rows,
the next window made ready on a background thread while the kernels (which release the GIL)
compute on the current one: mapped from the file where the dataset is contiguous (pages
fetched ahead, handed back once used: h5source.py), else read into one of two buffers.
Memory: two windows (WINDOW_BYTES each at most, a tile per job at least) and, for shuffled
mini-batches, the blocks of the current segment. A full batch comes in windows of the
in-memory chunks (kernels/streamed.window_step); mini-batches in segments of whole batches,
run by the in-memory batch loop (kernels/streamed.segment_steps).

A source is an ``h5py.Dataset`` or a ``(path, dataset name)`` pair, in the course's layout:
samples first, (m, ...) with each sample's values contiguous (a tile is a block of rows).
Mini-batches shuffle blocks of ``shuffle_block`` rows (optim.epoch_order), the only order a
file read in blocks allows; a full batch reads the rows as they are.
"""
import os
from typing import NamedTuple

import numpy as np

from .reader import Reader
from .workspace import chunks_for, max_threads

WINDOW_BYTES = 16 << 20        # one window's rows, at most (a tile a job at least)


def available_memory():
    """Bytes this process may still take: the least of the memory the system has available,
    the container's (cgroup v2) limit left and the address-space limit left."""
    limits = []
    try:
        with open("/proc/meminfo") as f:
            info = dict(line.split(":", 1) for line in f)
        limits.append(int(info["MemAvailable"].split()[0]) * 1024)
    except (OSError, KeyError, ValueError):
        try:
            limits.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (AttributeError, ValueError, OSError):
            limits.append(1 << 62)              # unknown: never stream on our own
    try:
        with open("/sys/fs/cgroup/memory.max") as f, \
                open("/sys/fs/cgroup/memory.current") as g:
            limits.append(int(f.read()) - int(g.read()))
    except (OSError, ValueError):          # no cgroup v2 limit ("max") or not Linux
        pass
    try:
        import resource
        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft != resource.RLIM_INFINITY:
            with open("/proc/self/statm") as f:
                limits.append(soft - int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE"))
    except (ImportError, OSError):         # not Linux: no address-space figure
        pass
    return max(0, min(limits))


def should_stream(nbytes):
    """Whether data of ``nbytes`` would not fit comfortably: over half the available memory."""
    return nbytes > available_memory() // 2


class Window(NamedTuple):
    """One kernel call's share of a batch: jobs (J, 3) int64 (chunk, first position, end)."""
    epoch: int            # the epoch's index among this call's epochs
    b0: int               # the batch's positions b0..b1
    b1: int
    first: bool           # the batch's first window (its step begins)
    last: bool            # the batch's last window (its update follows)
    jobs: np.ndarray
    order: np.ndarray     # (m,) the epoch's order of positions, or (0,): the rows as they are


def batch_windows(b0, b1, T, J, W):
    """The windows of the batch at positions b0..b1: its chunks (the in-memory split:
    workspace.chunks_for, starts as kernels/tiled.chunk_start) in groups of J, each group's
    chunks W positions (a multiple of T) at a time."""
    mb = b1 - b0
    n = chunks_for(T, mb)
    starts = [b0 + c * mb // n for c in range(n + 1)]
    out = []
    for g in range(0, n, J):
        group = range(g, min(g + J, n))
        for r in range(0, max(starts[c + 1] - starts[c] for c in group), W):
            jobs = [(c, starts[c] + r, min(starts[c] + r + W, starts[c + 1])) for c in group
                    if starts[c] + r < starts[c + 1]]
            out.append(np.array(jobs, np.int64))
    return out


def job_rows(T, n0, itemsize, J):
    """W: positions a job's window holds: WINDOW_BYTES over J jobs, in whole tiles (>= 1)."""
    return T * max(1, WINDOW_BYTES // (J * n0 * itemsize * T))


def plan(m, orders, T, J, W):
    """Every window of the full-batch epochs whose orders ``orders`` yields (each (0,))."""
    for e, order in enumerate(orders):
        ws = batch_windows(0, m, T, J, W)
        for i, jobs in enumerate(ws):
            yield Window(e, 0, m, i == 0, i == len(ws) - 1, jobs, order)


def segments(m, orders, S):
    """The mini-batch epochs (orders (m,) each) in segments of S positions (whole batches)."""
    for e, order in enumerate(orders):
        for p0 in range(0, m, S):
            yield Window(e, p0, min(p0 + S, m), p0 == 0, p0 + S >= m, None, order)


def jobs_per_window(T, samples):
    """J: chunks that run at once (Numba's threads; never more than a batch's chunks)."""
    return max(1, min(max_threads(), chunks_for(T, samples)))


def train(trainer, costs, orders):
    """``len(costs)`` epochs of ``trainer`` (an engine.Trainer whose X is a source), the
    epochs' orders from the iterable ``orders``; each epoch's cost written into costs."""
    from . import kernels as K
    from ._threads import pick
    from .workspace import step_work
    src, tw = trainer.source, trainer.tiles
    mb = min(trainer.options.mini_batch_size or src.m, src.m)
    kernels = (K.window_step, K.window_step_serial) if mb == src.m else \
        (K.segment_steps, K.segment_steps_serial)
    reader = _reader(trainer, orders, mb)
    step, threads = pick(*kernels, step_work(trainer.dims, mb, False), chunks_for(tw.T, mb))
    try:
        with threads:
            for rows, w in reader:
                if w.first and w.b0 == 0:
                    tw.total[0] = 0.0
                _call(step, trainer, reader, rows, w, mb)
                if w.last and w.b1 == src.m:
                    costs[w.epoch] = tw.total[0]
    finally:
        reader.close()


def _reader(trainer, orders, mb):
    """The Reader of a run's windows: a full batch's chunk windows, or segments of whole
    mini-batches (about WINDOW_BYTES of rows, one batch at least)."""
    src, T = trainer.source, trainer.tiles.T
    block = trainer.options.shuffle_block or src.m
    if mb == src.m:
        J = jobs_per_window(T, mb)
        W = job_rows(T, src.n0, src.dtype.itemsize, J)
        return Reader(src, plan(src.m, orders, T, J, W), J * W, W, block, 0, src.mapped())
    S = mb * max(1, WINDOW_BYTES // (src.n0 * src.dtype.itemsize * mb))
    return Reader(src, segments(src.m, orders, S), S, 0, block, -(-S // block) + 2,
                  src.mapped())


def _call(step, trainer, reader, rows, w, mb):
    """One kernel call on a window's rows."""
    ws, tw, opt, m = trainer.ws, trainer.tiles, trainer.opt, trainer.source.m
    mapped = reader.mapping is not None
    if w.jobs is not None:
        step(ws.grad, tw, rows, 0 if mapped else reader.W, w.jobs, trainer.YT, w.order, w.b0,
             w.b1, m, w.first, w.last, ws.theta, ws.dims, ws.w_off, ws.b_off, opt)
        return
    xorder, x0 = (w.order, 0) if mapped else (w.order[:0], w.b0)
    step(ws.grad, tw, rows, xorder, x0, trainer.YT, w.order, w.b0, w.b1, mb, m, ws.theta,
         ws.dims, ws.w_off, ws.b_off, opt)


# ---- the Gram path: G, P0 and W1 from the same fixed sample blocks as in memory ----------
def _gram_blocks(trainer):
    """(first, end) samples of each of the Gram path's GRAM_BLOCKS blocks (as
    kernels/gram.block_start)."""
    from . import kernels as K
    m = trainer.source.m
    for b in range(K.GRAM_BLOCKS):
        b0, b1 = b * m // K.GRAM_BLOCKS, (b + 1) * m // K.GRAM_BLOCKS
        if b1 > b0:
            yield b0, b1


def _gram_block(trainer, b0, b1):
    """Rows b0..b1 of X^T, (w, n0) C, as the Gram path has them in memory: divided in
    float64 when divided, then in the compute dtype."""
    src = trainer.source
    rows = np.empty((b1 - b0, src.n0), src.dtype)
    src.read(b0, b1, rows)
    if trainer.x_divisor is not None:
        rows = rows / trainer.x_divisor
    return np.ascontiguousarray(rows, trainer.dtype)


def gram_init(trainer):
    """G = X^T X and P0 = W1_0·X of a streamed trainer, pair of blocks by pair of blocks
    (two blocks in memory at a time)."""
    from . import kernels as K
    G, P0, W1 = trainer.ws.gram, trainer.ws.P0, trainer._W(1)
    bounds = list(_gram_blocks(trainer))
    for i, (a0, a1) in enumerate(bounds):
        XA = _gram_block(trainer, a0, a1)
        K.gram_p0_block(P0, W1, XA, a0)
        for b0, b1 in bounds[i:]:
            K.gram_pair(G, XA, XA if b0 == a0 else _gram_block(trainer, b0, b1), a0, b0)


def gram_weights(W1, trainer):
    """W1 (n1, n0) out = W1_0 - c·S·X^T of a streamed trainer, block by block."""
    from . import kernels as K
    for b0, b1 in _gram_blocks(trainer):
        K.gram_weights_block(W1, trainer._dW1(), trainer.ws.S, _gram_block(trainer, b0, b1),
                             b0, b0 == 0)
    K.gram_weights_finish(W1, trainer._W(1), trainer.learning_rate / trainer.m)

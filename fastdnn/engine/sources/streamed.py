"""Training samples streamed from a samples-first HDF5 dataset: never all in memory.

Guarantees: the same bits as the same run on the data in memory (kernels/streamed.py keeps
the in-memory chunks, tiles and sums; the Gram path's G, P0 and W1 come from the same fixed
sample blocks as in memory); the file is read once an epoch, in windows of consecutive rows,
the next window made ready on a background thread while the kernels (which release the GIL)
compute on the current one: mapped from the file where the dataset is contiguous (pages
fetched ahead, handed back once used: io/hdf5.py), else read into one of two buffers.
Memory: two windows (WINDOW_BYTES each at most, a tile per job at least) and, for shuffled
mini-batches, the blocks of the current segment. A full batch comes in windows of the
in-memory chunks (kernels/streamed.window_step); mini-batches in segments of whole batches,
run by the in-memory batch loop (kernels/streamed.segment_steps).

A source is an ``h5py.Dataset`` or a ``(path, dataset name)`` pair, in the course's layout:
samples first, (m, ...) with each sample's values contiguous (a tile is a block of rows).
Mini-batches shuffle blocks of ``shuffle_block`` rows (settings.epoch_order), the only order
a file read in blocks allows; a full batch reads the rows as they are.
"""
from typing import NamedTuple

import numpy as np

from ... import kernels as K
from ..network import step_work
from ...runtime.threads import pick
from ..tiles import chunk_starts, chunks_for, kernel_samples, max_threads
from .reader import Reader

WINDOW_BYTES = 16 << 20        # one window's rows, at most (a tile a job at least)


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
    tiles.chunks_for, starts as kernels/tiled.chunk_start) in groups of J, each group's
    chunks W positions (a multiple of T) at a time."""
    starts = chunk_starts(T, b0, b1)
    n = len(starts) - 1
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


class FileSource:
    """X streamed from ``src`` (io.hdf5.H5Source, checked by the caller), used as
    X / divisor in ``dtype``."""

    def __init__(self, src, dtype, divisor=None):
        self.src, self.dtype, self.divisor = src, dtype, divisor
        self.n0, self.m = src.n0, src.m
        self.copies = src.dtype != dtype or divisor is not None

    def train(self, run, costs, orders):
        """``len(costs)`` epochs of the tiled run ``run`` (sources.Run), the epochs' orders
        from the iterable ``orders``; each epoch's cost written into costs."""
        tw, m = run.tiles, self.m
        mb = min(run.batch or m, m)
        kernels = (K.window_step, K.window_step_serial) if mb == m else \
            (K.segment_steps, K.segment_steps_serial)
        reader = self._reader(run, orders, mb)
        step, threads = pick(*kernels, step_work(run.dims, mb, False), chunks_for(tw.T, mb))
        try:
            with threads:
                for rows, w in reader:
                    if w.first and w.b0 == 0:
                        tw.total[0] = 0.0
                    self._call(step, run, reader, rows, w, mb)
                    if w.last and w.b1 == m:
                        costs[w.epoch] = tw.total[0]
        finally:
            reader.close()

    def _reader(self, run, orders, mb):
        """The Reader of a run's windows: a full batch's chunk windows, or segments of whole
        mini-batches (about WINDOW_BYTES of rows, one batch at least)."""
        src, T = self.src, run.tiles.T
        block = run.block or src.m
        if mb == src.m:
            J = jobs_per_window(T, mb)
            W = job_rows(T, src.n0, src.dtype.itemsize, J)
            return Reader(src, plan(src.m, orders, T, J, W), J * W, W, block, 0, src.mapped())
        S = mb * max(1, WINDOW_BYTES // (src.n0 * src.dtype.itemsize * mb))
        return Reader(src, segments(src.m, orders, S), S, 0, block, -(-S // block) + 2,
                      src.mapped())

    def _call(self, step, run, reader, rows, w, mb):
        """One kernel call on a window's rows."""
        mapped = reader.mapping is not None
        if w.jobs is not None:
            part = K.Part(w.b0, w.b1, w.b1 - w.b0, self.m, 0, 0 if mapped else reader.W,
                          w.first, w.last)
            data = kernel_samples(rows, w.order[:0], run.YT, w.order)
            step(run.net, run.tiles, data, run.opt, w.jobs, part,
                 K.chunk_callee(run.tiles, run.net, data, run.opt))
            return
        xorder, x0 = (w.order, 0) if mapped else (w.order[:0], w.b0)
        data = kernel_samples(rows, xorder, run.YT, w.order)
        step(run.net, run.tiles, data, run.opt, K.Part(w.b0, w.b1, mb, self.m, x0, 0, False, False),
             K.chunk_callee(run.tiles, run.net, data, run.opt))

    # ---- the Gram path: G, P0 and W1 from the same fixed sample blocks as in memory -----
    def _blocks(self):
        """(first, end) samples of each of the Gram path's GRAM_BLOCKS blocks (as
        kernels/gram.block_start)."""
        m = self.m
        for b in range(K.GRAM_BLOCKS):
            b0, b1 = b * m // K.GRAM_BLOCKS, (b + 1) * m // K.GRAM_BLOCKS
            if b1 > b0:
                yield b0, b1

    def rows(self, b0, b1):
        """Samples b0..b1 as rows of X^T, (w, n0) C, as the Gram path has them in memory:
        divided in float64 when divided, then in the compute dtype."""
        rows = np.empty((b1 - b0, self.n0), self.src.dtype)
        self.src.read(b0, b1, rows)
        if self.divisor is not None:
            rows = rows / self.divisor
        return np.ascontiguousarray(rows, self.dtype)

    def gram_init(self, gw, W1):
        """G = X^T X and P0 = W1_0·X into gw (kernels.Gram), pair of blocks by pair of
        blocks (two blocks in memory at a time)."""
        bounds = list(self._blocks())
        for i, (a0, a1) in enumerate(bounds):
            XA = self.rows(a0, a1)
            K.gram_p0_block(gw.P0, W1, XA, a0)
            for b0, b1 in bounds[i:]:
                K.gram_pair(gw.G, XA, XA if b0 == a0 else self.rows(b0, b1), a0, b0)

    def gram_weights(self, W1, tmp, W1_0, S, c):
        """W1 (n1, n0) out = W1_0 - c·S·X^T, block by block (tmp: (n1, n0) scratch)."""
        for b0, b1 in self._blocks():
            K.gram_weights_block(W1, tmp, S, self.rows(b0, b1), b0, b0 == 0)
        K.gram_weights_finish(W1, W1_0, c)

"""The worker's side of a run on a Dask cluster (cluster.py): a batch's chunks' gradient sums.

Guarantees: ``chunk_sums`` returns, for the chunks it is given, exactly the sums the
one-machine run's kernels leave in Tiles.gacc and Tiles.cost: it builds the same structs
(tiles of the same width and count, set by the shapes) and calls the same kernel
(kernels/streamed.window_step), with BLAS on one thread. It is a pure function of its
arguments (a task may be computed again on another worker, with the same bits); what a
worker keeps between steps (the structs, the rows read from a file) is a cache keyed by
the run's token, rebuilt when missing and dropped by ``forget``.

Rows: job k's samples are laid at rows k·W of a (J·W, n0) buffer in the source's dtype
(kernels/streamed.py's window layout), converted and divided a tile at a time by the kernel,
as on one machine.
"""
from collections import OrderedDict
from typing import NamedTuple

import numpy as np

from ... import kernels as K
from ...runtime.threads import one_blas_thread, pick
from ..network import new_net, step_work
from ..tiles import allocate_tiles, kernel_samples

_RUNS = OrderedDict()      # token -> _Structs, the most recent runs of this worker process
_KEEP = 4                  # runs kept at most (a client that died never calls forget)


class Spec(NamedTuple):
    """What a worker needs to rebuild a run's structs (sent with every task: small)."""
    token: str            # the run's identity (uuid)
    dims: tuple           # [n0, ..., n_L]
    dtype: str            # the compute dtype
    rows_dtype: str       # the dtype X's rows arrive in (uint8, float32, float64)
    m: int                # samples an epoch
    batch: object         # mini-batch size, or None: the full batch
    keep_prob: float      # dropout (the masks are counter-based: sample, step, seed)
    seed: int
    divisor: object       # X used as X / divisor, or None
    file: object          # (path, dataset name) of a file every worker opens, or None


class _Structs(NamedTuple):
    net: object           # kernels.Net: theta overwritten each step
    tiles: object         # kernels.Tiles
    opt: object           # kernels.Optimizer: only t, keep_prob and seed are read
    source: object        # io.hdf5.H5Source of spec.file, or None
    rows: dict            # jobs (as bytes) -> (J·W, n0) rows read from the file
    order: object         # (m,) int64: the epoch's order, the current batch's part filled


def _structs(spec):
    """This worker's structs for spec's run (made once, then cached)."""
    got = _RUNS.get(spec.token)
    if got is not None:
        _RUNS.move_to_end(spec.token)
        return got
    dtype = np.dtype(spec.dtype)
    net = new_net(list(spec.dims), dtype)
    copies = np.dtype(spec.rows_dtype) != dtype or spec.divisor is not None
    tiles = allocate_tiles(list(spec.dims), spec.m, dtype, net.theta.size, spec.batch,
                           copies, spec.divisor or 1.0)
    empty = np.zeros(0, dtype)
    opt = K.Optimizer(K.GD, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, spec.keep_prob, spec.seed, empty,
                      empty, np.zeros(1, np.int64))
    source = None
    if spec.file is not None:
        from ...io.hdf5 import H5Source
        source = H5Source(tuple(spec.file))
    got = _RUNS[spec.token] = _Structs(net, tiles, opt, source, {},
                                       np.zeros(spec.m, np.int64))
    while len(_RUNS) > _KEEP:
        _close(_RUNS.popitem(last=False)[1])
    return got


def _close(structs):
    if structs.source is not None:
        structs.source.close()


def forget(token):
    """Drop a finished run's structs and rows from this worker."""
    got = _RUNS.pop(token, None)
    if got is not None:
        _close(got)


def runs_held():
    """How many runs this worker holds structs for (0 once every run has ended)."""
    return len(_RUNS)


def layout(jobs):
    """W: rows a job's slot holds in the window buffer (its longest job)."""
    return int(max(e - s for _, s, e in jobs))


def _positions(order, s, e):
    """The samples at positions s..e: themselves, or order[s:e] when an order is given."""
    return np.arange(s, e) if order.size == 0 else order[s:e]


def gather_rows(out, XT, jobs, order, W):
    """out (J·W, n0) = the samples of each job's positions, job k at row k·W, from rows of
    XT (m, n0) (positions as they are when order is (0,), else order[p])."""
    for k, (_, s, e) in enumerate(jobs):
        idx = _positions(order, s, e)
        np.take(XT, idx, axis=0, out=out[k * W: k * W + e - s])
    return out


def _read_rows(source, jobs, order, W):
    """The window buffer of ``jobs`` read from the file: runs of consecutive samples read at
    once (a block shuffle's blocks, a full batch's chunks)."""
    out = np.zeros((len(jobs) * W, source.n0), source.dtype)
    for k, (_, s, e) in enumerate(jobs):
        idx = _positions(order, s, e)
        breaks = np.flatnonzero(np.diff(idx) != 1) + 1
        at = k * W
        for run in np.split(idx, breaks):
            source.read(int(run[0]), int(run[-1]) + 1, out[at: at + run.size])
            at += run.size
    return out


def _rows_of(structs, data, jobs, order, W):
    """(J·W, n0) rows of the jobs: from the scattered ``data`` ((laid_out, XT): a full
    batch's shard laid out already, or all samples' rows) or from the file."""
    if structs.source is not None:
        if order.size:                           # mini-batches: a new set of rows each step
            return _read_rows(structs.source, jobs, order, W)
        key = jobs.tobytes()
        if key not in structs.rows:
            structs.rows.clear()
            structs.rows[key] = _read_rows(structs.source, jobs, order, W)
        return structs.rows[key]
    laid_out, XT = data
    if laid_out:
        return XT
    return gather_rows(np.empty((len(jobs) * W, XT.shape[1]), XT.dtype), XT, jobs, order, W)


def chunk_sums(spec, data, YT, theta, step, b0, b1, jobs, order):
    """The gradient sums and cost sums of ``jobs`` (J, 3) int64 (chunk, first position, end:
    whole chunks of the batch at positions b0..b1) at parameters ``theta`` (P,), for
    optimizer step ``step`` (from 1: the dropout masks' counter).

    data: (laid_out, XT): the jobs' rows already in the window layout (a full batch's shard),
    or every sample's row (mini-batches); ignored when spec.file names the file to read.
    YT: (m, n_L) labels. order: (b1 - b0,) the batch's part of the epoch's order of the
    samples (positions b0..b1), or (0,): in order.
    Returns (gacc (J, P), cost (J,) float64)."""
    st = _structs(spec)
    if order.size:                   # the kernel reads order[p] at the batch's positions p
        st.order[b0:b1] = order
        order = st.order
    W = layout(jobs)
    rows = _rows_of(st, data, jobs, order, W)
    st.net.theta[:] = theta
    st.opt.t[0] = step - 1                       # window_step moves it to ``step``
    part = K.Part(b0, b1, b1 - b0, spec.m, 0, W, True, False)
    kernel, threads = pick(K.window_step, K.window_step_serial,
                           step_work(list(spec.dims), int(jobs[:, 2].sum() - jobs[:, 1].sum()),
                                     False), len(jobs))
    with threads, one_blas_thread():
        data = kernel_samples(rows, order[:0], YT, order)
        kernel(st.net, st.tiles, data, st.opt, jobs, part,
               K.chunk_callee(st.tiles, st.net, data, st.opt))
    c = jobs[:, 0]
    return st.tiles.gacc[c].copy(), st.tiles.cost[c].copy()


"""One training run on a Dask cluster: workers compute the chunks' sums, the client adds them.

Guarantees: the same bits as the same run on one machine, for any number of workers and
after a worker is lost. A batch is cut into the engine's chunks (set by the batch's size,
tiles.chunks_for); chunk c goes to worker c·N // chunks of the N workers (by the shapes and
the worker count, never by timing); each worker returns its chunks' gradient and cost sums
(shard.py: the one-machine kernel on the one-machine tiles); the client puts them in the
Tiles workspace and the one-machine kernel adds them in chunk order and updates
(kernels/streamed.window_step with no jobs). What a step sends: the parameters out, each
chunk's sums back; X never passes through the client after the start.

Data: a file every worker can open at the same path ((path, dataset name) or an h5py
dataset): each worker reads its own rows. Arrays: scattered once, a full batch's shards
(each worker its chunks' rows) or, for mini-batches (a batch's rows can be any samples),
all of X to every worker.

Lost workers: a step whose sums do not all come back (a worker died, its data went with it)
is computed again from the same parameters on the workers left (data scattered again);
tasks are pure, so the bits are the same. A task is sent to its chunks' worker, and runs on
another one if that worker is gone. The run stops with ConnectionError when no worker is
left for WAIT_S seconds, or after RETRIES tries of one step.
"""
import os
import uuid

import numpy as np

from ... import kernels as K
from ...runtime.threads import pick
from ..tiles import chunk_starts, kernel_samples
from . import shard

RETRIES = 3           # tries of one step before the run stops
WAIT_S = 60           # seconds to wait for a worker when none is left
CONNECT_S = 10        # seconds to keep trying to reach a scheduler


class NoWorkers(ConnectionError):
    """The cluster has had no worker for WAIT_S seconds (not retried: nothing to retry on)."""


def owners(nchunks, nworkers):
    """(nchunks,) the worker index of each chunk: contiguous, by the counts alone."""
    return [c * nworkers // nchunks for c in range(nchunks)]


def batch_jobs(b0, b1, T, nworkers):
    """For each worker index, its (J, 3) int64 jobs (chunk, first position, end) of the
    batch at positions b0..b1 (the chunks of kernels/tiled.chunk_start)."""
    starts = chunk_starts(T, b0, b1)
    jobs = [[] for _ in range(nworkers)]
    for c, w in enumerate(owners(len(starts) - 1, nworkers)):
        jobs[w].append((c, starts[c], starts[c + 1]))
    return [np.array(j, np.int64).reshape(-1, 3) for j in jobs]


def scheduler_client(address, option="cluster="):
    """A distributed.Client of the scheduler at ``address``; ConnectionError in one line
    (Dask's own connection log silenced) when it cannot be reached within CONNECT_S."""
    import logging
    try:
        from distributed import Client
    except ImportError:
        raise RuntimeError(f"{option} needs Dask: pip install 'fastdnn[dask]'") from None
    quiet = logging.getLogger("distributed")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)         # one line from us, not Dask's connection log
    try:
        return Client(address, timeout=f"{CONNECT_S}s")
    except (OSError, TimeoutError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConnectionError(f"cannot reach the Dask scheduler at {address}: {reason}") \
            from None
    finally:
        quiet.setLevel(level)


def connect(cluster):
    """(client, whether this run opened it): a distributed.Client, or a scheduler address."""
    if isinstance(cluster, str):
        return scheduler_client(cluster), True
    try:
        from distributed import Client
    except ImportError:
        raise RuntimeError("cluster= needs Dask: pip install 'fastdnn[dask]'") from None
    if not isinstance(cluster, Client):
        raise TypeError(f"cluster must be a dask.distributed.Client or a scheduler address "
                        f"like 'tcp://HOST:8786', got {type(cluster).__name__}")
    return cluster, False


def _lost():
    """The exceptions that mean a worker or the cluster went away (not a task's error)."""
    from concurrent.futures import CancelledError
    from distributed.comm import CommClosedError
    from distributed.scheduler import KilledWorker
    return (CancelledError, CommClosedError, KilledWorker, TimeoutError, OSError)


class ClusterSource:
    """The samples of ``local`` (a MemorySource or a FileSource), trained on by the workers of
    ``cluster`` (a distributed.Client or a scheduler address)."""

    def __init__(self, local, cluster, dims):
        self.local, self.m, self.n0 = local, local.m, local.n0
        self.copies, self.dims = local.copies, dims
        self.client, self.owned = connect(cluster)
        self.token = uuid.uuid4().hex
        self.file = getattr(local, "src", None)
        self.placed = None            # (workers, per worker data futures, YT future)
        self.order = np.zeros(0, np.int64)    # (m,) the epoch's order of samples, or (0,)

    def spec(self, run):
        """What every task carries to rebuild the run (shard.Spec)."""
        f = self.file
        return shard.Spec(
            self.token, tuple(int(d) for d in self.dims), str(run.net.theta.dtype),
            str(self.local.XT.dtype if f is None else f.dtype), self.m, run.batch,
            run.opt.keep_prob, run.opt.seed, self.local.divisor,
            None if f is None else (os.path.abspath(f.data.file.filename), f.data.name))

    def train(self, run, costs, orders):
        """``len(costs)`` epochs of the tiled run ``run`` (sources.Run) on the cluster."""
        tw, m = run.tiles, self.m
        mb = min(run.batch or m, m)
        spec = self.spec(run)
        empty = np.zeros(0, np.int64)
        nothing = np.zeros((0, self.n0), run.net.theta.dtype)
        sums_only = (kernel_samples(nothing, empty, run.YT, empty),
                     np.zeros((0, 3), np.int64))                     # no samples, no jobs
        for e, order in enumerate(orders):
            tw.total[0] = 0.0
            self.order = order
            for b0 in range(0, m, mb):
                self._step(run, spec, b0, min(b0 + mb, m), sums_only)
            costs[e] = tw.total[0]

    def _step(self, run, spec, b0, b1, sums_only):
        """One batch: the workers' sums into run.tiles, then the one-machine update (the
        kernel given no samples and no jobs: sums_only)."""
        tw = run.tiles
        for attempt in range(RETRIES):
            try:
                sums = self._sums(run, spec, b0, b1)
                break
            except NoWorkers:
                raise
            except _lost() as exc:
                if attempt == RETRIES - 1:
                    raise ConnectionError(
                        f"the Dask cluster lost step {run.opt.t[0] + 1} of this run {RETRIES} "
                        f"times ({type(exc).__name__}: {exc}); resume from the last "
                        "checkpoint") from None
                self.placed = None                       # place the data again
        for jobs, (gacc, cost) in sums:
            tw.gacc[jobs[:, 0]] = gacc
            tw.cost[jobs[:, 0]] = cost
        kernel, threads = pick(K.window_step, K.window_step_serial, 0, 1)   # the serial one
        with threads:
            kernel(run.net, tw, sums_only[0], run.opt, sums_only[1],
                   K.Part(b0, b1, b1 - b0, self.m, 0, 0, True, True), K.NO_CALLEE)

    def _sums(self, run, spec, b0, b1):
        """[(jobs, (gacc, cost))] of every worker that has chunks of this batch."""
        workers, data, yt = self._placement(run)
        step = int(run.opt.t[0]) + 1
        theta = run.net.theta.copy()
        # The batch's part of the epoch's order goes with each task: bytes per step, and
        # nothing kept on a worker that a loss could take with it.
        order = self.order[b0:b1] if self.order.size else self.order
        tasks = []
        for w, jobs in enumerate(batch_jobs(b0, b1, run.tiles.T, len(workers))):
            if len(jobs):
                tasks.append((jobs, self.client.submit(
                    shard.chunk_sums, spec, data[w], yt, theta, step, b0, b1, jobs, order,
                    workers=[workers[w]], allow_other_workers=True, pure=False)))
        try:
            results = self._await([f for _, f in tasks])
        except ValueError as exc:                # a worker cannot read the file, for one
            raise ValueError(f"on a Dask worker: {exc}") from None
        return [(jobs, r) for (jobs, _), r in zip(tasks, results)]

    def _scatter(self, data, **where):
        """client.scatter that gives up (TimeoutError: a lost worker) after WAIT_S seconds:
        a worker killed a moment ago can still be on the scheduler's list, and a scatter to it
        would wait for ever."""
        return self.client.scatter(data, hash=False, timeout=WAIT_S, **where)

    def _await(self, futures):
        """The futures' results; ConnectionError when the cluster has had no worker for
        WAIT_S seconds (Dask itself would wait for one forever)."""
        from distributed import wait
        while True:
            try:
                wait(futures, timeout=WAIT_S)
                return self.client.gather(futures, direct=True)   # straight from the workers
            except TimeoutError:
                if not self.client.scheduler_info(n_workers=-1)["workers"]:
                    raise NoWorkers(f"no Dask worker for this run for {WAIT_S} s: "
                                          "resume from the last checkpoint") from None

    # ---- where the data is ------------------------------------------------------------
    def _workers(self):
        """The cluster's worker addresses, sorted (waits up to WAIT_S s for one)."""
        try:
            self.client.wait_for_workers(1, timeout=WAIT_S)
        except (TimeoutError, OSError) as exc:
            raise NoWorkers(f"no Dask worker for this run for {WAIT_S} s "
                            f"({type(exc).__name__}): resume from the last checkpoint") from None
        return sorted(self.client.scheduler_info(n_workers=-1)["workers"])

    def _placement(self, run):
        """(workers, per-worker data, labels future), placed once (and after a loss)."""
        if self.placed is None:
            workers = self._workers()
            yt = self._scatter(run.YT, broadcast=True)
            self.placed = (workers, self._data(run, workers), yt)
        return self.placed

    def _data(self, run, workers):
        """What each worker's tasks read: nothing (the file), its shard of a full batch laid
        out as shard.chunk_sums reads it, or all of X^T (mini-batches)."""
        if self.file is not None:
            return [(False, None)] * len(workers)
        XT = self.local.XT
        if run.batch is not None and run.batch < self.m:
            every = self._scatter((False, np.ascontiguousarray(XT)), broadcast=True)
            return [every] * len(workers)
        out = []
        for w, jobs in enumerate(batch_jobs(0, self.m, run.tiles.T, len(workers))):
            if not len(jobs):
                out.append((False, None))
                continue
            W = shard.layout(jobs)
            rows = shard.gather_rows(np.empty((len(jobs) * W, self.n0), XT.dtype), XT, jobs,
                                     np.zeros(0, np.int64), W)
            out.append(self._scatter((True, rows), workers=[workers[w]]))
        return out

    def close(self):
        """Drop the run's state on the workers; close the client if this run opened it."""
        try:
            self.client.run(shard.forget, self.token)
        except Exception:                  # the cluster may be gone: nothing left to drop
            pass
        if self.owned:
            self.client.close()

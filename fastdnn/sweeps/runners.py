"""Where a sweep's runs execute: local worker processes, any Executor, or a Dask cluster.

Guarantees: each run is one ``fit`` with the application's initialiser, its bits the same
as the run made alone (the engine's results do not depend on the thread count); the data
goes to each worker once, not once per run; a worker that dies mid-run does not fail the
sweep: its run is retried (the local pool is rebuilt; Dask reschedules it) up to RETRIES
attempts, then recorded as failed.
"""
import math
import os
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, wait

from ..runtime.threads import limit_threads
from .grid import options_of, run_name
from .records import COST_EVERY, Record

RETRIES = 3           # attempts of a run whose worker process died, before it is "failed"

# ---- one run (in a worker) ----------------------------------------------------------------
_DATA = {}            # per worker process: the data sent once (local pool initializer)


def _keep_data(X, Y, X_test, Y_test, x_divisor, threads):
    """Pool initializer: keep the data in this worker, and limit its threads."""
    _DATA["data"] = (X, Y, X_test, Y_test, x_divisor)
    _DATA["threads"] = threads


def run_one(settings, data=None, threads=None):
    """Train one configuration; returns its Record and its model file's bytes (or None).

    data: (X, Y, X_test, Y_test, x_divisor), or None for the data this worker was given
    once; X and X_test in memory or (path, dataset name) of a file (streamed).
    threads: threads for the engine and BLAS during the run (None: leave as they are).
    """
    from ..engine.inference import accuracy
    from ..engine.trainer import DivergenceError
    from ..engine.training import fit

    if data is None:
        data, threads = _DATA["data"], _DATA["threads"]
    X, Y, X_test, Y_test, x_divisor = data
    costs = []
    t0 = time.perf_counter()
    with limit_threads(threads), tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.h5")
        try:
            result = fit(X, Y, settings["layers_dims"], settings["learning_rate"],
                         settings["num_iterations"], dtype=settings["dtype"], out=path,
                         callback=lambda start, c: costs.extend(c.tolist()),
                         x_divisor=x_divisor, **options_of(settings))
        except DivergenceError as exc:
            return Record(run_name(settings), settings, "diverged", costs=costs[::COST_EVERY],
                          message=str(exc), seconds=time.perf_counter() - t0), None
        seconds = time.perf_counter() - t0
        with open(path, "rb") as f:
            model = f.read()
    test = accuracy(X_test, Y_test, result.parameters, x_divisor) if X_test is not None \
        else math.nan
    return Record(run_name(settings), settings, "ok", final_cost=float(result.costs[-1]),
                  costs=result.costs[::COST_EVERY].tolist(),
                  train_accuracy=accuracy(X, Y, result.parameters, x_divisor),
                  test_accuracy=test,
                  seconds=seconds), model


def failed(settings, message):
    """The record of a run that could not be completed."""
    return Record(run_name(settings), settings, "failed", message=message)


# ---- local worker processes ---------------------------------------------------------------
class _LocalPool:
    """Worker processes, one per core by default; rebuilt if a worker dies (runs retried)."""

    def __init__(self, data, workers, threads):
        import multiprocessing
        self.data, self.threads = data, threads
        self.workers = workers or os.cpu_count() or 1
        self.context = multiprocessing.get_context("spawn")   # no inherited thread pools
        self.pool = None

    def start(self):
        # Imported here, not at module level: `import fastdnn` stays free of multiprocessing.
        from concurrent.futures import ProcessPoolExecutor
        self.pool = ProcessPoolExecutor(self.workers, mp_context=self.context,
                                        initializer=_keep_data,
                                        initargs=(*self.data, self.threads))

    def submit(self, settings):
        return self.pool.submit(run_one, settings)

    def close(self):
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


def threads_per_run(runs, workers):
    """Threads for each run: the cores shared among the runs going at once (one each when
    runs outnumber the cores; every core for a single run at a time)."""
    cores = os.cpu_count() or 1
    return max(1, cores // max(1, min(workers, runs)))


def _one_pool(pool, pending, attempts, finish):
    """Run ``pending`` on a fresh start of ``pool``; returns the runs to retry (their worker
    died) and whether the pool broke."""
    from concurrent.futures.process import BrokenProcessPool
    pool.start()
    futures = {pool.submit(s): s for s in pending}
    retry, broken = [], False
    while futures:
        done, _ = wait(futures, return_when=FIRST_COMPLETED)
        for fut in done:
            s = futures.pop(fut)
            try:
                finish(*fut.result())
            except BrokenProcessPool:
                # A worker died (killed, out of memory): the pool is unusable; every run not
                # finished goes to a new pool, up to RETRIES attempts each.
                broken = True
                attempts[run_name(s)] += 1
                if attempts[run_name(s)] < RETRIES:
                    retry.append(s)
                else:
                    finish(failed(s, "its worker process died"), None)
    return retry, broken


def run_local(todo, data, finish, workers):
    workers = workers or os.cpu_count() or 1
    pool = _LocalPool(data, min(workers, len(todo)), threads_per_run(len(todo), workers))
    attempts = {run_name(s): 0 for s in todo}
    pending = list(todo)
    try:
        while pending:
            pending, broken = _one_pool(pool, pending, attempts, finish)
            if broken:
                pool.close()
    finally:
        pool.close()


# ---- other executors ----------------------------------------------------------------------
def is_dask_client(executor):
    return type(executor).__module__.split(".")[0] == "distributed" and \
        hasattr(executor, "scatter")


def run_executor(executor, todo, data, finish):
    futures = {executor.submit(run_one, s, data): s for s in todo}
    while futures:
        done, _ = wait(futures, return_when=FIRST_COMPLETED)
        for fut in done:
            futures.pop(fut)
            finish(*fut.result())


def run_dask(client, todo, data, finish):
    from distributed import as_completed
    # The data goes to every worker once; each run gets a reference to it. Dask reruns a
    # run whose worker died (retries covers errors raised inside a run).
    remote = client.scatter(list(data), broadcast=True)
    futures = [client.submit(_run_remote, s, *remote, pure=False, retries=RETRIES - 1)
               for s in todo]
    for fut in as_completed(futures):
        finish(*fut.result())


def _run_remote(settings, X, Y, X_test, Y_test, x_divisor):
    # One run on a Dask worker, with the worker's own thread settings (threads=None).
    return run_one(settings, (X, Y, X_test, Y_test, x_divisor), threads=None)

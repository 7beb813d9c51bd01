"""Sweeps: many training runs at once, in local processes, any Executor, or a Dask cluster.

Guarantees: every combination of the grid is one run of ``fit`` with the application's
initialiser, and gives the same bits as that run made alone (``fit`` or ``fastdnn train``):
the engine's results do not depend on the thread count. With ``out``, ``results.csv`` is
rewritten atomically after each finished run, so an interrupted sweep run again does only
the runs not yet recorded, each run appearing once. A worker that dies mid-run does not fail
the sweep: the run is retried (Dask reschedules it; the local pool is rebuilt). A diverging
run is recorded with status ``diverged``. The data goes to each worker once, not once per run.
"""
import csv
import io
import itertools
import math
import os
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, wait

import numpy as np

from . import _validate as v

GRID_KEYS = ("layers_dims", "learning_rate", "num_iterations", "dtype")
COLUMNS = ("run", "layers", "learning_rate", "iterations", "dtype", "final_cost",
           "train_accuracy", "test_accuracy", "seconds", "status", "model")
DTYPES = ("float64", "float32")
RETRIES = 3           # attempts of a run whose worker process died, before it is "failed"


# ---- the grid -----------------------------------------------------------------------------
def _values(grid, key):
    values = grid[key]
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        values = [values]
    values = list(values)
    if not values:
        raise ValueError(f"grid[{key!r}] is empty: give at least one value")
    return values


def expand_grid(grid, n_x):
    """The runs of ``grid``: a list of settings dicts, in a fixed order, checked.

    grid maps layers_dims (a list of layer lists), learning_rate, num_iterations and dtype to
    lists of values; missing keys take fit's defaults (0.0075, 3000 and float64).
    """
    if not isinstance(grid, dict):
        raise TypeError(f"grid must be a dict of lists, got {type(grid).__name__}")
    unknown = sorted(set(grid) - set(GRID_KEYS))
    if unknown:
        raise ValueError(f"grid has unknown keys {unknown}; expected some of {list(GRID_KEYS)}")
    if "layers_dims" not in grid:
        raise ValueError("grid needs 'layers_dims': a list of layer lists like [n_x, 20, 1]")
    full = {"learning_rate": [0.0075], "num_iterations": [3000], "dtype": ["float64"]}
    full.update({k: _values(grid, k) for k in grid})
    layers = []
    for dims in full["layers_dims"]:
        dims = v.layer_dims(dims, "grid['layers_dims'] entry")
        if dims[0] != n_x:
            raise ValueError(f"grid['layers_dims'] entry {dims} starts with {dims[0]} but the "
                             f"data has {n_x} features (rows of X)")
        if dims[-1] != 1:
            raise ValueError(f"grid['layers_dims'] entry {dims} must end with 1 (one output)")
        layers.append(dims)
    rates = []
    for lr in full["learning_rate"]:
        lr = v.learning_rate(lr, "grid['learning_rate'] entry")
        if lr <= 0:
            raise ValueError(f"grid['learning_rate'] entries must be > 0, got {lr}")
        rates.append(lr)
    iters = [v.count(n, "grid['num_iterations'] entry", 1) for n in full["num_iterations"]]
    dtypes = []
    for dt in full["dtype"]:
        name = str(np.dtype(dt)) if not isinstance(dt, str) else dt
        if name not in DTYPES:
            raise ValueError(f"grid['dtype'] entry {dt!r} is not one of {list(DTYPES)}")
        dtypes.append(name)
    runs = []
    for dims, lr, n, dt in itertools.product(layers, rates, iters, dtypes):
        settings = {"layers_dims": dims, "learning_rate": lr, "num_iterations": n, "dtype": dt}
        if settings not in runs:
            runs.append(settings)
    return runs


def run_name(settings):
    """A stable, readable name for a run: its settings (also its model file's name)."""
    return (f"{'-'.join(map(str, settings['layers_dims']))}_lr{settings['learning_rate']!r}"
            f"_it{settings['num_iterations']}_{settings['dtype']}")


# ---- one run (in a worker) ----------------------------------------------------------------
_DATA = {}            # per worker process: the data sent once (local pool initializer)


def _keep_data(X, Y, X_test, Y_test, threads):
    """Pool initializer: keep the data in this worker, and limit its threads."""
    _DATA["data"] = (X, Y, X_test, Y_test)
    _DATA["threads"] = threads


def run_one(settings, data=None, threads=None):
    """Train one configuration; returns its record and its model file's bytes (or None).

    data: (X, Y, X_test, Y_test), or None for the data this worker was given once.
    threads: threads for the engine and BLAS during the run (None: leave as they are).
    """
    from contextlib import nullcontext

    from .app import accuracy
    from .engine import DivergenceError
    from .training import fit

    if data is None:
        data, threads = _DATA["data"], _DATA["threads"]
    X, Y, X_test, Y_test = data
    limit = nullcontext()
    if threads:
        import numba
        from threadpoolctl import threadpool_limits
        # The engine's threads; numpy's BLAS (small predictions) likewise. Inside the engine
        # BLAS is held to one thread anyway (_threads.py).
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        limit = threadpool_limits(threads, user_api="blas")
    record = {"run": run_name(settings), "settings": settings}
    costs = []
    t0 = time.perf_counter()
    with limit, tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.h5")
        try:
            result = fit(X, Y, settings["layers_dims"], settings["learning_rate"],
                         settings["num_iterations"], dtype=settings["dtype"], out=path,
                         callback=lambda start, c: costs.extend(c.tolist()))
        except DivergenceError as exc:
            record.update(status="diverged", final_cost=math.nan, costs=costs[::100],
                          train_accuracy=math.nan, test_accuracy=math.nan, message=str(exc),
                          seconds=time.perf_counter() - t0)
            return record, None
        seconds = time.perf_counter() - t0
        with open(path, "rb") as f:
            model = f.read()
    record.update(status="ok", final_cost=float(result.costs[-1]),
                  costs=result.costs[::100].tolist(),
                  train_accuracy=accuracy(X, Y, result.parameters),
                  test_accuracy=(accuracy(X_test, Y_test, result.parameters)
                                 if X_test is not None else math.nan),
                  seconds=seconds)
    return record, model


# ---- executors ----------------------------------------------------------------------------
def _is_dask_client(executor):
    return type(executor).__module__.split(".")[0] == "distributed" and \
        hasattr(executor, "scatter")


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


def _threads_per_run(runs, workers):
    """Threads for each run: the cores shared among the runs going at once (one each when
    runs outnumber the cores; every core for a single run at a time)."""
    cores = os.cpu_count() or 1
    return max(1, cores // max(1, min(workers, runs)))


# ---- results.csv --------------------------------------------------------------------------
def _row(record, model_path):
    s = record["settings"]
    return {"run": record["run"], "layers": ",".join(map(str, s["layers_dims"])),
            "learning_rate": repr(s["learning_rate"]), "iterations": s["num_iterations"],
            "dtype": s["dtype"], "final_cost": repr(record["final_cost"]),
            "train_accuracy": repr(record["train_accuracy"]),
            "test_accuracy": repr(record["test_accuracy"]),
            "seconds": f"{record['seconds']:.3f}", "status": record["status"],
            "model": model_path or ""}


def _settings_of(row):
    return {"layers_dims": [int(x) for x in row["layers"].split(",")],
            "learning_rate": float(row["learning_rate"]),
            "num_iterations": int(row["iterations"]), "dtype": row["dtype"]}


def read_results(path):
    """The rows of a results.csv (a list of dicts), or [] when there is none yet."""
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if rows and set(rows[0]) != set(COLUMNS):
        raise ValueError(f"{path}: not a fastdnn sweep results file (columns {list(rows[0])})")
    return rows


def _write_atomic(path, data):
    from .model_file import write_bytes_atomic
    write_bytes_atomic(path, data)


def _write_results(path, rows):
    buf = io.StringIO()
    writer = csv.DictWriter(buf, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    _write_atomic(path, buf.getvalue().encode())


def _record_from_row(row, out):
    """A finished run's record rebuilt from its results.csv row (and its model file)."""
    record = {"run": row["run"], "settings": _settings_of(row), "status": row["status"],
              "final_cost": float(row["final_cost"]), "seconds": float(row["seconds"]),
              "train_accuracy": float(row["train_accuracy"]),
              "test_accuracy": float(row["test_accuracy"]), "costs": [],
              "model": os.path.join(out, row["model"]) if row["model"] else None}
    if record["model"]:
        from .model_file import load_model
        record["costs"] = load_model(record["model"])["costs"][::100].tolist()
    return record


def headline_accuracy(record):
    """A run's accuracy for ranking and plots: on the test set when there is one."""
    acc = record["test_accuracy"]
    return record["train_accuracy"] if math.isnan(acc) else acc


def _rank_key(record):
    """Best first: test accuracy (else train accuracy), then the lowest final cost."""
    acc = headline_accuracy(record)
    cost = record["final_cost"]
    return (-acc if not math.isnan(acc) else math.inf, cost if not math.isnan(cost) else math.inf)


# ---- the sweep ----------------------------------------------------------------------------
def sweep(X, Y, grid, *, X_test=None, Y_test=None, executor=None, out=None, workers=None,
          progress=None):
    """Train every combination of ``grid``; returns the runs' records, best first.

    Parameters
    ----------
    X : (n_x, m) training data.  Y : (1, m) labels in {0, 1}.
    grid : dict of lists: ``layers_dims`` (list of [n_x, ..., 1]), ``learning_rate``,
        ``num_iterations``, ``dtype`` ("float64"/"float32"); every combination is one run.
    X_test, Y_test : optional test set for ``test_accuracy``.
    executor : None (local processes, ``workers`` of them, default one per core), any
        ``concurrent.futures.Executor`` (a process pool should spawn its workers: see the
        README), or a ``dask.distributed.Client``.
    workers : local worker processes (executor None); default: one per core.
    out : folder; ``results.csv`` (rewritten atomically after each run), ``runs/NAME.h5``
        (each run's model file) and ``best.h5``. Runs already in ``results.csv`` are not
        run again.
    progress : called as ``progress(record)`` after each finished run.

    Returns
    -------
    list of dict: run, settings, status ("ok", "diverged" or "failed"), final_cost, costs
    (every 100 iterations), train_accuracy, test_accuracy, seconds, model (path or None).
    """
    from .engine import check_training_data
    X = v.array(X, "X")
    runs = expand_grid(grid, X.shape[0])      # every layer set starts with n_x and ends with 1
    X, Y = check_training_data(X, Y, runs[0]["layers_dims"])   # bad data fails before any run
    if X_test is not None:
        X_test, Y_test = check_training_data(X_test, Y_test, runs[0]["layers_dims"])
    results_path = rows = None
    done = {}
    if out is not None:
        os.makedirs(os.path.join(out, "runs"), exist_ok=True)
        results_path = os.path.join(out, "results.csv")
        rows = read_results(results_path)
        for row in rows:
            if row["status"] in ("ok", "diverged"):
                done[row["run"]] = row
    records = {}
    for s in runs:
        row = done.get(run_name(s))
        if row is not None:
            records[row["run"]] = _record_from_row(row, out)
    todo = [s for s in runs if run_name(s) not in records]
    data = (X, Y, X_test, Y_test)

    def finish(record, model):
        model_rel = None
        if out is not None:
            if model is not None:
                model_rel = os.path.join("runs", record["run"] + ".h5")
                _write_atomic(os.path.join(out, model_rel), model)
            rows[:] = [r for r in rows if r["run"] != record["run"]] + [_row(record, model_rel)]
            _write_results(results_path, rows)
        record["model"] = model_rel and os.path.join(out, model_rel)
        records[record["run"]] = record
        if progress is not None:
            progress(record)

    if todo:
        if _is_dask_client(executor):
            _run_dask(executor, todo, data, finish)
        elif executor is not None:
            _run_executor(executor, todo, data, finish)
        else:
            _run_local(todo, data, finish, workers)
    ranked = sorted((records[run_name(s)] for s in runs), key=_rank_key)
    if out is not None:
        best = next((r for r in ranked if r["status"] == "ok"), None)
        if best is not None:
            with open(best["model"], "rb") as f:
                _write_atomic(os.path.join(out, "best.h5"), f.read())
    return ranked


def _failed(settings, message):
    return {"run": run_name(settings), "settings": settings, "status": "failed",
            "final_cost": math.nan, "costs": [], "train_accuracy": math.nan,
            "test_accuracy": math.nan, "seconds": 0.0, "message": message}


def _run_local(todo, data, finish, workers):
    from concurrent.futures.process import BrokenProcessPool
    workers = workers or os.cpu_count() or 1
    pool = _LocalPool(data, min(workers, len(todo)), _threads_per_run(len(todo), workers))
    attempts = {run_name(s): 0 for s in todo}
    pending = list(todo)
    try:
        while pending:
            pool.start()
            futures = {pool.submit(s): s for s in pending}
            pending = []
            broken = False
            while futures:
                finished, _ = wait(futures, return_when=FIRST_COMPLETED)
                for fut in finished:
                    s = futures.pop(fut)
                    try:
                        record, model = fut.result()
                    except BrokenProcessPool:
                        # A worker died (killed, out of memory): the pool is unusable; every
                        # run not finished goes to a new pool, up to RETRIES attempts each.
                        broken = True
                        attempts[run_name(s)] += 1
                        if attempts[run_name(s)] < RETRIES:
                            pending.append(s)
                        else:
                            finish(_failed(s, "its worker process died"), None)
                        continue
                    finish(record, model)
            if broken:
                pool.close()
    finally:
        pool.close()


def _run_executor(executor, todo, data, finish):
    futures = {executor.submit(run_one, s, data): s for s in todo}
    while futures:
        finished, _ = wait(futures, return_when=FIRST_COMPLETED)
        for fut in finished:
            futures.pop(fut)
            finish(*fut.result())


def _run_dask(client, todo, data, finish):
    from distributed import as_completed
    # The data goes to every worker once; each run gets a reference to it. Dask reruns a
    # run whose worker died (retries covers errors raised inside a run).
    remote = client.scatter(list(data), broadcast=True)
    futures = [client.submit(_run_remote, s, *remote, pure=False, retries=RETRIES - 1)
               for s in todo]
    for fut in as_completed(futures):
        finish(*fut.result())


def _run_remote(settings, X, Y, X_test, Y_test):
    # One run on a Dask worker, single-threaded when the worker runs several tasks at once.
    return run_one(settings, (X, Y, X_test, Y_test), threads=None)

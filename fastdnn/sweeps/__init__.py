"""Sweeps: many training runs at once, in local processes, any Executor, or a Dask cluster.

Guarantees: every combination of the grid is one run of ``fit`` with the application's
initialiser, and gives the same bits as that run made alone (``fit`` or ``fastdnn train``).
With ``out``, ``results.csv`` is rewritten atomically after each finished run, so an
interrupted sweep run again does only the runs not yet recorded, each run appearing once.
A worker that dies mid-run does not fail the sweep (runners.py); a diverging run is
recorded with status ``diverged``.

grid.py: the runs and their names; records.py: a run's Record and results.csv;
runners.py: where runs execute; plot.py: the sweep's picture.
"""
import os

from .. import _validate as v
from .grid import expand_grid, run_name
from .records import Record, finished_rows, rank_key, read_results, write_results
from .runners import RETRIES, is_dask_client, run_dask, run_executor, run_local

__all__ = ["sweep", "expand_grid", "run_name", "read_results", "Record", "RETRIES"]


class _Results:
    """The sweep's folder: results.csv, runs/NAME.h5 and best.h5 (nothing when out is None)."""

    def __init__(self, out):
        self.out = out
        self.rows = []
        self.finished = {}
        if out is not None:
            os.makedirs(os.path.join(out, "runs"), exist_ok=True)
            self.path = os.path.join(out, "results.csv")
            self.rows = read_results(self.path)
            self.finished = finished_rows(self.path)

    def recorded(self, runs):
        """{name: Record} of the runs of ``runs`` already finished in results.csv."""
        return {run_name(s): Record.from_row(self.finished[run_name(s)], self.out)
                for s in runs if run_name(s) in self.finished}

    def add(self, record, model):
        """Write a finished run's model file and its results.csv row (both atomically)."""
        if self.out is None:
            return
        model_rel = None
        if model is not None:
            from ..io.files import write_bytes_atomic
            model_rel = os.path.join("runs", record.run + ".h5")
            write_bytes_atomic(os.path.join(self.out, model_rel), model)
            record.model = os.path.join(self.out, model_rel)
        self.rows = [r for r in self.rows if r["run"] != record.run] + [record.row(model_rel)]
        write_results(self.path, self.rows)

    def keep_best(self, ranked):
        best = next((r for r in ranked if r.status == "ok"), None)
        if self.out is not None and best is not None:
            from ..io.files import write_bytes_atomic
            with open(best.model, "rb") as f:
                write_bytes_atomic(os.path.join(self.out, "best.h5"), f.read())


def _checked(X, Y, dims):
    """(X, Y) checked for layers ``dims``; a file's dataset as (path, name), which any
    worker process can open."""
    from ..engine.sources.checks import check_streamed, check_training_data
    from ..io.hdf5 import file_source
    src = file_source(X)
    if src is None:
        return check_training_data(X, Y, dims)
    return (src.data.file.filename, src.data.name), check_streamed(src, Y, dims, None)


def _checked_data(X, Y, X_test, Y_test, grid, x_divisor):
    """(runs, data): the grid's runs and the data, checked before any run starts."""
    from ..engine.sources.checks import output_units
    from ..io.hdf5 import file_source
    X = file_source(X) or v.array(X, "X")
    runs = expand_grid(grid, X.shape[0], output_units(Y))   # n_x ... n_out, every layer set
    X, Y = _checked(X, Y, runs[0]["layers_dims"])
    if X_test is not None:
        X_test, Y_test = _checked(X_test, Y_test, runs[0]["layers_dims"])
    return runs, (X, Y, X_test, Y_test, x_divisor)


def _execute(todo, data, finish, executor, workers):
    if not todo:
        return
    if is_dask_client(executor):
        run_dask(executor, todo, data, finish)
    elif executor is not None:
        run_executor(executor, todo, data, finish)
    else:
        run_local(todo, data, finish, workers)


def sweep(X, Y, grid, *, X_test=None, Y_test=None, executor=None, out=None, workers=None,
          progress=None, x_divisor=None):
    """Train every combination of ``grid``; returns the runs' records, best first.

    Parameters
    ----------
    X : (n_x, m) training data, or a file's samples-first dataset (an h5py dataset or
        (path, name)), which each run streams (fit's X; a Dask worker needs the same path).
    Y : (1, m) labels in {0, 1}, or of K >= 3 classes: (K, m) one-hot or integer labels
        0..K-1 (the last layer then has K units).
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
    x_divisor : fit's: X (and X_test) used as X / x_divisor (255.0 for the bytes of images).

    Returns
    -------
    list of Record (records.py): run, settings, status ("ok", "diverged" or "failed"),
    final_cost, costs (every 100 iterations), train_accuracy, test_accuracy, seconds, model
    (path or None); read as ``r.status`` or ``r["status"]``.
    """
    runs, data = _checked_data(X, Y, X_test, Y_test, grid, x_divisor)
    results = _Results(out)
    records = results.recorded(runs)

    def finish(record, model):
        results.add(record, model)
        records[record.run] = record
        if progress is not None:
            progress(record)

    todo = [s for s in runs if run_name(s) not in records]
    _execute(todo, data, finish, executor, workers)
    ranked = sorted((records[run_name(s)] for s in runs), key=rank_key)
    results.keep_best(ranked)
    return ranked

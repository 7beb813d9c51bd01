"""A local sweep with k worker processes against one run at a time (worker start-up included,
as a user pays it)."""
import os

from .timing import clock

# A local sweep on the embedded digits data: 2 layer sets x 4 learning rates.
SWEEP_GRID = {"layers_dims": [[64, 20, 7, 5, 1], [64, 8, 1]],
              "learning_rate": [0.0075, 0.01, 0.03, 0.1], "num_iterations": [4000]}


def sweep_speedup(workers=None, iterations=None):
    """(seconds one run at a time, seconds with ``workers`` processes, workers) for a local
    ``fastdnn.sweep`` of SWEEP_GRID on the embedded digits data (``iterations`` overrides the
    grid's). One at a time, each run uses every core; with k workers, each run gets
    cores // k threads.
    """
    from ..io.datasets import embedded, load_flat
    from ..sweeps import sweep
    X, Y, _, _ = load_flat(embedded("train_digits.h5"))
    grid = dict(SWEEP_GRID, num_iterations=[iterations or SWEEP_GRID["num_iterations"][0]])
    workers = workers or os.cpu_count() or 1
    one, k = (clock(lambda: sweep(X, Y, grid, workers=n)) for n in (1, workers))
    return one, k, workers

"""Time to accuracy (``fastdnn bench --tta``): the wall time of training until the test
accuracy first reaches a target, for fastdnn (each optimizer) and, where installed, PyTorch
(Adam on mini-batches; full-batch SGD), JAX (a jitted Adam step scanned over an epoch's
batches) and scikit-learn's MLPClassifier (Adam).

Rules: every engine trains the same network ([n_x, hidden..., 1], ReLU then a sigmoid
output) from its own default start (fastdnn and PyTorch: the application's initialiser),
float64 (float32 for cat); the clock runs only while training (the accuracy checks between
chunks are not timed); compilation is done before timing by a throwaway run; each engine's
best learning rate of a small grid counts; a run stops at ``BUDGET`` seconds of training.
"""
import os
import warnings

import numpy as np

from .timing import clock

BUDGET = 15.0                     # seconds of training before a run counts as "not reached"
# dataset -> (layers after n_x, target test accuracy, full-batch iterations between checks)
DATASETS = {"digits": ([32, 16, 1], 0.96, 10), "tabular": ([64, 32, 1], 0.93, 10),
            "cat": ([20, 7, 5, 1], 0.80, 10)}


def tabular(m, seed):
    """A generated two-class table (50 features, numpy only): X (50, m) F-ordered, Y (1, m)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((50, m))
    f = X[0] + X[1] * X[2] - 0.5 * X[3] ** 2 + 0.5 * X[5]
    Y = (f + 0.15 * rng.standard_normal(m) > 0).astype(float).reshape(1, -1)
    return np.asfortranarray(X), Y


def dataset(name, data_dir=None):
    """(X, Y, X_test, Y_test) of a dataset, or None when its files are absent."""
    from ..io.datasets import embedded, load_flat
    if name == "digits":
        X, Y, _, _ = load_flat(embedded("train_digits.h5"))
        Xt, Yt, _, _ = load_flat(embedded("test_digits.h5"))
        return X, Y, Xt, Yt
    if name == "tabular":
        return tabular(100_000, 0) + tabular(20_000, 1)
    if data_dir and os.path.exists(os.path.join(data_dir, "train_catvnoncat.h5")):
        X, Y, _, _ = load_flat(os.path.join(data_dir, "train_catvnoncat.h5"))
        Xt, Yt, _, _ = load_flat(os.path.join(data_dir, "test_catvnoncat.h5"))
        return (np.asfortranarray(X, np.float32), Y, np.asfortranarray(Xt, np.float32), Yt)
    return None


def time_to_target(make, target, budget=BUDGET):
    """(seconds until the test accuracy first reaches ``target`` or None, best accuracy) of
    the run ``make()`` returns: an object with .chunk() (train) and .accuracy() (test)."""
    run, elapsed, best = make(), 0.0, 0.0
    while elapsed < budget:
        elapsed += clock(run.chunk)
        acc = run.accuracy()
        best = max(best, acc)
        if acc >= target:
            return elapsed, best
    return None, best


def _engines(name, data, peers=True):
    from . import tta_engines as E
    X = data[0]
    layers = [X.shape[0]] + DATASETS[name][0]
    every = DATASETS[name][2]
    small = X.shape[1] < 5000
    batches = (64,) if small else (64, 256)
    yield "fastdnn gd (full batch)", (0.0075, 0.05, 0.5), \
        lambda lr: E.Fastdnn(data, layers, lr, "gd", None, every)
    yield "fastdnn momentum (batch 256)", (0.01, 0.1), \
        lambda lr: E.Fastdnn(data, layers, lr, "momentum", 256, 1)
    for mb in batches:
        yield f"fastdnn adam (batch {mb})", E.ADAM_RATES, \
            lambda lr, mb=mb: E.Fastdnn(data, layers, lr, "adam", mb, 1)
    if peers:
        yield from E.peers(data, layers, batches, every)


def rows(name, data, budget=BUDGET, peers=True):
    """One row per engine (``peers``: and each installed peer): its best time to the target
    over its learning rates."""
    target = DATASETS[name][1]
    out = []
    for label, lrs, make in _engines(name, data, peers):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")          # sklearn's ConvergenceWarning per epoch
            make(lrs[0]).chunk()                     # compile / warm up outside the timing
            tries = [(lr,) + time_to_target(lambda: make(lr), target, budget) for lr in lrs]
        reached = [t for t in tries if t[1] is not None]
        best = min(reached, key=lambda t: t[1]) if reached else max(tries, key=lambda t: t[2])
        out.append({"dataset": name, "engine": label, "target": target, "lr": best[0],
                    "seconds": best[1], "best_accuracy": max(t[2] for t in tries),
                    "learning_rates": list(lrs)})
    return out


def table(result):
    lines = [f"{'dataset':8} {'target':>6}  {'engine':34} {'time to target':>15} {'at lr':>7} "
             f"{'best acc':>8}  (learning rates tried)"]
    for r in result:
        t = "not reached" if r["seconds"] is None else f"{r['seconds']:.3f} s"
        lines.append(f"{r['dataset']:8} {r['target']:6.2f}  {r['engine']:34} {t:>15} "
                     f"{r['lr']:7g} {r['best_accuracy']:8.4f}  {r['learning_rates']}")
    return "\n".join(lines)


def summary(result):
    """Per dataset: fastdnn's best time over the best peer's (below 1: fastdnn first)."""
    out = {}
    for name in dict.fromkeys(r["dataset"] for r in result):
        mine = [r["seconds"] for r in result if r["dataset"] == name
                and r["engine"].startswith("fastdnn") and r["seconds"] is not None]
        peer = [r["seconds"] for r in result if r["dataset"] == name
                and not r["engine"].startswith("fastdnn") and r["seconds"] is not None]
        out[name] = (min(mine) / min(peer)) if mine and peer else None
    return out

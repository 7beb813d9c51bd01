"""fastdnn against scikit-learn's MLPClassifier, the same network and algorithm, per
iteration: full-batch gradient descent (``solver="sgd"``, ``batch_size=n``, no momentum, no
L2) and an epoch of Adam with batch 200; on the ten embedded digit classes and a 50,000-sample
generated table (10 classes: a softmax output for both).

Each side trains through its own public API from the same starting point (fastdnn's
DNNClassifier and MLPClassifier, warm-started one iteration at a time, so that set-up is
paid once); the times are the best of a few timed runs after a warm-up (timing.py).
"""
import warnings

import numpy as np

from .timing import clock

HIDDEN = (64, 32)


def data(name):
    """(X (n_samples, n_features), y) of ``name``: "digits10" or "tabular" (50,000 x 50)."""
    if name == "digits10":
        from ..io.datasets import embedded, load_flat
        X, y, _, _ = load_flat(embedded("train_digits10.h5"))
        return np.ascontiguousarray(X.T), y.ravel()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50_000, 50))
    y = np.argmax(X[:, :10] + 0.5 * X[:, 10:20] ** 2, axis=1)
    return X, y


def _per_iteration(model, X, y, iterations=5, repeat=3):
    """Seconds per iteration of ``model.fit`` when each call runs ``iterations`` of them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                 # ConvergenceWarning at max_iter
        model.fit(X, y)                                 # warm-up: compile, allocate
        return min(clock(lambda: model.fit(X, y)) for _ in range(repeat)) / iterations


def models(algorithm, n, iterations):
    """(fastdnn's DNNClassifier, scikit-learn's MLPClassifier) for ``algorithm``, each
    running ``iterations`` iterations per fit, warm-started."""
    from sklearn.neural_network import MLPClassifier

    from ..estimators.dnn import DNNClassifier
    common = dict(max_iter=iterations, random_state=0, warm_start=True)
    if algorithm == "gd":
        ours = DNNClassifier(HIDDEN, learning_rate=0.1, optimizer="gd", mini_batch_size=None,
                             **common)
        theirs = MLPClassifier(HIDDEN, solver="sgd", learning_rate_init=0.1, batch_size=n,
                               momentum=0.0, alpha=0.0, shuffle=False, tol=0.0,
                               n_iter_no_change=10 ** 9, **common)
    else:
        ours = DNNClassifier(HIDDEN, learning_rate=1e-3, optimizer="adam", mini_batch_size=200,
                             **common)
        theirs = MLPClassifier(HIDDEN, solver="adam", learning_rate_init=1e-3, batch_size=200,
                               alpha=0.0, tol=0.0, n_iter_no_change=10 ** 9, **common)
    return ours, theirs


def row(name, algorithm, iterations=20):
    X, y = data(name)
    ours, theirs = models(algorithm, X.shape[0], iterations)
    t_ours = _per_iteration(ours, X, y, iterations)
    t_theirs = _per_iteration(theirs, X, y, iterations)
    return {"dataset": name, "algorithm": "full-batch GD" if algorithm == "gd" else
            "Adam, batch 200 (per epoch)", "fastdnn_s": t_ours, "sklearn_s": t_theirs,
            "speedup": t_theirs / t_ours}


def rows():
    return [row(name, alg) for name in ("digits10", "tabular") for alg in ("gd", "adam")]


def table(result):
    lines = [f"{'dataset':9} {'algorithm':28} {'fastdnn':>10} {'MLPClassifier':>14} {'x':>7}"]
    for r in result:
        lines.append(f"{r['dataset']:9} {r['algorithm']:28} {r['fastdnn_s'] * 1e3:8.2f}ms "
                     f"{r['sklearn_s'] * 1e3:12.2f}ms {r['speedup']:6.1f}x")
    return "\n".join(lines)

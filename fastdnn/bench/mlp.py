"""``fastdnn bench --mlp``: fastdnn.neural_network against scikit-learn's own MLPClassifier,
the same script with the import line changed: whole ``fit`` calls at the same settings and
random_state, so both sides run the same epochs to the same numbers.

Cases (the drop-in's targets): digits (1,797 x 64, 10 classes, scaled to [0, 1]) at the
defaults (adam, batch 200, until tol stops it or 200 epochs) in float64 and float32; a
100,000 x 50 generated table, (64, 32), adam, 5 epochs; digits with lbfgs at the defaults;
digits with full-batch sgd (batch_size = n), 200 epochs. Each is paired rounds (timing.py):
a warm-up fit of each, then fits alternating, the best round of each side. ``agree`` is the
largest relative difference of the two fits' loss curves (or final losses for lbfgs).
Memory: the peak that ``fit`` adds (tracemalloc: numpy's allocations) beyond X, each side.
The numbers: fits of 15 epochs on three datasets, every solver and activation, compared.
"""
import tracemalloc
import warnings

import numpy as np

from .timing import paired_rounds, verdict

TABLE_ROWS, TABLE_FEATURES, TABULAR_EPOCHS = 100_000, 50, 5


def data(name, dtype=np.float64):
    """(X (n_samples, n_features), y) of ``name``: "digits" or "tabular"."""
    if name == "digits":
        from sklearn.datasets import load_digits
        X, y = load_digits(return_X_y=True)
        return (X / 16).astype(dtype), y
    rng = np.random.default_rng(0)
    X = rng.standard_normal((TABLE_ROWS, TABLE_FEATURES))
    y = np.argmax(X[:, :10] + 0.5 * X[:, 10:20] ** 2, axis=1)
    return X.astype(dtype), y


CASES = [
    ("digits", "adam, defaults", np.float64, {}),
    ("digits", "adam, defaults", np.float32, {}),
    ("tabular", f"adam (64,32), {TABULAR_EPOCHS} epochs", np.float64,
     dict(hidden_layer_sizes=(64, 32), max_iter=TABULAR_EPOCHS)),
    ("digits", "lbfgs, defaults", np.float64, dict(solver="lbfgs")),
    ("digits", "sgd, full batch", np.float64, dict(solver="sgd", batch_size=1797)),
]


def _fitter(Estimator, X, y, settings):
    model = Estimator(random_state=0, **settings)

    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")         # ConvergenceWarning at max_iter
            model.fit(X, y)
    return model, fit


def _agree(a, b):
    if hasattr(a, "loss_curve_"):
        x, y = np.asarray(a.loss_curve_), np.asarray(b.loss_curve_)
        if x.shape != y.shape:
            return float("inf")
        return float(np.max(np.abs(x - y) / np.abs(x)))
    return abs(a.loss_ - b.loss_) / abs(a.loss_)


def row(name, solver, dtype, settings, rounds=3):
    from sklearn.neural_network import MLPClassifier as Theirs

    from ..neural_network import MLPClassifier as Ours
    X, y = data(name, dtype)
    theirs, fit_theirs = _fitter(Theirs, X, y, settings)
    ours, fit_ours = _fitter(Ours, X, y, settings)
    t_sk, t_fd = paired_rounds(fit_theirs, fit_ours, min_sample=0.0, rounds=rounds)
    low, high, word = verdict(t_sk, t_fd)
    return {"dataset": name, "solver": solver, "dtype": np.dtype(dtype).name,
            "epochs": int(ours.n_iter_), "sklearn_s": float(t_sk.min()),
            "fastdnn_s": float(t_fd.min()), "speedup": float(t_sk.min() / t_fd.min()),
            "round_low": low, "round_high": high, "verdict": word,
            "agree": _agree(theirs, ours)}


def fit_added(Estimator, X, y, settings):
    """Peak bytes that one ``fit`` allocates beyond its inputs (tracemalloc)."""
    model = Estimator(random_state=0, **settings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.set_params(max_iter=1).fit(X, y)          # compile and warm up first
        tracemalloc.start()
        try:
            model.set_params(max_iter=2).fit(X, y)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


def memory_row():
    from sklearn.neural_network import MLPClassifier as Theirs

    from ..neural_network import MLPClassifier as Ours
    X, y = data("tabular")
    settings = dict(hidden_layer_sizes=(64, 32))
    theirs, ours = (fit_added(E, X, y, settings) for E in (Theirs, Ours))
    return {"X_bytes": X.nbytes, "sklearn_bytes": theirs, "fastdnn_bytes": ours,
            "beyond_sklearn_of_X": (ours - theirs) / X.nbytes}


def _match_data():
    """(name, X, y, Estimator name) of the numbers-match table's datasets."""
    from sklearn.datasets import load_digits, load_iris, make_regression
    X, y = load_digits(return_X_y=True)
    Xi, yi = load_iris(return_X_y=True)
    Xr, yr = make_regression(n_samples=500, n_features=10, n_targets=3, noise=5.0,
                             random_state=0)
    return [("digits", X / 16, y, "MLPClassifier"), ("iris", Xi, yi, "MLPClassifier"),
            ("regression, 3 outputs", Xr, yr / 100, "MLPRegressor")]


def numbers_rows(epochs=15):
    """The largest relative differences of loss_curve_ (lbfgs: loss_) and of coefs_ between
    fastdnn's and scikit-learn's fits at the same random_state, float64, ``epochs`` epochs
    (iterations for lbfgs), for each dataset, solver and activation."""
    from sklearn import neural_network as theirs

    from .. import neural_network as ours
    out = []
    for name, X, y, kind in _match_data():
        for solver in ("adam", "sgd", "lbfgs"):
            for activation in ("relu", "tanh", "logistic", "identity"):
                kw = dict(hidden_layer_sizes=(32, 16), solver=solver, activation=activation,
                          max_iter=epochs, random_state=0, learning_rate_init=1e-3)
                fits = []
                for module in (ours, theirs):
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        fits.append(getattr(module, kind)(**kw).fit(X, y))
                a, b = fits
                coefs = max(float(np.max(np.abs(p - q)) / np.max(np.abs(q)))
                            for p, q in zip(a.coefs_, b.coefs_))
                out.append({"dataset": name, "solver": solver, "activation": activation,
                            "loss": _agree(b, a), "coefs": coefs,
                            "same_n_iter": a.n_iter_ == b.n_iter_})
    return out


def rows():
    return {"rows": [row(*case) for case in CASES], "memory": memory_row(),
            "numbers": numbers_rows()}


def table(result):
    lines = [f"{'dataset':8} {'solver':24} {'dtype':8} {'epochs':>6} {'scikit-learn':>13} "
             f"{'fastdnn':>10} {'x':>6}  {'rounds':>11}  agree"]
    for r in result["rows"]:
        lines.append(f"{r['dataset']:8} {r['solver']:24} {r['dtype']:8} {r['epochs']:6d} "
                     f"{r['sklearn_s'] * 1e3:11.1f}ms {r['fastdnn_s'] * 1e3:8.1f}ms "
                     f"{r['speedup']:5.2f}x  {r['round_low']:4.2f}-{r['round_high']:<4.2f}x  "
                     f"{r['agree']:.1e}")
    m = result["memory"]
    lines.append(f"memory added by fit (tabular, X {m['X_bytes'] / 1e6:.0f} MB): scikit-learn "
                 f"{m['sklearn_bytes'] / 1e6:.1f} MB, fastdnn {m['fastdnn_bytes'] / 1e6:.1f} MB "
                 f"({100 * m['beyond_sklearn_of_X']:+.1f}% of X beyond scikit-learn's)")
    if result.get("numbers"):
        lines.append("the same numbers, float64 (largest relative difference from scikit-learn;"
                     " 15 epochs or lbfgs iterations):")
        lines.append(f"  {'dataset':22} {'solver':6} {'activation':10} {'loss':>8} "
                     f"{'coefs_':>8}  n_iter_")
        for r in result["numbers"]:
            lines.append(f"  {r['dataset']:22} {r['solver']:6} {r['activation']:10} "
                         f"{r['loss']:8.1e} {r['coefs']:8.1e}  "
                         f"{'same' if r['same_n_iter'] else 'DIFFERENT'}")
    return "\n".join(lines)

"""fastdnn.neural_network against the installed scikit-learn: the same numbers for the same
random_state (loss curves, parameters, n_iter_, early-stopping decisions) on several
datasets, activations, solvers and target kinds; its estimator checks; its own MLP test
module with the import line swapped; the same bits on 1 and 2 threads."""
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
from sklearn import neural_network as skn  # noqa: E402
from sklearn.datasets import load_digits, load_iris, make_multilabel_classification, \
    make_regression  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from fastdnn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16, y[:600]


def _binary():
    X, y = load_digits(n_class=2, return_X_y=True)
    return X / 16, y


def _iris():
    X, y = load_iris(return_X_y=True)
    return X, y


def _multilabel():
    X, y = make_multilabel_classification(n_samples=300, n_features=12, n_classes=4,
                                          random_state=0)
    return X / X.max(), y


def _regression(outputs):
    X, y = make_regression(n_samples=300, n_features=10, n_targets=outputs, noise=5.0,
                           random_state=0)
    return X, y / 100


def _fit_both(ours, theirs, X, y, **fit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return ours.fit(X, y, **fit), theirs.fit(X, y, **fit)


def _rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def assert_same_model(ours, theirs, curve_tol=1e-6, coef_tol=1e-6):
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.out_activation_ == theirs.out_activation_
    assert ours.n_layers_ == theirs.n_layers_ and ours.n_outputs_ == theirs.n_outputs_
    if hasattr(theirs, "loss_curve_"):
        assert len(ours.loss_curve_) == len(theirs.loss_curve_)
        assert _rel(ours.loss_curve_, theirs.loss_curve_) <= curve_tol
    assert abs(ours.loss_ - theirs.loss_) <= curve_tol * abs(theirs.loss_)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        assert a.shape == b.shape and a.dtype == b.dtype
        assert _rel(a, b) <= coef_tol


CLASSIFIERS = [(data, solver, act) for data in (_digits, _binary, _iris, _multilabel)
               for solver in ("adam", "sgd") for act in ("relu", "tanh", "logistic",
                                                         "identity")]


@pytest.mark.parametrize("data,solver,activation", CLASSIFIERS,
                         ids=[f"{d.__name__[1:]}-{s}-{a}" for d, s, a in CLASSIFIERS])
def test_classifier_15_epochs_match_sklearn(data, solver, activation):
    X, y = data()
    kw = dict(hidden_layer_sizes=(20, 10), solver=solver, activation=activation,
              max_iter=15, random_state=1, alpha=1e-3, learning_rate_init=0.01)
    ours, theirs = _fit_both(MLPClassifier(**kw), skn.MLPClassifier(**kw), X, y)
    assert_same_model(ours, theirs)
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-6,
                               atol=1e-9)


SCHEDULES = [dict(learning_rate="constant", momentum=0.0),
             dict(learning_rate="invscaling", power_t=0.3),
             dict(learning_rate="adaptive", tol=1e-2, n_iter_no_change=2),
             dict(nesterovs_momentum=False, momentum=0.8),
             dict(shuffle=False, batch_size=64)]


@pytest.mark.parametrize("schedule", SCHEDULES, ids=lambda s: "-".join(map(str, s.values())))
def test_sgd_schedules_match_sklearn(schedule):
    X, y = _digits()
    kw = dict(hidden_layer_sizes=(16,), solver="sgd", max_iter=30, random_state=0,
              learning_rate_init=0.05, **schedule)
    ours, theirs = _fit_both(MLPClassifier(**kw), skn.MLPClassifier(**kw), X, y)
    assert_same_model(ours, theirs)
    assert ours._optimizer.learning_rate == pytest.approx(theirs._optimizer.learning_rate)


@pytest.mark.parametrize("outputs", [1, 3])
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_regressor_matches_sklearn(outputs, solver):
    X, y = _regression(outputs)
    kw = dict(hidden_layer_sizes=(16, 8), solver=solver, max_iter=15, random_state=3,
              learning_rate_init=0.001)
    ours, theirs = _fit_both(MLPRegressor(**kw), skn.MLPRegressor(**kw), X, y)
    assert_same_model(ours, theirs, 1e-6 if solver != "lbfgs" else 1e-4,
                      1e-6 if solver != "lbfgs" else 1e-4)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_poisson_regressor_matches_sklearn(solver):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (300, 6))
    y = rng.poisson(np.exp(X @ np.array([0.5, -0.3, 0.2, 0.1, 0.0, 0.4]))).astype(float)
    kw = dict(hidden_layer_sizes=(8,), solver=solver, loss="poisson", max_iter=15,
              random_state=0, learning_rate_init=0.01)
    ours, theirs = _fit_both(MLPRegressor(**kw), skn.MLPRegressor(**kw), X, y)
    assert ours.out_activation_ == "exp"
    tol = 1e-4 if solver == "lbfgs" else 1e-6
    assert_same_model(ours, theirs, tol, tol)


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
def test_lbfgs_matches_sklearn(activation):
    X, y = _digits()
    kw = dict(hidden_layer_sizes=(24,), solver="lbfgs", activation=activation,
              max_iter=40, random_state=0, alpha=1e-4)
    ours, theirs = _fit_both(MLPClassifier(**kw), skn.MLPClassifier(**kw), X, y)
    assert_same_model(ours, theirs, 1e-4, 1e-4)


@pytest.mark.parametrize("n", [1, 7, 1797])
def test_reshuffle_is_sklearns_shuffle(n):
    from sklearn.utils import check_random_state, shuffle

    from fastdnn.estimators.mlp import reshuffle
    ours, theirs = check_random_state(5), check_random_state(5)
    a = b = np.arange(n)
    for _ in range(3):
        a, b = reshuffle(a, ours), shuffle(b, random_state=theirs)
        np.testing.assert_array_equal(a, b)


def test_early_stopping_decisions_match_sklearn():
    X, y = _digits()
    kw = dict(hidden_layer_sizes=(32,), early_stopping=True, validation_fraction=0.2,
              n_iter_no_change=3, tol=1e-3, max_iter=200, random_state=0)
    ours, theirs = _fit_both(MLPClassifier(**kw), skn.MLPClassifier(**kw), X, y)
    assert ours.n_iter_ == theirs.n_iter_ < 200           # the same epoch stops the run
    np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_)
    assert ours.best_validation_score_ == theirs.best_validation_score_
    assert_same_model(ours, theirs)


def test_tol_stop_matches_sklearn():
    X, y = _iris()
    kw = dict(hidden_layer_sizes=(10,), max_iter=500, tol=1e-3, random_state=0,
              learning_rate_init=0.01)
    ours, theirs = _fit_both(MLPClassifier(**kw), skn.MLPClassifier(**kw), X, y)
    assert ours.n_iter_ == theirs.n_iter_ < 500
    assert ours.best_loss_ == pytest.approx(theirs.best_loss_, rel=1e-6)
    assert_same_model(ours, theirs)


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_sample_weights_match_sklearn(solver):
    X, y = _digits()
    w = np.random.default_rng(0).uniform(0.1, 3.0, len(y))
    kw = dict(hidden_layer_sizes=(16,), solver=solver, max_iter=15, random_state=0)
    ours, theirs = _fit_both(MLPClassifier(**kw), skn.MLPClassifier(**kw), X, y,
                             sample_weight=w)
    tol = 1e-4 if solver == "lbfgs" else 1e-6
    assert_same_model(ours, theirs, tol, tol)


def test_float32_gives_float32_parameters_close_to_sklearn():
    X, y = _digits()
    X = X.astype(np.float32)
    kw = dict(hidden_layer_sizes=(16,), max_iter=15, random_state=0)
    ours, theirs = _fit_both(MLPClassifier(**kw), skn.MLPClassifier(**kw), X, y)
    assert all(c.dtype == np.float32 for c in ours.coefs_ + ours.intercepts_)
    assert_same_model(ours, theirs, 1e-4, 1e-4)


def test_partial_fit_and_warm_start_continue_like_sklearn():
    X, y = _digits()
    kw = dict(hidden_layer_sizes=(16,), random_state=0)
    ours, theirs = MLPClassifier(**kw), skn.MLPClassifier(**kw)
    for _ in range(4):
        ours.partial_fit(X, y, classes=np.arange(10))
        theirs.partial_fit(X, y, classes=np.arange(10))
    assert_same_model(ours, theirs)
    assert ours._optimizer.t == theirs._optimizer.t
    kw = dict(hidden_layer_sizes=(16,), solver="sgd", max_iter=5, warm_start=True,
              random_state=0)
    ours, theirs = MLPRegressor(**kw), skn.MLPRegressor(**kw)
    Xr, yr = _regression(1)
    for _ in range(3):
        _fit_both(ours, theirs, Xr, yr)
    assert_same_model(ours, theirs)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("kind", ["csr", "csc"])
def test_sparse_input_gives_sklearn_numbers(kind, solver, monkeypatch):
    import scipy.sparse

    from fastdnn.engine.mlp import MLPEngine
    X, y = _digits()
    X = getattr(scipy.sparse, f"{kind}_matrix")(X)
    densified = []                        # the kernels take the sparse rows (no dense X)
    epoch, loss_grad = MLPEngine.epoch, MLPEngine.loss_grad
    monkeypatch.setattr(MLPEngine, "epoch", lambda self, rows, *a: (
        densified.append(isinstance(rows, np.ndarray)), epoch(self, rows, *a))[1])
    monkeypatch.setattr(MLPEngine, "loss_grad", lambda self, theta, rows, *a: (
        densified.append(isinstance(rows, np.ndarray)), loss_grad(self, theta, rows, *a))[1])
    kw = dict(hidden_layer_sizes=(16,), solver=solver, max_iter=5, random_state=0)
    ours, theirs = _fit_both(MLPClassifier(**kw), skn.MLPClassifier(**kw), X, y)
    assert densified and not any(densified)
    tol = 1e-4 if solver == "lbfgs" else 1e-6
    assert_same_model(ours, theirs, tol, tol)


def test_same_bits_for_one_and_two_threads():
    import numba
    X, y = _digits()
    kw = dict(hidden_layer_sizes=(64, 32), max_iter=3, random_state=0, batch_size=600)
    fits = []
    for threads in (1, 2):
        numba.set_num_threads(threads)
        try:
            fits.append(_fit_both(MLPClassifier(**kw), MLPClassifier(**kw), X, y)[0])
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    a, b = fits
    assert a.loss_curve_ == b.loss_curve_
    for p, q in zip(a.coefs_, b.coefs_):
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_estimator_checks_pass(Estimator):
    from sklearn.utils.estimator_checks import check_estimator
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(Estimator(), on_fail=None)
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results
              if r["status"] == "failed"]
    assert not failed
    assert sum(r["status"] == "passed" for r in results) >= len(results) - 2


@pytest.mark.slow
def test_sklearn_mlp_test_module_passes_with_the_import_swapped(tmp_path):
    """scikit-learn's own sklearn/neural_network/tests/test_mlp.py, its import line changed
    to fastdnn.neural_network (scripts/sklearn_mlp_suite.py makes and runs the copy)."""
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "sklearn_mlp_suite.py"),
                          str(tmp_path)], capture_output=True, text=True, timeout=900)
    last = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else out.stderr
    assert out.returncode == 0, last
    assert " passed" in last and "failed" not in last and "error" not in last, last

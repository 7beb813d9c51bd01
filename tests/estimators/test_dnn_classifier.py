"""fastdnn.DNNClassifier: every check of scikit-learn's estimator_checks, none expected to
fail; exactly fastdnn.fit's numbers with the application's initialiser; warm starts that
continue bit for bit; Pipeline, GridSearchCV, cross_val_score, pickling and clone."""
import pickle

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn", reason="scikit-learn is not installed")

from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import fastdnn  # noqa: E402
from fastdnn.estimators import DNNClassifier  # noqa: E402


@parametrize_with_checks([DNNClassifier(max_iter=50, random_state=0)])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def digits(classes):
    from fastdnn.io.datasets import embedded, load_flat
    X, y, _, _ = load_flat(embedded("train_digits.h5"))
    return np.ascontiguousarray(X.T), y.ravel()


def test_same_numbers_as_fit_with_the_application_initialiser():
    X, y = digits(2)
    est = DNNClassifier((20, 7, 5), learning_rate=0.0075, max_iter=60, optimizer="gd",
                        mini_batch_size=None, init="app").fit(X, y)
    ref = fastdnn.fit(X.T, y.reshape(1, -1), [64, 20, 7, 5, 1], 0.0075, 60)
    assert np.array_equal(est.loss_curve_, ref.costs)
    for k, w in ref.parameters.items():
        assert np.array_equal(est.parameters_[k], w)
    assert np.array_equal(est.coefs_[0], ref.parameters["W1"].T)


@pytest.mark.parametrize("opts", [dict(), dict(optimizer="gd", mini_batch_size=None)])
def test_warm_start_continues_bit_for_bit(opts):
    X, y = digits(2)
    y = np.where(y == 1, "even", "odd")                       # labels of any type
    whole = DNNClassifier((16,), max_iter=30, random_state=3, **opts).fit(X, y)
    part = DNNClassifier((16,), max_iter=10, random_state=3, warm_start=True, **opts)
    part.fit(X, y).set_params(max_iter=20).fit(X, y)
    assert part.n_iter_ == 30 and np.array_equal(part.loss_curve_, whole.loss_curve_)
    assert all(np.array_equal(a, b) for a, b in zip(part.coefs_, whole.coefs_))


@pytest.mark.slow
def test_pipeline_grid_search_cross_validation_pickle_and_clone():
    X, y = digits(2)
    pipe = make_pipeline(StandardScaler(), DNNClassifier(max_iter=20, random_state=0))
    search = GridSearchCV(pipe, {"dnnclassifier__hidden_layer_sizes": [(16,), (32, 16)],
                                 "dnnclassifier__learning_rate": [1e-3, 1e-2]},
                          cv=3, n_jobs=2).fit(X, y)
    assert search.best_score_ > 0.85
    scores = cross_val_score(DNNClassifier(max_iter=20, random_state=0), X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.8
    model = search.best_estimator_
    again = pickle.loads(pickle.dumps(model))
    assert np.array_equal(again.predict_proba(X), model.predict_proba(X))
    fresh = clone(model)
    assert fresh.get_params()["dnnclassifier__max_iter"] == 20
    assert not hasattr(fresh.named_steps["dnnclassifier"], "classes_")


@pytest.mark.slow
def test_import_fastdnn_does_not_import_scikit_learn():
    import subprocess
    import sys
    code = "import sys, fastdnn; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd="/").stdout.strip()
    assert out == "False"

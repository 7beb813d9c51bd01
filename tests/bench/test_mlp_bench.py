"""fastdnn bench --mlp's parts on small settings: a row times both sides on the same fit (the
loss curves agree), the memory probe measures a fit, the table prints every row."""
import numpy as np
import pytest

pytest.importorskip("sklearn")
from fastdnn.bench import mlp  # noqa: E402
from fastdnn.neural_network import MLPClassifier  # noqa: E402


def test_row_times_the_same_fit_on_both_sides():
    r = mlp.row("digits", "adam, 3 epochs", np.float64, dict(max_iter=3), rounds=1)
    assert r["epochs"] == 3 and r["sklearn_s"] > 0 and r["fastdnn_s"] > 0
    assert r["speedup"] == pytest.approx(r["sklearn_s"] / r["fastdnn_s"])
    assert r["agree"] < 1e-12


def test_fit_added_measures_a_fit_and_the_table_shows_every_row():
    X, y = mlp.data("digits")
    added = mlp.fit_added(MLPClassifier, X, y, dict(hidden_layer_sizes=(16,)))
    assert 0 < added < 10 * X.nbytes
    row = mlp.row("digits", "sgd", np.float32, dict(solver="sgd", max_iter=2), rounds=1)
    text = mlp.table({"rows": [row], "memory": {"X_bytes": X.nbytes, "sklearn_bytes": 1e6,
                                                "fastdnn_bytes": 1.1e6,
                                                "beyond_sklearn_of_X": 0.1e6 / X.nbytes}})
    assert "digits" in text and "float32" in text and "memory added by fit" in text


def test_numbers_rows_match_sklearn():
    rows = mlp.numbers_rows(epochs=3)
    assert len(rows) == 3 * 3 * 4
    assert all(r["same_n_iter"] for r in rows)
    assert max(r["loss"] for r in rows if r["solver"] != "lbfgs") < 1e-6
    assert max(r["coefs"] for r in rows if r["solver"] != "lbfgs") < 1e-6
    assert max(max(r["loss"], r["coefs"]) for r in rows) < 1e-4

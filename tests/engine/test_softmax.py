"""K >= 2 classes: a softmax output and the categorical cross-entropy, one more code for the
same kernels. Checked against tests/naive.py (float64 within 1e-10 after 10 iterations, both
first-layer paths), against finite differences once, and for labels in every accepted form."""
import numpy as np
import pytest

import fastdnn
import naive
from conftest import assert_close
from fastdnn.engine.inference import accuracy, predictions, probabilities


def data(n, m, K, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, m))
    labels = np.argmax(rng.standard_normal((K, n)) @ X + rng.standard_normal((K, m)), axis=0)
    Y = np.zeros((K, m))
    Y[labels, np.arange(m)] = 1
    return X, Y, labels


@pytest.mark.parametrize("layers, m, gram", [([20, 10, 3], 300, False),
                                             ([50, 16, 8, 10], 700, False),
                                             ([400, 12, 4], 150, True),
                                             ([30, 2], 257, False)])
def test_softmax_training_matches_the_numpy_reference(layers, m, gram):
    X, Y, _ = data(layers[0], m, layers[-1])
    p0 = naive.init_deep_app(layers)
    ref, ref_costs = naive.train_softmax(X, Y, dict(p0), 0.1, 10)
    got = fastdnn.fit(X, Y, layers, 0.1, 10, parameters=p0, gram=gram)
    assert_close(got.costs, ref_costs, rtol=1e-10)
    for k in ref:
        assert_close(got.parameters[k], ref[k], rtol=1e-10)
    probas = probabilities(X, got.parameters)
    assert probas.shape == (layers[-1], m)
    assert_close(probas, naive.softmax(naive.forward_logits(X, got.parameters)), rtol=1e-10)


def test_softmax_with_every_optimizer_option_matches_the_reference():
    layers, m = [20, 10, 4], 400
    X, Y, labels = data(20, m, 4)
    p0 = naive.init_deep_app(layers)
    got = fastdnn.fit(X, labels, layers, 0.01, 3, parameters=p0, optimizer="adam",
                      mini_batch_size=64, lambd=0.1, keep_prob=0.8)
    ref, ref_costs = naive.train_optimized(X, Y, dict(p0), 3, lr=0.01, optimizer="adam",
                                           mini_batch_size=64, lambd=0.1, keep_prob=0.8,
                                           softmax=True)
    assert_close(got.costs, ref_costs, rtol=1e-10)
    for k in ref:
        assert_close(got.parameters[k], ref[k], rtol=1e-10)


def test_gradient_matches_finite_differences():
    layers = [5, 4, 3]
    X, Y, _ = data(5, 40, 3)
    p0 = naive.init_deep_app(layers)
    lr = 1e-3
    step = fastdnn.fit(X, Y, layers, lr, 1, parameters=p0)      # one step: W -= lr·dW
    cost = lambda p: naive.softmax_cost(naive.forward_logits(X, p), Y)
    for k in ("W1", "b2"):
        grad = (p0[k] - step.parameters[k]) / lr
        numeric = np.zeros_like(grad)
        for idx in np.ndindex(grad.shape):
            plus, minus = dict(p0), dict(p0)
            plus[k], minus[k] = p0[k].copy(), p0[k].copy()
            plus[k][idx] += 1e-6
            minus[k][idx] -= 1e-6
            numeric[idx] = (cost(plus) - cost(minus)) / 2e-6
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


def test_labels_in_every_form_train_the_same_bits():
    X, Y, labels = data(20, 300, 5)
    runs = [fastdnn.fit(X, y, [20, 8, 5], 0.1, 5) for y in (Y, labels, labels.reshape(1, -1))]
    assert runs[0].costs.tobytes() == runs[1].costs.tobytes() == runs[2].costs.tobytes()


def test_predictions_are_the_argmax_with_ties_to_the_lowest_class():
    params = {"W1": np.zeros((3, 2)), "b1": np.array([[1.0], [3.0], [3.0]])}
    X = np.ones((2, 4))
    np.testing.assert_array_equal(predictions(X, params), np.ones((1, 4)))
    X, Y, labels = data(20, 300, 5)
    r = fastdnn.fit(X, Y, [20, 8, 5], 0.3, 300)
    acc = accuracy(X, labels, r.parameters)
    assert acc == accuracy(X, Y, r.parameters) and acc > 0.4          # chance: 0.2


@pytest.mark.parametrize("Y, words", [
    (np.array([0, 1, 5]), ["labels 0..2"]),
    (np.array([[0.5, 0.5, 0], [0.5, 0.5, 1], [0, 0, 0]]), ["0 or 1"]),
    (np.array([[1, 1, 0], [0, 0, 1], [1, 0, 0]]), ["one-hot"]),
])
def test_bad_labels_name_the_problem(Y, words):
    X = np.ones((2, 3))
    with pytest.raises(ValueError) as info:
        fastdnn.fit(X, Y, [2, 3], 0.1, 1)
    for word in words:
        assert word in str(info.value)

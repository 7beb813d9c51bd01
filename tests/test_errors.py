"""Bad input gets a TypeError/ValueError naming the argument, what was seen and expected."""
import numpy as np
import pytest

import fastdnn
from fastdnn import pt

A = np.ones((3, 2))
W = np.ones((1, 3))
b = np.ones((1, 1))


@pytest.mark.parametrize("call, exc, words", [
    (lambda: fastdnn.linear_forward(A, np.ones((1, 4)), b), ValueError, ["W", "(1, 4)", "(3, 2)"]),
    (lambda: fastdnn.linear_forward(A, W, np.ones((2, 1))), ValueError, ["b", "(2, 1)", "(1, 1)"]),
    (lambda: fastdnn.linear_forward(np.ones(3), W, b), ValueError, ["A", "2-D", "(3,)"]),
    (lambda: fastdnn.linear_forward(np.ones((3, 2, 1)), W, b), ValueError, ["A", "(3, 2, 1)"]),
    (lambda: fastdnn.linear_forward(A.astype(complex), W, b), TypeError, ["A", "complex"]),
    (lambda: fastdnn.linear_forward("abc", W, b), TypeError, ["A", "str"]),
    (lambda: fastdnn.linear_forward(np.array([["a"]]), W, b), TypeError, ["A", "<U1"]),
    (lambda: fastdnn.linear_activation_forward(A, W, b, "tanh"), ValueError,
     ["activation", "'sigmoid'", "'relu'", "'tanh'"]),
    (lambda: pt.para_frente_linear_ativacao(A, W, b, ativacao="softmax"), ValueError, ["softmax"]),
    (lambda: fastdnn.relu_backward(np.ones((2, 2)), np.ones((2, 3))), ValueError,
     ["dA", "(2, 2)", "(2, 3)"]),
    (lambda: fastdnn.compute_cost(np.ones((1, 3)) / 2, np.ones((1, 4))), ValueError,
     ["AL", "(1, 3)", "Y", "(1, 4)"]),
    (lambda: fastdnn.linear_backward(np.ones((1, 5)), (A, W, b)), ValueError, ["dZ", "(1, 5)", "(1, 2)"]),
    (lambda: fastdnn.linear_backward(np.ones((1, 2)), (A, W)), TypeError, ["cache"]),
    (lambda: fastdnn.L_model_forward(A, {"W1": W}), ValueError, ["parameters", "1 entries"]),
    (lambda: fastdnn.L_model_forward(A, {"W1": W, "c1": b}), ValueError, ["b1", "c1"]),
    (lambda: fastdnn.update_parameters({"W1": W, "b1": b}, {"dW1": W}, 0.1), ValueError, ["db1"]),
    (lambda: fastdnn.update_parameters({"W1": W, "b1": b}, {"dW1": A, "db1": b}, 0.1), ValueError,
     ["dW1", "(3, 2)", "(1, 3)"]),
    (lambda: fastdnn.update_parameters({"W1": W, "b1": b}, {"dW1": W, "db1": b}, "0.1"),
     TypeError, ["learning_rate", "str"]),
    (lambda: fastdnn.update_parameters({"W1": W, "b1": b}, {"dW1": W, "db1": b}, float("nan")),
     ValueError, ["learning_rate", "nan"]),
    (lambda: fastdnn.initialize_parameters_deep([5, 0, 1]), ValueError, ["layer_dims[1]", "0"]),
    (lambda: fastdnn.initialize_parameters_deep([5]), ValueError, ["layer_dims"]),
    (lambda: fastdnn.initialize_parameters(2.5, 3, 1), TypeError, ["n_x", "float"]),
    (lambda: fastdnn.fit(A, np.array([[0, 1]]), [3, 1], num_iterations=-1), ValueError,
     ["num_iterations", "-1"]),
    (lambda: fastdnn.fit(A, np.array([[0, 2]]), [3, 1]), ValueError, ["Y", "0 or 1"]),
    (lambda: fastdnn.fit(A, np.array([[0, 1, 1]]), [3, 1]), ValueError, ["Y", "(1, 3)", "(1, 2)"]),
    (lambda: fastdnn.fit(np.array([[np.nan, 1.0]] * 3), np.array([[0, 1]]), [3, 1]), ValueError,
     ["X", "NaN"]),
    (lambda: fastdnn.fit(A, np.array([[0, 1]]), [4, 1]), ValueError, ["X", "layers_dims[0]"]),
])
def test_bad_input_message(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_failed_update_leaves_dict_unchanged():
    params = {"W1": W, "b1": b, "W2": W[:, :1], "b2": b}
    grads = {"dW1": W, "db1": b, "dW2": np.ones((5, 5)), "db2": b}
    with pytest.raises(ValueError):
        fastdnn.update_parameters(params, grads, 0.1)
    assert params["W1"] is W


def test_divergence_stops_with_iteration():
    X = np.random.default_rng(0).standard_normal((3, 20)) * 1e3
    Y = (X[:1] > 0).astype(int)
    with pytest.raises(fastdnn.DivergenceError, match="iteration"):
        fastdnn.fit(X, Y, [3, 4, 1], learning_rate=1e6, num_iterations=200, chunk=10)

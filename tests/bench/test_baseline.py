"""The speed baseline (fastdnn/bench/baseline.py) computes what the reference computes."""
import numpy as np

import naive
from conftest import assert_close
from fastdnn.bench import baseline


def test_baseline_training_matches_reference():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 50))
    Y = (rng.random((1, 50)) > 0.5).astype(int)
    p0 = naive.init_deep_app([30, 5, 3, 1])
    p, costs = baseline.train(X, Y, p0, 0.1, 20)
    p_ref, costs_ref = naive.train(X, Y, p0, 0.1, 20)
    assert_close(costs, costs_ref, rtol=1e-13)
    for k in p_ref:
        assert_close(p[k], p_ref[k], rtol=1e-13)


def test_baseline_functions_match_reference():
    rng = np.random.default_rng(1)
    Z, dA = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    np.testing.assert_array_equal(baseline.sigmoid(Z)[0], naive.sigmoid(Z))
    np.testing.assert_array_equal(baseline.relu(Z)[0], naive.relu(Z))
    np.testing.assert_array_equal(baseline.relu_backward(dA, Z), naive.relu_grad(dA, Z))
    assert_close(baseline.sigmoid_backward(dA, Z), naive.sigmoid_grad(dA, Z), rtol=1e-15)
    A, W, b = rng.standard_normal((5, 6)), rng.standard_normal((4, 5)), rng.standard_normal((4, 1))
    for act in ("relu", "sigmoid"):
        out, cache = baseline.linear_activation_forward(A, W, b, act)
        ref, Z2 = naive.layer_forward(A, W, b, act)
        np.testing.assert_array_equal(out, ref)
        got = baseline.linear_activation_backward(dA, cache, act)
        for g, r in zip(got, naive.layer_backward(naive.ACT[act][1](dA, Z2), A, W)):
            assert_close(g, r, rtol=1e-13)

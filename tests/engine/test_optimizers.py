"""fit's optimizer options (mini-batches, momentum, Adam, L2, dropout) against the plain-numpy
reference (tests/naive.py): float64 within 1e-10 relative after 3 epochs, each option and
combinations, on the scaling shapes at reduced size; the same bits for any thread count and
in the serial twins; the documented shuffle and mask functions; checked options."""
import numpy as np
import pytest

import fastdnn
import naive
from conftest import assert_close, every_core
from fastdnn.engine.settings import epoch_order

SHAPES = [([20, 10, 1], 300), ([50, 16, 8, 1], 700), ([100, 12, 12, 12, 1], 400),
          ([60, 24, 1], 257)]
OPTIONS = [dict(optimizer="gd", mini_batch_size=64),
           dict(optimizer="momentum", mini_batch_size=100),
           dict(optimizer="adam", mini_batch_size=64),
           dict(optimizer="adam"),
           dict(optimizer="momentum", beta=0.8),
           dict(lambd=0.7),
           dict(keep_prob=0.8),
           dict(optimizer="adam", mini_batch_size=50, lambd=0.3, keep_prob=0.7, seed=5),
           dict(optimizer="momentum", mini_batch_size=1000, lambd=0.1, keep_prob=0.9),
           dict(optimizer="gd", mini_batch_size=3, keep_prob=0.5, seed=2)]
LR = {"gd": 0.1, "momentum": 0.1, "adam": 0.01}


def data(layers, m, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((layers[0], m))
    Y = (X[:1] + 0.5 * rng.standard_normal((1, m)) > 0).astype(float)
    return X, Y


@pytest.mark.parametrize("layers, m", SHAPES)
@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_options_match_the_numpy_reference(layers, m, opts):
    X, Y = data(layers, m)
    p0 = naive.init_deep_app(layers)
    lr = LR[opts.get("optimizer", "gd")]
    ref, ref_costs = naive.train_optimized(X, Y, dict(p0), 3, lr=lr, **opts)
    got = fastdnn.fit(X, Y, layers, lr, 3, parameters=p0, **opts)
    assert_close(got.costs, ref_costs, rtol=1e-10)
    for k in ref:
        assert_close(got.parameters[k], ref[k], rtol=1e-10)


def test_float32_follows_the_reference():
    layers, m = [50, 16, 8, 1], 700
    X, Y = data(layers, m)
    p0 = naive.init_deep_app(layers)
    opts = dict(optimizer="adam", mini_batch_size=64, lambd=0.1, keep_prob=0.9)
    ref, ref_costs = naive.train_optimized(X, Y, dict(p0), 3, lr=0.01, **opts)
    got = fastdnn.fit(X.astype(np.float32), Y, layers, 0.01, 3, parameters=p0,
                      dtype=np.float32, **opts)
    assert got.parameters["W1"].dtype == np.float32
    assert_close(got.costs, ref_costs, rtol=1e-4)
    assert_close(got.parameters["W1"], ref["W1"], rtol=2e-3, scale=np.abs(ref["W1"]).max())


def test_defaults_are_the_course_algorithm_bit_for_bit():
    X, Y = data([30, 16, 8, 1], 2000)
    a = fastdnn.fit(X, Y, [30, 16, 8, 1], 0.05, 20)
    b = fastdnn.fit(X, Y, [30, 16, 8, 1], 0.05, 20, optimizer="gd", mini_batch_size=None,
                    lambd=0.0, keep_prob=1.0, seed=123)
    assert a.costs.tobytes() == b.costs.tobytes()
    assert all(a.parameters[k].tobytes() == b.parameters[k].tobytes() for k in a.parameters)


@pytest.mark.parametrize("opts", [OPTIONS[7], dict(optimizer="momentum", lambd=0.2,
                                                    keep_prob=0.8)])
def test_serial_twins_and_parallel_builds_give_the_same_bits(opts):
    X, Y = data([30, 16, 8, 1], 3000)
    runs = []
    for parallel in (True, False):
        with every_core(parallel):
            runs.append(fastdnn.fit(X, Y, [30, 16, 8, 1], 0.01, 3,
                                    **dict(opts, mini_batch_size=opts.get("mini_batch_size")
                                           and 1500)))
    assert runs[0].costs.tobytes() == runs[1].costs.tobytes()
    assert runs[0].parameters["W2"].tobytes() == runs[1].parameters["W2"].tobytes()


def test_documented_functions_reproduce():
    order = epoch_order(7, 3, 10)
    np.testing.assert_array_equal(order, np.random.default_rng([7, 3]).permutation(10))
    # The documented mask (kernels/optim.py, reproduced in naive.py) keeps about keep_prob
    # of the units; training with it matches naive.py (test_options_match_...).
    mask = naive.dropout_mask(1, 1, 1, 200, np.arange(500), 0.7)
    assert 0.67 < mask.mean() < 0.73


@pytest.mark.parametrize("kwargs, words", [
    (dict(optimizer="sgd"), ["optimizer", "'adam'", "'sgd'"]),
    (dict(mini_batch_size=0), ["mini_batch_size", ">= 1"]),
    (dict(beta=1.0), ["beta", "[0.0, 1.0)"]),
    (dict(beta2=-0.1), ["beta2"]),
    (dict(epsilon=0.0), ["epsilon", "> 0"]),
    (dict(lambd=-1.0), ["lambd", ">= 0"]),
    (dict(keep_prob=0.0), ["keep_prob", "(0.0, 1.0]"]),
    (dict(keep_prob=float("nan")), ["keep_prob"]),
    (dict(seed=-1), ["seed"]),
    (dict(optimizer="adam", gram=True), ["gram=True", "gram='auto'"]),
])
def test_bad_options_name_themselves(kwargs, words):
    X, Y = data([20, 10, 1], 50)
    with pytest.raises((ValueError, TypeError)) as info:
        fastdnn.fit(X, Y, [20, 10, 1], 0.1, 1, **kwargs)
    for word in words:
        assert word in str(info.value), (word, str(info.value))

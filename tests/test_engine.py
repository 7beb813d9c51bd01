"""The training engine and the application against the plain-numpy course loop."""
import numpy as np
import pytest

import fastdnn
import naive
from conftest import assert_close
from fastdnn.engine import Trainer, gram_is_cheaper
from fastdnn.training import fit


def synthetic(seed, n_x, m, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_x, m)).astype(dtype)
    Y = (X[:1] + 0.5 * rng.standard_normal((1, m)) > 0).astype(np.int64)
    return X, Y


@pytest.mark.parametrize("gram", [False, True])
@pytest.mark.parametrize("dims, m", [([5, 1], 40), ([30, 4, 1], 200), ([200, 8, 3, 1], 50),
                                     ([50, 6, 5, 4, 3, 2, 1], 80), ([3, 7, 1], 500)])
def test_fit_matches_course_loop_float64(dims, m, gram):
    X, Y = synthetic(len(dims) * m, dims[0], m)
    params0 = naive.init_deep_app(dims)
    ref_params, ref_costs = naive.train(X, Y, params0, 0.05, 300)
    result = fit(X, Y, dims, 0.05, 300, parameters=params0, gram=gram)
    assert_close(result.costs, ref_costs, rtol=1e-9)
    for k, v in ref_params.items():
        assert_close(result.parameters[k], v, rtol=1e-9)


@pytest.mark.parametrize("gram", [False, True])
def test_fit_float32(gram):
    X, Y = synthetic(1, 40, 60)
    params0 = naive.init_deep_app([40, 5, 1])
    _, ref_costs = naive.train(X, Y, params0, 0.05, 100)
    result = fit(X.astype(np.float32), Y, [40, 5, 1], 0.05, 100, parameters=params0,
                 dtype=np.float32, gram=gram)
    assert result.parameters["W1"].dtype == np.float32
    assert_close(result.costs, ref_costs, rtol=1e-4)


def test_gram_choice():
    assert gram_is_cheaper([12288, 20, 7, 5, 1], 209, 2500)
    assert not gram_is_cheaper([3, 7, 1], 500, 2500)               # n_x < m: direct is cheaper
    assert not gram_is_cheaper([12288, 20, 1], 10**5, 2500)         # G would not fit


def test_chunked_runs_equal_one_run_and_state_round_trip():
    X, Y = synthetic(3, 100, 30)
    params0 = naive.init_deep_app([100, 4, 1])
    for gram in (False, True):
        whole = Trainer(X, Y, params0, 0.1, gram=gram)
        c_whole = whole.run(np.empty(50))
        first = Trainer(X, Y, params0, 0.1, gram=gram)
        c1 = first.run(np.empty(20))
        resumed = Trainer(X, Y, params0, 0.1, gram=gram)
        resumed.load_state(first.state())
        c2 = resumed.run(np.empty(30))
        np.testing.assert_array_equal(np.concatenate([c1, c2]), c_whole)
        for k, v in whole.parameters().items():
            np.testing.assert_array_equal(resumed.parameters()[k], v)


def test_fit_does_not_modify_inputs():
    X, Y = synthetic(4, 20, 30)
    params0 = naive.init_deep_app([20, 3, 1])
    copies = {k: v.copy() for k, v in params0.items()}
    Xc = X.copy()
    fit(X, Y, [20, 3, 1], 0.1, 10, parameters=params0)
    np.testing.assert_array_equal(X, Xc)
    for k in copies:
        np.testing.assert_array_equal(params0[k], copies[k])


# ---- the real cat data (skips when ../shared is absent) ------------------------------------
COURSE_COSTS_L = ["0.771749", "0.672053", "0.648263", "0.611507", "0.567047", "0.540138",
                  "0.527930", "0.465477", "0.369126", "0.391747", "0.315187", "0.272700",
                  "0.237419", "0.199601", "0.189263", "0.161189", "0.148214", "0.137775",
                  "0.129740", "0.121225", "0.113821", "0.107839", "0.102855", "0.100897",
                  "0.092878"]


@pytest.fixture(scope="module")
def course_L_run(cat_data):
    X, Y = cat_data[0], cat_data[1]
    return naive.train(X, Y, naive.init_deep_app([12288, 20, 7, 5, 1]), 0.0075, 2500)


@pytest.mark.parametrize("gram", [False, True])
def test_cat_L_layer_parity_2500_iterations(cat_data, course_L_run, gram):
    X, Y = cat_data[0], cat_data[1]
    ref_params, ref_costs = course_L_run
    result = fit(X, Y, [12288, 20, 7, 5, 1], 0.0075, 2500, gram=gram)
    assert_close(result.costs, ref_costs, rtol=1e-9)
    for k, v in ref_params.items():
        assert_close(result.parameters[k], v, rtol=1e-9)
    assert ["%f" % c for c in result.costs[::100]] == ["%f" % c for c in ref_costs[::100]]


def test_cat_L_layer_model_prints_course_lines_and_accuracies(cat_data, capsys):
    X, Y, X_test, Y_test, _ = cat_data
    params = fastdnn.L_layer_model(X, Y, [12288, 20, 7, 5, 1], num_iterations=2500,
                                   print_cost=True)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"Cost after iteration {i * 100}: {c}" for i, c in enumerate(COURSE_COSTS_L)]
    p_train = fastdnn.predict(X, Y, params)
    p_test = fastdnn.predict(X_test, Y_test, params)
    out = capsys.readouterr().out.splitlines()
    assert out == ["Accuracy: 0.9856459330143539", "Accuracy: 0.8"]
    assert p_train.shape == (1, 209) and p_test.dtype == np.float64


def test_cat_two_layer_model_matches_course_loop(cat_data, capsys):
    X, Y, X_test, Y_test, _ = cat_data
    ref_params, ref_costs = naive.train(X, Y, naive.init_two_layer(12288, 7, 1), 0.0075, 2500)
    params = fastdnn.two_layer_model(X, Y, (12288, 7, 1), num_iterations=2500, print_cost=True)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 25
    printed = [float(line.split(": ")[1]) for line in lines]
    assert_close(np.array(printed), ref_costs[::100], rtol=1e-9)
    for k, v in ref_params.items():
        assert_close(params[k], v, rtol=1e-9)
    fastdnn.predict(X, Y, params)
    fastdnn.predict(X_test, Y_test, params)
    assert capsys.readouterr().out.splitlines() == ["Accuracy: 0.9999999999999998",
                                                    "Accuracy: 0.72"]


# The shapes of the scaling table, with fewer samples (enough for several chunks of tiles).
SCALE_SHAPES = {"tiny": ([20, 10, 1], 1000), "tabular": ([50, 64, 32, 1], 20000),
                "mnist-like": ([784, 128, 64, 1], 3000), "cifar-like": ([3072, 256, 128, 1], 2000),
                "cat-like": ([12288, 20, 7, 5, 1], 209)}


@pytest.mark.parametrize("name", list(SCALE_SHAPES))
def test_engine_parity_on_each_scaling_shape(name):
    dims, m = SCALE_SHAPES[name]
    rng = np.random.default_rng(len(dims))
    X = np.asfortranarray(rng.random((dims[0], m)))
    Y = (X[:1] + 0.1 * rng.standard_normal((1, m)) > 0.5).astype(np.int64)
    params0 = naive.init_deep_app(dims)
    ref_params, ref_costs = naive.train(X, Y, params0, 0.01, 10)
    trainer = Trainer(X, Y, params0, 0.01, gram=name == "cat-like")
    if name != "cat-like":
        assert trainer.tiles.chunks >= 2                 # the tiled path, in parallel
    costs = trainer.run(np.empty(10))
    assert_close(costs, ref_costs, rtol=1e-10)
    for k, v in ref_params.items():
        assert_close(trainer.parameters()[k], v, rtol=1e-10)
    result32 = fit(X.astype(np.float32), Y, dims, 0.01, 10, parameters=params0,
                   dtype=np.float32, gram=trainer.gram)
    assert_close(result32.costs, ref_costs, rtol=1e-4)


@pytest.mark.parametrize("m", [7, 5096])
def test_predictions_are_tiled_and_match_the_forward_pass(m):
    from fastdnn.inference import probabilities
    dims = [30, 16, 8, 1]
    X, _ = synthetic(3, 30, m)
    params = naive.init_deep_app(dims)
    expected, _ = naive.forward(X, params)
    p = probabilities(X, params)
    assert p.shape == (m,)
    assert_close(p, expected[0], rtol=1e-12)
    np.testing.assert_array_equal(fastdnn.inference.predictions(X, params), expected > 0.5)
    with pytest.raises(ValueError, match="parameters\\['W1'\\] has 30 columns but X has 29"):
        probabilities(X[:29], params)
    bad = dict(params, b2=np.zeros((3, 1)))
    with pytest.raises(ValueError, match="parameters\\['b2'\\] has shape \\(3, 1\\)"):
        fastdnn.inference.predictions(X, bad)

"""fit and Trainer against the plain-numpy course loop on both first-layer paths, the
path's choice, runs in pieces and their state, tiled predictions, divergence and bad input."""
import numpy as np
import pytest

import fastdnn
import naive
from conftest import assert_close
from fastdnn import Trainer, fit
from fastdnn.engine.gram import gram_is_cheaper
from fastdnn.engine.inference import predictions, probabilities
from fastdnn.engine import aligned
from fastdnn.engine.settings import checked
from fastdnn.engine.tiles import VECTOR_TILE, gram_chunks, step_tile
from helpers import random_net, synthetic


@pytest.mark.parametrize("gram", [False, True])
@pytest.mark.parametrize("dims, m", [([5, 1], 40), ([30, 4, 1], 200), ([200, 8, 3, 1], 50),
                                     ([50, 6, 5, 4, 3, 2, 1], 80), ([3, 7, 1], 500),
                                     ([60, 24, 1], 320)])     # Gram: S·G by the BLAS
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
    assert [gram_chunks(m) for m in (1, 99, 209, 399, 400, 10**5)] == [1, 1, 2, 3, 4, 8]
    assert gram_is_cheaper([12288, 20, 7, 5, 1], 209, 2500)
    assert not gram_is_cheaper([3, 7, 1], 500, 2500)               # n_x < m: direct is cheaper
    assert not gram_is_cheaper([12288, 20, 1], 10**5, 2500)         # G would not fit


def test_tile_widths():
    # a step of two tiles or more: the shapes' width; a mini-batch's tiles never wider than
    # it (rounded up to 8); halves where each is worth a core (float64 from 2^17
    # multiply-adds, float32 from 2^18)
    assert step_tile([50, 64, 32, 1], 100_000) == 256
    assert step_tile([64, 32, 16, 1], 20) == 24
    assert step_tile([64, 32, 16, 1], 64, 8) == 32 and step_tile([64, 32, 16, 1], 64, 4) == 64
    assert step_tile([50, 64, 32, 1], 64, 4) == 32 and step_tile([50, 64, 32, 1], 32, 4) == 32
    assert step_tile([20, 10, 1], 1000) == 504 and step_tile([20, 10, 1], 64) == 64
    # float32 networks all in the vector code: VECTOR_TILE on steps of two tiles or more
    assert step_tile([50, 64, 32, 1], 100_000, 4) == VECTOR_TILE == 128
    assert step_tile([100, 64, 64, 64, 64, 1], 50_000, 4) == 128
    assert step_tile([50, 64, 32, 1], 511, 4) == 256 and step_tile([50, 64, 32, 1], 512, 4) == 128
    assert step_tile([200, 64, 1], 50_000, 4) == 256          # layer 1 takes the BLAS
    # a large first layer: WIDE_TILE, halved where a later layer is mid-size in the vector
    # code, or where a tile of X would pass TILE_VALUES
    assert step_tile([784, 256, 1], 60_000) == 1024 == step_tile([1024, 1024, 1], 4096)
    assert step_tile([784, 128, 64, 1], 60_000) == 512 == step_tile([784, 128, 64, 10], 9000)
    assert step_tile([3072, 256, 128, 1], 10_000) == 1024 == step_tile([3072, 256, 1], 9000)
    assert step_tile([4096, 256, 1], 10_000) == 512


def test_aligned_zeros_start_on_a_line_with_whole_line_rows():
    assert aligned.zeros((4, 0), np.float64).shape == (4, 0)
    for dtype, shape in [(np.float32, (3, 50)), (np.float64, (2, 9)), (np.float32, (7,)),
                         (np.int64, (5, 8))]:
        a = aligned.zeros(shape, dtype)
        assert a.dtype == dtype and a.flags.c_contiguous and not a.any()
        assert a.ctypes.data % 64 == 0 and a.shape[0] == shape[0]
        if len(shape) == 2:
            per_line = 64 // np.dtype(dtype).itemsize
            assert a.shape[1] == -(-shape[1] // per_line) * per_line and a.strides[0] % 64 == 0
    G = aligned.zeros((5, 9), np.float64, padded=False)
    assert G.shape == (5, 9) and G.ctypes.data % 64 == 0


def _off_line(a):
    """a's values in a new array of a's shape whose data start one value past a cache line."""
    raw = np.zeros(a.size + 64 // a.itemsize + 1, a.dtype)
    start = (-raw.ctypes.data % 64) // a.itemsize + 1
    out = raw[start: start + a.size].reshape(a.shape)
    out[...] = a
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kw", [{}, dict(optimizer="adam", mini_batch_size=128)])
def test_workspace_on_cache_lines_and_where_it_lies_changes_no_bit(dtype, kw):
    # The engine's buffers start on cache lines (the vector code's whole-line loads); the
    # same run with every buffer one value off a line gives the same bits.
    X, Y, params = random_net(np.random.default_rng(5), [100, 64, 64, 1], 700, dtype)
    results = []
    for shifted in (False, True):
        tr = Trainer(X, Y, params, 0.05, dtype=dtype, settings=checked(**kw), gram=False)
        tiles = {k: a for k, a in tr.tiles._asdict().items()
                 if isinstance(a, np.ndarray) and a.dtype == dtype and a.ndim == 2 and a.size}
        state = {"theta": tr.net.theta, "grad": tr.net.grad}
        state |= {k: getattr(tr.opt, k) for k in ("v", "s") if getattr(tr.opt, k).size}
        if shifted:
            tr.tiles = tr.tiles._replace(**{k: _off_line(a) for k, a in tiles.items()})
            tr.net = tr.net._replace(**{k: _off_line(state[k]) for k in ("theta", "grad")})
            tr.opt = tr.opt._replace(**{k: _off_line(a) for k, a in state.items()
                                        if k in ("v", "s")})
            assert tr.tiles.acts.ctypes.data % 64 and tr.net.theta.ctypes.data % 64
        else:
            assert {"acts", "zs", "dA", "dZ", "gacc", "cbuf"} <= set(tiles)
            for name, a in (tiles | state).items():
                assert a.ctypes.data % 64 == 0 and (a.ndim == 1 or a.strides[0] % 64 == 0), name
        costs = np.empty(3)
        tr.run(costs)
        results.append((costs, tr.parameters()))
    (c0, p0), (c1, p1) = results
    assert np.array_equal(c0, c1) and all(np.array_equal(p0[k], p1[k]) for k in p0)


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


# Each form of the first layer's weight gradient (kernels/codes.py's rules, by the shapes):
# the BLAS (float32's summed transposed, or the rows form over blocks of samples, with Z_1
# by rows from W1^T for the fewest units, within their bounds), a small layer's lane dots, the
# rows form over X_t, and the transposed sums of wide tiles whose rows of X fill no whole
# vector (and of dW1^T do), in steps of CHUNKS chunks; a full-batch step's gradient (1/m included, over several chunks) against
# the course's.
@pytest.mark.parametrize("dims, m, dtype, form", [
    ([50, 64, 8, 1], 500, np.float32, "rows"), ([64, 64, 8, 1], 700, np.float32, "rows"),
    ([50, 64, 8, 1], 700, np.float32, "rows"), ([50, 64, 8, 1], 2200, np.float32, "transposed"),
    ([50, 40, 8, 1], 2200, np.float32, "rows"), ([50, 64, 8, 1], 4200, np.float64, "transposed"),
    ([20, 64, 8, 1], 4200, np.float64, "rows"), ([20, 64, 8, 1], 2200, np.float32, "transposed"),
    ([200, 64, 8, 1], 700, np.float64, "blas"), ([20, 10, 1], 700, np.float64, "dots"),
    ([200, 80, 8, 1], 700, np.float32, "blas, summed transposed"),
    ([1100, 16, 1], 700, np.float32, "blocks, Z by rows"),
    ([300, 32, 8, 1], 700, np.float32, "blocks, Z by rows"),
    ([300, 72, 8, 1], 700, np.float32, "blocks"),
    ([1100, 16, 1], 700, np.float64, "blas"),
    ([50, 64, 8, 1], 700, np.float64, "rows"),
    ([64, 32, 16, 1], 100, np.float64, "rows"), ([50, 64, 8, 1], 100, np.float32, "rows")])
def test_each_form_of_the_first_layer_weight_gradient(dims, m, dtype, form):
    from fastdnn import kernels as K
    from fastdnn.kernels.codes import blocked_dw1, rows_z1, transposed_dw1, transposed_w1_sums
    X, Y = synthetic(7, dims[0], m)
    params0 = naive.init_deep_app(dims)
    trainer = Trainer(X.astype(dtype), Y, params0, 0.01, dtype=dtype, gram=False)
    n1, n0, T, size = dims[1], dims[0], trainer.tiles.T, np.dtype(dtype).itemsize
    C, blas = trainer.tiles.chunks, K.codes.BLAS_OPENBLAS     # the default BLAS's forms
    assert C >= 2 and trainer.tiles.blas == blas
    assert form == ("transposed" if transposed_dw1(n1, n0, T, size, C) else
                    "blas, summed transposed" if transposed_w1_sums(n1, n0, T, size, C, blas)
                    else "blocks, Z by rows" if rows_z1(n1, n0, T, size, blas) else
                    "blocks" if blocked_dw1(n1, n0, T, size, blas) else
                    "blas" if not K.transposes_x(n1, n0, T, size) else
                    "dots" if K.small_layer(n1, n0) else "rows")
    cost = trainer.run(np.empty(1))[0]
    AL, tape = naive.forward(X, params0)
    grads = naive.backward(AL, Y, tape, input_grad=False)
    assert_close(cost, naive.cost(AL, Y), dtype)          # the forward pass's form too
    w1 = trainer.net.w_off[1]
    # float32: the forward pass's rounding bounds it (the BLAS form errs as much: 3-5e-5
    # at worst, 2e-7 in the median), not the product's form
    assert_close(trainer.net.grad[w1: w1 + n1 * n0].reshape(n1, n0), grads["dW1"], dtype,
                 rtol=1e-4 if dtype == np.float32 else None)


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
    from fastdnn.engine.inference import probabilities
    dims = [30, 16, 8, 1]
    X, _ = synthetic(3, 30, m)
    params = naive.init_deep_app(dims)
    expected, _ = naive.forward(X, params)
    p = probabilities(X, params)
    assert p.shape == (m,)
    assert_close(p, expected[0], rtol=1e-12)
    np.testing.assert_array_equal(fastdnn.predictions(X, params), expected > 0.5)
    with pytest.raises(ValueError, match="parameters\\['W1'\\] has 30 columns but X has 29"):
        probabilities(X[:29], params)
    bad = dict(params, b2=np.zeros((3, 1)))
    with pytest.raises(ValueError, match="parameters\\['b2'\\] has shape \\(3, 1\\)"):
        fastdnn.predictions(X, bad)


def test_divergence_stops_with_iteration():
    X = np.random.default_rng(0).standard_normal((3, 20)) * 1e3
    Y = (X[:1] > 0).astype(int)
    with pytest.raises(fastdnn.DivergenceError, match="iteration"):
        fastdnn.fit(X, Y, [3, 4, 1], learning_rate=1e6, num_iterations=200, chunk=10)


A = np.ones((3, 2))


@pytest.mark.parametrize("call, exc, words", [
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


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("gram", [False, True])
@pytest.mark.parametrize("z, y, what", [
    (40.0, 1, "y = 1 and a rounds to 1: the course's 0·log 0 is NaN"),
    (-800.0, 0, "y = 0 and a rounds to 0: NaN too"),
    (-800.0, 1, "the wrong side: log 0 = -inf, here a large finite cost"),
    (40.0, 0, "the wrong side the other way"),
])
def test_saturated_outputs_give_the_cost_from_their_logits(z, y, what, gram, dtype):
    # One sample, one unit: its logit is W1·x. The course's formula gives NaN or inf here;
    # the engine's cost is the cross-entropy computed from the logit.
    X, Y = np.ones((1, 1)), np.array([[y]])
    params = {"W1": np.array([[z]]), "b1": np.zeros((1, 1))}
    costs = Trainer(X.astype(dtype), Y, params, 1e-9, gram=gram, dtype=dtype).run(np.empty(1))
    expected = naive.logit_cost(np.array([[z]]), Y)
    assert np.isfinite(costs[0]), what
    assert_close(costs[0], expected, rtol=1e-12 if dtype == np.float64 else 1e-6)


def test_saturated_and_finite_terms_mix_in_one_cost():
    # Most terms are the course's (bit for bit); the saturated ones come from their logits.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 5000))
    Y = (X[:1] > 0).astype(float)
    params = naive.init_deep_app([30, 6, 1])
    params["W2"] = params["W2"] * 200.0                       # many outputs round to 0 or 1
    Z = naive.forward_logits(X, params)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        assert not np.isfinite(naive.cost(naive.sigmoid(Z), Y))
    costs = Trainer(X, Y, params, 0.01, gram=False).run(np.empty(1))
    assert_close(costs[0], naive.training_cost(Z, Y), rtol=1e-12)


def test_separable_data_trains_with_adam_to_the_end():
    # Outputs round to 1 within the first epoch: the cost stays finite and goes down.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 20_000))
    Y = (X[0] + 0.3 * X[1] > 0).astype(float).reshape(1, -1)
    r = fit(X, Y, [40, 64, 1], 0.01, 4, optimizer="adam", mini_batch_size=64)
    assert np.isfinite(r.costs).all() and (np.diff(r.costs) < 0).all(), r.costs

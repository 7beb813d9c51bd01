"""The initialisers, L_model_forward/backward, compute_cost and update_parameters against
the plain-numpy reference: random networks in every layout, the cost's sizes and edges,
fuzzing, and bad input (an update that fails changes nothing)."""
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import fastdnn
import naive
from conftest import assert_close
from helpers import DTYPES, FUZZ, LAYOUT_NAMES, LAYOUTS, arrays, close, layout, random_net


CASES = [(seed, depth, dtype, kind) for seed, (depth, kind) in
         enumerate([(d, k) for d in (1, 2, 3, 4, 6) for k in LAYOUTS])
         for dtype in (np.float64, np.float32)]


@pytest.mark.parametrize("seed, depth, dtype, kind", CASES)
def test_random_network_forward_backward_update(seed, depth, dtype, kind):
    rng = np.random.default_rng(seed)
    dims = [int(d) for d in rng.integers(1, 40, depth)] + [1]
    m = int(rng.integers(1, 300))
    X, Y, params = random_net(rng, dims, m, dtype)
    Xl = layout(X, kind)
    params_l = {k: layout(v, kind) for k, v in params.items()}
    snapshot = {k: v.copy() for k, v in params_l.items()}

    AL, caches = fastdnn.L_model_forward(Xl, params_l)
    AL_ref, tape = naive.forward(X, params)
    assert AL.dtype == dtype
    assert_close(AL, AL_ref, dtype)
    assert len(caches) == len(dims) - 1
    for (lin, Z), (A_prev, W, b, Z_ref) in zip(caches, tape):
        assert lin[1].shape == W.shape and lin[2].shape == b.shape
        assert_close(Z, Z_ref, dtype)
    assert caches[0][0][0] is Xl                   # the cache holds the caller's own X

    # Keep AL away from 0/1 so the cost and dAL are finite in both.
    assert_close(fastdnn.compute_cost(AL, Y), naive.cost(AL_ref, Y), dtype)
    grads = fastdnn.L_model_backward(AL, Y, caches)
    grads_ref = naive.backward(AL_ref, Y, tape)
    assert sorted(grads) == sorted(grads_ref)
    for k in grads_ref:
        assert grads[k].dtype == grads_ref[k].dtype      # numpy promotes int labels to float64
        assert_close(grads[k], grads_ref[k], dtype, rtol=1e-10 if dtype == np.float64 else 2e-4)

    new = fastdnn.update_parameters(dict(params_l), grads, 0.05)
    ref = naive.update(params, grads, 0.05)
    for k in ref:
        assert_close(new[k], ref[k], dtype)
    for k, v in params_l.items():                  # inputs never modified
        np.testing.assert_array_equal(v, snapshot[k])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("m", [1, 3, 4095, 4097, 1 << 17])
def test_compute_cost_sizes_and_soft_labels(dtype, m):
    rng = np.random.default_rng(m)
    AL = rng.uniform(0.001, 0.999, (1, m)).astype(dtype)
    for Y in ((rng.random((1, m)) > 0.5).astype(np.int64), rng.random((1, m)).astype(dtype)):
        cost = fastdnn.compute_cost(AL, Y)
        ref = naive.cost(AL, Y)
        assert cost.dtype == np.result_type(AL, Y).type(0).dtype or dtype == np.float32
        assert_close(cost, ref, dtype, rtol=1e-12 if dtype == np.float64 else 1e-5)


@pytest.mark.parametrize("AL, Y, warns", [
    ([[0.0, 0.5]], [[1, 0]], True),       # log(0) -> cost inf
    ([[1.0, 0.5]], [[1, 1]], True),       # 0 * log(0) -> nan
    ([[0.0, 0.5]], [[0, 1]], True),
    ([[1.5, 0.5]], [[1, 1]], True),       # log of a negative -> nan
    ([[np.nan, 0.5]], [[1, 0]], False)])  # NaN propagates silently in numpy too
def test_compute_cost_edges_match_numpy(AL, Y, warns):
    AL, Y = np.array(AL), np.array(Y)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        cost = fastdnn.compute_cost(AL, Y)
    assert any(issubclass(w.category, RuntimeWarning) for w in seen) == warns
    with np.errstate(all="ignore"):
        ref = naive.cost(AL, Y)
    assert (np.isnan(cost) and np.isnan(ref)) or cost == ref


@FUZZ
@given(st.data(), DTYPES, st.integers(1, 5), st.integers(1, 40))
def test_fuzz_model_forward_backward_update(data, dtype, depth, m):
    dims = [data.draw(st.integers(1, 10)) for _ in range(depth)] + [1]
    X = data.draw(arrays((dims[0], m), dtype, 1.0))
    params = {}
    for l in range(1, len(dims)):
        params[f"W{l}"] = data.draw(arrays((dims[l], dims[l - 1]), dtype, 1.0)) / np.sqrt(dims[l - 1]).astype(dtype)
        params[f"b{l}"] = data.draw(arrays((dims[l], 1), dtype, 0.1))
    AL, caches = fastdnn.L_model_forward(X, params)
    AL_ref, tape = naive.forward(np.array(X), {k: np.array(v) for k, v in params.items()})
    close(AL, AL_ref, dtype)
    assert len(caches) == depth and caches[0][0][0] is X
    AL_safe = np.clip(AL_ref, 0.02, 0.98).astype(dtype)      # keep dAL finite
    Y = (np.arange(m) % 2).reshape(1, m).astype(dtype)
    grads = fastdnn.L_model_backward(AL_safe, Y, caches)
    ref = naive.backward(AL_safe, Y, tape)
    assert sorted(grads) == sorted(ref)
    # Errors are measured against the network's largest gradient: a bias gradient is a sum
    # that can cancel to almost nothing, where numpy's own float32 rounding is larger than
    # fastdnn's difference from it (seen: db2 = 2.3e-6, numpy float32 off by 1.7e-8 from the
    # float64 value, fastdnn by 7e-10).
    scale = max(float(np.abs(g).max()) for g in ref.values())
    for k in ref:
        close(grads[k], ref[k], dtype, scale=scale)
    lr = data.draw(st.floats(1e-4, 1.0))
    new = fastdnn.update_parameters(dict(params), grads, lr)
    for k, v in naive.update({k: np.array(v) for k, v in params.items()}, ref, lr).items():
        # Scale: the update's terms. P - lr*G can cancel (seen: b1 = -0.00699 + 0.00699 =
        # -3.3e-6), and fastdnn rounds once from float64 where numpy's float32 rounds twice.
        # G carries the error the gradient check allowed (against the largest gradient): a
        # bias gradient that cancels to almost nothing (seen: db1 = -1.4e-6, from 30 terms
        # near 0.5, off by 3e-9 in float32) passes it, and lr times it reaches the update.
        terms = np.abs(params[k]).max() + lr * scale
        close(new[k], v.astype(dtype), dtype, scale=terms)


@FUZZ
@given(st.data(), DTYPES, st.integers(1, 5000), st.booleans())
def test_fuzz_compute_cost(data, dtype, m, soft):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    AL = rng.uniform(1e-6, 1 - 1e-6, (1, m)).astype(dtype)
    Y = (rng.random((1, m)) if soft else (rng.random((1, m)) > 0.5)).astype(dtype)
    cost = fastdnn.compute_cost(layout(AL, data.draw(LAYOUT_NAMES)), Y)
    assert cost.dtype == naive.cost(AL, Y).dtype
    # The reference in float64 on the same inputs. In float32, 1 - AL rounds as numpy's
    # (the course's) does: up to 3e-8 absolute, so log(1 - AL) of a small AL is off by that
    # much, 4e-5 relative to a cost near 4e-4 (found by this test, m = 1, label 0: 0.0022419
    # against 0.00224195). float32 costs are held to 1e-5 relative or one float32 epsilon
    # absolute, whichever is larger (scale: eps / rtol).
    ref = naive.cost(AL.astype(np.float64), Y.astype(np.float64))
    if dtype == np.float64:
        assert_close(cost, ref, np.float64, rtol=1e-12)
    else:
        assert_close(cost, ref, np.float64, rtol=1e-5, scale=np.finfo(np.float32).eps / 1e-5)


def test_failed_update_leaves_dict_unchanged():
    params = {"W1": W, "b1": b, "W2": W[:, :1], "b2": b}
    grads = {"dW1": W, "db1": b, "dW2": np.ones((5, 5)), "db2": b}
    with pytest.raises(ValueError):
        fastdnn.update_parameters(params, grads, 0.1)
    assert params["W1"] is W


def test_L_model_backward_label_count_mismatch():
    with pytest.raises(ValueError, match=r"Y has shape \(1, 3\).*AL has shape \(1, 2\)"):
        fastdnn.L_model_backward(np.full((1, 2), 0.5), np.ones((1, 3)), [((A, W, b), np.ones((1, 2)))])


def test_grads_not_a_dict():
    with pytest.raises(TypeError, match="grads must be a dict"):
        fastdnn.update_parameters({"W1": W, "b1": b}, [W, b], 0.1)


A = np.ones((3, 2))
W = np.ones((1, 3))
b = np.ones((1, 1))


@pytest.mark.parametrize("call, exc, words", [
    (lambda: fastdnn.compute_cost(np.ones((1, 3)) / 2, np.ones((1, 4))), ValueError,
     ["AL", "(1, 3)", "Y", "(1, 4)"]),
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
])
def test_bad_input_message(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))

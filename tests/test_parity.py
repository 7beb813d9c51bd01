"""fastdnn against the plain-numpy reference on random networks, dtypes and memory layouts."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fastdnn
import naive
from conftest import assert_close

LAYOUTS = ["C", "F", "strided", "readonly"]


def layout(x, kind):
    """The same values as x in another memory layout."""
    if kind == "F":
        return np.asfortranarray(x)
    if kind == "strided":
        big = np.zeros((x.shape[0], 2 * x.shape[1]), x.dtype)
        big[:, ::2] = x
        return big[:, ::2]
    if kind == "readonly":
        y = x.copy()
        y.flags.writeable = False
        return y
    return np.ascontiguousarray(x)


def random_net(rng, dims, m, dtype):
    X = rng.standard_normal((dims[0], m)).astype(dtype)
    params = {}
    for l in range(1, len(dims)):
        params[f"W{l}"] = (rng.standard_normal((dims[l], dims[l - 1])) /
                           np.sqrt(dims[l - 1])).astype(dtype)
        params[f"b{l}"] = (0.1 * rng.standard_normal((dims[l], 1))).astype(dtype)
    Y = (rng.random((1, m)) > 0.5).astype(np.int64)
    return X, Y, params


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
@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (1, 1 << 17), (300, 700)])
def test_elementwise_functions(dtype, shape):
    rng = np.random.default_rng(sum(shape))
    Z = (rng.standard_normal(shape) * 10).astype(dtype)
    dA = rng.standard_normal(shape).astype(dtype)
    A, cache = fastdnn.sigmoid(Z)
    assert cache is Z and A.dtype == dtype
    assert_close(A, naive.sigmoid(Z), dtype)
    A, cache = fastdnn.relu(Z)
    assert cache is Z
    np.testing.assert_array_equal(A, naive.relu(Z))
    np.testing.assert_array_equal(fastdnn.relu_backward(dA, Z), naive.relu_grad(dA, Z))
    # dA*s*(1-s) cancels in 1-s where s ~ 1: numpy's own float rounding of s sets the error
    # there, so compare at the array's scale (an absolute error of a few ulps of max|dZ|).
    ref = naive.sigmoid_grad(dA, Z)
    assert_close(fastdnn.sigmoid_backward(dA, Z), ref, dtype, scale=np.abs(ref).max())


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


def test_relu_nan_and_signed_zero_like_numpy():
    Z = np.array([[np.nan, -0.0, 0.0, -1.0, 2.0, np.inf, -np.inf]])
    A, _ = fastdnn.relu(Z)
    ref = np.maximum(0, Z)
    np.testing.assert_array_equal(A, ref)
    np.testing.assert_array_equal(np.signbit(A), np.signbit(ref))
    dA = np.arange(7.0).reshape(1, 7)
    np.testing.assert_array_equal(fastdnn.relu_backward(dA, Z), naive.relu_grad(dA, Z))


def test_sigmoid_saturates_like_numpy():
    Z = np.array([[-1000.0, -745.2, -709.0, -40.0, 0.0, 40.0, 800.0, np.inf, -np.inf, np.nan]])
    with np.errstate(over="ignore"):
        ref = naive.sigmoid(Z)
    A, _ = fastdnn.sigmoid(Z)
    assert_close(A, ref, rtol=1e-15, scale=0)


def test_integer_and_mixed_inputs():
    A = np.array([[1, 2], [3, 4]])
    W = np.array([[1, -1]])
    b = np.array([[1]])
    Z, _ = fastdnn.linear_forward(A, W, b)
    np.testing.assert_array_equal(Z, np.dot(W, A) + b)
    Z32, _ = fastdnn.linear_forward(A.astype(np.float32), W.astype(np.float32), b.astype(np.float32))
    assert Z32.dtype == np.float32
    Zmix, _ = fastdnn.linear_forward(A.astype(np.float32), W.astype(np.float64), b)
    assert Zmix.dtype == np.float64


# ---- properties (hypothesis) --------------------------------------------------------------
floats = st.floats(-50, 50, allow_nan=False, width=64)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 9), st.integers(0, 2**32 - 1),
       st.sampled_from([np.float64, np.float32]), st.sampled_from(LAYOUTS))
def test_property_linear_activation_round_trip(n, n_prev, m, seed, dtype, kind):
    rng = np.random.default_rng(seed)
    A = layout(rng.standard_normal((n_prev, m)).astype(dtype), kind)
    W = layout(rng.standard_normal((n, n_prev)).astype(dtype), kind)
    b = rng.standard_normal((n, 1)).astype(dtype)
    dA = rng.standard_normal((n, m)).astype(dtype)
    for act in ("relu", "sigmoid"):
        out, cache = fastdnn.linear_activation_forward(A, W, b, act)
        ref, Z = naive.layer_forward(np.array(A), np.array(W), b, act)
        assert_close(out, ref, dtype)
        got = fastdnn.linear_activation_backward(dA, cache, act)
        if dtype == np.float64:
            dZ = naive.ACT[act][1](dA, Z)
            for g, r in zip(got, naive.layer_backward(dZ, np.array(A), np.array(W))):
                assert g.shape == r.shape and g.dtype == dtype
                assert_close(g, r, dtype, rtol=1e-11)
            continue
        # float32: the reference in float64 from the same inputs, errors measured against the
        # size of each sum's terms (a float32 sum of 9 terms that cancel can be off by 5x
        # rtol·|result| in numpy's float32 as much as in fastdnn's).
        A64, W64 = np.array(A, np.float64), np.array(W, np.float64)
        Z64 = W64 @ A64 + np.asarray(b, np.float64)
        dZ = naive.ACT[act][1](np.asarray(dA, np.float64), Z64)
        terms = (np.abs(W64).T @ np.abs(dZ), np.abs(dZ) @ np.abs(A64).T / m,
                 np.abs(dZ).sum(axis=1, keepdims=True) / m)
        for g, r, t in zip(got, naive.layer_backward(dZ, A64, W64), terms):
            assert g.shape == r.shape and g.dtype == dtype
            assert_close(g, r, np.float64, rtol=1e-4, scale=t.max() if t.size else 0.0)


@settings(max_examples=300, deadline=None)
@given(st.lists(floats, min_size=1, max_size=64))
def test_property_activations_any_values(values):
    Z = np.array([values])
    np.testing.assert_array_equal(fastdnn.relu(Z)[0], np.maximum(0, Z))
    assert_close(fastdnn.sigmoid(Z)[0], naive.sigmoid(Z), rtol=1e-15, scale=0)

"""Hypothesis fuzzing: every API function against the numpy reference over random shapes,
dtypes, memory layouts and value ranges (saturating sigmoids, exact zeros, signed zeros).

4,000 generated cases in all (EXAMPLES per test, four tests covering all 14 functions).
"""
import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

import fastdnn
import naive
from conftest import assert_close

EXAMPLES = 1000
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
DTYPES = st.sampled_from([np.float64, np.float32])
LAYOUTS = st.sampled_from(["C", "F", "strided", "readonly"])
SCALES = st.sampled_from([1e-3, 1.0, 30.0, 800.0])         # 800: sigmoid saturates both ways
RTOL = {np.float64: 1e-10, np.float32: 1e-4}


def arrange(x, layout):
    if layout == "F":
        return np.asfortranarray(x)
    if layout == "strided":
        big = np.zeros((x.shape[0], 2 * x.shape[1]), x.dtype)
        big[:, 1::2] = x
        return big[:, 1::2]
    if layout == "readonly":
        x = x.copy()
        x.flags.writeable = False
    return x


@st.composite
def arrays(draw, shape=None, dtype=None, scale=None):
    shape = shape or (draw(st.integers(1, 6)), draw(st.integers(1, 40)))
    dtype = dtype or draw(DTYPES)
    scale = scale or draw(SCALES)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal(shape) * scale
    x[rng.random(shape) < 0.05] = 0.0                         # exact zeros
    x[rng.random(shape) < 0.02] = -0.0                        # and negative zeros
    return arrange(x.astype(dtype), draw(LAYOUTS))


def close(actual, expected, dtype, scale=None):
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    assert_close(actual, expected, dtype, rtol=RTOL[dtype], scale=scale)


@SETTINGS
@given(st.data(), DTYPES)
def test_fuzz_activations(data, dtype):
    Z = data.draw(arrays(dtype=dtype))
    dA = data.draw(arrays(shape=Z.shape, dtype=dtype, scale=1.0))
    with np.errstate(over="ignore"):
        close(fastdnn.sigmoid(Z)[0], naive.sigmoid(np.array(Z)), dtype)
        ref = naive.sigmoid_grad(np.array(dA), np.array(Z))
    A = fastdnn.relu(Z)[0]
    np.testing.assert_array_equal(A, naive.relu(np.array(Z)))
    np.testing.assert_array_equal(np.signbit(A), np.signbit(naive.relu(np.array(Z))))
    np.testing.assert_array_equal(fastdnn.relu_backward(dA, Z), naive.relu_grad(np.array(dA), Z))
    close(fastdnn.sigmoid_backward(dA, Z), ref, dtype, scale=np.abs(ref).max())


@st.composite
def layer(draw, dtype):
    n, n_prev, m = draw(st.integers(1, 6)), draw(st.integers(1, 8)), draw(st.integers(1, 30))
    A = draw(arrays((n_prev, m), dtype, 1.0))
    W = draw(arrays((n, n_prev), dtype, 1.0))
    b = draw(arrays((n, 1), dtype, 1.0))
    return A, W, b


def term_scales(dZ, A, W):
    """The size of the terms each backward output sums: (dA_prev, dW, db). Sums can cancel to
    almost nothing, so errors are measured against their terms, not their (tiny) result."""
    n = W.shape[0]                                   # dA_prev sums n terms W[k, i] dZ[k, j]
    dZ, A, W = (float(np.abs(np.asarray(x, np.float64)).max()) for x in (dZ, A, W))
    return n * W * dZ, dZ * A, dZ


@SETTINGS
@given(st.data(), DTYPES, st.sampled_from(["relu", "sigmoid"]))
def test_fuzz_linear_layers(data, dtype, activation):
    A, W, b = data.draw(layer(dtype))
    Z_ref = naive.layer_forward(np.array(A), np.array(W), np.array(b))
    z_scale = W.shape[1] * np.abs(W).max() * np.abs(A).max() + np.abs(b).max()
    Z, cache = fastdnn.linear_forward(A, W, b)
    close(Z, Z_ref, dtype, scale=z_scale)
    assert cache[0] is A and cache[1] is W and cache[2] is b
    out, (lin, Z2) = fastdnn.linear_activation_forward(A, W, b, activation)
    out_ref, _ = naive.layer_forward(np.array(A), np.array(W), np.array(b), activation)
    close(out, out_ref, dtype, scale=z_scale)
    dZ = data.draw(arrays(Z.shape, dtype, 1.0))
    for got, ref, scale in zip(fastdnn.linear_backward(dZ, (A, W, b)),
                               naive.layer_backward(np.array(dZ), np.array(A), np.array(W)),
                               term_scales(dZ, A, W)):
        close(got, ref, dtype, scale=scale)
    dA = data.draw(arrays(Z.shape, dtype, 1.0))
    dZ_ref = naive.ACT[activation][1](np.array(dA), Z2)
    for got, ref, scale in zip(fastdnn.linear_activation_backward(dA, (lin, Z2), activation),
                               naive.layer_backward(dZ_ref, np.array(A), np.array(W)),
                               term_scales(dZ_ref, A, W)):
        close(got, ref, dtype, scale=scale)


@SETTINGS
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
        terms = np.abs(params[k]).max() + lr * np.abs(ref["d" + k]).max()
        close(new[k], v.astype(dtype), dtype, scale=terms)


@SETTINGS
@given(st.data(), DTYPES, st.integers(1, 5000), st.booleans())
def test_fuzz_compute_cost(data, dtype, m, soft):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    AL = rng.uniform(1e-6, 1 - 1e-6, (1, m)).astype(dtype)
    Y = (rng.random((1, m)) if soft else (rng.random((1, m)) > 0.5)).astype(dtype)
    cost = fastdnn.compute_cost(arrange(AL, data.draw(LAYOUTS)), Y)
    assert cost.dtype == naive.cost(AL, Y).dtype
    # The reference in float64 on the same inputs: numpy's float32 `log(1 - AL)` loses up to
    # 3e-5 relative to the rounding of 1 - AL when AL is small (found by this test, m=1),
    # where fastdnn's float32 cost stays within 1e-7 of the exact value.
    ref = naive.cost(AL.astype(np.float64), Y.astype(np.float64))
    assert_close(cost, ref, np.float64, rtol=1e-12 if dtype == np.float64 else 1e-5)

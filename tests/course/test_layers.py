"""linear_forward, linear_activation_forward and their backward passes against the
plain-numpy reference: integer and mixed inputs, properties, fuzzing, and bad input."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fastdnn
import naive
from conftest import assert_close
from fastdnn import pt
from helpers import DTYPES, FUZZ, LAYOUTS, arrays, close, layout


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


@FUZZ
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


def test_cache_Z_shape_mismatch_is_named():
    with pytest.raises(ValueError, match=r"cache\[1\] \(Z\).*\(1, 3\).*\(1, 2\)"):
        fastdnn.linear_activation_backward(np.ones((1, 2)), ((A, W, b), np.ones((1, 3))), "relu")


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
    (lambda: fastdnn.linear_backward(np.ones((1, 5)), (A, W, b)), ValueError, ["dZ", "(1, 5)", "(1, 2)"]),
    (lambda: fastdnn.linear_backward(np.ones((1, 2)), (A, W)), TypeError, ["cache"]),
])
def test_bad_input_message(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))

"""sigmoid, relu and their backward passes (dnn_utils) against the plain-numpy reference:
parity, properties, fuzzing over shapes, dtypes, layouts and saturating values, and
bad input."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fastdnn
import naive
from conftest import assert_close
from helpers import FUZZ, DTYPES, arrays, close


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


floats = st.floats(-50, 50, allow_nan=False, width=64)


@settings(max_examples=300, deadline=None)
@given(st.lists(floats, min_size=1, max_size=64))
def test_property_activations_any_values(values):
    Z = np.array([values])
    np.testing.assert_array_equal(fastdnn.relu(Z)[0], np.maximum(0, Z))
    assert_close(fastdnn.sigmoid(Z)[0], naive.sigmoid(Z), rtol=1e-15, scale=0)


@FUZZ
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


@pytest.mark.parametrize("call, exc, words", [
    (lambda: fastdnn.relu_backward(np.ones((2, 2)), np.ones((2, 3))), ValueError,
     ["dA", "(2, 2)", "(2, 3)"]),
])
def test_bad_input_message(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))

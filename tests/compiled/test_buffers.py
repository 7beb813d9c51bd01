"""kernels/buffers.py's helpers against numpy: the add loop, and the cache-line request
(a hint: it must leave every value as it was, over any range, empty ranges and an array's
last line included)."""
import numba
import numpy as np
import pytest

from fastdnn.kernels.buffers import add_into, copy, prefetch_for_write


@numba.njit
def _copy_add(out, a, b):
    copy(out, a)
    add_into(out, b)


@numba.njit
def _prefetch(a, k0, k1):
    prefetch_for_write(a, k0, k1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_copy_then_add_is_numpys_sum(dtype):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(37).astype(dtype), rng.standard_normal(37).astype(dtype)
    out = np.empty_like(a)
    _copy_add(out, a, b)
    np.testing.assert_array_equal(out, a + b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("k0, k1", [(0, 0), (0, 1), (3, 29), (0, 100), (99, 100), (50, 50)])
def test_prefetch_for_write_changes_nothing(dtype, k0, k1):
    a = np.arange(100).astype(dtype)
    before = a.copy()
    _prefetch(a, k0, k1)
    np.testing.assert_array_equal(a, before)

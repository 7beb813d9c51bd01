"""kernels/lanes.py and transpose.py: the vector forms give exactly what their scalar
definitions give (sum8's 8 accumulators, a transpose's moves)."""
import numba
import numpy as np
import pytest

from fastdnn.kernels.lanes import sum8
from fastdnn.kernels.transpose import transpose, transpose_strided


def sum8_reference(buf):
    """The promised order, in plain Python floats (float64): accumulator q sums the values
    i = q (mod 8) of the whole blocks, the rest go to accumulator 0, then pairs of pairs."""
    s = [0.0] * 8
    stop = buf.size - buf.size % 8
    for i in range(stop):
        s[i % 8] += float(buf[i])
    for i in range(stop, buf.size):
        s[0] += float(buf[i])
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))


@numba.njit
def _sum8(buf):
    return sum8(buf)


@numba.njit
def _sum8_strided(buf):
    return sum8(buf[::2])          # not contiguous: the scalar loop


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 15, 16, 17, 250, 256, 1001])
def test_sum8_vector_has_the_scalar_orders_bits(dtype, n):
    rng = np.random.default_rng(n)
    buf = (rng.standard_normal(n) * 10.0 ** rng.uniform(-6, 6, n)).astype(dtype)
    want = sum8_reference(buf)
    assert _sum8(buf) == want
    assert _sum8_strided(buf) == sum8_reference(buf[::2])
    assert sum8(buf) == want                     # the Python stub (NUMBA_DISABLE_JIT)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sum8_keeps_nan_and_inf(dtype):
    assert np.isnan(_sum8(np.array([1, np.inf, -np.inf, 2, 3, 4, 5, 6, 7], dtype)))
    assert _sum8(np.array([1, 2, np.inf, 4, 5, 6, 7, 8, 9], dtype)) == np.inf


@numba.njit
def _transpose(dst, src):
    transpose(dst, src)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("t", [1, 3, 4, 8, 9, 250, 256, 391])
@pytest.mark.parametrize("n", [1, 4, 5, 8, 12, 20, 33, 256, 1030])   # wide: fewer rows a pass
def test_transpose_moves_every_value(dtype, t, n):
    src = np.random.default_rng(t * 100 + n).standard_normal((t, n)).astype(dtype)
    dst = np.full((n, t), np.nan, dtype)
    _transpose(dst, src)
    assert np.array_equal(dst, src.T)


@numba.njit
def _transpose_strided(dst, a, start, stride):
    transpose_strided(dst, a, start, stride)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("t", [1, 7, 8, 33, 250])
@pytest.mark.parametrize("n", [1, 5, 8, 20, 129])
def test_a_strided_block_transposes_to_its_values(dtype, t, n):
    # A block of a larger C array (a C-ordered X's features by a tile's samples): rows
    # ``stride`` values apart, from ``start`` on; the values around it are never read.
    rng = np.random.default_rng(t * 1000 + n)
    big = rng.standard_normal((t + 3, n + 11)).astype(dtype)
    r0, c0 = 2, 5
    dst = np.full((n, t), np.nan, dtype)
    _transpose_strided(dst, big.reshape(-1), r0 * big.shape[1] + c0, big.shape[1])
    assert np.array_equal(dst, big[r0:r0 + t, c0:c0 + n].T)

"""The vectorised exp/log/sigmoid (kernels/vmath.py) against numpy on >10^6 points."""
import numba
import numpy as np
import pytest

from fastdnn.kernels.vmath import vexp, vlog, vsigmoid


@numba.njit
def _apply(out, x, which):
    for i in range(x.size):
        if which == 0:
            out[i] = vexp(x[i])
        elif which == 1:
            out[i] = vlog(x[i])
        else:
            out[i] = vsigmoid(x[i])


SPECIALS = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 1e-300, 5e-324, 1e-40, 1e-45, 3e38,
            88.72, 88.73, -103.9, -104.0, 709.78, 709.79, -745.13, -745.14, 2.0**-126, 2.0**-1022]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("which, ref, max_ulp", [(0, np.exp, 2), (1, np.log, 2),   # float64
                                                  (2, lambda v: 1 / (1 + np.exp(-v)), 4)])
def test_accuracy_against_numpy(dtype, which, ref, max_ulp):
    rng = np.random.default_rng(which)
    specials = np.array(SPECIALS).astype(dtype)
    if which == 1:
        x = np.concatenate([np.exp(rng.uniform(-740, 709, 300000)), rng.uniform(0, 2, 200000)])
    else:
        x = np.concatenate([np.linspace(-800, 800, 400001), rng.standard_normal(200000) * 20])
    with np.errstate(all="ignore"):
        x = np.concatenate([x.astype(dtype), specials])
        expected = ref(x)
    out = np.empty_like(x)
    _apply(out, x, which)
    tiny = np.finfo(dtype).tiny
    normal = np.isfinite(expected) & (np.abs(expected) >= tiny)
    ulps = np.abs(out[normal] - expected[normal]) / np.spacing(np.abs(expected[normal]))
    assert ulps.max() <= (max_ulp if dtype == np.float64 else 4)
    sub = np.isfinite(expected) & ~normal          # subnormal results: within one subnormal step
    assert np.all(np.abs(out[sub] - expected[sub]) <= np.finfo(dtype).smallest_subnormal)
    rest = ~np.isfinite(expected)                  # inf, -inf and nan exactly
    np.testing.assert_array_equal(out[rest], expected[rest])
    assert out.dtype == dtype

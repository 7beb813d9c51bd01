"""kernels/blas.py: the direct ?gemm (row-major, transposes as flags, beta) against numpy."""
import numba
import numpy as np
import pytest

from fastdnn.kernels.blas import gemm


@numba.njit
def _gemm(C, A, B, ta, tb, beta):
    gemm(C, A, B, ta, tb, beta)


def _operands(rng, M, N, K, ta, tb, dtype):
    A = rng.standard_normal((K, M) if ta else (M, K)).astype(dtype)
    B = rng.standard_normal((N, K) if tb else (K, N)).astype(dtype)
    return A, B, (A.T if ta else A).astype(np.float64) @ (B.T if tb else B).astype(np.float64)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
@pytest.mark.parametrize("M, N, K", [(1, 1, 1), (7, 1, 300), (1, 13, 5), (33, 20, 257)])
def test_gemm_matches_numpy(dtype, rtol, ta, tb, M, N, K):
    rng = np.random.default_rng(M * 1000 + N * 10 + K)
    A, B, expected = _operands(rng, M, N, K, ta, tb, dtype)
    C0 = rng.standard_normal((M, N)).astype(dtype)
    scale = np.abs(A).max() * np.abs(B).max() * K
    for beta in (0.0, 1.0):
        C = C0.copy()
        _gemm(C, A, B, ta, tb, beta)
        want = expected + beta * C0.astype(np.float64)
        assert C.dtype == dtype
        np.testing.assert_allclose(C, want, rtol=0, atol=rtol * scale)


def test_gemm_of_an_empty_sum_leaves_beta_c():
    C = np.ones((3, 4))
    _gemm(C, np.zeros((3, 0)), np.zeros((0, 4)), False, False, 1.0)
    np.testing.assert_array_equal(C, 1.0)
    _gemm(C, np.zeros((3, 0)), np.zeros((0, 4)), False, False, 0.0)
    np.testing.assert_array_equal(C, 0.0)

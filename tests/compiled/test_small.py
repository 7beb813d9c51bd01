"""kernels/small.py: small layers' products without the BLAS, against numpy and against the
summation order the module promises (reproduced here in numpy, each multiply-add fused as the
module's are: one rounding, by a scalar fused multiply-add of this file's own)."""
import numba
import numpy as np
import pytest
from numba.extending import intrinsic

from fastdnn.kernels.blas import gemm
from fastdnn.kernels.codes import RELU, SMALL_WEIGHTS
from fastdnn.kernels.activations import relu_backward
from fastdnn.kernels.linear import bias_activation_forward
from fastdnn.kernels.lanes import LANES
from fastdnn.kernels.small import (K_BLOCK, add_dots, add_times, add_times_blocked, dot_product,
                                   rows_bias_relu, rows_columns, rows_product,
                                   rows_product_from, rows_relu_gradient,
                                   rows_weight_gradient, small_gram, small_layer, small_rows,
                                   transposes_x)


@numba.njit
def _product(C, A, B, ta, tb, beta):
    # The small forms; A^T·B^T (never asked for) the BLAS's.
    if tb and not ta:
        dot_product(C, A, B, beta)
    elif not tb:
        rows_product(C, A, B, ta, beta)
    else:
        gemm(C, A, B, ta, tb, beta)


@numba.njit
def _bias_relu(Z, A, W, B, b):
    rows_bias_relu(Z, A, W, B, b)


@numba.njit
def _relu_gradient(dZ, W, G, Z):
    rows_relu_gradient(dZ, W, G, Z)


@numba.njit
def _relu_back(dz, da, z):
    relu_backward(dz, da, z)


@numba.njit
def _columns(C, A, B, j0, j1):
    rows_columns(C, A, B, j0, j1)


@numba.njit
def _add(g, tmp, A, B, tb, small):
    if tb:
        add_dots(g, tmp, A, B, small)
    else:
        add_times(g, tmp, A, B, small)


@numba.njit
def _blocked(g, tmp, A, B):
    add_times_blocked(g, tmp, A, B)


@numba.njit
def _from(C, A, k0, B, beta):
    rows_product_from(C, A, k0, B, beta)


@numba.njit
def _lane_dot(a, b):
    out = np.zeros((1, 1), a.dtype)
    dot_product(out, a.reshape(1, -1), b.reshape(1, -1), 0.0)
    return out[0, 0]


@intrinsic
def _scalar_fma(typingctx, x, y, z):
    # x·y + z rounded once (LLVM's scalar llvm.fma: IEEE's fusedMultiplyAdd).
    def codegen(context, builder, signature, args):
        return builder.fma(*args)
    return x(x, y, z), codegen


@numba.njit
def _fma_flat(x, y, z):
    out = np.empty_like(z)
    for i in range(z.size):
        out[i] = _scalar_fma(x[i], y[i], z[i])
    return out


def fma(x, y, z):
    """x·y + z element by element (numpy broadcasting), each rounded once."""
    x, y, z = (np.array(v) for v in np.broadcast_arrays(x, y, z))     # owned copies
    return _fma_flat(x.ravel(), y.ravel(), z.ravel()).reshape(z.shape)


def test_the_reference_fma_rounds_once():
    # 1 + 2^-k squared: 1 + 2^(1-k) + 2^-2k, whose last term a separate multiply drops
    for dtype, k in ((np.float64, 30), (np.float32, 12)):
        x = dtype(1) + dtype(2.0 ** -k)
        one = np.array([-1 - 2.0 ** (1 - k)], dtype)
        assert fma(np.array([x]), np.array([x]), one)[0] == dtype(2.0 ** (-2 * k))
        assert (np.array([x]) * np.array([x]) + one)[0] == 0


def lane_dot_reference(a, b):
    """The promised order: lane q sums terms k = q (mod lanes) over the blocks (each term
    one fused multiply-add into its lane), the last block padded with zeros, then the lanes
    halved pairwise."""
    lanes = 16 if a.dtype == np.float32 else 8
    pad = -a.size % lanes
    a, b = (np.concatenate([x, np.zeros(pad, x.dtype)]) for x in (a, b))
    acc = np.zeros(lanes, a.dtype)
    for k0 in range(0, a.size, lanes):
        acc = fma(a[k0: k0 + lanes], b[k0: k0 + lanes], acc)
    while acc.size > 1:
        acc = acc[: acc.size // 2] + acc[acc.size // 2:]
    return acc[0]


def rows_reference(A, B, ta, beta, C0):
    """Rows of B scaled and added in the order k = 0, 1, ... after beta·C (each a fused
    multiply-add)."""
    Aop = A.T if ta else A
    C = beta * C0 if beta else np.zeros_like(C0)
    for k in range(B.shape[0]):
        C = fma(Aop[:, k: k + 1], B[k], C)
    return C


def _operands(rng, M, N, K, ta, tb, dtype):
    A = rng.standard_normal((K, M) if ta else (M, K)).astype(dtype)
    B = rng.standard_normal((N, K) if tb else (K, N)).astype(dtype)
    return A, B, (A.T if ta else A).astype(np.float64) @ (B.T if tb else B).astype(np.float64)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [0, 1, 7, 15, 16, 17, 31, 32, 33, 250, 256, 1000])
def test_lane_dot_follows_its_order_to_the_bit(dtype, n):
    rng = np.random.default_rng(n)
    a, b = (rng.standard_normal(n).astype(dtype) for _ in range(2))
    got = _lane_dot(a, b)
    want = lane_dot_reference(a, b) if n else dtype(0)
    assert got.dtype == dtype if hasattr(got, "dtype") else True
    assert np.array_equal(np.array(got, dtype), np.array(want, dtype))
    np.testing.assert_allclose(got, a.astype(np.float64) @ b.astype(np.float64),
                               rtol=0, atol=(1e-12 if dtype == np.float64 else 2e-5) * max(n, 1))


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("ta, tb", [(False, False), (True, False), (False, True),
                                    (True, True)])
@pytest.mark.parametrize("M, N, K", [(1, 1, 1), (10, 256, 20), (1, 250, 10), (20, 10, 33),
                                     (3, 5, 0), (16, 16, 256), (5, 3, 37), (3, 9, 40),
                                     (1, 70, 33), (9, 33, 17), (13, 40, 7), (11, 20, 9),
                                     (12, 33, 17), (64, 50, 30),
                                     # rows 2 KiB or more apart: B in packed panels
                                     (20, 600, 40), (13, 1030, 130)])
def test_small_products_match_numpy_and_their_order(dtype, rtol, ta, tb, M, N, K):
    rng = np.random.default_rng(M * 1000 + N * 10 + K)
    A, B, expected = _operands(rng, M, N, K, ta, tb, dtype)
    C0 = rng.standard_normal((M, N)).astype(dtype)
    scale = max(np.abs(A).max(initial=0) * np.abs(B).max(initial=0) * K, 1.0)
    for beta in (0.0, 1.0):
        C = C0.copy()
        _product(C, A, B, ta, tb, beta)
        assert C.dtype == dtype
        np.testing.assert_allclose(C, expected + beta * C0.astype(np.float64), rtol=0,
                                   atol=rtol * scale)
        if tb and not ta:       # lane dots: each entry beta·C + lane_dot, to the bit
            want = np.array([[lane_dot_reference(A[i], B[j]) if K else dtype(0)
                              for j in range(N)] for i in range(M)], dtype)
            want = C0 + want if beta else want
            np.testing.assert_array_equal(C, want)
        elif not tb:            # rows: in the order k = 0, 1, ..., to the bit
            np.testing.assert_array_equal(C, rows_reference(A, B, ta, beta, C0))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("M, N, K", [(20, 209, 209), (5, 37, 11), (1, 70, 33), (9, 16, 3),
                                     (20, 600, 40)])
def test_a_range_of_columns_is_those_of_the_whole_product_to_the_bit(dtype, M, N, K):
    # rows_columns(C, A, B, j0, j1): the columns j0..j1 of rows_product(C, A, B), bit for bit
    # (each entry is its own sum over k), for any cut; the other columns untouched.
    rng = np.random.default_rng(M + N + K)
    A, B = (rng.standard_normal(shape).astype(dtype) for shape in ((M, K), (K, N)))
    whole = np.empty((M, N), dtype)
    _product(whole, A, B, False, False, 0.0)
    for inner in ([], [1], [5, 21], list(range(7, N, 7))):
        cuts = [0] + [j for j in inner if j < N] + [N]
        C = np.full((M, N), np.nan, dtype)
        for j0, j1 in zip(cuts[:-1], cuts[1:]):
            _columns(C, A, B, j0, j1)
        np.testing.assert_array_equal(C, whole)
    C = np.full((M, N), 7.0, dtype)
    _columns(C, A, B, 1, N - 1)
    assert (C[:, 0] == 7).all() and (C[:, -1] == 7).all()
    np.testing.assert_array_equal(C[:, 1:-1], whole[:, 1:-1])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("M, N, K", [(1, 40, 1), (10, 504, 20), (64, 32, 50), (7, 33, 9),
                                     (13, 100, 64), (64, 128, 100), (5, 17, 3)])
def test_bias_relu_is_the_product_then_the_bias_and_relu_to_the_bit(dtype, M, N, K):
    # rows_bias_relu(Z, A, W, B, b): Z = rows_product's sum + b (one rounding), A = relu(Z):
    # the bits of the product followed by linear.bias_activation_forward's pass.
    rng = np.random.default_rng(M * N + K)
    W, B = (rng.standard_normal(shape).astype(dtype) for shape in ((M, K), (K, N)))
    b = rng.standard_normal((M, 1)).astype(dtype)
    B[0, 0] = np.nan                  # a NaN through column 0 of every row
    Z, A = np.full((M, N), 7.0, dtype), np.full((M, N), 7.0, dtype)
    _bias_relu(Z, A, W, B, b)
    want_z = np.empty((M, N), dtype)
    _product(want_z, W, B, False, False, 0.0)
    want_a = np.empty((M, N), dtype)
    bias_activation_forward(want_a, want_z, b, RELU)     # the pass it replaces
    assert np.isnan(want_z[:, 0]).all() and (want_a > 0).any() and (want_a == 0).any()
    np.testing.assert_array_equal(Z.view(np.uint8), want_z.view(np.uint8))
    np.testing.assert_array_equal(A.view(np.uint8), want_a.view(np.uint8))
    np.testing.assert_array_equal(A[:, 1:], np.maximum(Z[:, 1:], 0))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("M, N, K", [(1, 40, 1), (10, 504, 1), (64, 32, 32), (7, 33, 9),
                                     (13, 100, 64), (64, 128, 64), (5, 17, 3)])
def test_relu_gradient_is_the_product_then_relu_backward_to_the_bit(dtype, M, N, K):
    # rows_relu_gradient(dZ, W, G, Z): W^T·G (rows_product with trans_a), then 0 where
    # Z <= 0 (kept where Z is NaN): the bits of the product followed by relu_backward.
    rng = np.random.default_rng(M * N + K + 1)
    W, G, Z = (rng.standard_normal(shape).astype(dtype) for shape in ((K, M), (K, N), (M, N)))
    Z[0, :4] = [np.nan, 0.0, -0.0, np.inf][: min(4, N)]
    dZ = np.full((M, N), 7.0, dtype)
    _relu_gradient(dZ, W, G, Z)
    dA = np.empty((M, N), dtype)
    _product(dA, W, G, True, False, 0.0)
    want = np.empty((M, N), dtype)
    _relu_back(want.reshape(-1), dA.reshape(-1), Z.reshape(-1))
    assert (want == 0).any() and (want != 0).any()
    np.testing.assert_array_equal(dZ.view(np.uint8), want.view(np.uint8))
    np.testing.assert_array_equal(dZ, np.where(Z <= 0, 0, dA))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("M, N, K", [(128, 784, 469), (16, 300, 2 * K_BLOCK), (7, 33, 129),
                                     (13, 100, K_BLOCK - 1), (1, 70, 300)])
def test_a_product_summed_over_blocks_of_k_is_the_whole_product_to_the_bit(dtype, M, N, K):
    # add_times_blocked(g, tmp, A, B): g += A·B over blocks of K_BLOCK rows of B, each read
    # with rows_product_from (A's columns from k0 on, where they lie): the bits of one
    # rows_product(C, A, B, False, 1.0) in place; float32 products into float64 sums go
    # through the scratch, as rows_product with beta 0 would.
    rng = np.random.default_rng(M + N + K)
    A, B, C0 = (rng.standard_normal(shape).astype(dtype) for shape in ((M, K), (K, N), (M, N)))
    A[0, K - 1] = np.nan                                 # the last block's terms are read
    want = C0.copy()
    _product(want, A, B, False, False, 1.0)
    g = C0.reshape(-1).copy()
    _blocked(g, np.empty(0, dtype), A, B)
    np.testing.assert_array_equal(g.view(np.uint8), want.reshape(-1).view(np.uint8))
    assert np.isnan(g[:N]).all() and not np.isnan(g[N:]).any()
    if dtype == np.float32:
        wide = C0.astype(np.float64).reshape(-1)
        _blocked(wide, np.zeros(M * N, dtype), A, B)
        fresh = np.empty((M, N), dtype)
        _product(fresh, A, B, False, False, 0.0)
        np.testing.assert_array_equal(wide, C0.reshape(-1).astype(np.float64)
                                      + fresh.reshape(-1))
    k0 = K // 3                                          # one block from a column of A
    C = np.full((M, N), np.nan, dtype)
    _from(C, A, k0, np.ascontiguousarray(B[k0:]), 0.0)
    np.testing.assert_array_equal(C, rows_reference(A[:, k0:], B[k0:], False, 0.0, C))


def test_beta_zero_never_reads_c():
    # beta = 0 writes C without reading it: NaN in C does not survive (as the BLAS's).
    rng = np.random.default_rng(5)
    for ta, tb in ((False, False), (True, False), (False, True)):
        A, B, expected = _operands(rng, 4, 9, 6, ta, tb, np.float64)
        C = np.full((4, 9), np.nan)
        _product(C, A, B, ta, tb, 0.0)
        np.testing.assert_allclose(C, expected, rtol=1e-12)


@pytest.mark.parametrize("tb", [False, True])
@pytest.mark.parametrize("small", [False, True])
@pytest.mark.parametrize("sums", [np.float32, np.float64])
def test_sums_accumulate_in_place_or_through_scratch(sums, small, tb):
    # float32 products into float64 sums go through the scratch (the Gram path's float32 run).
    rng = np.random.default_rng(3)
    A, B, expected = _operands(rng, 6, 9, 40, False, tb, np.float32)
    g0 = rng.standard_normal(6 * 9).astype(sums)
    g, tmp = g0.copy(), np.zeros(6 * 9 + 5, np.float32)
    _add(g, tmp, A, B, tb, small)
    np.testing.assert_allclose(g, g0 + expected.reshape(-1), rtol=0, atol=1e-4)
    assert g.dtype == sums


def test_which_layers_are_small():
    assert small_layer(10, 20) and small_layer(16, 16) and small_layer(1, 4096)
    assert not small_layer(64, 50) and not small_layer(2, SMALL_WEIGHTS)
    assert transposes_x(10, 20, 4096, 8) and not transposes_x(1, 20, 32, 8)
    assert transposes_x(64, 50, 256, 8) and transposes_x(64, 50, 32, 8)
    assert transposes_x(64, 100, 256, 4) and not transposes_x(100, 50, 256, 4)
    assert not transposes_x(128, 784, 1024, 4) and not transposes_x(64, 3072, 256, 4)
    assert set(LANES.values()) == {8, 16}
    # rows-form Z and input gradients: a small layer's at any width, others on narrow
    # tiles, and layers of at most 64 units on at most 128 inputs at any width; weight
    # gradients (over a transposed tile) only where the widest tile operand also fits
    # ROWS_BYTES with at most 64 units and inputs (float32 at 256 samples, float64 at 128)
    for size in (4, 8):
        assert small_rows(10, 20, 4096, size) and small_rows(32, 64, 32, size)
        assert small_rows(64, 64, 32, size) and not small_rows(128, 64, 256, size)
        assert small_rows(64, 128, 1024, size) and not small_rows(64, 129, 1024, size)
        assert rows_weight_gradient(10, 20, 4096, size) and rows_weight_gradient(64, 64, 32, size)
        assert not rows_weight_gradient(64, 128, 1024, size)
        assert not rows_weight_gradient(128, 64, 256, size)
    assert rows_weight_gradient(64, 64, 128, 8) and not rows_weight_gradient(64, 64, 256, 8)
    assert rows_weight_gradient(64, 64, 256, 4) and not rows_weight_gradient(64, 64, 512, 4)
    # the Gram path's S·G: the cat data's (20 x 209 x 209) in the rows form, 64 x 400 x 400 not
    assert small_gram(20, 209) and small_gram(12, 300) and not small_gram(64, 400)

"""Each BLAS library's measured GEMM rate (``fastdnn info``, ``fastdnn bench --scale``): one
RATE_SIZE x RATE_SIZE product in the library, best of 3 after a warm-up (timing.py)."""
import numpy as np

from ..blas import libraries
from .timing import clock

RATE_SIZE = 1024            # an n x n by n x n product: the rate of each library's best kernel
RATE_NOTE = f"one {RATE_SIZE} x {RATE_SIZE} product, best of 3"


def product(owner, dtype):
    """A function computing one RATE_SIZE product with ``owner``'s BLAS, or None."""
    a = np.ones((RATE_SIZE, RATE_SIZE), dtype, order="F")   # SciPy's wrappers copy C arrays
    if owner == "numpy":
        return lambda: np.dot(a, a)
    if owner == "kernels":
        from scipy.linalg import blas
        gemm = blas.dgemm if dtype == np.float64 else blas.sgemm
        return lambda: gemm(1.0, a, a)
    return None


def gflops(fn, repeat=3, n=RATE_SIZE):
    """GFLOP/s (2 n^3 floating-point operations per n x n product) of ``fn``, best of
    ``repeat`` after a warm-up."""
    fn()                                        # warm-up: threads started, pages touched
    return 2 * n ** 3 / min(clock(fn) for _ in range(repeat)) / 1e9


def libraries_with_rates():
    """blas.libraries(), each with float64_gflops and float32_gflops (None where unmeasured)."""
    found = libraries()
    for lib in found:
        for dt in (np.float64, np.float32):
            fn = product(lib["owner"], dt)
            lib[f"{np.dtype(dt).name}_gflops"] = gflops(fn) if fn else None
    return found

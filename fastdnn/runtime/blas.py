"""What runs fastdnn's products: each loaded BLAS library, its kernels (architecture), its
threads, its measured GEMM rate, and what in the environment holds it back.

Guarantees: nothing here changes a setting; the reports read threadpoolctl; a rate is one
RATE_SIZE x RATE_SIZE product, best of 3 after a warm-up. ``held_back``
compares OpenBLAS's kernels with those it picks with the
environment's OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE removed (asked of a fresh interpreter), so
it names a real difference on this machine, not a guess.
"""
import os
import subprocess
import sys
import time

import numpy as np

OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def _owner(path):
    """Which part of the process loaded a BLAS library, from its path."""
    path = path or ""
    if "numpy" in path:
        return "numpy"
    if "scipy" in path:
        return "kernels"            # Numba's np.dot calls SciPy's BLAS (cython_blas)
    return os.path.basename(path) or "unknown"


def label(owner):
    return {"numpy": "numpy's", "kernels": "the kernels'"}.get(owner, owner)


def libraries():
    """One dict per loaded BLAS: owner ("numpy", "kernels" for SciPy's, which Numba's np.dot
    calls, or the library's file name), internal_api, version, architecture, threads,
    filepath."""
    import scipy.linalg.cython_blas  # noqa: F401   (load the kernels' BLAS to list it)
    from threadpoolctl import threadpool_info
    found = []
    for pool in threadpool_info():
        if pool.get("user_api") != "blas":
            continue
        found.append({"owner": _owner(pool.get("filepath")),
                      "internal_api": pool.get("internal_api"), "version": pool.get("version"),
                      "architecture": pool.get("architecture"),
                      "threads": pool.get("num_threads"), "filepath": pool.get("filepath")})
    return found


def _architectures_without_overrides():
    """{owner: architecture} that OpenBLAS picks in a fresh interpreter without OVERRIDES."""
    code = ("import json, numpy, scipy.linalg.cython_blas\n"
            "from threadpoolctl import threadpool_info\n"
            "print(json.dumps([[p.get('filepath'), p.get('architecture')] "
            "for p in threadpool_info() if p.get('user_api') == 'blas']))")
    env = {k: v for k, v in os.environ.items() if k not in OVERRIDES}
    import json
    try:
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, timeout=60, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    return {_owner(path): arch for path, arch in json.loads(out)}


def held_back(libs):
    """Lines naming each OpenBLAS that an environment variable holds below the kernels this
    CPU gets without it ([] when none is set, or when it changes nothing)."""
    set_here = [f"{k}={os.environ[k]}" for k in OVERRIDES if k in os.environ]
    if not set_here:
        return []
    best = _architectures_without_overrides()
    lines = []
    for lib in libs:
        free = best.get(lib["owner"])
        if lib["internal_api"] == "openblas" and free and free != lib["architecture"]:
            lines.append(f"{' '.join(set_here)} holds {label(lib['owner'])} OpenBLAS to its "
                         f"{lib['architecture']} kernels; this CPU gets {free} without it "
                         f"(fastdnn never changes it: unset it where your OpenBLAS is recent)")
    return lines


# ---- GEMM rates (``fastdnn info``, and the benchmarks' "share of the GEMM rate") ----------
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
    ``repeat`` after a warm-up (threads started, pages touched)."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best / 1e9


def libraries_with_rates():
    """libraries(), each with float64_gflops and float32_gflops (None where unmeasured)."""
    found = libraries()
    for lib in found:
        for dt in (np.float64, np.float32):
            fn = product(lib["owner"], dt)
            lib[f"{np.dtype(dt).name}_gflops"] = gflops(fn) if fn else None
    return found

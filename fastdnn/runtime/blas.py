"""What runs fastdnn's products: which BLAS the kernels call (FASTDNN_BLAS), each loaded BLAS
library, its kernels (architecture), its threads, its measured GEMM rate, and what in the
environment holds it back.

Guarantees: the kernels' BLAS is chosen once, at ``import fastdnn`` (choose_kernel_blas):
SciPy's OpenBLAS unless FASTDNN_BLAS=mkl asks for Intel's MKL (the ``fastdnn[mkl]``
extra; kernels/linking.py loads it with the first kernel that multiplies, sequential and
in its strict reproducible mode). Otherwise nothing here changes a setting; the reports
read threadpoolctl; a rate is one RATE_SIZE x RATE_SIZE product, best of 3 after a
warm-up. ``held_back`` compares OpenBLAS's kernels with those it picks with the
environment's OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE removed (asked of a fresh interpreter), so
it names a real difference on this machine, not a guess.
"""
import os
import subprocess
import sys
import time

import numpy as np

from ..kernels import linking
from ..kernels.codes import BLAS_CODES

OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

# ---- the kernels' BLAS ---------------------------------------------------------------------
VARIABLE = "FASTDNN_BLAS"
# Words for each of kernels/codes.BLAS_CODES' names (the one list of choices).
CHOICES = {"scipy": "SciPy's OpenBLAS, the default", "mkl": "Intel's MKL: fastdnn[mkl]"}


def _mkl_candidates():
    """Where the ``mkl`` package's runtime library lies (pip and conda put it in the
    environment's lib/), then the system's search path (asked only if needed: it may start
    a process)."""
    for name in ("libmkl_rt.so.3", "libmkl_rt.so.2", "libmkl_rt.so", "libmkl_rt.dylib"):
        path = os.path.join(sys.prefix, "lib", name)
        if os.path.exists(path):
            yield path
    import ctypes.util
    yield ctypes.util.find_library("mkl_rt")


def mkl_path():
    """The path of MKL's runtime library (libmkl_rt), or an ImportError saying how to get it."""
    for path in filter(None, _mkl_candidates()):
        return path
    raise ImportError(f"{VARIABLE}=mkl: no MKL runtime library (libmkl_rt) in "
                      f"{os.path.join(sys.prefix, 'lib')} or on the library path; "
                      f"install it with: pip install 'fastdnn[mkl]'")


def choose_kernel_blas(environ=None):
    """Choose the BLAS the kernels' products call from ``FASTDNN_BLAS`` (at ``import
    fastdnn``; unset or empty: SciPy's), or raise why not (ValueError: an unknown name;
    ImportError: no MKL). MKL is found now and loaded when the first kernel that
    multiplies is (kernels/linking.py)."""
    raw = (os.environ if environ is None else environ).get(VARIABLE, "")
    value = raw.strip().lower() or linking.DEFAULT
    if value not in BLAS_CODES:
        raise ValueError(f"{VARIABLE}={raw!r}: expected one of "
                         + ", ".join(f"{k!r} ({CHOICES[k]})" for k in BLAS_CODES))
    linking.choose(value, None if value == linking.DEFAULT else mkl_path())


def choose_from_environment():
    """choose_kernel_blas at ``import fastdnn``; what it refuses is raised by the first
    kernel that multiplies (an ImportError naming FASTDNN_BLAS; the command line's one-line
    error), so that the import itself never fails."""
    try:
        choose_kernel_blas()
    except (ValueError, ImportError) as exc:
        linking.refuse(str(exc))


def kernel_blas():
    """The name of the BLAS the kernels call ("scipy" or "mkl")."""
    return linking.name()


def _owner(path):
    """Which part of the process loaded a BLAS library, from its path."""
    path = path or ""
    if "numpy" in path:
        return "numpy"
    mine = "mkl_rt" if kernel_blas() == "mkl" else "scipy"
    if mine in path:
        return "kernels"            # the library linking.py bound the kernels' ?gemm to
    if "scipy" in path:
        return "scipy"
    return os.path.basename(path) or "unknown"


def label(owner):
    return {"numpy": "numpy's", "kernels": "the kernels'", "scipy": "SciPy's"}.get(owner, owner)


def libraries():
    """One dict per loaded BLAS: owner ("numpy", "kernels" for the one the kernels call,
    "scipy" for SciPy's when they call another, or the library's file name), internal_api,
    version, architecture, threading_layer, threads, filepath. Loads the kernels' BLAS."""
    import scipy.linalg.cython_blas  # noqa: F401   (load SciPy's BLAS to list it)
    linking.bind()
    from threadpoolctl import threadpool_info
    found = []
    for pool in threadpool_info():
        if pool.get("user_api") != "blas":
            continue
        found.append({"owner": _owner(pool.get("filepath")),
                      "internal_api": pool.get("internal_api"), "version": pool.get("version"),
                      "architecture": pool.get("architecture"),
                      "threading_layer": pool.get("threading_layer"),
                      "threads": pool.get("num_threads"), "filepath": pool.get("filepath")})
    return found


def describe(lib):
    """One line for a libraries() entry: library, version, its kernels (OpenBLAS names the
    architecture; MKL its threading layer) and its threads."""
    kernels = (f"{lib['architecture']} kernels" if lib.get("architecture") else
               f"{lib['threading_layer']} layer" if lib.get("threading_layer") else "? kernels")
    return f"{lib['internal_api']} {lib['version'] or ''}, {kernels}, {lib['threads']} threads"


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
    if owner == "kernels" and kernel_blas() != linking.DEFAULT:
        return _fortran_product(linking.bind()[2], a)
    if owner in ("kernels", "scipy"):
        from scipy.linalg import blas
        gemm = blas.dgemm if dtype == np.float64 else blas.sgemm
        return lambda: gemm(1.0, a, a)
    return None


def _fortran_product(lib, a):
    """One a·a product (a square, Fortran order) by ``lib``'s Fortran ?gemm, as the kernels
    call it."""
    import ctypes
    scalar = ctypes.c_float if a.dtype == np.float32 else ctypes.c_double
    fn = lib.sgemm if a.dtype == np.float32 else lib.dgemm
    c = np.empty_like(a)
    n, one, zero, flag = (ctypes.c_int(a.shape[0]), scalar(1.0), scalar(0.0),
                          ctypes.c_char(b"N"))
    args = (ctypes.byref(flag), ctypes.byref(flag), ctypes.byref(n), ctypes.byref(n),
            ctypes.byref(n), ctypes.byref(one), a.ctypes.data_as(ctypes.c_void_p),
            ctypes.byref(n), a.ctypes.data_as(ctypes.c_void_p), ctypes.byref(n),
            ctypes.byref(zero), c.ctypes.data_as(ctypes.c_void_p), ctypes.byref(n))
    return lambda: fn(*args)


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

"""``fastdnn info``: versions, threads, each BLAS library (its kernels, threads and GEMM
rate, and what in the environment holds it back) and the Numba cache folder."""
import os
import sys

import numpy as np

from .._version import __version__


def _blas_lines():
    from ..runtime.blas import held_back, libraries_with_rates
    libs = libraries_with_rates()
    for lib in libs:
        rates = ", ".join(f"{lib[k]:.0f} GFLOP/s {k[:7]}" for k in ("float64_gflops",
                                                                    "float32_gflops") if lib[k])
        yield (f"BLAS ({lib['owner']}): {lib['internal_api']} {lib['version'] or ''}, "
               f"{lib['architecture'] or '?'} kernels, {lib['threads']} threads"
               f"{', ' + rates if rates else ''} ({lib['filepath']})")
    for line in held_back(libs):
        yield f"note: {line}"
    numpy_pools = [lib for lib in libs if lib["owner"] == "numpy" and lib["threads"] > 1]
    if numpy_pools and numpy_pools[0]["internal_api"] == "openblas" \
            and "OPENBLAS_THREAD_TIMEOUT" not in os.environ:
        yield ("note: after each multi-threaded numpy product, OpenBLAS's idle threads spin "
               "for up to ~0.1 s and slow a training run started at once; only you can end "
               "that: OPENBLAS_THREAD_TIMEOUT=4 set before numpy loads")


def cmd_info(args):
    import h5py
    import numba
    import scipy

    from .. import kernels
    from ..runtime.threads import start_threads
    print(f"fastdnn {__version__}")
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, numba {numba.__version__}, "
          f"scipy {scipy.__version__}, h5py {h5py.__version__}")
    spin = start_threads()
    print(f"numba threads: {numba.get_num_threads()} (layer: {numba.threading_layer()}; "
          f"idle OpenMP threads spin for {spin})")
    for line in _blas_lines():
        print(line)
    print(f"numba cache: {kernels.CACHE_DIR or 'disabled (no writable cache directory)'}")
    return 0

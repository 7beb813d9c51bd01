"""``fastdnn info``: versions, threads, each BLAS library (its kernels, threads and GEMM
rate, and what in the environment holds it back) and the Numba cache folder."""
import sys

import numpy as np

from .._version import __version__


def _blas_lines():
    from ..runtime.blas import describe, held_back, libraries_with_rates
    libs = libraries_with_rates()
    for lib in libs:
        rates = ", ".join(f"{lib[k]:.0f} GFLOP/s {k[:7]}" for k in ("float64_gflops",
                                                                    "float32_gflops") if lib[k])
        yield (f"BLAS ({lib['owner']}): {describe(lib)}"
               f"{', ' + rates if rates else ''} ({lib['filepath']})")
    for line in held_back(libs):
        yield f"note: {line}"


def cmd_info(args):
    import h5py
    import numba
    import scipy

    from .. import kernels
    from ..runtime.threads import blas_spin, start_threads
    print(f"fastdnn {__version__}")
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, numba {numba.__version__}, "
          f"scipy {scipy.__version__}, h5py {h5py.__version__}")
    spin = start_threads()
    print(f"numba threads: {numba.get_num_threads()} (layer: {numba.threading_layer()}; "
          f"idle OpenMP threads spin for {spin})")
    for line in _blas_lines():
        print(line)
    print(f"idle OpenBLAS threads spin for {blas_spin()}")
    print(f"numba cache: {kernels.CACHE_DIR or 'disabled (no writable cache directory)'}")
    return 0

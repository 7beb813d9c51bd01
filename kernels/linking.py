"""Which BLAS library the kernels' products call: one per process, bound when the first
kernel that multiplies is loaded.

Why: the kernels call ``?gemm`` through two symbols of their own, ``fastdnn_sgemm`` and
``fastdnn_dgemm``, instead of a library's name or address. A cached kernel is machine code
whose calls are resolved when a process loads it, so the same cache serves whichever
library this process binds, and no address from another process is ever baked in.

Guarantees: both symbols are bound once, when kernels/blas.py is first imported (which
every kernel that multiplies imports): to the library ``choose`` named before that, else
to SciPy's BLAS (``scipy.linalg.cython_blas``, the one Numba's ``np.dot`` calls). Each is a
Fortran-interface ``?gemm`` with 32-bit integers, called on one thread (the engine holds
every BLAS to one thread). MKL is loaded only then, not when it is chosen: its libraries'
symbols are the process's from that moment, and a library that carries its own MKL and is
loaded later (PyTorch's) would run its products through this one, sequential. MKL is set
up sequential (no threads of its own), with 32-bit integers (LP64) and in its strict
reproducible mode (CBWR AUTO + STRICT: the code path set by the CPU alone, results
independent of the operands' alignment). ``choose`` after the binding is refused: kernels
already linked would keep the first library and the process would mix two. A choice that
cannot be honoured (``refuse``) is raised by that first kernel, never bound around.

Numba-free: ``choose`` runs at ``import fastdnn``, which never imports Numba.
"""
from .codes import BLAS_CODES

SYMBOLS = ("fastdnn_sgemm", "fastdnn_dgemm")     # float32, float64
DEFAULT = "scipy"
# mkl_rt's run-time settings (mkl_service.h): LP64, the sequential layer, CBWR AUTO | STRICT
# (measured: no slower on the kernels' products); each call's result on success.
MKL_SETUP = (("MKL_Set_Interface_Layer", 0, 0, "LP64 interface"),
             ("MKL_Set_Threading_Layer", 1, 1, "sequential layer"),
             ("MKL_CBWR_Set", 2 | 0x10000, 0, "strict reproducible mode"))

_chosen = {"name": DEFAULT, "path": None, "refused": None}   # path: MKL's mkl_rt
_bound = {}                                       # once bound: name, addresses, library


def choose(name, path=None):
    """Bind the kernels' products to ``name`` ("scipy", or "mkl" with ``path`` to its
    runtime library, libmkl_rt). Only before the first kernel that multiplies is loaded."""
    if _bound:
        if _bound["name"] == name and (name == DEFAULT or _chosen["path"] == path):
            return
        raise RuntimeError(f"the kernels already call {_bound['name']}'s BLAS in this "
                           f"process; choose {name!r} before the first kernel runs (set "
                           f"FASTDNN_BLAS before importing fastdnn)")
    _chosen["name"], _chosen["path"] = name, path


def refuse(message):
    """Record why the environment's choice cannot be honoured: the first kernel that
    multiplies raises it (ImportError), so that ``import fastdnn`` itself never fails."""
    _chosen["refused"] = message


def name():
    """The BLAS the kernels call (or will call, if none has linked yet)."""
    return _bound.get("name", _chosen["name"])


def code():
    """name()'s code (codes.BLAS_*): Tiles.blas, which the first layer's rules read."""
    return BLAS_CODES[name()]


def _load_mkl(path):
    """mkl_rt at ``path``, set up as MKL_SETUP says, and its (sgemm, dgemm) addresses."""
    import ctypes
    lib = ctypes.CDLL(path)
    for function, arg, success, what in MKL_SETUP:
        got = getattr(lib, function)(ctypes.c_int(arg))
        if got != success:
            raise ImportError(f"FASTDNN_BLAS=mkl: MKL refused its {what} ({function} "
                              f"returned {got}): MKL was already in use in this process "
                              f"before fastdnn's first kernel (a numpy built on MKL?); "
                              f"unset FASTDNN_BLAS there")
    return lib, tuple(ctypes.cast(getattr(lib, f), ctypes.c_void_p).value
                      for f in ("sgemm", "dgemm"))


def bind():
    """Bind SYMBOLS for this process (once; kernels/blas.py calls it at its import) and
    return (name, (sgemm, dgemm) addresses, the ctypes library or None for SciPy's)."""
    if not _bound:
        if _chosen["refused"]:
            raise ImportError(_chosen["refused"])
        if _chosen["name"] == DEFAULT:
            from numba.extending import get_cython_function_address
            lib, addresses = None, tuple(
                get_cython_function_address("scipy.linalg.cython_blas", f)
                for f in ("sgemm", "dgemm"))
        else:
            lib, addresses = _load_mkl(_chosen["path"])
        from llvmlite import binding
        for symbol, address in zip(SYMBOLS, addresses):
            binding.add_symbol(symbol, address)
        _bound.update(name=_chosen["name"], addresses=addresses, library=lib)
    return _bound["name"], _bound["addresses"], _bound["library"]

"""Which BLAS library the kernels' products call: one per process, chosen before any kernel
links.

Why: the kernels call ``?gemm`` through two symbols of their own, ``fastdnn_sgemm`` and
``fastdnn_dgemm``, instead of a library's name or address. A cached kernel is machine code
whose calls are resolved when a process loads it, so the same cache serves whichever
library this process binds, and no address from another process is ever baked in.

Guarantees: both symbols are bound once, when kernels/blas.py is first imported (which
every kernel that multiplies imports): to the library ``choose`` named before that, else
to SciPy's BLAS (``scipy.linalg.cython_blas``, the one Numba's ``np.dot`` calls). Each is a
Fortran-interface ``?gemm`` with 32-bit integers, called on one thread (the engine holds
every BLAS to one thread). ``choose`` after the binding is refused: kernels already linked
would keep the first library and the process would mix two.

Numba-free: ``choose`` runs at ``import fastdnn``, which never imports Numba.
"""
SYMBOLS = ("fastdnn_sgemm", "fastdnn_dgemm")     # float32, float64
DEFAULT = "scipy"

_chosen = {"name": DEFAULT, "addresses": None}    # addresses: (sgemm, dgemm), None = SciPy's
_bound = []                                       # the name bound, once bind() has run


def choose(name, sgemm, dgemm):
    """Bind the kernels' products to ``name``'s Fortran ``sgemm``/``dgemm`` at these
    addresses (ints). Only before the first kernel module that multiplies is imported."""
    if _bound:
        if _bound[0] == name and addresses() == (int(sgemm), int(dgemm)):
            return
        raise RuntimeError(f"the kernels already call {_bound[0]}'s BLAS in this process; "
                           f"choose {name!r} before the first kernel runs (set FASTDNN_BLAS "
                           f"before importing fastdnn)")
    _chosen["name"] = name
    _chosen["addresses"] = (int(sgemm), int(dgemm))


def name():
    """The BLAS the kernels call (or will call, if none has linked yet)."""
    return _bound[0] if _bound else _chosen["name"]


def addresses():
    """(sgemm, dgemm) addresses the kernels call: the chosen library's or SciPy's."""
    if _chosen["addresses"] is not None:
        return _chosen["addresses"]
    from numba.extending import get_cython_function_address
    return tuple(get_cython_function_address("scipy.linalg.cython_blas", f)
                 for f in ("sgemm", "dgemm"))


def bind():
    """Bind SYMBOLS for this process (once; kernels/blas.py calls it at its import)."""
    if _bound:
        return
    from llvmlite import binding
    for symbol, address in zip(SYMBOLS, addresses()):
        binding.add_symbol(symbol, address)
    _bound.append(_chosen["name"])

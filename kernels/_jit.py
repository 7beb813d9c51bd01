"""How every fastdnn kernel is compiled: one decorator, one set of flags, one cache rule.

Guarantees
----------
* Kernels compile lazily (on first call) with ``cache=True`` whenever a writable cache
  directory exists, and without a cache (never failing at import) when none does.
* The on-disk cache lives in a directory named after a hash of *all* kernel sources, so
  editing any kernel file invalidates every cached kernel, including callers in other
  files (numba issue 1833: Numba only checks the caller's own file timestamp).
* No fast-math flag that changes NaN/inf behaviour: the only one used is ``CONTRACT``
  (fused multiply-add in the polynomial kernels of vmath.py), from this one place.
* Kernels run without Numba's reference counts (its runtime, NRT): every array a kernel
  sees is the caller's or a view of one, which the caller keeps alive, and a kernel
  allocates nothing. With NRT, each call of a kernel, each struct of arrays passed and each
  view counted references with atomic adds on the arrays' shared counters: a fifth of a
  small step's time, more when two cores count on the same counters. A kernel that
  allocates (a temporary for ``np.dot``) says so (``nrt=True``) and frees what it
  allocates before it returns; it never returns a new array. Helpers that Numba compiles
  on its own (``overload``, inlined kernels called from Python) keep NRT: they see the
  arrays without counters, and counting nothing costs a test.
"""
import contextlib
import hashlib
import os
import pathlib
import tempfile

import numba

_HERE = pathlib.Path(__file__).resolve().parent

# Numba compile options shared by every kernel. error_model="numpy": 1/0 gives inf like numpy
# instead of raising; nogil: kernels may run in several Python threads at once; _nrt: Numba's
# reference counts, on for the overloads that take these options (set, so that they do not
# inherit a calling kernel's setting: they return views, which needs it), off for kernels
# (see kernel()). ``_nrt`` is Numba's own target option (numba/core/options.py).
JIT_OPTIONS = {"error_model": "numpy", "nogil": True, "_nrt": True}


# The one fast-math flag set in fastdnn: allow a*b+c to become one fused multiply-add (one
# rounding instead of two: never less accurate). No nnan/ninf/nsz/reassoc: NaN, inf and
# signed zeros behave exactly as in numpy. Used only by the polynomial code in vmath.py.
CONTRACT = {"contract"}


def source_key():
    """Hash of every kernel source file (name and bytes) and of the Numba version."""
    digest = hashlib.sha256(numba.__version__.encode())
    for path in sorted(_HERE.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _writable(directory):
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory):
            pass
    except OSError:
        return False
    return True


def _choose_cache_dir():
    """``$NUMBA_CACHE_DIR`` (else ``$XDG_CACHE_HOME/fastdnn``, else ``~/.cache/fastdnn``) plus
    ``fastdnn-kernels-<source key>``; None (no on-disk cache) when that is not writable or
    when ``FASTDNN_DISABLE_CACHE`` is set to a non-empty value."""
    if os.environ.get("FASTDNN_DISABLE_CACHE"):
        return None
    base = os.environ.get("NUMBA_CACHE_DIR")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = os.path.join(xdg, "fastdnn")
    directory = pathlib.Path(base) / f"fastdnn-kernels-{source_key()}"
    return str(directory) if _writable(directory) else None


CACHE_DIR = _choose_cache_dir()


@contextlib.contextmanager
def _numba_cache_dir(path):
    # Numba picks a dispatcher's cache locator when the dispatcher is created, reading
    # numba.config.CACHE_DIR at that moment; set it only around our own decorations so that
    # other libraries' kernels keep their own cache location.
    saved = numba.config.CACHE_DIR
    numba.config.CACHE_DIR = path
    try:
        yield
    finally:
        numba.config.CACHE_DIR = saved


def kernel(fn=None, *, parallel=False, inline=False, nrt=False):
    """Decorate ``fn`` as a lazily compiled, cached nopython kernel (``parallel`` enables prange).

    ``inline``: a small building block that kernels call. Numba inlines it into each caller
    at the IR level instead of compiling it as a function of its own (whose machine code
    every caller that links it would optimise again). A large block shared by several entry
    points is better left a kernel: typed and compiled once per signature, and cached.
    Inlined, it takes its caller's settings.

    ``nrt``: the kernel allocates (see the guarantees); others compile without reference
    counts.
    """
    options = dict(JIT_OPTIONS, parallel=parallel, inline="always" if inline else "never",
                   _nrt=nrt or inline)

    def wrap(func):
        if CACHE_DIR is None:
            return numba.njit(cache=False, **options)(func)
        with _numba_cache_dir(CACHE_DIR):
            return numba.njit(cache=True, **options)(func)
    return wrap if fn is None else wrap(fn)

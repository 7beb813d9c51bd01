"""Threads: parallel kernels one at a time, and BLAS held to one thread inside the engine.

Why: the engine's kernels split work over their own threads in a fixed way; a BLAS call
inside them must not start threads of its own (oversubscription), and a BLAS product's bits
can depend on how many threads computed it. With BLAS at one thread the engine's results are
the same whatever NUMBA_NUM_THREADS, OPENBLAS_NUM_THREADS or the core count.
"""
import contextlib
import threading

# Threaded kernels run one at a time: Numba's fallback threading layer ("workqueue", used
# where neither OpenMP nor TBB is available) aborts on concurrent launches, and a threaded
# kernel already uses every core, so queueing them costs nothing measurable.
PARALLEL_LOCK = threading.Lock()

_controller = None


def one_blas_thread():
    """A context manager limiting every loaded BLAS library to one thread (threadpoolctl)."""
    global _controller
    if _controller is None:
        # The BLAS that Numba's np.dot calls (SciPy's): load it before taking stock of the
        # libraries, so that the limit reaches it.
        import scipy.linalg.cython_blas  # noqa: F401
        from threadpoolctl import ThreadpoolController
        _controller = ThreadpoolController()
    if not _controller.select(user_api="blas").lib_controllers:
        return contextlib.nullcontext()
    return _controller.limit(limits=1, user_api="blas")

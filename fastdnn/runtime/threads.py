"""Threads: when fastdnn's kernels run on every core, and how they leave the cores to others.

Guarantees:
* Threaded kernels run one at a time (PARALLEL_LOCK): Numba's fallback threading layer
  ("workqueue") aborts on concurrent launches, and a threaded kernel already uses every core.
* Inside the engine BLAS runs on one thread (one_blas_thread): the kernels split the work in
  a way set by the shapes, a BLAS call must not start threads of its own, and a product's
  bits can depend on how many threads computed it. So results are the same bits whatever
  NUMBA_NUM_THREADS, OPENBLAS_NUM_THREADS or the core count.
* Every parallel kernel has a ``_serial`` twin with the same bits. ``pick`` takes the twin
  for work too small to share (thread start-up would cost more than it saves), and in a
  child forked from a process whose threaded kernels ran: GNU OpenMP cannot run in such a
  child (Numba stops it), so fork, forkserver, spawn and forks of forks all train.
* Idle threads hand their cores back soon: before the first threaded kernel loads the
  OpenMP runtime, its spin-wait is shortened (GOMP_SPINCOUNT, for that load only, and only
  when neither it nor OMP_WAIT_POLICY is set: a user's setting always wins). Otherwise the
  runtime's threads spin for milliseconds after each kernel and slow the user's next numpy
  product.
"""
import contextlib
import os
import threading

PARALLEL_LOCK = threading.Lock()
# Below this many multiply-adds (or element operations) per call, the serial twin runs.
SERIAL_WORK = 1 << 15
# OpenMP's spin-wait before an idle thread sleeps: long enough to span the serial gap
# between two training steps, short enough to leave the core within a millisecond.
SPIN_COUNT = "10000"

_state = {"started": False, "launched": False, "forked": False}
_controller = None


def _after_fork_in_child():
    # A lock held by another thread at fork time would stay held forever in the child.
    PARALLEL_LOCK._at_fork_reinit()
    if _state["launched"]:
        _state["forked"] = True


os.register_at_fork(after_in_child=_after_fork_in_child)


def _openmp_loaded():
    """Whether GNU OpenMP's shared libgomp.so (the one Numba's threading layer links) is loaded
    already: its settings are then fixed. Copies bundled under another name (PyTorch's
    libgomp-<hash>.so) are other libraries and do not count."""
    try:
        with open("/proc/self/maps") as maps:
            return "/libgomp.so" in maps.read()
    except OSError:
        return False


def start_threads():
    """Launch Numba's threads (once), with a short OpenMP spin-wait (see the guarantees).
    Returns what sets the spin-wait, in words."""
    import numba
    users = [f"{k}={os.environ[k]}" for k in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")
             if k in os.environ]
    if _state["started"] or users or _openmp_loaded():
        _state["started"] = True
        numba.get_num_threads()
        return _state.get("spin") or (f"your {' '.join(users)}" if users else
                                      "the OpenMP runtime's default (it was loaded before)")
    _state["started"] = True
    os.environ["GOMP_SPINCOUNT"] = SPIN_COUNT
    try:
        numba.get_num_threads()           # loads the threading layer: OpenMP reads it now
    finally:
        del os.environ["GOMP_SPINCOUNT"]  # for this load only: children see the user's env
    _state["spin"] = f"GOMP_SPINCOUNT={SPIN_COUNT} (fastdnn's, at their start)"
    return _state["spin"]


@contextlib.contextmanager
def _threaded():
    with PARALLEL_LOCK:
        _state["launched"] = True
        yield


def launched():
    """Whether a threaded kernel has run in this process (its OpenMP threads exist)."""
    return _state["launched"]


def threads_allowed(work, parts=2):
    """Whether a kernel call doing ``work`` multiply-adds, split into ``parts`` independent
    parts (chunks, blocks), may run on every core: one part has nothing to share."""
    return parts > 1 and work >= SERIAL_WORK and not _state["forked"]


def pick(parallel_kernel, serial_kernel, work, parts=2):
    """(kernel, context manager to call it in): the parallel build under PARALLEL_LOCK, or
    its serial twin (same bits) where threads_allowed(work, parts) is False.

    Numba's threads are launched before the first kernel of either kind: kernels name the
    running thread (numba.get_thread_id), a symbol that only exists once they are, and a
    kernel loaded from the on-disk cache would not link without it."""
    if not _state["started"]:
        with PARALLEL_LOCK:
            if not _state["started"]:
                start_threads()
    if threads_allowed(work, parts):
        return parallel_kernel, _threaded()
    return serial_kernel, contextlib.nullcontext()


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

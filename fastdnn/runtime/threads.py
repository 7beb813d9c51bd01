"""Threads: when fastdnn's kernels run on every core, and how they leave the cores to others.

Guarantees:
* Threaded kernels run one at a time (PARALLEL_LOCK): Numba's fallback threading layer
  ("workqueue") aborts on concurrent launches, and a threaded kernel already uses every core.
* Inside the engine BLAS runs on one thread (one_blas_thread): the kernels split the work in
  a way set by the shapes, a BLAS call must not start threads of its own, and a product's
  bits can depend on how many threads computed it. So results are the same bits whatever
  NUMBA_NUM_THREADS, OPENBLAS_NUM_THREADS or the core count.
* Every parallel kernel has a ``_serial`` twin with the same bits. ``pick`` takes the twin
  for work too small to share (thread start-up would cost more than it saves), when the
  calling thread has one Numba thread (nothing to share the work with), and in a child
  forked from a process whose threaded kernels ran: GNU OpenMP cannot run in such a child
  (Numba stops it), so fork, forkserver, spawn and forks of forks all train.
* Idle threads hand their cores back soon: before the first threaded kernel loads the
  OpenMP runtime, its spin-wait is shortened (GOMP_SPINCOUNT, for that load only, and only
  when neither it nor OMP_WAIT_POLICY is set: a user's setting always wins). Otherwise the
  runtime's threads spin for milliseconds after each kernel and slow the user's next numpy
  product.
* The other way round too: after each multi-threaded product, OpenBLAS's idle threads spin
  (sched_yield) for about 0.1 s, on cores the engine's next call needs (2-3x slower beside
  numpy, measured). Once, at fastdnn's first threaded kernel, each loaded pthreads OpenBLAS
  (numpy's, SciPy's) gets a short spin: its thread pool is restarted with
  OPENBLAS_THREAD_TIMEOUT=BLAS_SPIN (shorten_blas_spin). Only when neither
  OPENBLAS_THREAD_TIMEOUT nor GOTO_THREAD_TIMEOUT is set: a user's setting always wins.
"""
import contextlib
import os
import threading

PARALLEL_LOCK = threading.Lock()
# Guards the BLAS bookkeeping (the spin restart, the threadpool controller). Its own lock:
# it is taken inside PARALLEL_LOCK (a threaded kernel's first BLAS limit), never around it.
_BLAS_LOCK = threading.Lock()
# Below this many multiply-adds (or element operations) per call, the serial twin runs.
# Measured on the 2-core build machine (full-batch steps of [8,8,1] and [20,10,1], 300 to
# 4,000 samples): two cores won from about 45,000 multiply-adds a step (float64 by 27%,
# float32 even) and by 1.3-1.8x above 100,000.
SERIAL_WORK = 1 << 15
# OpenMP's spin-wait before an idle thread sleeps: long enough to span the serial gap
# between two training steps, short enough to leave the core within a millisecond.
SPIN_COUNT = "10000"
# OpenBLAS's spin before an idle thread sleeps, as log2 of time-stamp-counter cycles (2^20:
# about 0.4 ms at 2.6 GHz; OpenBLAS's own default is 2^28, about 0.1 s): back-to-back numpy
# products still find their threads awake (measured: no product slower), and a training
# call a millisecond later finds its cores free.
BLAS_SPIN = "20"
_BLAS_TIMEOUTS = ("OPENBLAS_THREAD_TIMEOUT", "GOTO_THREAD_TIMEOUT")

_state = {"started": False, "launched": False, "forked": False}
_short_spin = set()          # the OpenBLAS libraries whose spin fastdnn has shortened
_blas_libs = None            # threadpoolctl's controllers of the BLAS libraries (_take_stock)


def _after_fork_in_child():
    # A lock held by another thread at fork time would stay held forever in the child.
    PARALLEL_LOCK._at_fork_reinit()
    _BLAS_LOCK._at_fork_reinit()
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


def shorten_blas_spin():
    """Give each loaded pthreads OpenBLAS a short idle spin (BLAS_SPIN), once: set the
    timeout in the environment, have the library read it (openblas_read_env) and restart
    its thread pool with it (blas_thread_shutdown_, blas_thread_init). Skipped where the
    user set a timeout, and for OpenBLAS builds without those functions. Returns the
    libraries' file names it changed."""
    if any(k in os.environ for k in _BLAS_TIMEOUTS):
        return []
    with _BLAS_LOCK:
        return _restart_blas_pools()


def _restart_blas_pools():
    import ctypes

    from threadpoolctl import threadpool_info
    changed = []
    for pool in threadpool_info():
        path = pool.get("filepath")
        if pool.get("internal_api") != "openblas" or path in _short_spin or \
                pool.get("threading_layer") != "pthreads":
            continue
        _short_spin.add(path)
        try:
            lib = ctypes.CDLL(path)
            functions = (lib.openblas_read_env, lib.blas_thread_shutdown_, lib.blas_thread_init)
        except (OSError, AttributeError):
            continue
        os.environ[_BLAS_TIMEOUTS[0]] = BLAS_SPIN
        try:
            for function in functions:
                function()
        finally:
            del os.environ[_BLAS_TIMEOUTS[0]]
        changed.append(os.path.basename(path))
    return changed


def blas_spin():
    """What sets OpenBLAS's idle spin, in words (``fastdnn info``)."""
    users = [f"{k}={os.environ[k]}" for k in _BLAS_TIMEOUTS if k in os.environ]
    if users:
        return f"your {' '.join(users)}"
    if _short_spin:
        return f"OPENBLAS_THREAD_TIMEOUT={BLAS_SPIN} (fastdnn's, since its first kernel)"
    return "OpenBLAS's default (about 0.1 s), until fastdnn's first threaded kernel"


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
    parts (chunks, blocks), may run on every core: one part has nothing to share, and
    neither has one thread (``NUMBA_NUM_THREADS=1``, ``numba.set_num_threads(1)``,
    ``limit_threads(1)``), whose parallel build would be compiled for nothing."""
    if parts < 2 or work < SERIAL_WORK or _state["forked"]:
        return False
    import numba
    return numba.get_num_threads() > 1


def _launch():
    """Launch Numba's threads and shorten BLAS's spin, once (before any kernel runs)."""
    if not _state["started"]:
        with PARALLEL_LOCK:
            if not _state["started"]:
                start_threads()
                shorten_blas_spin()


def pick(parallel_kernel, serial_kernel, work, parts=2):
    """(kernel, context manager to call it in): the parallel build under PARALLEL_LOCK, or
    its serial twin (same bits) where threads_allowed(work, parts) is False.

    Numba's threads are launched before the first kernel of either kind: kernels name the
    running thread (numba.get_thread_id), a symbol that only exists once they are, and a
    kernel loaded from the on-disk cache would not link without it."""
    _launch()
    if threads_allowed(work, parts):
        return parallel_kernel, _threaded()
    return serial_kernel, contextlib.nullcontext()


@contextlib.contextmanager
def limit_threads(threads):
    """Give fastdnn's kernels (Numba's threads, in the calling thread) and every loaded BLAS
    ``threads`` threads inside the ``with`` block, and restore both after it; None leaves
    both as they are. Numba's threads are launched first as ``pick`` launches them (short
    spin-wait). Bits do not depend on the count (see the guarantees)."""
    if not threads:
        yield
        return
    import numba
    from threadpoolctl import threadpool_limits
    _launch()
    before = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        with threadpool_limits(threads, user_api="blas"):
            yield
    finally:
        numba.set_num_threads(before)


def one_blas_thread():
    """A context manager limiting every loaded BLAS library to one thread, and restoring each
    one's count after it."""
    if _blas_libs is None:
        _take_stock()
    return _OneBlasThread()


class _OneBlasThread:
    """The switch of one_blas_thread: two calls into each library through threadpoolctl's
    per-library controllers. threadpoolctl's own ``limit`` re-reads every library's whole
    description on each switch, which costs more than a small network's training step."""

    def __enter__(self):
        self.before = [(lib, lib.get_num_threads()) for lib in _blas_libs]
        for lib, n in self.before:
            if n != 1:
                lib.set_num_threads(1)
        return self

    def __exit__(self, *exc):
        for lib, n in self.before:
            if n != 1 and n is not None:
                lib.set_num_threads(n)


def _take_stock():
    """Find the BLAS libraries to limit, once. The BLAS that Numba's np.dot calls (SciPy's)
    is loaded first, so that the limit reaches it; it gets the short spin too when it
    arrives after the first kernel. Callers may hold PARALLEL_LOCK (a kernel about to run):
    only _BLAS_LOCK is taken here."""
    global _blas_libs
    import scipy.linalg.cython_blas  # noqa: F401
    from threadpoolctl import ThreadpoolController
    controller = ThreadpoolController()
    if _state["started"]:
        shorten_blas_spin()
    _blas_libs = tuple(controller.select(user_api="blas").lib_controllers)

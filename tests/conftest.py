"""Shared test settings: tolerances, the ../shared data location (tests skip without it), and
the ``slow`` marker's rule: a test that starts a process must carry it."""
import contextlib
import os
import pathlib
import signal
import sys
import time

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))    # tests/naive.py, the reference

# CI (CI=true, as .ci/run is run) draws the same hypothesis examples every time, so that a
# submission's result does not depend on the draw; local runs keep exploring new ones.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    _hypothesis_settings.load_profile("ci")

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHARED = pathlib.Path(os.environ.get("FASTDNN_SHARED", ROOT.parent / "shared"))
DATA = SHARED / "data"

# Relative tolerances: float64 kernels against numpy (BLAS and libm rounding differ by ulps).
RTOL = {np.float64: 1e-12, np.float32: 2e-5}


def assert_close(actual, expected, dtype=np.float64, rtol=None, scale=None):
    """Elementwise |a - e| <= rtol * max(|e|, scale), scale defaulting to max|e| * 1e-3.

    The scale term keeps entries that cancel to ~0 from demanding impossible relative accuracy.
    """
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    rtol = RTOL[np.dtype(dtype).type] if rtol is None else rtol
    if scale is None:
        scale = 1e-3 * (np.max(np.abs(expected)) if expected.size else 0.0)
    # Absolute floor: the dtype's smallest normal (subnormal results may differ by a step).
    bound = rtol * np.maximum(np.abs(expected), scale) + np.finfo(np.dtype(dtype)).tiny
    err = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    same_nan = np.isnan(actual) & np.isnan(expected)
    ok = (err <= bound) | same_nan | (actual == expected)
    assert ok.all(), f"max violation {np.max((err / bound)[~ok])} at {np.argwhere(~ok)[:5].tolist()}"


def kill_once_written(proc, path, grace=0.0, group=False, timeout=240):
    """SIGKILL ``proc`` (its whole process group with ``group``) ``grace`` seconds after
    ``path`` appears; asserts it was still running, i.e. really killed mid-way."""
    deadline = time.time() + timeout
    while time.time() < deadline and not path.exists():
        time.sleep(0.01)
    time.sleep(grace)
    if group:
        os.killpg(proc.pid, signal.SIGKILL)
    else:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the process finished before it could be killed"


@pytest.fixture(scope="session", autouse=True)
def _a_share_of_the_cores_per_worker():
    """Under pytest-xdist (``-n``), each worker process runs fastdnn's kernels and BLAS on its
    share of the cores: N workers each on every core would oversubscribe them, and spinning
    thread pools then slow a test many times over (measured: a course-loop test 16 s alone,
    226 s beside another worker). Bits do not depend on the thread count, so nothing tested
    changes. On two cores each worker has one thread, so the engine runs the serial twins
    (runtime/threads.py); the parallel builds run in ``every_core`` blocks and in the tests
    that compare thread counts, which start their own processes (not limited)."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers < 2:
        yield
        return
    from fastdnn.runtime.threads import limit_threads
    with limit_threads(max(1, len(os.sched_getaffinity(0)) // workers)):
        yield


@contextlib.contextmanager
def every_core(parallel=True):
    """Inside the block the engine runs its parallel builds on every core Numba has, whatever
    the work (``parallel=False``: its serial twins, whatever the work). Skips the test where
    Numba has one thread: there is then no parallel run to compare with."""
    import numba

    from fastdnn.runtime import threads
    cores = numba.config.NUMBA_NUM_THREADS
    if parallel and cores < 2:
        pytest.skip("Numba has one thread here: no parallel build to compare")
    saved = threads.SERIAL_WORK
    threads.SERIAL_WORK = 0 if parallel else 1 << 62
    try:
        with threads.limit_threads(cores if parallel else None):
            yield
    finally:
        threads.SERIAL_WORK = saved


@pytest.fixture(autouse=True)
def _processes_only_in_slow_tests(request, monkeypatch):
    """A test without the ``slow`` marker that starts a process (subprocess, multiprocessing,
    a fork, a Dask cluster) fails, naming the rule: ``pytest -n 0 -m "not slow"`` then runs
    in one process."""
    if request.node.get_closest_marker("slow") is not None:
        return
    import _posixsubprocess

    def refuse(*args, **kwargs):
        raise AssertionError(f"{request.node.nodeid} starts a process: mark it "
                             "@pytest.mark.slow")
    monkeypatch.setattr(os, "fork", refuse)
    monkeypatch.setattr(_posixsubprocess, "fork_exec", refuse)


@pytest.fixture(scope="session")
def cat_data():
    """The course's real cat data, flattened and scaled; skips when ../shared is absent."""
    if not (DATA / "train_catvnoncat.h5").exists():
        pytest.skip(f"cat data not found under {DATA}")
    import fastdnn
    train_x, train_y, test_x, test_y, classes = fastdnn.load_data(str(DATA))
    flat = lambda x: x.reshape(x.shape[0], -1).T / 255.
    return flat(train_x), train_y, flat(test_x), test_y, classes

"""Start-up: a fresh interpreter's import of fastdnn and first call, with a warm or an empty
Numba cache; and the fresh-interpreter runner that ``fastdnn bench`` uses for every case.

Guarantees: every figure comes from new processes (never the caller's own, whose imports and
caches are warm), and figures are medians over several processes, since one process start
varies by 0.1-0.2 s on a shared machine.
"""
import os
import subprocess
import sys
import tempfile
import time


def fresh_python(code, *args, env=None):
    """stdout of ``python -c code *args`` in a new interpreter (this one's executable).

    The working folder is an empty temporary one, so that a source checkout in the current
    folder cannot shadow the installed package ("python -c" puts that folder on sys.path).
    """
    with tempfile.TemporaryDirectory() as neutral:
        return subprocess.run([sys.executable, "-c", code, *args], env=env, cwd=neutral,
                              check=True, capture_output=True, text=True).stdout


# A fresh interpreter imports fastdnn and makes a first call; it prints the seconds of each.
COLD_START = ("import time; t0 = time.perf_counter(); import numpy as np, fastdnn; "
              "t1 = time.perf_counter(); X = np.ones((4, 2)); "
              "fastdnn.L_model_forward(X, fastdnn.initialize_parameters_deep([4, 3, 1])); "
              "print(t1 - t0, time.perf_counter() - t1)")


def start_parts(cache_dir=None):
    """(process seconds, import seconds, first-call seconds) of a fresh interpreter that
    imports fastdnn and calls L_model_forward once. The process time includes the
    interpreter's own start and exit; the parts are measured inside it.

    ``cache_dir`` None: an empty Numba cache (everything compiles); else that cache dir.
    """
    with tempfile.TemporaryDirectory() as empty:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir or empty)
        t0 = time.perf_counter()
        out = fresh_python(COLD_START, env=env)
        total = time.perf_counter() - t0
        t_import, t_call = (float(x) for x in out.split())
        return total, t_import, t_call


def start_samples(samples, warm):
    """``samples`` start_parts() tuples, sorted by import + first call (the middle one is the
    median). warm: every process shares a cache that a first, untimed process filled; else
    each starts from an empty cache of its own."""
    if warm:
        with tempfile.TemporaryDirectory() as cache:
            start_parts(cache)
            parts = [start_parts(cache) for _ in range(samples)]
    else:
        parts = [start_parts() for _ in range(samples)]
    return sorted(parts, key=lambda p: p[1] + p[2])


def cold_start(samples=3):
    """Import plus first call, seconds, with an empty Numba cache: the median of ``samples``."""
    return start_summary(start_samples(samples, warm=False))["median_s"]


def warm_cold_start(samples=5):
    """Import plus first call, seconds, with a warm Numba cache: the median of ``samples``."""
    return start_summary(start_samples(samples, warm=True))["median_s"]


def start_summary(samples):
    """The median sample's parts, and every sample's import + first call, for samples sorted
    by import + first call (as start_samples returns them)."""
    mid = samples[len(samples) // 2]
    return {"process_s": mid[0], "import_s": mid[1], "first_call_s": mid[2],
            "median_s": mid[1] + mid[2], "samples_s": [p[1] + p[2] for p in samples]}

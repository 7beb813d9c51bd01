"""Test data the suites share: memory layouts, random networks, fuzzing strategies, small
course-layout files, and fresh interpreters. Nothing here is a reference (naive.py is)."""
import os
import subprocess
import sys
import textwrap

import numpy as np
from hypothesis import HealthCheck, settings, strategies as st

from conftest import assert_close

LAYOUTS = ["C", "F", "strided", "readonly"]


def layout(x, kind):
    """The same values as x in another memory layout."""
    if kind == "F":
        return np.asfortranarray(x)
    if kind == "strided":
        big = np.zeros((x.shape[0], 2 * x.shape[1]), x.dtype)
        big[:, ::2] = x
        return big[:, ::2]
    if kind == "readonly":
        y = x.copy()
        y.flags.writeable = False
        return y
    return np.ascontiguousarray(x)


def random_net(rng, dims, m, dtype):
    """(X (n0, m), Y (1, m) int labels, parameters) drawn from ``rng``."""
    X = rng.standard_normal((dims[0], m)).astype(dtype)
    params = {}
    for l in range(1, len(dims)):
        params[f"W{l}"] = (rng.standard_normal((dims[l], dims[l - 1])) /
                           np.sqrt(dims[l - 1])).astype(dtype)
        params[f"b{l}"] = (0.1 * rng.standard_normal((dims[l], 1))).astype(dtype)
    Y = (rng.random((1, m)) > 0.5).astype(np.int64)
    return X, Y, params


def synthetic(seed, n_x, m, dtype=np.float64):
    """(X (n_x, m), Y (1, m)): labels from the first feature plus noise."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_x, m)).astype(dtype)
    Y = (X[:1] + 0.5 * rng.standard_normal((1, m)) > 0).astype(np.int64)
    return X, Y


def write_images(path, prefix, m, seed=0, image=(8, 8, 3)):
    """A small course-layout file of m random uint8 images and 0/1 labels."""
    from fastdnn.io.datasets import write_dataset
    rng = np.random.default_rng(seed)
    write_dataset(str(path), prefix, rng.integers(0, 256, (m, *image), dtype=np.uint8),
                  rng.integers(0, 2, m), [b"non-cat", b"cat"])


def run_python(code, env_extra=None, cwd=None, timeout=600):
    """Run ``code`` in a fresh interpreter (without the caller's Numba cache settings unless
    ``env_extra`` gives them); returns its stripped stdout, asserting it succeeded."""
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME")}
    env.update(env_extra or {})
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, cwd=cwd,
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


# ---- fuzzing (hypothesis) -------------------------------------------------------------------
EXAMPLES = 1000
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
DTYPES = st.sampled_from([np.float64, np.float32])
LAYOUT_NAMES = st.sampled_from(LAYOUTS)
SCALES = st.sampled_from([1e-3, 1.0, 30.0, 800.0])         # 800: sigmoid saturates both ways
FUZZ_RTOL = {np.float64: 1e-10, np.float32: 1e-4}


@st.composite
def arrays(draw, shape=None, dtype=None, scale=None):
    """A random array in a random layout, with exact and negative zeros mixed in."""
    shape = shape or (draw(st.integers(1, 6)), draw(st.integers(1, 40)))
    dtype = dtype or draw(DTYPES)
    scale = scale or draw(SCALES)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal(shape) * scale
    x[rng.random(shape) < 0.05] = 0.0                         # exact zeros
    x[rng.random(shape) < 0.02] = -0.0                        # and negative zeros
    return layout(x.astype(dtype), draw(LAYOUT_NAMES))


def close(actual, expected, dtype, scale=None):
    """Same dtype, and assert_close at the fuzzing tolerance."""
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    assert_close(actual, expected, dtype, rtol=FUZZ_RTOL[dtype], scale=scale)


def diverging():
    """(X (3, 20), Y (1, 20)): random labels. With layers [3, 4, 1], the application's
    initialiser and a learning rate of 10, the weights grow until the output's logit
    overflows: the cost is infinite at iteration 199 (a genuine divergence)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 20)) * 3
    return X, (rng.random((1, 20)) > 0.5).astype(int)

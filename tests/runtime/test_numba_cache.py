"""The Numba cache: an edited kernel file never runs stale machine code, an install without
any writable cache still computes, FASTDNN_DISABLE_CACHE, and processes compiling into one
empty cache at once."""
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap

import pytest

import fastdnn
from helpers import run_python

pytestmark = pytest.mark.slow


def package_copy(dest):
    """A private copy of the installed fastdnn (kernels included) under dest; returns dest."""
    ignore = shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc")
    shutil.copytree(pathlib.Path(fastdnn.__file__).parent, dest / "fastdnn", ignore=ignore)
    if not (dest / "fastdnn" / "kernels").exists():        # editable install: kernels/ apart
        shutil.copytree(pathlib.Path(fastdnn.kernels.__file__).parent,
                        dest / "fastdnn" / "kernels", ignore=ignore)
    return dest


LAYER = """
    import numpy as np, fastdnn
    A = np.linspace(-1, 1, 300).reshape(3, 100)
    W = np.array([[1.0, 2.0, -1.0]])
    out, _ = fastdnn.linear_activation_forward(A, W, np.zeros((1, 1)), "relu")
    print(repr(float(out.sum())), fastdnn.kernels.CACHE_DIR)
"""


def test_edited_kernel_file_never_runs_stale_cached_caller(tmp_path):
    # bias_activation_forward (linear.py) calls relu_forward (activations.py). Numba alone
    # would keep serving the cached caller after activations.py changes (numba issue 1833).
    pkg = package_copy(tmp_path / "pkg")
    env = {"PYTHONPATH": str(pkg), "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    before, cache1 = run_python(LAYER, env, tmp_path).split()
    again, _ = run_python(LAYER, env, tmp_path).split()           # served from the cache
    assert again == before
    assert any(pathlib.Path(cache1).rglob("*.nbi")), "the first run did not cache anything"
    src = pkg / "fastdnn" / "kernels" / "activations.py"
    text = src.read_text()
    edited = text.replace("out[i] = v if (v >= 0 or v != v) else 0",
                          "out[i] = (v if (v >= 0 or v != v) else 0) + 1000.0")
    assert edited != text
    src.write_text(edited)
    after, cache2 = run_python(LAYER, env, tmp_path).split()
    assert float(after) == pytest.approx(float(before) + 100 * 1000.0)
    assert cache2 != cache1


def test_install_without_any_writable_cache_still_imports_and_computes(tmp_path):
    pkg = package_copy(tmp_path / "pkg")
    for p in pkg.rglob("*"):
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        # /proc refuses new folders even to root: no cache folder can be made anywhere.
        env = {"PYTHONPATH": str(pkg), "HOME": "/proc/fastdnn-no-home",
               "NUMBA_CACHE_DIR": "/proc/fastdnn-no-cache"}
        out = run_python("""
            import numpy as np, fastdnn
            X = np.random.default_rng(0).standard_normal((5, 70))
            AL, caches = fastdnn.L_model_forward(X, fastdnn.initialize_parameters_deep([5, 4, 1]))
            print(fastdnn.kernels.CACHE_DIR, AL.shape, len(caches))
        """, env, tmp_path)
        assert out == "None (1, 70) 2"
    finally:
        for p in pkg.rglob("*"):
            p.chmod(0o755 if p.is_dir() else 0o644)


def test_disable_cache_variable_compiles_without_writing_a_cache(tmp_path):
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "cache"), "FASTDNN_DISABLE_CACHE": "1"}
    total, cache = run_python(LAYER, env, tmp_path).split()
    assert cache == "None"
    assert not list((tmp_path / "cache").rglob("*.nbi"))
    env["FASTDNN_DISABLE_CACHE"] = ""                        # empty: the cache is on
    again, cache = run_python(LAYER, env, tmp_path).split()
    assert again == total and "fastdnn-kernels-" in cache
    assert list(pathlib.Path(cache).rglob("*.nbi"))


def test_processes_compiling_at_once_leave_a_sound_cache(tmp_path):
    # The course's helpers: eight kernels from several kernel files (a few seconds to
    # compile), each written into the empty cache by three processes at once. (A training
    # step would do as well and take ten times as long.)
    code = """
        import numpy as np, fastdnn
        rng = np.random.default_rng(0)
        X = rng.standard_normal((20, 40)); Y = (rng.random((1, 40)) > 0.5).astype(int)
        p = fastdnn.initialize_parameters_deep([20, 5, 1])
        for i in range(30):
            AL, caches = fastdnn.L_model_forward(X, p)
            grads = fastdnn.L_model_backward(AL, Y, caches)
            p = fastdnn.update_parameters(p, grads, 0.1)
        print(repr(float(fastdnn.compute_cost(AL, Y))), repr(float(p["W1"].sum())))
    """
    env = {k: v for k, v in os.environ.items() if k != "XDG_CACHE_HOME"}
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "cache")
    procs = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=env,
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
             for _ in range(3)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e for _, e in outs]
    results = {o.strip() for o, _ in outs}
    assert len(results) == 1
    assert len(list((tmp_path / "cache").rglob("*.nbi"))) >= 8
    warm = run_python(code, {"NUMBA_CACHE_DIR": str(tmp_path / "cache")}, tmp_path)
    assert warm in results

"""FASTDNN_BLAS: which BLAS the kernels' products call. The default is SciPy's (the one
Numba's np.dot calls); a bad value is refused naming the variable; with the fastdnn[mkl]
extra installed, MKL runs the same training to the reference's tolerance, the same bits
on 1 and 2 threads and wherever the buffers lie, and ``fastdnn info`` names it."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import naive
from conftest import assert_close
from fastdnn.kernels import linking
from fastdnn.runtime import blas
from helpers import run_python

HAS_MKL = os.path.exists(os.path.join(sys.prefix, "lib", "libmkl_rt.so.3")) or os.path.exists(
    os.path.join(sys.prefix, "lib", "libmkl_rt.so.2"))         # the mkl package's, pip or conda
needs_mkl = pytest.mark.skipif(not HAS_MKL, reason="the fastdnn[mkl] extra is not installed")


def test_default_is_scipys_blas():
    from numba.extending import get_cython_function_address
    assert blas.kernel_blas() == "scipy" == linking.DEFAULT
    name, addresses, library = linking.bind()
    assert name == "scipy" and library is None and addresses == tuple(
        get_cython_function_address("scipy.linalg.cython_blas", f) for f in ("sgemm", "dgemm"))
    assert blas.choose_kernel_blas({}) is None and blas.choose_kernel_blas(
        {"FASTDNN_BLAS": " SciPy "}) is None and blas.kernel_blas() == "scipy"


@pytest.mark.parametrize("value", ["openblas", "mkl2", "1"])
def test_unknown_value_is_refused_naming_the_variable(value):
    with pytest.raises(ValueError, match=rf"FASTDNN_BLAS='{value}': expected one of 'scipy'"):
        blas.choose_kernel_blas({"FASTDNN_BLAS": value})


@pytest.mark.slow
def test_unknown_value_stops_the_first_kernel_with_the_message(tmp_path):
    # import fastdnn works (nothing to report yet); the first training raises, and the
    # command line says it in one line
    run_python("""
        import numpy as np, pytest
        import fastdnn
        with pytest.raises(ImportError, match="FASTDNN_BLAS='blis': expected one of 'scipy'"):
            fastdnn.fit(np.ones((3, 40)), np.ones((1, 40)), [3, 1], 0.1, 2)
    """, {"FASTDNN_BLAS": "blis"}, cwd=tmp_path)     # (not the source folder's fastdnn/)
    r = subprocess.run(["fastdnn", "train", "--iterations", "2", "--quiet"], capture_output=True,
                       text=True, env=dict(os.environ, FASTDNN_BLAS="blis"), timeout=300,
                       cwd=tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith(
        "fastdnn: error: FASTDNN_BLAS='blis': expected one of 'scipy'"), r.stderr


@pytest.mark.slow
def test_a_second_choice_after_the_kernels_linked_is_refused(tmp_path):
    run_python("""
        import pytest
        from fastdnn.kernels import linking
        from fastdnn.kernels import blas           # binds SciPy's ?gemm for this process
        linking.choose("scipy")                    # the same library: allowed
        with pytest.raises(RuntimeError, match="already call scipy's BLAS"):
            linking.choose("mkl", "/opt/libmkl_rt.so")
        assert linking.name() == "scipy"
    """, cwd=tmp_path)


def test_missing_mkl_is_a_clear_import_error(monkeypatch):
    monkeypatch.setattr(blas, "_mkl_candidates", lambda: iter([None]))     # none found
    with pytest.raises(ImportError, match=r"FASTDNN_BLAS=mkl: no MKL runtime library.*"
                                          r"pip install 'fastdnn\[mkl\]'"):
        blas.choose_kernel_blas({"FASTDNN_BLAS": "mkl"})
    assert blas.kernel_blas() == "scipy"


_TRAIN = """
    import json, sys
    import numpy as np
    import fastdnn
    from fastdnn.engine.settings import checked
    from fastdnn.runtime.blas import kernel_blas
    from helpers import random_net
    out = {"blas": kernel_blas()}
    # under MKL a float32 layer of few units on many inputs keeps the BLAS's forms (no
    # W1^T buffer for Z_1 by rows: codes.blas_float32_layer1)
    X, Y, params = random_net(np.random.default_rng(4), [402, 32, 1], 600, np.float32)
    tr = fastdnn.Trainer(X, Y, params, 0.05, dtype=np.float32, gram=False)
    out["tiles"] = [tr.tiles.blas, tr.tiles.xf.shape[1]]
    for dtype in (np.float64, np.float32):
        X, Y, params = random_net(np.random.default_rng(3), [300, 96, 64, 1], 1500, dtype)
        for name, kw in (("gd", {}), ("adam", dict(optimizer="adam", mini_batch_size=256))):
            runs = []
            for shifted in (False, True):
                tr = fastdnn.Trainer(X, Y, params, 0.05, dtype=dtype, gram=False,
                                     settings=checked(**kw))
                if shifted:              # every operand one value off a cache line
                    off = lambda a: np.concatenate([np.zeros(1, a.dtype), a.ravel()])[1:].reshape(a.shape)
                    tr.tiles = tr.tiles._replace(**{
                        k: off(a) for k, a in tr.tiles._asdict().items()
                        if isinstance(a, np.ndarray) and a.dtype == dtype and a.ndim == 2
                        and a.size})
                    tr.net = tr.net._replace(theta=off(tr.net.theta), grad=off(tr.net.grad))
                    tr.opt = tr.opt._replace(**{k: off(getattr(tr.opt, k)) for k in ("v", "s")
                                                if getattr(tr.opt, k).size})
                    assert tr.tiles.acts.ctypes.data % 64 and tr.net.theta.ctypes.data % 64
                costs = np.empty(4)
                tr.run(costs)
                P = tr.parameters()
                runs.append([costs.tolist()] + [P[k].ravel().tolist() for k in sorted(P)])
            out[f"{np.dtype(dtype).name} {name}"] = runs
    print(json.dumps(out))
"""


def _train(threads, blas_name, cwd):
    env = {"NUMBA_NUM_THREADS": str(threads), "FASTDNN_BLAS": blas_name,
           "PYTHONPATH": os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
           + os.pathsep + os.environ.get("PYTHONPATH", "")}          # tests/: helpers
    return json.loads(run_python(_TRAIN, env, cwd=cwd).splitlines()[-1])


@needs_mkl
@pytest.mark.slow
def test_mkl_trains_to_the_reference_with_the_same_bits_on_any_threads_and_placement(tmp_path):
    one, two = _train(1, "mkl", tmp_path), _train(2, "mkl", tmp_path)
    assert one["blas"] == two["blas"] == "mkl"
    assert one["tiles"] == [1, 0]                       # codes.BLAS_MKL, no W1^T buffer
    assert one == two                                   # 1 and 2 threads: the same bits
    from helpers import random_net
    for dtype, rtol in ((np.float64, 1e-9), (np.float32, 2e-4)):
        runs = one[f"{np.dtype(dtype).name} gd"]
        assert runs[0] == runs[1]                       # operands off lines: the same bits
        assert one[f"{np.dtype(dtype).name} adam"][0] == one[f"{np.dtype(dtype).name} adam"][1]
        X, Y, params = random_net(np.random.default_rng(3), [300, 96, 64, 1], 1500, dtype)
        ref_params, ref_costs = naive.train(X.astype(np.float64), Y, {
            k: v.astype(np.float64) for k, v in params.items()}, 0.05, 4)
        assert_close(np.array(runs[0][0]), ref_costs, rtol=rtol)
        for got, k in zip(runs[0][1:], sorted(ref_params)):
            assert_close(np.array(got), ref_params[k].ravel(), rtol=rtol)


@needs_mkl
@pytest.mark.slow
def test_mkl_gemm_matches_numpy_and_info_names_it(tmp_path):
    out = run_python("""
        import numba, numpy as np
        import fastdnn
        mapped = lambda: any("libmkl_rt" in line for line in open("/proc/self/maps"))
        assert not mapped()                # chosen at import, loaded with the first kernel
        from fastdnn.kernels.blas import gemm
        assert mapped()
        @numba.njit
        def g(C, A, B, ta, tb, beta):
            gemm(C, A, B, ta, tb, beta)
        rng = np.random.default_rng(0)
        worst = 0.0
        for dtype in (np.float64, np.float32):
            for ta in (False, True):
                for tb in (False, True):
                    M, N, K = 33, 20, 257
                    A = rng.standard_normal((K, M) if ta else (M, K)).astype(dtype)
                    B = rng.standard_normal((N, K) if tb else (K, N)).astype(dtype)
                    C0 = rng.standard_normal((M, N)).astype(dtype)
                    want = ((A.T if ta else A).astype(float) @ (B.T if tb else B).astype(float)
                            + C0)
                    C = C0.copy()
                    g(C, A, B, ta, tb, 1.0)
                    tol = 1e-12 if dtype == np.float64 else 2e-5
                    worst = max(worst, np.abs(C - want).max() / (np.abs(A).max()
                                * np.abs(B).max() * K) / tol)
        print(worst)
    """, {"FASTDNN_BLAS": "mkl"}, cwd=tmp_path)
    assert float(out) < 1.0
    r = subprocess.run(["fastdnn", "info"], capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, FASTDNN_BLAS="mkl"))
    assert r.returncode == 0, r.stderr
    line = next(s for s in r.stdout.splitlines() if s.startswith("BLAS (kernels)"))
    assert "mkl" in line and "sequential layer, 1 threads" in line and "libmkl_rt" in line
    assert any(s.startswith("BLAS (scipy): openblas") for s in r.stdout.splitlines())

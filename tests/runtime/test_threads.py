"""Threads and processes: the same bits in children of every multiprocessing start method
and in a child of a forked child, the serial twins' bits are the parallel kernels', and
API calls from many threads at once. Child processes run in fresh interpreters with a
timeout: a hang fails."""
import concurrent.futures
import os
import subprocess
import sys
import tempfile
import textwrap

import numpy as np
import pytest

import fastdnn
import naive
from conftest import assert_close, every_core


SCRIPT = textwrap.dedent("""
    import multiprocessing as mp, os, sys
    import numpy as np, fastdnn

    def train(seed):
        rng = np.random.default_rng(seed)
        X = rng.random((20, 3000)); Y = (X[:1] > 0.5).astype(int)
        r = fastdnn.fit(X, Y, [20, 8, 1], 0.1, 30)
        return r.costs.tobytes().hex()

    def child(queue, depth):
        # A forked child trains, and forks a child of its own that trains too.
        queue.put(train(depth))
        if depth == 0:
            run_child(queue, 1)

    def run_child(queue, depth):
        proc = mp.get_context("fork").Process(target=child, args=(queue, depth))
        proc.start()
        proc.join(180)
        assert proc.exitcode == 0, proc.exitcode

    if __name__ == "__main__":
        method = sys.argv[1]
        parent = [train(s) for s in (0, 1)]          # threaded kernels run in the parent
        assert fastdnn.runtime.threads.launched(), "the parent never ran a threaded kernel"
        if method == "grandchild":
            queue = mp.get_context("fork").Queue()
            run_child(queue, 0)
            got, want = sorted(queue.get(timeout=10) for _ in range(2)), sorted(parent)
        else:
            with mp.get_context(method).Pool(2) as pool:
                got = pool.map_async(train, [0, 1, 0, 1]).get(timeout=180)
            want = parent * 2
        print("same bits" if got == want else f"DIFFERENT {got} {want}")
""")


@pytest.mark.slow
@pytest.mark.parametrize("method", ["fork", "forkserver", "spawn", "grandchild"])
def test_children_train_with_the_same_bits(method, tmp_path):
    script = tmp_path / "children.py"
    script.write_text(SCRIPT)
    # Two Numba threads even on one core: the parent must run the threaded builds.
    r = subprocess.run([sys.executable, str(script), method], capture_output=True, text=True,
                       timeout=400, cwd=tempfile.gettempdir(),
                       env=dict(os.environ, NUMBA_NUM_THREADS="2"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "same bits", r.stdout + r.stderr
    assert "Terminating" not in r.stderr


def test_serial_twins_give_the_parallel_bits():
    import numpy as np

    import fastdnn
    rng = np.random.default_rng(3)
    results = []
    for layers, m, gram in (([30, 16, 8, 1], 2000, False), ([500, 12, 1], 300, True),
                            ([90, 24, 1], 320, True)):     # Gram: S·G in small.py, the BLAS
        X = rng.random((layers[0], m))
        Y = (X[:1] > 0.5).astype(int)
        for parallel in (True, False):             # every core; then the serial twins
            with every_core(parallel):
                r = fastdnn.fit(X, Y, layers, 0.05, 20, gram=gram)
                p = fastdnn.probabilities(X, r.parameters)
            results.append((r.costs.tobytes(), r.parameters["W1"].tobytes(), p.tobytes()))
    assert results[0] == results[1] and results[2] == results[3] and results[4] == results[5]


def test_one_numba_thread_takes_the_serial_twin():
    import numba

    from fastdnn.runtime.threads import limit_threads, pick
    big = 1 << 40                                   # work enough for every core
    with limit_threads(1):
        assert pick("parallel", "serial", big)[0] == "serial"
    if numba.config.NUMBA_NUM_THREADS > 1:
        with limit_threads(2):
            assert pick("parallel", "serial", big)[0] == "parallel"
            assert pick("parallel", "serial", big, parts=1)[0] == "serial"


def test_api_calls_from_many_threads():
    rng = np.random.default_rng(0)
    jobs = []
    for i in range(120):
        shape = [(3, 5), (300, 700), (1, 2)][i % 3]       # includes the threaded kernels
        Z = rng.standard_normal(shape)
        dA = rng.standard_normal(shape)
        jobs.append((Z, dA))

    def work(job):
        Z, dA = job
        return (fastdnn.sigmoid(Z)[0], fastdnn.relu(Z)[0], fastdnn.relu_backward(dA, Z),
                fastdnn.sigmoid_backward(dA, Z),
                fastdnn.compute_cost(naive.sigmoid(Z[:1]), (Z[:1] > 0).astype(int)))

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, jobs))
    for (Z, dA), (s, r, rb, sb, c) in zip(jobs, results):
        assert_close(s, naive.sigmoid(Z))
        np.testing.assert_array_equal(r, naive.relu(Z))
        np.testing.assert_array_equal(rb, naive.relu_grad(dA, Z))
        assert_close(sb, naive.sigmoid_grad(dA, Z), scale=np.abs(sb).max())
        assert_close(c, naive.cost(naive.sigmoid(Z[:1]), (Z[:1] > 0).astype(int)))


SPIN = textwrap.dedent("""
    import ctypes, numpy as np, fastdnn
    from threadpoolctl import threadpool_info
    pools = [p for p in threadpool_info() if p.get("internal_api") == "openblas"
             and p.get("threading_layer") == "pthreads" and "numpy" in p["filepath"]]
    if not pools:
        print("skip"); raise SystemExit
    lib = ctypes.CDLL(pools[0]["filepath"])
    before = lib.openblas_thread_timeout()
    rng = np.random.default_rng(0)
    a = rng.random((300, 300))
    ref = a @ a
    X = rng.random((20, 3000)); Y = (X[:1] > 0.5).astype(int)
    fastdnn.fit(X, Y, [20, 8, 1], 0.1, 5)            # the first threaded kernel
    print(before, lib.openblas_thread_timeout(), np.array_equal(a @ a, ref))
""")


@pytest.mark.slow
@pytest.mark.parametrize("user, expected", [(None, "0 20 True"), ("25", "25 25 True")])
def test_openblas_idle_spin_is_shortened_unless_the_user_set_it(user, expected, tmp_path):
    # numpy's OpenBLAS reads OPENBLAS_THREAD_TIMEOUT (0: unset, its default spin) at load;
    # fastdnn's first threaded kernel restarts its threads with a short spin, and numpy's
    # products still give the same results. A user's setting is left as it is.
    env = {k: v for k, v in os.environ.items() if not k.endswith("THREAD_TIMEOUT")}
    if user is not None:
        env["OPENBLAS_THREAD_TIMEOUT"] = user
    r = subprocess.run([sys.executable, "-c", SPIN], capture_output=True, text=True, env=env,
                       timeout=300, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    if r.stdout.strip() == "skip":
        pytest.skip("numpy's BLAS is not a pthreads OpenBLAS")
    assert r.stdout.strip() == expected


FIRST_CALL = textwrap.dedent("""
    import sys, numpy as np, fastdnn
    rng = np.random.default_rng(0)
    n = [20, 64, 32, 1]
    params = fastdnn.initialize_parameters_deep(n)
    X = rng.random((20, 4000))
    call = sys.argv[1]
    if call == "predict":
        p = fastdnn.probabilities(X, params)         # a threaded kernel, then BLAS's stock
    else:
        p = fastdnn.fit(X, (X[:1] > 0.5).astype(int), n, 0.1, 2)
    print("done")
""")


@pytest.mark.slow
@pytest.mark.parametrize("call", ["predict", "fit"])
def test_a_process_first_call_does_not_deadlock(call, tmp_path):
    # The first threaded kernel of a process takes PARALLEL_LOCK, then takes stock of the
    # BLAS libraries (restarting SciPy's OpenBLAS with the short spin): that must not need
    # PARALLEL_LOCK again.
    r = subprocess.run([sys.executable, "-c", FIRST_CALL, call], capture_output=True,
                       text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "done"


def test_limit_threads_holds_numba_and_blas_inside_and_restores_them():
    import numba
    from threadpoolctl import threadpool_info

    from fastdnn.runtime.threads import limit_threads

    def blas_threads():
        return sorted(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")

    X = np.random.default_rng(0).random((20, 3000))
    Y = (X[:1] > 0.5).astype(int)
    expected = fastdnn.fit(X, Y, [20, 8, 1], 0.1, 5)     # loads every BLAS the kernels use
    numba_before, blas_before = numba.get_num_threads(), blas_threads()
    with limit_threads(1):
        assert numba.get_num_threads() == 1
        assert set(blas_threads()) == {1}
        inside = fastdnn.fit(X, Y, [20, 8, 1], 0.1, 5)
    assert numba.get_num_threads() == numba_before
    assert blas_threads() == blas_before
    assert inside.costs.tobytes() == expected.costs.tobytes()
    for key in expected.parameters:
        assert inside.parameters[key].tobytes() == expected.parameters[key].tobytes()
    with limit_threads(None):
        assert numba.get_num_threads() == numba_before


@pytest.mark.slow
def test_a_thread_limit_set_first_keeps_the_short_spin(tmp_path):
    # A sweep worker limits its threads before any kernel: the limit must launch Numba's
    # threads as the first kernel would (OpenMP loaded with fastdnn's short spin-wait), not
    # load the OpenMP runtime with its default spin first.
    code = ("from fastdnn.runtime import threads\n"
            "with threads.limit_threads(1):\n"
            "    print(threads.start_threads())\n")
    env = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "fastdnn's" in r.stdout, r.stdout

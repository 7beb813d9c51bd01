"""Children of a process that has run fastdnn's threaded kernels train, and give the same
bits: multiprocessing's fork, forkserver and spawn pools, and a child of a forked child.

GNU OpenMP cannot run in a child forked after its threads ran (Numba stops such a child);
fastdnn's kernels then run their single-threaded twins, whose bits are the same
(fastdnn/_threads.py). Each case runs in a fresh interpreter, with a timeout: a hang fails.
"""
import subprocess
import sys
import tempfile
import textwrap

import pytest

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
        assert fastdnn._threads._state["launched"], "the parent never ran a threaded kernel"
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


@pytest.mark.parametrize("method", ["fork", "forkserver", "spawn", "grandchild"])
def test_children_train_with_the_same_bits(method, tmp_path):
    script = tmp_path / "children.py"
    script.write_text(SCRIPT)
    r = subprocess.run([sys.executable, str(script), method], capture_output=True, text=True,
                       timeout=400, cwd=tempfile.gettempdir())
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "same bits", r.stdout + r.stderr
    assert "Terminating" not in r.stderr


def test_serial_twins_give_the_parallel_bits():
    import numpy as np

    import fastdnn
    from fastdnn import _threads
    rng = np.random.default_rng(3)
    results = []
    for layers, m, gram in (([30, 16, 8, 1], 2000, False), ([500, 12, 1], 300, True)):
        X = rng.random((layers[0], m))
        Y = (X[:1] > 0.5).astype(int)
        for threshold in (0, 1 << 62):             # every core; then the serial twins
            saved, _threads.SERIAL_WORK = _threads.SERIAL_WORK, threshold
            try:
                r = fastdnn.fit(X, Y, layers, 0.05, 20, gram=gram)
                p = fastdnn.inference.probabilities(X, r.parameters)
            finally:
                _threads.SERIAL_WORK = saved
            results.append((r.costs.tobytes(), r.parameters["W1"].tobytes(), p.tobytes()))
    assert results[0] == results[1] and results[2] == results[3]

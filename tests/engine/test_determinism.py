"""The same inputs give the same bits whatever the thread count (engine and BLAS threads)."""
import os
import subprocess
import sys
import tempfile
import textwrap

import pytest

CODE = textwrap.dedent("""
    import sys, numpy as np, fastdnn
    n, m, dims, gram, dtype, *options = eval(sys.argv[1])
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, m))
    Y = (X[:1] + rng.standard_normal((1, m)) > 0).astype(np.int64)
    r = fastdnn.fit(X, Y, dims, 0.05 if not options else 0.01, 12 if not options else 3,
                    gram=gram, dtype=dtype,
                    **(options[0] if options else {}))
    parts = [r.costs] + [r.parameters[k] for k in sorted(r.parameters)]
    sys.stdout.buffer.write(b"".join(np.ascontiguousarray(p).tobytes() for p in parts))
""")

SHAPES = [
    (20, 1000, [20, 10, 1], False, "float64"),           # tiny
    (50, 20000, [50, 64, 32, 1], False, "float64"),      # tabular
    (50, 20000, [50, 64, 32, 1], False, "float32"),
    (784, 3000, [784, 128, 64, 1], False, "float64"),    # mnist-like
    (784, 3000, [784, 128, 64, 1], False, "float32"),    # ... dW1 over blocks of samples
    (300, 3000, [300, 32, 1], False, "float32"),         # ... and Z1 by rows from W1^T
    (3000, 300, [3000, 20, 7, 5, 1], True, "float64"),   # cat-like, Gram path
    (400, 320, [400, 24, 1], True, "float32"),           # Gram path, S·G by the BLAS
    # The optimizer options: mini-batches split over chunks, and ones of a single chunk.
    (50, 20000, [50, 64, 32, 1], "auto", "float64",
     dict(optimizer="adam", mini_batch_size=4096, lambd=0.1, keep_prob=0.9)),
    (50, 5000, [50, 64, 32, 1], "auto", "float32",
     dict(optimizer="momentum", mini_batch_size=64, keep_prob=0.8, seed=3)),
]


def run(case, threads):
    env = {k: v for k, v in os.environ.items()
           if k not in ("NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    if threads:
        env.update(NUMBA_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
                   OMP_NUM_THREADS=str(threads))
    r = subprocess.run([sys.executable, "-c", CODE, repr(case)], env=env, capture_output=True,
                       timeout=600, cwd=tempfile.gettempdir())   # not the source folder
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout


@pytest.mark.parametrize("case", SHAPES, ids=lambda c: f"{c[2]}-m{c[1]}-{c[4]}")
def test_fit_bits_do_not_depend_on_the_thread_count(case):
    one, every = run(case, 1), run(case, None)      # 1 thread; every core (the default)
    assert len(one) > 0 and one == every
    if os.cpu_count() > 2:
        assert run(case, 2) == one


PREDICT = textwrap.dedent("""
    import sys, numpy as np, fastdnn
    from fastdnn.engine.inference import probabilities
    rng = np.random.default_rng(1)
    X = rng.standard_normal((784, 20000))
    p = probabilities(X, fastdnn.initialize_parameters_deep([784, 128, 64, 1]))
    sys.stdout.buffer.write(p.tobytes())
""")


@pytest.mark.slow
def test_tiled_predictions_do_not_depend_on_the_thread_count():
    outs = []
    for threads in (1, None):
        env = {k: v for k, v in os.environ.items() if k != "NUMBA_NUM_THREADS"}
        if threads:
            env.update(NUMBA_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        r = subprocess.run([sys.executable, "-c", PREDICT], env=env, capture_output=True,
                           timeout=600, cwd=tempfile.gettempdir())
        assert r.returncode == 0, r.stderr.decode()
        outs.append(r.stdout)
    assert len(outs[0]) == 8 * 20000 and outs[0] == outs[1]

"""Run times that a change of the engine's calls could move: per iteration of a tiny full-batch
fit, per epoch of Adam on batches of 64, one Adam epoch on the digits data through
``Trainer.run``, and a tiny ``probabilities`` call (best of several, after a first call).

    python scripts/small_runs.py LABEL

Run it alternately for two builds in fresh interpreters, each with its own warm cache
(docs/performance.md, "The chunk loop called by its address"). LABEL heads the line.
"""
import sys
import time

import numpy as np

import fastdnn
from fastdnn.bench import tta
from fastdnn.bench import tta_engines as engines


def best(call, repeat):
    """The least wall time of ``repeat`` calls, in seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(label):
    rng = np.random.default_rng(0)
    rows = []
    X = np.asfortranarray(rng.standard_normal((20, 1000)))
    Y = (X[:1] > 0).astype(float)
    for dt in ("float64", "float32"):
        fastdnn.fit(X, Y, [20, 10, 1], 0.01, 3, dtype=dt, gram=False)
        s = best(lambda: fastdnn.fit(X, Y, [20, 10, 1], 0.01, 2000, dtype=dt, gram=False), 5)
        rows.append(f"tiny {dt} {s / 2000 * 1e6:.1f} µs/iteration")
    X2 = np.asfortranarray(rng.standard_normal((50, 20_000)))
    Y2 = (X2[:1] > 0).astype(float)
    for dt in ("float64", "float32"):
        kw = dict(optimizer="adam", mini_batch_size=64, dtype=dt)
        fastdnn.fit(X2, Y2, [50, 64, 32, 1], 0.001, 1, **kw)
        s = best(lambda: fastdnn.fit(X2, Y2, [50, 64, 32, 1], 0.001, 2, **kw), 5)
        rows.append(f"adam batch 64 {dt} {s / 2 * 1e3:.2f} ms/epoch")
    data = tta.dataset("digits")
    run = engines.Fastdnn(data, [64] + tta.DATASETS["digits"][0], 0.01, "adam", 64, 1)
    run.chunk()
    rows.append(f"digits adam epoch {best(run.chunk, 150) * 1e6:.0f} µs")
    P = fastdnn.initialize_parameters_deep([20, 10, 1])
    fastdnn.probabilities(X, P)
    s = best(lambda: fastdnn.probabilities(X, P), 200)
    rows.append(f"probabilities tiny {s * 1e6:.0f} µs")
    print(label, " | ".join(rows))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")

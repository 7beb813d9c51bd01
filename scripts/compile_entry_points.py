"""First-call seconds (compile included) of the engine's entry points, one after another, in
one process: what a first session with an empty Numba cache waits for.

    NUMBA_CACHE_DIR=$(mktemp -d) python scripts/compile_entry_points.py

The steps: the tiled training step (float64, X's tiles views, then copied from uint8
bytes), the Gram path, the tiled forward pass (``probabilities``, as ``predict`` runs it),
and the float32 tiled step. Each step compiles only what the steps before it did not
(docs/performance.md, "One thread, the serial twins; entry points share their passes").
"""
import numpy as np

import fastdnn
from compile_forms import time_steps      # scripts/, beside this file


def main():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (3000, 40), dtype=np.uint8)          # samples in rows
    Y = (img[:, :1].T / 255. > 0.5).astype(int)
    X = np.asfortranarray(img.T / 255.)
    dims = [40, 16, 1]
    steps = [
        ("tiled step, float64", lambda: fastdnn.fit(X, Y, dims, 0.01, 4, gram=False)),
        ("tiled step, uint8 X", lambda: fastdnn.fit(img.T, Y, dims, 0.01, 4, gram=False,
                                                    x_divisor=255.0)),
        ("Gram step, float64", lambda: fastdnn.fit(X[:, :300], Y[:, :300], dims, 0.01, 4,
                                                   gram=True)),
        ("forward pass, float64", lambda: fastdnn.probabilities(
            X, fastdnn.initialize_parameters_deep(dims))),
        ("tiled step, float32", lambda: fastdnn.fit(X, Y, dims, 0.01, 4, gram=False,
                                                    dtype=np.float32)),
    ]
    time_steps(steps)


if __name__ == "__main__":
    main()

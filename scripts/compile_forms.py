"""First-fit seconds (compile included) of six forms of X, one after another, in one process.

Run with an empty Numba cache to see what each form compiles (docs/performance.md,
"Compile time: forms of X"):

    NUMBA_CACHE_DIR=$(mktemp -d) python scripts/compile_forms.py

A form whose kernel is already compiled takes milliseconds; one that needs its own compiled
kernel takes many seconds.
"""
import time

import numpy as np

import fastdnn


def time_steps(steps):
    """Run each (name, call) of ``steps`` once, in order; print its seconds and the total."""
    total = 0.0
    for name, step in steps:
        start = time.perf_counter()
        step()
        seconds = time.perf_counter() - start
        total += seconds
        print(f"{name:24s} {seconds:6.1f} s", flush=True)
    print(f"{'total':24s} {total:6.1f} s")


def main():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (3000, 40), dtype=np.uint8)          # samples in rows
    Y = (img[:, :1].T / 255. > 0.5).astype(int)
    forms = [("float64, F order", np.asfortranarray(img.T / 255.), None, np.float64),
             ("float64, C order", np.ascontiguousarray(img.T / 255.), None, np.float64),
             ("uint8 C / 255", np.ascontiguousarray(img.T), 255.0, np.float64),
             ("uint8 F / 255", img.T, 255.0, np.float64),
             ("float32 net, float64 F", np.asfortranarray(img.T / 255.), None, np.float32),
             ("float32 net, uint8 C", np.ascontiguousarray(img.T), 255.0, np.float32)]
    time_steps([(name, lambda X=X, divisor=divisor, dtype=dtype: fastdnn.fit(
        X, Y, [40, 16, 1], 0.01, 4, x_divisor=divisor, gram=False, dtype=dtype))
        for name, X, divisor, dtype in forms])


if __name__ == "__main__":
    main()

"""The one way fastdnn's benchmarks time code: seconds per call over a calibrated batch.

Guarantees: every figure is measured after a warm-up call (JIT compilation, first-touch
allocation and caches are never timed); a batch runs long enough (``min_sample`` seconds) for
the clock's resolution not to matter; paired rounds alternate the two sides, so a load that
comes and goes on a shared machine hits both alike.
"""
import time

import numpy as np


def clock(fn, number=1):
    """Seconds per call of ``fn()`` over one batch of ``number`` calls."""
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def calibrate(fn, min_sample):
    """The smallest power of two of calls of ``fn()`` that takes >= ``min_sample`` seconds."""
    number = 1
    while clock(fn, number) * number < min_sample and number < 1 << 20:
        number *= 2
    return number


def paired_rounds(f_a, f_b, args=(), min_sample=0.01, rounds=7):
    """Seconds per call of f_a(*args) and f_b(*args) in each of ``rounds`` alternating rounds:
    two arrays of length ``rounds``."""
    a, b = (lambda: f_a(*args)), (lambda: f_b(*args))
    a()                                         # warm-up: compiles, fills caches
    b()
    number = calibrate(a, min_sample)
    t_a, t_b = np.empty(rounds), np.empty(rounds)
    for r in range(rounds):
        t_a[r] = clock(a, number)
        t_b[r] = clock(b, number)
    return t_a, t_b


def paired_times(f_a, f_b, args=(), min_sample=0.01, rounds=7):
    """Best seconds per call of f_a(*args) and f_b(*args) over paired rounds (paired_rounds)."""
    t_a, t_b = paired_rounds(f_a, f_b, args, min_sample, rounds)
    return float(t_a.min()), float(t_b.min())


def verdict(t_a, t_b):
    """(low, high, word) for per-round times of a baseline (t_a) and fastdnn (t_b).

    low, high: the 10th and 90th percentiles of the per-round ratios t_a/t_b. word: "faster"
    when low > 1 (fastdnn ahead in nine rounds in ten), "slower" when high < 1, else
    "parity": the two are within this machine's round-to-round noise, as when both spend
    their time in the same BLAS call.
    """
    low, high = np.percentile(t_a / t_b, [10, 90])
    word = "faster" if low > 1 else "slower" if high < 1 else "parity"
    return float(low), float(high), word


def per_iteration(step_k, budget=1.0, most=2000, rounds=3, warm_k=False):
    """Best seconds per iteration of ``step_k(k)`` (k iterations) over ``rounds`` batches.

    k is sized so that a batch takes about budget / rounds seconds, after a warm-up.
    warm_k: step_k compiles anew for each k (a jitted scan): run step_k(k) once untimed.
    """
    step_k(2)                                   # warm-up: compiles, fills caches
    once = clock(lambda: step_k(2)) / 2
    k = int(min(most, max(2, budget / rounds / max(once, 1e-7))))
    if warm_k:
        step_k(k)
    return min(clock(lambda: step_k(k)) for _ in range(rounds)) / k

"""Every step-by-step API function at notebook, cat-layer and wide sizes, float64 and float32.

time_fastdnn: fastdnn alone. track_speedup: numpy-reference time / fastdnn time, measured
back to back in this process. track_max_rel_diff: largest difference from the reference.
"""
import numpy as np

import fastdnn
from fastdnn.bench import cases, functions

DTYPES = ["float64", "float32"]


class API:
    params = [list(cases.FUNCTIONS), list(cases.SIZES), DTYPES]
    param_names = ["function", "size", "dtype"]
    timeout = 300
    # 72 combinations: one round and short samples keep the whole suite within its budget.
    rounds = 1
    repeat = (1, 5, 2.0)

    def setup(self, function, size, dtype):
        self.fn = getattr(fastdnn, function)
        self.args = cases.case(function, size, np.dtype(dtype))
        self.fn(*self.args)                       # compile outside the timed region

    def time_fastdnn(self, function, size, dtype):
        self.fn(*self.args)

    def track_speedup(self, function, size, dtype):
        # 9 paired rounds: with 3, a BLAS-bound case (parity) read as low as 0.88x.
        t_np, t_fd = functions.function_speedup(function, size, np.dtype(dtype), min_sample=0.01,
                                            rounds=9)
        return t_np / t_fd

    track_speedup.unit = "x"

    def track_max_rel_diff(self, function, size, dtype):
        return functions.max_rel_diff(function, size, np.dtype(dtype))

    track_max_rel_diff.unit = "relative"

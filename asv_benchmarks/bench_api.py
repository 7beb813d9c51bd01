"""Every step-by-step API function at notebook, cat-layer and wide sizes.

API.time_fastdnn: fastdnn alone, float64 and float32. Speedup.track_speedup: numpy-reference
time / fastdnn time, measured back to back in this process (float64). On request
(FASTDNN_ASV_ON_REQUEST=1, _request.py): Exactness.track_max_rel_diff, the largest
difference from the reference (the tests check it on every run).
"""
import numpy as np

import fastdnn
from fastdnn.bench import cases, functions

from ._request import on_request

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


class Speedup:
    params = [list(cases.FUNCTIONS), list(cases.SIZES)]
    param_names = ["function", "size"]
    timeout = 300
    rounds = 1
    repeat = 1

    def track_speedup(self, function, size):
        # 7 paired rounds: with 3, a BLAS-bound case (parity) read as low as 0.88x.
        t_np, t_fd = functions.function_speedup(function, size, np.dtype("float64"),
                                                min_sample=0.01, rounds=7)
        return t_np / t_fd

    track_speedup.unit = "x"


class Exactness:
    params = [list(cases.FUNCTIONS), list(cases.SIZES), DTYPES]
    param_names = ["function", "size", "dtype"]
    timeout = 300
    rounds = 1
    repeat = 1

    def setup(self, function, size, dtype):
        on_request("the exactness figures")

    def track_max_rel_diff(self, function, size, dtype):
        return functions.max_rel_diff(function, size, np.dtype(dtype))

    track_max_rel_diff.unit = "relative"

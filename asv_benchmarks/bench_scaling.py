"""The training engine at scale: the shapes of bench_scale.SHAPES, float64 and float32.

time_iteration: one fastdnn iteration (asv's own timing), every shape. track_vs_numpy: numpy
course loop time / fastdnn time per iteration, same process, on the shapes whose numpy
iteration is short. track_of_gemm_floor: on the GEMM-bound shapes, the iteration's
multiply-adds at the best GEMM rate in the process (same run) / fastdnn's time.
ProductRates: numpy's and the kernels' GEMM rates. Interleaved: the engine next to the
user's numpy. The peers (PyTorch, JAX) are peers_scaling.py's, on request.
"""
import numpy as np

import fastdnn
from fastdnn.bench import interleave
from fastdnn.bench import scale as bench_scale

from ._request import OneSample


NUMPY_SHAPES = ("tiny", "tabular", "gram", "cat")
GEMM_SHAPES = ("mnist", "cifar", "wide")


class _Shapes:
    params = [list(bench_scale.SHAPES), ["float64", "float32"]]
    param_names = ["shape", "dtype"]
    timeout = 600
    rounds = 1
    repeat = (1, 3, 5.0)

    def setup(self, shape, dtype):
        self.dtype = np.dtype(dtype).type
        self.X, self.Y, self.layers = bench_scale.data(shape, self.dtype)
        self.trainer = fastdnn.Trainer(self.X, self.Y, fastdnn.initialize_parameters_deep(
            self.layers), bench_scale.LR, dtype=self.dtype)
        self.costs = np.empty(1)
        self.trainer.run(np.empty(2))                 # compile outside the timing


class Scaling(_Shapes):
    # asv continuous calls a change significant only when Mann-Whitney's p < 0.002, which
    # takes at least 7 samples a commit (6 fully separated give p = 0.0022): 2 rounds of at
    # least 4, so a 20% slowdown is flagged and identical commits pass.
    rounds = 2
    repeat = (4, 8, 10.0)

    def time_iteration(self, shape, dtype):
        self.trainer.run(self.costs)


class VersusNumpy(_Shapes):
    """numpy's course loop / fastdnn per iteration, on the shapes whose numpy iteration is
    short (the others' would take minutes a run; `fastdnn bench --scale` has them all)."""
    params = [list(NUMPY_SHAPES), ["float64", "float32"]]

    def track_vs_numpy(self, shape, dtype):
        theirs = bench_scale.numpy_time(self.X, self.Y, self.layers, self.dtype)
        return theirs / bench_scale.fastdnn_time(self.X, self.Y, self.layers, self.dtype)

    track_vs_numpy.unit = "x"


class GemmFloor(_Shapes):
    """On the GEMM-bound shapes: the iteration's multiply-adds at the best GEMM rate in this
    process (numpy's or the kernels' BLAS, same run) / fastdnn's time."""
    params = [list(GEMM_SHAPES), ["float64", "float32"]]

    def track_of_gemm_floor(self, shape, dtype):
        ours = bench_scale.fastdnn_time(self.X, self.Y, self.layers, self.dtype)
        m = self.X.shape[1]
        return bench_scale.multiply_adds(self.layers, m) / bench_scale.gemm_rate(self.dtype) / ours

    track_of_gemm_floor.unit = "fraction"


class ProductRates(OneSample):
    """numpy's and the kernels' (SciPy's) BLAS GEMM rate (GFLOP/s, one 1024 x 1024 product),
    the machine's yardstick for every other figure (the peers': peers_scaling.py)."""
    params = [["numpy", "kernels"], ["float64", "float32"]]
    param_names = ["library", "dtype"]
    peers = False

    def setup(self, library, dtype):
        rates = {r["library"]: r["gflops"]
                 for r in bench_scale.product_rates(np.dtype(dtype), peers=self.peers)}
        if library not in rates:
            raise NotImplementedError(f"{library} is not installed")
        self.rate = rates[library]

    def track_gflops(self, library, dtype):
        return self.rate

    track_gflops.unit = "GFLOP/s"


class Interleaved(OneSample):
    """The engine next to the user's numpy (fastdnn.bench.interleave): each a ratio to the
    same work alone; 1.00 means the thread pools do not get in each other's way."""

    def track_engine_with_numpy(self):
        return interleave.engine_with_numpy()

    track_engine_with_numpy.unit = "x"

    def track_fit_with_callback(self):
        return interleave.fit_with_callback()

    track_fit_with_callback.unit = "x"

    def track_numpy_after_engine(self):
        return interleave.numpy_after_engine()

    track_numpy_after_engine.unit = "x"

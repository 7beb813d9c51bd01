"""The training engine at scale: the shapes of bench_scale.SHAPES, float64 and float32.

time_iteration: one fastdnn iteration (asv's own timing). track_vs_numpy: numpy course loop
time / fastdnn time per iteration, same process. track_vs_peer: the faster of PyTorch and JAX
(CPU, same thread count) / fastdnn; skipped when neither is installed. track_of_gemm_floor:
the iteration's multiply-adds at the best GEMM rate in the process (same run) / fastdnn's
time. ProductRates: each library's GEMM rate. Interleaved: the engine next to the user's numpy.
"""
import numpy as np

import fastdnn
from fastdnn.bench import interleave
from fastdnn.bench import scale as bench_scale


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
    def time_iteration(self, shape, dtype):
        self.trainer.run(self.costs)

    def track_vs_numpy(self, shape, dtype):
        theirs = bench_scale.numpy_time(self.X, self.Y, self.layers, self.dtype)
        if theirs is None:                 # ten classes: the course's loop has no softmax
            return float("nan")
        return theirs / bench_scale.fastdnn_time(self.X, self.Y, self.layers, self.dtype)

    track_vs_numpy.unit = "x"

    def track_of_gemm_floor(self, shape, dtype):
        ours = bench_scale.fastdnn_time(self.X, self.Y, self.layers, self.dtype)
        m = self.X.shape[1]
        return bench_scale.multiply_adds(self.layers, m) / bench_scale.gemm_rate(self.dtype) / ours

    track_of_gemm_floor.unit = "fraction"


class ScalingPeers(_Shapes):
    """fastdnn against the faster of PyTorch and JAX on the CPU (optional peers)."""

    def setup(self, shape, dtype):
        peers = [bench_scale.torch_time, bench_scale.jax_time]
        try:
            import torch  # noqa: F401
        except ImportError:
            peers.remove(bench_scale.torch_time)
        try:
            import jax  # noqa: F401
        except ImportError:
            peers.remove(bench_scale.jax_time)
        if not peers:
            raise NotImplementedError("neither torch nor jax is installed")
        self.peers = peers
        super().setup(shape, dtype)

    def track_vs_peer(self, shape, dtype):
        ours = bench_scale.fastdnn_time(self.X, self.Y, self.layers, self.dtype)
        return min(p(self.X, self.Y, self.layers, self.dtype) for p in self.peers) / ours

    track_vs_peer.unit = "x"


class ProductRates:
    """Each library's GEMM rate (GFLOP/s, one 1024 x 1024 product) in this process: numpy's
    BLAS, the kernels' BLAS (SciPy's), and each installed peer's; skipped where missing."""
    params = [["numpy", "kernels", "torch", "jax"], ["float64", "float32"]]
    param_names = ["library", "dtype"]
    timeout = 300
    rounds = 1
    repeat = 1

    def setup(self, library, dtype):
        rates = {r["library"]: r["gflops"]
                 for r in bench_scale.product_rates(np.dtype(dtype), peers=True)}
        if library not in rates:
            raise NotImplementedError(f"{library} is not installed")
        self.rate = rates[library]

    def track_gflops(self, library, dtype):
        return self.rate

    track_gflops.unit = "GFLOP/s"


class Interleaved:
    """The engine next to the user's numpy (fastdnn.bench.interleave): each a ratio to the
    same work alone; 1.00 means the thread pools do not get in each other's way."""
    timeout = 300
    rounds = 1
    repeat = 1

    def track_engine_with_numpy(self):
        return interleave.engine_with_numpy()

    track_engine_with_numpy.unit = "x"

    def track_fit_with_callback(self):
        return interleave.fit_with_callback()

    track_fit_with_callback.unit = "x"

    def track_numpy_after_engine(self):
        return interleave.numpy_after_engine()

    track_numpy_after_engine.unit = "x"

"""The training engine at scale: the shapes of bench_scale.SHAPES, float64 and float32.

time_iteration: one fastdnn iteration (asv's own timing). track_vs_numpy: numpy course loop
time / fastdnn time per iteration, same process. track_vs_peer: the faster of PyTorch and JAX
(CPU, same thread count) / fastdnn; skipped when neither is installed. track_of_gemm_floor:
the iteration's multiply-adds at numpy's GEMM rate (same run) / fastdnn's time.
"""
import numpy as np

import fastdnn
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
        ours = bench_scale.fastdnn_time(self.X, self.Y, self.layers, self.dtype)
        return bench_scale.numpy_time(self.X, self.Y, self.layers, self.dtype) / ours

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

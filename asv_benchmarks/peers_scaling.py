"""On request (FASTDNN_ASV_ON_REQUEST=1, _request.py): the training engine at scale against
the faster of PyTorch and JAX on the CPU, and those peers' GEMM rates; each peer skipped when
it is not installed (optional, never required)."""
import numpy as np

from fastdnn.bench import scale as bench_scale

from ._request import import_or_skip, on_request
from . import bench_scaling
from .bench_scaling import _Shapes


class ScalingPeers(_Shapes):
    """fastdnn against the faster of PyTorch and JAX, same process, same thread count."""

    def setup(self, shape, dtype):
        on_request("the peers")
        peers = []
        for name, timing in (("torch", bench_scale.torch_time), ("jax", bench_scale.jax_time)):
            try:
                import_or_skip(name)
                peers.append(timing)
            except NotImplementedError:
                pass
        if not peers:
            raise NotImplementedError("neither torch nor jax is installed")
        self.peers = peers
        super().setup(shape, dtype)

    def track_vs_peer(self, shape, dtype):
        ours = bench_scale.fastdnn_time(self.X, self.Y, self.layers, self.dtype)
        return min(p(self.X, self.Y, self.layers, self.dtype) for p in self.peers) / ours

    track_vs_peer.unit = "x"


class PeerProductRates(bench_scaling.ProductRates):
    """Each installed peer's GEMM rate (GFLOP/s, one 1024 x 1024 product) in this process."""
    params = [["torch", "jax"], ["float64", "float32"]]
    peers = True

    def setup(self, library, dtype):
        on_request("the peers")
        import_or_skip(library)
        super().setup(library, dtype)

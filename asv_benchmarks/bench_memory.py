"""Memory beside the data (fastdnn.bench.memory): asv's peakmem_ of a fit on data held as
bytes or in C order (no full-size copy of X is made) or streamed from a file. On request
(FASTDNN_ASV_ON_REQUEST=1, _request.py; minutes each): the peak resident MiB of ``fastdnn
train`` on generated images (in memory or streamed), the streamed speed against the
in-memory one, and the MiB a fit adds beside X (fastdnn, PyTorch, JAX where installed)."""
import os
import tempfile

import numpy as np

import fastdnn
from fastdnn.bench import memory

from ._request import import_or_skip, on_request


class _Once:
    """One sample a benchmark: each is a whole training run (or several processes)."""
    rounds = 1
    repeat = 1


class PeakMemory(_Once):
    params = [[20_000, 200_000]]
    param_names = ["m"]
    timeout = 600

    def setup(self, m):
        rng = np.random.default_rng(0)
        self.bytes = rng.integers(0, 256, (m, 50), dtype=np.uint8).T       # (50, m) view
        self.X = np.ascontiguousarray(self.bytes / 255.)                    # C order
        self.Y = (self.X[:1] > 0.5).astype(np.float64)
        fastdnn.fit(self.X[:, :2000], self.Y[:, :2000], [50, 64, 32, 1], 0.01, 1)
        fastdnn.fit(self.bytes[:, :2000], self.Y[:, :2000], [50, 64, 32, 1], 0.01, 1,
                    x_divisor=255.0)
        import h5py
        self.folder = tempfile.TemporaryDirectory()
        path = os.path.join(self.folder.name, "x.h5")
        with h5py.File(path, "w") as f:
            f.create_dataset("x", data=self.bytes.T)
        self.file = (path, "x")
        fastdnn.fit(self.file, self.Y, [50, 64, 32, 1], 0.01, 1, x_divisor=255.0)

    def teardown(self, m):
        self.folder.cleanup()

    def peakmem_fit_c_order(self, m):
        fastdnn.fit(self.X, self.Y, [50, 64, 32, 1], 0.01, 2)

    def peakmem_fit_bytes(self, m):
        fastdnn.fit(self.bytes, self.Y, [50, 64, 32, 1], 0.01, 2, x_divisor=255.0)

    def peakmem_fit_streamed(self, m):
        fastdnn.fit(self.file, self.Y, [50, 64, 32, 1], 0.01, 2, x_divisor=255.0)


class AddedMemory(_Once):
    params = [["fastdnn", "torch", "jax"]]
    param_names = ["engine"]
    timeout = 900

    def setup(self, engine):
        on_request("memory against the peers")
        if engine != "fastdnn":
            import_or_skip(engine)

    def track_added_mib_per_100_mib_of_x(self, engine):
        r = memory.fit_added(engine, m=200_000)
        return 100 * r["added_mib"] / r["x_mib"]

    track_added_mib_per_100_mib_of_x.unit = "MiB"


class CommandLine(_Once):
    # 2,000 first: the test suite runs each benchmark once, at its first parameters
    params = [[2_000, 20_000, 200_000], ["in memory", "streamed"]]
    param_names = ["images", "data"]
    timeout = 1800

    def setup(self, images, data):
        on_request("the command line's peak memory")

    def track_train_peak_mib(self, images, data):
        return memory.cli_peak(images, stream=data == "streamed")["peak_mib"]

    track_train_peak_mib.unit = "MiB"


class Streaming(_Once):
    """An iteration streamed from a file in the page cache, as a share of the in-memory
    speed (1.0: as fast)."""
    params = [[2_000, 20_000]]
    param_names = ["images"]
    timeout = 900

    def setup(self, images):
        on_request("the streamed speed")

    def track_streamed_speed_ratio(self, images):
        return memory.stream_speed(images, iterations=2)["speed_ratio"]

    track_streamed_speed_ratio.unit = "ratio"

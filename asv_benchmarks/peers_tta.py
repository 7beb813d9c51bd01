"""On request (FASTDNN_ASV_ON_REQUEST=1, _request.py): time to accuracy (fastdnn.bench.tta),
seconds of training until the test accuracy first reaches the dataset's target.
FastdnnTime: fastdnn's best optimizer. VersusPeers: that time over the best of PyTorch, JAX
and scikit-learn (below 1: fastdnn first); skipped when no peer is installed."""
from fastdnn.bench import tta

from ._request import on_request


def _best(rows, fastdnn):
    times = [r["seconds"] for r in rows if r["seconds"] is not None
             and r["engine"].startswith("fastdnn") == fastdnn]
    return min(times) if times else None


class _PerDataset:
    params = [["digits", "tabular"]]
    param_names = ["dataset"]
    timeout = 900
    rounds = 1
    repeat = 1


class FastdnnTime(_PerDataset):
    def setup(self, dataset):
        on_request("time to accuracy")
        rows = tta.rows(dataset, tta.dataset(dataset), peers=False)
        self.seconds = _best(rows, True)
        if self.seconds is None:
            raise NotImplementedError("fastdnn did not reach the target")

    def track_seconds(self, dataset):
        return self.seconds

    track_seconds.unit = "s"


class VersusPeers(_PerDataset):
    def setup(self, dataset):
        on_request("time to accuracy")
        rows = tta.rows(dataset, tta.dataset(dataset))
        mine, peer = _best(rows, True), _best(rows, False)
        if mine is None or peer is None:
            raise NotImplementedError("no peer installed, or no run reached the target")
        self.ratio = mine / peer

    def track_fastdnn_over_best_peer(self, dataset):
        return self.ratio

    track_fastdnn_over_best_peer.unit = "ratio"

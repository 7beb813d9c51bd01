"""On request (FASTDNN_ASV_ON_REQUEST=1, _request.py): fastdnn.neural_network.MLPClassifier
against scikit-learn's own (fastdnn.bench.mlp): whole fits at the same settings and
random_state; track_speedup = scikit-learn's time / fastdnn's. Skipped without
scikit-learn."""
from fastdnn.bench import mlp

from ._request import OneSample, import_or_skip, on_request


class VersusMLPClassifier(OneSample):
    params = [list(range(len(mlp.CASES)))]
    param_names = ["case"]
    timeout = 600

    def setup(self, case):
        on_request("the scikit-learn comparison")
        import_or_skip("sklearn")

    def track_speedup(self, case):
        return mlp.row(*mlp.CASES[case])["speedup"]

    track_speedup.unit = "x"

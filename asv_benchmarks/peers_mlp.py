"""On request (FASTDNN_ASV_ON_REQUEST=1, _request.py): fastdnn's DNNClassifier against
scikit-learn's MLPClassifier (fastdnn.bench.mlp): the same network and algorithm, per
iteration; track_speedup = MLPClassifier's time / fastdnn's. Skipped without scikit-learn."""
from fastdnn.bench import mlp

from ._request import OneSample, import_or_skip, on_request


class VersusMLPClassifier(OneSample):
    params = [["digits10", "tabular"], ["gd", "adam"]]
    param_names = ["dataset", "algorithm"]
    timeout = 600

    def setup(self, dataset, algorithm):
        on_request("the scikit-learn comparison")
        import_or_skip("sklearn")

    def track_speedup(self, dataset, algorithm):
        return mlp.row(dataset, algorithm)["speedup"]

    track_speedup.unit = "x"

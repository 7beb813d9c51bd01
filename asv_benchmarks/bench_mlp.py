"""fastdnn's DNNClassifier against scikit-learn's MLPClassifier (fastdnn.bench.mlp): the same
network and algorithm, per iteration; track_speedup = MLPClassifier's time / fastdnn's.
Skipped without scikit-learn."""
from fastdnn.bench import mlp


class VersusMLPClassifier:
    params = [["digits10", "tabular"], ["gd", "adam"]]
    param_names = ["dataset", "algorithm"]
    timeout = 600
    rounds = 1
    repeat = 1

    def setup(self, dataset, algorithm):
        try:
            import sklearn  # noqa: F401
        except ImportError:
            raise NotImplementedError("scikit-learn is not installed") from None

    def track_speedup(self, dataset, algorithm):
        return mlp.row(dataset, algorithm)["speedup"]

    track_speedup.unit = "x"

"""End-to-end training on cat-shaped data: L_layer_model and two_layer_model, both engine paths.

time_/peakmem_ run fastdnn's engine (printing and plotting off); track_speedup divides the
numpy course loop's time (measured over a few iterations and scaled) by fastdnn's, both in
this process. On request (FASTDNN_ASV_ON_REQUEST=1): Exactness.track_max_rel_diff compares
the final parameters with the numpy loop's; TorchComparison, PyTorch's time over fastdnn's.
"""
import numpy as np

import fastdnn
from fastdnn.bench import baseline
from fastdnn.bench.cases import cat_shaped
from fastdnn.bench.training import torch_training, training_speedup

from ._data import CAT_DATA, cat_available
from ._request import import_or_skip, on_request

MODELS = {"L_layer_model": [12288, 20, 7, 5, 1], "two_layer_model": [12288, 7, 1]}
# The direct path is ~100x slower per iteration: fewer iterations keep the suite short.
ITERATIONS = {"gram": 2500, "direct": 50}


def _data(source):
    if source == "real":
        if not cat_available():
            raise NotImplementedError("cat data not found")    # asv marks it skipped
        return cat_shaped(CAT_DATA)
    return cat_shaped(None)


class _Runs:
    params = [list(MODELS), ["gram", "direct"], ["synthetic", "real"]]
    param_names = ["model", "path", "data"]
    timeout = 600
    rounds = 1
    repeat = (1, 3, 10.0)

    def setup(self, model, path, data):
        self.X, self.Y = _data(data)
        self.dims = MODELS[model]
        self.gram = path == "gram"
        self.iterations = ITERATIONS[path]
        fastdnn.fit(self.X, self.Y, self.dims, 0.0075, 2, gram=self.gram)   # compile first

    def _init(self):
        if len(self.dims) == 3:
            return fastdnn.initialize_parameters(*self.dims)
        return fastdnn.initialize_parameters_deep(self.dims)


class Training(_Runs):
    def time_fit(self, model, path, data):
        fastdnn.fit(self.X, self.Y, self.dims, 0.0075, self.iterations,
                    parameters=self._init(), gram=self.gram)

    def peakmem_fit(self, model, path, data):
        fastdnn.fit(self.X, self.Y, self.dims, 0.0075, self.iterations,
                    parameters=self._init(), gram=self.gram)

    def track_speedup(self, model, path, data):
        t_np, t_fd = training_speedup(self.X, self.Y, self.dims, self.iterations,
                                      numpy_iterations=10, gram=self.gram)
        return t_np / t_fd

    track_speedup.unit = "x"


class Exactness(_Runs):
    """On request: the largest difference of the parameters from the numpy loop's after 20
    iterations (the tests check it on every run)."""

    def setup(self, model, path, data):
        on_request("the exactness figures")
        super().setup(model, path, data)

    def track_max_rel_diff(self, model, path, data):
        p0 = self._init()
        ref, _ = baseline.train(self.X, self.Y, p0, 0.0075, 20)
        ours = fastdnn.fit(self.X, self.Y, self.dims, 0.0075, 20, parameters=p0,
                           gram=self.gram).parameters
        return max(float(np.max(np.abs(ours[k] - ref[k])) / np.max(np.abs(ref[k]))) for k in ref)

    track_max_rel_diff.unit = "relative"


class TorchComparison:
    """fastdnn against PyTorch on the CPU (same network, weights, plain SGD, float64), when
    torch is installed; skipped otherwise."""
    params = [list(MODELS)]
    param_names = ["model"]
    timeout = 600
    rounds = 1
    repeat = 1

    def setup(self, model):
        on_request("the PyTorch comparison")
        import_or_skip("torch")
        self.X, self.Y = cat_shaped(CAT_DATA if cat_available() else None)

    def track_speedup_vs_torch(self, model):
        t_torch, t_fd, _ = torch_training(self.X, self.Y, MODELS[model],
                                                torch_iterations=20)
        return t_torch / t_fd

    track_speedup_vs_torch.unit = "x"

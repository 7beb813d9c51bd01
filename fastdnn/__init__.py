"""fastdnn: a drop-in, much faster replacement for the numpy helpers of the
"Deep Neural Network, step by step" course and its cat vs non-cat application.

``from fastdnn import *`` gives the course's English helper names with the APPLICATION's
semantics (``initialize_parameters_deep`` is seed 1, ``/ sqrt(n_prev)``). The step-by-step
notebook's semantics are in ``fastdnn.step_by_step``; the Portuguese names in ``fastdnn.pt``.
"""
from ._version import __version__

try:
    from . import kernels
except ImportError as exc:      # imported from the source folder instead of an installation
    raise ImportError(
        "fastdnn.kernels is missing: this looks like the fastdnn source folder, not an "
        "installed fastdnn (kernels/ is installed as fastdnn.kernels). Install it with "
        "'pip install .' or 'pip install -e .', and run from outside the source folder "
        "(use 'pytest', not 'python -m pytest')") from exc
from .runtime.blas import choose_from_environment

choose_from_environment()     # FASTDNN_BLAS: the BLAS the kernels' products call
from .dnn_utils import relu, relu_backward, sigmoid, sigmoid_backward
from .core import (L_model_backward, L_model_forward, compute_cost, initialize_parameters,
                   linear_activation_backward, linear_activation_forward, linear_backward,
                   linear_forward, update_parameters)
from .core import initialize_parameters_deep_app as initialize_parameters_deep
from .app import L_layer_model, predict, two_layer_model
from .io.datasets import load_data
from .engine import DivergenceError, FitResult, InexactResumeWarning, Trainer, fit
from .engine.inference import accuracy, predictions, probabilities
from .sweeps import sweep
from .plot import print_mislabeled_images
from . import _moved

_moved.install()          # old module paths (fastdnn.model_file, ...) keep importing


def __getattr__(name):
    # DNNClassifier needs scikit-learn (the fastdnn[sklearn] extra): loaded on first use, so
    # that `import fastdnn` never imports scikit-learn.
    if name == "DNNClassifier":
        try:
            from .estimators.dnn import DNNClassifier
        except ImportError as exc:
            raise ImportError("fastdnn.DNNClassifier needs scikit-learn: "
                              "pip install 'fastdnn[sklearn]'") from exc
        return DNNClassifier
    raise AttributeError(f"module 'fastdnn' has no attribute {name!r}")


__all__ = ["sigmoid", "relu", "sigmoid_backward", "relu_backward", "initialize_parameters",
           "initialize_parameters_deep", "linear_forward", "linear_activation_forward",
           "L_model_forward", "compute_cost", "linear_backward", "linear_activation_backward",
           "L_model_backward", "update_parameters",
           "load_data", "two_layer_model", "L_layer_model", "predict", "print_mislabeled_images",
           "fit", "FitResult", "Trainer", "DivergenceError", "InexactResumeWarning", "sweep"]

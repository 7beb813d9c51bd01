"""The step-by-step notebook's helpers: the English names with that notebook's semantics.

Differs from ``fastdnn`` in one place: ``initialize_parameters_deep`` is the notebook's
(seed 3, ``randn * 0.01``), not the application's.
"""
from .core import (L_model_backward, L_model_forward, compute_cost,  # noqa: F401
                   initialize_parameters, linear_activation_backward,
                   linear_activation_forward, linear_backward, linear_forward,
                   update_parameters)
from .dnn_utils import relu, relu_backward, sigmoid, sigmoid_backward  # noqa: F401
from .core import initialize_parameters_deep_notebook as initialize_parameters_deep  # noqa: F401

__all__ = ["sigmoid", "relu", "sigmoid_backward", "relu_backward", "initialize_parameters",
           "initialize_parameters_deep", "linear_forward", "linear_activation_forward",
           "L_model_forward", "compute_cost", "linear_backward", "linear_activation_backward",
           "L_model_backward", "update_parameters"]

"""fastdnn.kernels: Numba kernels only. Arrays and sizes in, outputs written in place.

No dicts, no validation, no printing, no imports from the rest of fastdnn: callers
(fastdnn's public API) check, convert and allocate first. Argument order: outputs, inputs,
then sizes/codes. Each file holds one topic, forward next to backward.
"""
from ._jit import CACHE_DIR, source_key
from .activations import (LINEAR, RELU, RELU_BACKWARD, RELU_FORWARD, SIGMOID,
                          SIGMOID_BACKWARD, SIGMOID_FORWARD, activation_backward,
                          activation_forward, apply, apply_parallel)
from .linear import activation_bias_backward, bias_activation_forward, bias_grad, weight_grad
from .loss import (BLOCK as COST_BLOCK, cross_entropy_sum, cross_entropy_sum_parallel,
                   cross_entropy_backward, sigmoid_cross_entropy_backward)
from .train import Workspace, gram_init, gram_sync, gram_weights, train_steps
from .update import sgd_update

__all__ = [name for name in dir() if not name.startswith("_")]

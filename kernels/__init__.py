"""fastdnn.kernels: Numba kernels only. Arrays and sizes in, outputs written in place.

No dicts, no validation, no printing, no imports from the rest of fastdnn: callers
(fastdnn's public API) check, convert and allocate first. Arguments are arrays, numbers and
the structs of structs.py; their order: outputs, inputs, then sizes/codes. Each file holds
one topic, forward next to backward.

Importing this package is free: the codes are plain integers (codes.py), and each kernel's
module (hence Numba) is imported on first use of one of its names (PEP 562), so
``import fastdnn`` never pays Numba's start-up.
"""
from importlib import import_module

from .codes import (ADAM, CHUNKS, COST_BLOCK, COURSE_LOSS, ELEMENT_BLOCK, EXP, FORM_COLS,
                    FORM_CS, FORM_KIND, FORM_OFFSET, FORM_ROWS, FORM_RS, FORM_SIZE, GD, LINEAR,
                    MOMENTUM, NO_UPDATE, RELU, RELU_BACKWARD, RELU_FORWARD, SIGMOID,
                    SIGMOID_BACKWARD, SIGMOID_FORWARD, SK_ADAM, SK_LOSS, SK_NESTEROV, SK_SGD,
                    SMALL_WEIGHTS, SOFTMAX, SOURCE_DTYPES, TANH, TEAM_STATE, small_layer,
                    transposes_x)

# public name -> the submodule that defines it
_HOME = {
    "CACHE_DIR": "_jit", "source_key": "_jit",
    "Net": "structs", "Tiles": "structs", "Samples": "structs", "CSR": "structs",
    "Part": "structs", "Gram": "structs", "Optimizer": "structs",
    "activation_backward": "activations", "activation_forward": "activations",
    "apply": "activations", "apply_parallel": "activations",
    "activation_bias_backward": "linear", "bias_activation_forward": "linear",
    "bias_grad": "linear", "small_linear_forward": "linear",
    "cross_entropy_sum": "loss", "cross_entropy_sum_parallel": "loss",
    "cross_entropy_backward": "loss",
    "gram_init": "gram", "gram_init_serial": "gram",
    "gram_weights": "gram", "gram_pair": "gram", "gram_p0_block": "gram",
    "gram_weights_block": "gram", "gram_weights_finish": "gram",
    "train_steps": "gram", "train_steps_serial": "gram", "GRAM_BLOCKS": "gram",
    "sgd_update": "update", "sgd_update_2d": "update",
    "tiled_probabilities": "tiled", "tiled_probabilities_serial": "tiled",
    "tiled_train_steps": "tiled", "tiled_train_steps_serial": "tiled",
    "chunk_callee": "tiled", "probability_callee": "tiled", "Callee": "structs",
    "NO_CALLEE": "calls",
    "window_step": "streamed", "window_step_serial": "streamed",
    "segment_steps": "streamed", "segment_steps_serial": "streamed",
}


def __getattr__(name):
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{home}", __name__), name)
    globals()[name] = value          # later lookups are plain module attributes
    return value


__all__ = sorted(set(_HOME) | {n for n in dir() if n.isupper()}
                 | {"small_layer", "transposes_x"})

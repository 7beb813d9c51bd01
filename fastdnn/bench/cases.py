"""The benchmark cases: each step-by-step function's inputs at notebook, cat and wide sizes,
and cat-shaped training data. Same arguments for fastdnn and the numpy baseline; fixed seeds."""
import os

import numpy as np

from ..io.datasets import flatten
from . import baseline

SIZES = ("notebook", "cat", "wide")
FUNCTIONS = ("sigmoid", "relu", "sigmoid_backward", "relu_backward", "linear_forward",
             "linear_activation_forward", "L_model_forward", "compute_cost", "linear_backward",
             "linear_activation_backward", "L_model_backward", "update_parameters")
ELEMENTWISE = ("sigmoid", "relu", "sigmoid_backward", "relu_backward", "compute_cost")

# (n_prev, n, m) of one layer, and the network of L_model_* at each size.
LAYER = {"notebook": (3, 1, 2), "cat": (12288, 20, 209), "wide": (1024, 512, 2048)}
NETWORK = {"notebook": ([4, 3, 1], 2), "cat": ([12288, 20, 7, 5, 1], 209),
           "wide": ([1024, 512, 1], 2048)}
COST_M = {"notebook": 3, "cat": 209, "wide": 1 << 20}
CAT_LAYERS = [12288, 20, 7, 5, 1]


def _params(rng, dims, dtype):
    p = {}
    for l in range(1, len(dims)):
        p[f"W{l}"] = (rng.standard_normal((dims[l], dims[l - 1])) / np.sqrt(dims[l - 1])).astype(dtype)
        p[f"b{l}"] = (0.1 * rng.standard_normal((dims[l], 1))).astype(dtype)
    return p


def _layer_case(name, size, dtype, seed, r):
    n_prev, n, m = LAYER[size]
    if name in ("sigmoid", "relu"):
        return (r(n, m),)
    if name in ("sigmoid_backward", "relu_backward"):
        return r(n, m), r(n, m)
    if name == "linear_forward":
        return r(n_prev, m), r(n, n_prev) / np.sqrt(n_prev).astype(dtype), r(n, 1)
    if name == "linear_activation_forward":
        return case("linear_forward", size, dtype, seed) + ("relu",)
    if name == "linear_backward":
        A, W, b = case("linear_forward", size, dtype, seed)
        return r(n, m), (A, W, b)
    if name == "linear_activation_backward":
        A, W, b = case("linear_forward", size, dtype, seed)
        return r(n, m), ((A, W, b), r(n, m)), "relu"
    return None


def _model_case(name, size, dtype, rng, r):
    dims, m = NETWORK[size]
    X = r(dims[0], m)
    params = _params(rng, dims, dtype)
    if name == "L_model_forward":
        return X, params
    AL, caches = baseline.L_model_forward(X, params)
    Y = (rng.random((1, m)) > 0.5).astype(dtype)
    if name == "L_model_backward":
        return AL, Y, caches
    if name == "update_parameters":
        grads = {"d" + k: r(*v.shape) for k, v in params.items()}
        return params, grads, 0.0075
    raise KeyError(name)


def case(name, size, dtype=np.float64, seed=0):
    """The positional arguments of ``name`` at ``size`` (same for fastdnn and the baseline)."""
    rng = np.random.default_rng(seed)
    r = lambda *shape: rng.standard_normal(shape).astype(dtype)
    if name == "compute_cost":
        mc = COST_M[size]
        return (rng.uniform(0.01, 0.99, (1, mc)).astype(dtype),
                (rng.random((1, mc)) > 0.5).astype(dtype))
    layer = _layer_case(name, size, dtype, seed, r)
    return layer if layer is not None else _model_case(name, size, dtype, rng, r)


def cat_shaped(real_dir=None):
    """(X, Y) for the cat model: the real data when ``real_dir`` has it, else synthetic."""
    if real_dir and os.path.exists(os.path.join(real_dir, "train_catvnoncat.h5")):
        from ..io.datasets import load_data
        tx, ty, _, _, _ = load_data(real_dir)
        return flatten(tx), ty
    rng = np.random.default_rng(0)
    X = rng.random((12288, 209))
    return X, (X[:1] > 0.5).astype(np.int64)

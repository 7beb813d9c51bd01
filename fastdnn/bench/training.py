"""Whole training runs on cat-shaped data: fastdnn.fit against the course's numpy loop and
against PyTorch (optional), same network, initial weights and plain full-batch SGD."""
import numpy as np

import fastdnn
from ..engine.gram import gram_is_cheaper
from . import baseline
from .cases import CAT_LAYERS
from .timing import clock


def timed_fit(X, Y, layers, iterations, gram):
    """(seconds, FitResult) of fastdnn.fit, after a warm-up on the same path.

    "auto" is resolved first: for the 2-iteration warm-up it would pick the direct path and
    leave the timed run's kernels to compile inside the timing.
    """
    if gram == "auto":
        gram = gram_is_cheaper(layers, X.shape[1], iterations)
    fastdnn.fit(X, Y, layers, 0.0075, 2, gram=gram)
    result = []
    seconds = clock(lambda: result.append(fastdnn.fit(X, Y, layers, 0.0075, iterations,
                                                      gram=gram)))
    return seconds, result[0]


def training_speedup(X, Y, layers=CAT_LAYERS, iterations=2500, numpy_iterations=20,
                     gram="auto"):
    """(numpy seconds, fastdnn seconds) for ``iterations`` of the course loop.

    The numpy loop is timed over ``numpy_iterations`` and scaled (its cost per iteration is
    constant); fastdnn runs all iterations, after a short warm-up run.
    """
    p0 = fastdnn.initialize_parameters_deep(layers)
    baseline.train(X, Y, p0, 0.0075, 1)
    t_np = clock(lambda: baseline.train(X, Y, p0, 0.0075, numpy_iterations))
    return t_np / numpy_iterations * iterations, timed_fit(X, Y, layers, iterations, gram)[0]


def torch_training(X, Y, layers=CAT_LAYERS, iterations=2500, torch_iterations=50):
    """(PyTorch seconds, fastdnn seconds, max relative loss difference) for ``iterations`` of
    the same network on the CPU: same initial weights, full-batch plain SGD, float64, the
    course's cost (binary cross-entropy on the sigmoid output). None without torch.

    PyTorch is timed over ``torch_iterations`` and scaled (constant cost per iteration);
    the losses of those iterations are compared with fastdnn's.
    """
    from .peers import torch_model
    try:
        import torch
        W, b, step = torch_model(X, Y, layers, np.float64, lr=0.0075)
    except ImportError:
        return None
    p0 = fastdnn.initialize_parameters_deep(layers)
    step()                                   # warm-up (then restart from the same weights)
    with torch.no_grad():
        for l in range(len(layers) - 1):
            W[l].copy_(torch.from_numpy(p0[f"W{l + 1}"]))
            b[l].copy_(torch.from_numpy(p0[f"b{l + 1}"]))
    losses = []
    t_torch = clock(lambda: losses.append(step()), torch_iterations) * iterations
    t_fd, result = timed_fit(X, Y, layers, iterations, "auto")
    ours = result.costs[:torch_iterations]
    return t_torch, t_fd, float(np.max(np.abs(np.array(losses) - ours) / np.abs(ours)))

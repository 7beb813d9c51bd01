"""Predictions of a trained network: probabilities, 0/1 predictions, accuracy.

Guarantees: the course's forward pass (the same numbers as L_model_forward's AL, to ~1e-12
relative in float64); a prediction is 1 where the probability is > 0.5 (strictly), as the
course's predict. Shared by the application, the command line and sweeps, below all of them.
"""
import numpy as np

from .. import _validate as v
from .. import kernels as K
from ..io.hdf5 import file_source
from .network import network_dims, new_net
from .sources.memory import source_of
from .sources import streamed
from ..runtime.threads import one_blas_thread, pick
from .tiles import allocate_tiles, kernel_samples

_NONE = np.empty(0, np.int64)


def probabilities(X, parameters, x_divisor=None):
    """The network's output for each column of X, computed tile by tile on every core: no
    (n_l, m) activation is ever made. float32 when X and the parameters all are.

    X: (n0, m), any layout, float or uint8 (never copied whole); or a samples-first HDF5
    dataset (or (path, name)), read by blocks of rows (each sample's output is the same
    bits either way). parameters: dict W1, b1, ..., WL, bL. x_divisor: X is used as
    X / x_divisor (255.0 for the bytes of images).
    Returns (m,) probabilities of class 1 for one output unit (sigmoid), or (K, m) class
    probabilities for K >= 2 (softmax).
    """
    src = file_source(X)
    if src is not None:
        return _streamed(src, parameters, x_divisor)
    X = v.array(X, "X")
    dims = network_dims(parameters, X.shape[0])
    dt = v.compute_dtype(X if x_divisor is None else np.float64(0), *parameters.values())
    XT, copies = source_of(X, dt, x_divisor)           # (m, n0): a view, tiles copied if need be
    net = new_net(dims, dt, parameters)
    out = np.empty((dims[-1], XT.shape[0]), dt)
    tiles = allocate_tiles(dims, XT.shape[0], dt, 0, copies=copies, divisor=x_divisor or 1.0)
    work = XT.shape[0] * sum(dims[l] * dims[l - 1] for l in range(1, len(dims)))
    forward, threads = pick(K.tiled_probabilities, K.tiled_probabilities_serial, work,
                            tiles.chunks)
    with threads, one_blas_thread():
        data = kernel_samples(XT, _NONE, np.empty((0, dims[-1]), dt), _NONE)
        forward(out, net, tiles, data, K.probability_callee(out, net, tiles, data))
    return out[0] if dims[-1] == 1 else out


def _streamed(src, parameters, x_divisor):
    """probabilities of a source's samples, a block of rows at a time."""
    out = None
    for s, rows in src.blocks(streamed.WINDOW_BYTES):
        part = probabilities(rows.T, parameters, x_divisor)
        if out is None:
            out = np.empty(part.shape[:-1] + (src.m,), part.dtype)
        out[..., s:s + rows.shape[0]] = part
    return out


def predictions(X, parameters, x_divisor=None):
    """(1, m) float array: for one output unit, 1 where the model's probability is > 0.5
    (strictly), else 0; for K >= 2 classes, the most probable class's index (ties: the
    lowest index).

    Computed by the compiled, tiled forward pass at every size (probabilities): no
    full-size activation is made, and no multi-threaded numpy product is started whose
    idle threads would then compete with the next training run for the cores.
    """
    probas = probabilities(X, parameters, x_divisor)
    p = np.zeros((1, probas.shape[-1]))
    p[0, :] = probas > 0.5 if probas.ndim == 1 else np.argmax(probas, axis=0)
    return p


def class_labels(Y):
    """(1, m) class indices of labels Y: (1, m) or (m,) labels, or (K, m) one-hot (K >= 2)."""
    Y = np.asarray(Y)
    if Y.ndim == 2 and Y.shape[0] > 1:
        return np.argmax(Y, axis=0).reshape(1, -1)
    return Y.reshape(1, -1)


def accuracy(X, Y, parameters, x_divisor=None):
    """The fraction of columns of X whose prediction equals the label in Y ((1, m) labels,
    or (K, m) one-hot)."""
    return float(np.mean(predictions(X, parameters, x_divisor) == class_labels(Y)))

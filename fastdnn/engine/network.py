"""A network as the kernels hold it: its dims, the flat parameter vector and its layout, and
a step's work.

Guarantees: theta is W1, b1, W2, b2, ... each row-major (parameter_layout), set by the
dims alone; parameters go in and out as the course's dict (W_l (n_l, n_{l-1}), b_l (n_l, 1))
without changing a bit.
"""
import numpy as np

from .. import _validate as v
from .. import kernels as K
from .aligned import zeros as aligned_zeros


def network_dims(parameters, n_x=None):
    """[n0, n1, ..., nL] of a parameters dict, checked: W_l (n_l, n_{l-1}), b_l (n_l, 1), and
    n0 == n_x when given (the rows of X)."""
    L = v.layer_count(parameters)
    dims = [v.array(parameters["W1"], "parameters['W1']").shape[1]]
    if n_x is not None and dims[0] != n_x:
        raise ValueError(f"parameters['W1'] has {dims[0]} columns but X has {n_x} rows "
                         "(features): they must be equal")
    for l in range(1, L + 1):
        W = v.array(parameters[f"W{l}"], f"parameters['W{l}']")
        b = v.array(parameters[f"b{l}"], f"parameters['b{l}']")
        if W.shape[1] != dims[-1]:
            raise ValueError(f"parameters['W{l}'] has shape {W.shape}, expected "
                             f"{dims[-1]} columns to follow layer {l - 1}")
        v.shape(b, f"parameters['b{l}']", (W.shape[0], 1), "one bias per row of W")
        dims.append(W.shape[0])
    return dims


def parameter_layout(dims):
    """(w_off, b_off, size): where W_l and b_l start in the flat parameter vector theta
    (W1, b1, W2, b2, ... in that order, each row-major), and theta's size."""
    L = len(dims) - 1
    w_off, b_off = np.zeros(L + 1, np.int64), np.zeros(L + 1, np.int64)
    p = 0
    for l in range(1, L + 1):
        w_off[l], p = p, p + dims[l] * dims[l - 1]
        b_off[l], p = p, p + dims[l]
    return w_off, b_off, p


def course_acts(dims):
    """(L+1,) int64 activation codes of the course's networks: ReLU hidden layers, a sigmoid
    output unit (a softmax over two or more)."""
    acts = np.full(len(dims), K.RELU, np.int64)
    acts[-1] = K.SIGMOID if dims[-1] == 1 else K.SOFTMAX
    return acts


def new_net(dims, dtype, parameters=None, acts=None, loss=K.COURSE_LOSS):
    """A kernels.Net for ``dims`` in ``dtype``: theta from ``parameters`` (a dict), or zeros;
    grad zeros; layer activations ``acts`` ((L+1,) codes; the course's by default) and the
    loss code ``loss``."""
    w_off, b_off, size = parameter_layout(dims)
    acts = course_acts(dims) if acts is None else np.asarray(acts, np.int64)
    net = K.Net(np.asarray(dims, np.int64), w_off, b_off, aligned_zeros(size, dtype),
                aligned_zeros(size, dtype), acts, int(loss))
    if parameters is not None:
        for l in range(1, len(dims)):
            weight(net, l)[...] = parameters[f"W{l}"]
            bias(net, l)[...] = parameters[f"b{l}"]
    return net


def weight(net, l):
    """W_l, (n_l, n_{l-1}): a view of net.theta."""
    n, n_prev = net.dims[l], net.dims[l - 1]
    o = net.w_off[l]
    return net.theta[o: o + n * n_prev].reshape(n, n_prev)


def bias(net, l):
    """b_l, (n_l, 1): a view of net.theta."""
    o = net.b_off[l]
    return net.theta[o: o + net.dims[l]].reshape(-1, 1)


def parameters_of(net):
    """A new dict of the course's W1, b1, ..., WL, bL from net.theta."""
    params = {}
    for l in range(1, net.dims.size):
        params[f"W{l}"] = weight(net, l).copy()
        params[f"b{l}"] = bias(net, l).copy()
    return params


def step_work(dims, m, gram):
    """Multiply-adds of one training step (what decides whether it runs on every core)."""
    pairs = [dims[l] * dims[l - 1] for l in range(1, len(dims))]
    first = dims[1] * m * m if gram else 2 * pairs[0] * m
    return first + 3 * m * sum(pairs[1:])

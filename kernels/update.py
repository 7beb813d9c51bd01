"""Gradient-descent update ``new = param - lr * grad``, element by element.

Guarantees: numpy's arithmetic exactly (one multiply, one subtract, no fused multiply-add),
in the arrays' dtype (lr rounded to it first, as numpy treats a Python float);
``new`` may be ``param`` itself for an in-place update.
"""
from ._jit import kernel
from .buffers import in_dtype_of


@kernel
def sgd_update(new, param, grad, lr):
    # new, param, grad: same shape (any ndim), C-contiguous, same dtype. lr: float.
    n, p, g = new.reshape(-1), param.reshape(-1), grad.reshape(-1)
    r = in_dtype_of(param, lr)
    for i in range(p.size):
        n[i] = p[i] - r * g[i]


@kernel
def sgd_update_2d(new, param, grad, lr):
    # new, param, grad: (n, k), any layout, same dtype. lr: float. The public API's W and b
    # are 2-D: indexing them as such needs no contiguity check at the call.
    r = in_dtype_of(param, lr)
    for i in range(param.shape[0]):
        for j in range(param.shape[1]):
            new[i, j] = param[i, j] - r * grad[i, j]

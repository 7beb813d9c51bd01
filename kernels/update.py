"""Gradient-descent update ``new = param - lr * grad``, element by element.

Guarantees: numpy's arithmetic exactly (one multiply, one subtract, no fused multiply-add);
``new`` may be ``param`` itself for an in-place update.
"""
from ._jit import kernel


@kernel
def sgd_update(new, param, grad, lr):
    # new, param, grad: same shape (any ndim), C-contiguous, same dtype. lr: float.
    n, p, g = new.reshape(-1), param.reshape(-1), grad.reshape(-1)
    for i in range(p.size):
        n[i] = p[i] - lr * g[i]

"""Gradient-descent update ``new = param - lr * grad``, element by element.

Guarantees: numpy's arithmetic exactly (one multiply, one subtract, no fused multiply-add);
``new`` may be ``param`` itself for an in-place update.
"""
from ._jit import kernel


@kernel
def sgd_update(new, param, grad, lr):
    # new, param, grad: (n,) contiguous, same dtype. lr: float.
    for i in range(param.size):
        new[i] = param[i] - lr * grad[i]

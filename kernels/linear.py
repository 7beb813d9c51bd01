"""Linear layers with their activation, forward next to backward (2-D arrays, BLAS products).

Guarantees: the course's arithmetic in the course's order (``W·A + b``; ``1/m`` times the
product and the row sum), so results match numpy up to the BLAS library's rounding.
Outputs are C-contiguous; inputs may be C- or F-contiguous.
"""
import numpy as np

from ._jit import kernel
from .activations import activation_backward, activation_forward


@kernel
def linear_forward(Z, A_prev, W, b):
    # Z: (n, m) out. A_prev: (n_prev, m). W: (n, n_prev). b: (n, 1).
    np.dot(W, A_prev, Z)
    n, m = Z.shape
    for i in range(n):
        bi = b[i, 0]
        for j in range(m):
            Z[i, j] += bi


@kernel
def linear_activation_forward(A, Z, A_prev, W, b, act):
    # A, Z: (n, m) out, C-contiguous. Z = W·A_prev + b, A = act(Z); Z stays cache-hot between.
    linear_forward(Z, A_prev, W, b)
    activation_forward(A.reshape(-1), Z.reshape(-1), act)


@kernel
def weight_grad(dW, dZ, A_prev):
    # dW: (n, n_prev) out. dZ: (n, m). A_prev: (n_prev, m). dW = (1/m) dZ·A_prev^T.
    inv_m = 1.0 / dZ.shape[1]
    np.dot(dZ, A_prev.T, dW)
    for i in range(dW.shape[0]):
        for j in range(dW.shape[1]):
            dW[i, j] = inv_m * dW[i, j]


@kernel
def bias_grad(db, dZ):
    # db: (n, 1) out. dZ: (n, m). db = (1/m) Σ_columns dZ.
    n, m = dZ.shape
    inv_m = 1.0 / m
    for i in range(n):
        s = 0.0
        for j in range(m):
            s += dZ[i, j]
        db[i, 0] = inv_m * s


@kernel
def linear_backward(dA_prev, dW, db, dZ, A_prev, W, need_dA_prev):
    # dA_prev: (n_prev, m) out. dW: (n, n_prev) out. db: (n, 1) out.
    # dZ: (n, m). A_prev: (n_prev, m). W: (n, n_prev).
    # need_dA_prev=False skips W^T·dZ (the first layer of a training step never uses it).
    weight_grad(dW, dZ, A_prev)
    bias_grad(db, dZ)
    if need_dA_prev:
        np.dot(W.T, dZ, dA_prev)


@kernel
def linear_activation_backward(dA_prev, dW, db, dZ, dA, A_prev, W, Z, act, need_dA_prev):
    # dZ: (n, m) out, scratch for act'(Z) * dA; the rest as in linear_backward.
    activation_backward(dZ.reshape(-1), dA.reshape(-1), Z.reshape(-1), act)
    linear_backward(dA_prev, dW, db, dZ, A_prev, W, need_dA_prev)

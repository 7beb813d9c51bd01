"""The softmax output layer of K >= 2 classes: forward, its categorical cross-entropy, and the
output layer's gradient (one output unit stays the course's sigmoid: loss.py).

Guarantees: softmax over each column (sample), shifted by the column's maximum so no exp
overflows; the cost's log-probabilities come from the log-sum-exp of the pre-activations
(z - max - log Σ exp(z - max)), never from log(a), so no log(0) arises; the gradient of the
mean cost with respect to Z is (A - Y)/m, as for the sigmoid with binary cross-entropy.
"""
import numpy as np

from ._jit import kernel


@kernel(inline=True)
def _column_max(Z, j):
    top = Z[0, j]
    for k in range(1, Z.shape[0]):
        top = max(top, Z[k, j])
    return top


@kernel(inline=True)
def softmax_forward(A, Z):
    # A: (K, t) out = softmax of each column of Z (K, t).
    K, t = Z.shape
    for j in range(t):
        top = _column_max(Z, j)
        total = 0.0
        for k in range(K):
            e = np.exp(Z[k, j] - top)
            A[k, j] = e
            total += e
        for k in range(K):
            A[k, j] = A[k, j] / total


@kernel(inline=True)
def softmax_log_likelihood(Z, YT):
    # Σ_j Σ_k y_jk log a_kj (float64) for Z (K, t) pre-activations and YT (t, K) labels.
    K, t = Z.shape
    total = 0.0
    for j in range(t):
        top = np.float64(_column_max(Z, j))
        s = 0.0
        for k in range(K):
            s += np.exp(np.float64(Z[k, j]) - top)
        lse = top + np.log(s)
        for k in range(K):
            y = YT[j, k]
            if y != 0:
                total += y * (np.float64(Z[k, j]) - lse)
    return total


@kernel(inline=True)
def output_gradient(dZ, A, YT):
    # dZ: (n, t) out = A - Y for the output layer A (n, t) and its labels YT (t, n): for a
    # sigmoid, the course's dAL = -(Y/AL - (1-Y)/(1-AL)) through sigmoid_backward simplified
    # (one pass, no division, no loss of accuracy near 0 or 1); the same for a softmax with
    # the categorical cross-entropy.
    n, t = A.shape
    for k in range(n):
        for j in range(t):
            dZ[k, j] = A[k, j] - YT[j, k]

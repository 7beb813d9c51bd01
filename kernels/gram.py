"""Full-batch gradient descent on the first-layer Gram path, entirely compiled.

Guarantees: each step is the course's iteration for [LINEAR->RELU]*(L-1) -> LINEAR->SIGMOID
(forward, cost, backward, update, in that order and with its arithmetic), working only inside
a Workspace allocated once by the caller: no allocation per step. (The direct path, W1·X
every step, is the sample-tiled engine of tiled.py.)

* Gram:   full-batch GD only ever touches X through products with it. After t steps
          W1_t = W1_0 - (lr/m) S_t X^T  with  S_t = Σ_{k<t} dZ1_k  (n1, m), hence
          W1_t·X = W1_0·X - (lr/m) S_t (X^T X) = P0 - (lr/m) S_t G.
          Keeping S and G = X^T X (m, m, computed once) replaces two (n1 x n0 x m) products
          per step by one (n1 x m x m) product. P is rebuilt from S every step (not updated
          incrementally), so rounding never accumulates in P; W1 is recovered at the end
          with gram_weights(). theta keeps W1_0 in W1's slot while this path runs.

Threads: G and the per-step product S·G are cut into GRAM_BLOCKS fixed blocks (a split set
by the shapes, never by the thread count), each one single-threaded BLAS call, run in
parallel; so every core works and the bits are the same for any thread count. Each parallel
kernel has a ``_serial`` twin (the same inlined body, one thread, the same bits) for children
forked from a process whose OpenMP threads ran, and for work too small to share.
"""
from typing import NamedTuple

import numba
import numpy as np

from ._jit import kernel
from .activations import RELU, SIGMOID, relu_backward
from .codes import LINEAR
from .buffers import copy, view
from .linear import bias_activation_forward, bias_grad, weight_grad
from .loss import cross_entropy_sum
from .softmax import output_gradient, softmax_forward, softmax_log_likelihood
from .update import sgd_update


class Workspace(NamedTuple):
    """Every buffer a training run touches. L layers, m samples, all arrays C-contiguous."""
    dims: np.ndarray      # (L+1,) int64: n0 (features), n1 .. nL (= 1)
    w_off: np.ndarray     # (L+1,) int64: offset of W_l in theta/grad (entry 0 unused)
    b_off: np.ndarray     # (L+1,) int64: offset of b_l in theta/grad (entry 0 unused)
    a_off: np.ndarray     # (L+1,) int64: offset of Z_l / A_l in Z and A (entry 0 unused)
    theta: np.ndarray     # (P,) W1, b1, W2, b2, ..., flat; W_l is (n_l, n_{l-1}), b_l (n_l, 1)
    grad: np.ndarray      # (P,) dW_l, db_l in theta's layout
    Z: np.ndarray         # (Σ n_l m,) pre-activations of layers 1..L (Gram path) or (0,)
    A: np.ndarray         # (Σ n_l m,) activations of layers 1..L (Gram path) or (0,)
    dA: np.ndarray        # (max n_l m,) gradient w.r.t. the layer below's activation, or (0,)
    dZ: np.ndarray        # (max n_l m,) gradient w.r.t. Z of the current layer, or (0,)
    cost_buf: np.ndarray  # (loss.BLOCK,) scratch for the cost's terms
    gram: np.ndarray      # (m, m) X^T X (Gram path) or (0, 0)
    P0: np.ndarray        # (n1, m) W1_0·X (Gram path) or (0, 0)
    S: np.ndarray         # (n1, m) Σ dZ1 over the steps taken (Gram path) or (0, 0)
    P: np.ndarray         # (n1, m) W1_t·X (Gram path) or (0, 0)
    Pb: np.ndarray        # (n1 m,) S·G by column blocks, before P0 - c· (Gram path) or (0,)


GRAM_BLOCKS = 8    # X's samples in this many fixed blocks: G, P0 and W1 are built by them


@kernel(inline=True)
def block_start(b, m):
    # First sample of block b of GRAM_BLOCKS (block b ends where b + 1 starts).
    return b * m // GRAM_BLOCKS


@kernel
def gram_pair(G, XA, XB, a0, b0):
    # G's block of samples a0.. x b0.. = XA·XB^T, and its mirror (G stays exactly symmetric).
    # XA: (wa, n0) C, XB: (wb, n0) C: rows of X^T. One single-threaded BLAS call.
    wa, wb = XA.shape[0], XB.shape[0]
    tmp = np.empty((wa, wb), G.dtype)
    np.dot(XA, XB.T, tmp)
    for i in range(wa):
        for j in range(wb):
            G[a0 + i, b0 + j] = tmp[i, j]
            G[b0 + j, a0 + i] = tmp[i, j]


@kernel
def gram_p0_block(P0, W1, XB, b0):
    # P0's columns b0.. = W1·XB^T. P0: (n1, m). W1: (n1, n0). XB: (wb, n0) C.
    tmp = np.empty((W1.shape[0], XB.shape[0]), P0.dtype)
    np.dot(W1, XB.T, tmp)
    for i in range(tmp.shape[0]):
        for j in range(tmp.shape[1]):
            P0[i, b0 + j] = tmp[i, j]


@kernel
def gram_weights_block(acc, tmp, S, XB, b0, first):
    # acc: (n1, n0) += S[:, b0..]·XB (= when ``first``): W1_0 - c·acc, summed over the blocks
    # in order, is W1 = W1_0 - c·S·X^T. tmp: (n1, n0) scratch. S: (n1, m). XB: (wb, n0) C.
    Sb = np.ascontiguousarray(S[:, b0: b0 + XB.shape[0]])
    if first:
        np.dot(Sb, XB, acc)
        return
    np.dot(Sb, XB, tmp)
    for i in range(acc.shape[0]):
        for j in range(acc.shape[1]):
            acc[i, j] += tmp[i, j]


@kernel(inline=True)
def _gram_init(G, P0, XT, W1):
    # G: (m, m) out = X^T X. P0: (n1, m) out = W1·X. XT: (m, n0) C = X^T. W1: (n1, n0).
    # G's blocks (a, b), a <= b, of the GRAM_BLOCKS fixed sample blocks: each one
    # single-threaded BLAS call (gram_pair), run in parallel.
    m = XT.shape[0]
    for p in numba.prange(GRAM_BLOCKS * GRAM_BLOCKS):
        a, b = p // GRAM_BLOCKS, p % GRAM_BLOCKS
        a0, a1, b0, b1 = block_start(a, m), block_start(a + 1, m), block_start(b, m), \
            block_start(b + 1, m)
        if a <= b and a1 > a0 and b1 > b0:
            gram_pair(G, XT[a0:a1], XT[b0:b1], a0, b0)
    for b in range(GRAM_BLOCKS):
        b0, b1 = block_start(b, m), block_start(b + 1, m)
        if b1 > b0:
            gram_p0_block(P0, W1, XT[b0:b1], b0)


@kernel(parallel=True)
def gram_init(G, P0, XT, W1):
    _gram_init(G, P0, XT, W1)


@kernel
def gram_init_serial(G, P0, XT, W1):
    _gram_init(G, P0, XT, W1)


@kernel(inline=True)
def _sync(P, Pb, P0, S, G, c):
    # P: (n1, m) out = P0 - c S·G, c = lr/m: W1·X rebuilt from the step sum S. Pb: (n1 m,)
    # scratch. Columns j0..j1 of S·G are S·(G[j0:j1, :])^T (G = X^T X is symmetric): rows of G
    # are contiguous, so each of the GRAM_BLOCKS fixed blocks is one single-threaded product.
    n1, m = P.shape
    for blk in numba.prange(GRAM_BLOCKS):
        j0 = blk * m // GRAM_BLOCKS
        j1 = (blk + 1) * m // GRAM_BLOCKS
        w = j1 - j0
        if w > 0:
            out = view(Pb, n1 * j0, n1, w)
            np.dot(S, view(G.reshape(-1), j0 * m, w, m).T, out)
            for i in range(n1):
                for j in range(w):
                    P[i, j0 + j] = P0[i, j0 + j] - c * out[i, j]


@kernel
def gram_sync(P, Pb, P0, S, G, c):
    # The steps' own sync, on one thread (the same bits): a one-off, after a resume.
    _sync(P, Pb, P0, S, G, c)


@kernel
def gram_weights(W1, tmp, W1_0, S, XT, c):
    # W1: (n1, n0) out = W1_0 - c S·X^T, the first layer's weights after the steps in S, the
    # product summed over the fixed sample blocks in order. tmp: (n1, n0) scratch (the
    # gradient's W1 slot, unused on this path). XT: (m, n0) C = X^T.
    m = XT.shape[0]
    for b in range(GRAM_BLOCKS):
        b0, b1 = block_start(b, m), block_start(b + 1, m)
        if b1 > b0:
            gram_weights_block(W1, tmp, S, XT[b0:b1], b0, b == 0)
    gram_weights_finish(W1, W1_0, c)


@kernel
def gram_weights_finish(W1, W1_0, c):
    # W1: (n1, n0) holds S·X^T; out: W1_0 - c·(S·X^T).
    for i in range(W1.shape[0]):
        for j in range(W1.shape[1]):
            W1[i, j] = W1_0[i, j] - c * W1[i, j]


# Inlined into train_steps: each separately compiled level costs compile time again.
@kernel(inline=True)
def _forward(ws, m):
    # Fills Z_l, A_l for l = 1..L (m samples).
    L = ws.dims.size - 1
    for l in range(1, L + 1):
        n, n_prev = ws.dims[l], ws.dims[l - 1]
        Zl = view(ws.Z, ws.a_off[l], n, m)
        if l == 1:
            # W1·X, rebuilt from S every step (gram_sync), copied flat (see buffers.copy).
            copy(ws.Z[ws.a_off[1]: ws.a_off[1] + n * m], ws.P.reshape(-1))
        else:
            np.dot(view(ws.theta, ws.w_off[l], n, n_prev),
                   view(ws.A, ws.a_off[l - 1], n_prev, m), Zl)
        Al = view(ws.A, ws.a_off[l], n, m)
        if l == L and n > 1:                     # K classes: a softmax over each column
            bias_activation_forward(Al, Zl, view(ws.theta, ws.b_off[l], n, 1), LINEAR)
            softmax_forward(Al, Zl)
        else:
            bias_activation_forward(Al, Zl, view(ws.theta, ws.b_off[l], n, 1),
                                    RELU if l < L else SIGMOID)


@kernel(inline=True)
def _backward(ws, Y, m):
    # Fills grad (W1 aside) and adds dZ1 to S, from the activations of _forward.
    L = ws.dims.size - 1
    # Output layer: dZ_L = A_L - Y, the course's dAL pushed through sigmoid_backward (and the
    # softmax's with the categorical cross-entropy). Y: (nL, m), A_L's layout.
    nL = ws.dims[L]
    AL = view(ws.A, ws.a_off[L], nL, m)
    output_gradient(view(ws.dZ, 0, nL, m), AL, Y.T)
    for l in range(L, 0, -1):
        n, n_prev = ws.dims[l], ws.dims[l - 1]
        dZ = view(ws.dZ, 0, n, m)
        bias_grad(view(ws.grad, ws.b_off[l], n, 1), dZ)
        if l == 1:
            S = ws.S
            for i in range(n):
                for j in range(m):
                    S[i, j] += dZ[i, j]
            break
        A_prev = view(ws.A, ws.a_off[l - 1], n_prev, m)
        weight_grad(view(ws.grad, ws.w_off[l], n, n_prev), dZ, A_prev)
        dA = view(ws.dA, 0, n_prev, m)
        np.dot(view(ws.theta, ws.w_off[l], n, n_prev).T, dZ, dA)
        # Layer below is relu: dZ_{l-1} = dA where Z_{l-1} > 0.
        relu_backward(ws.dZ[: n_prev * m], ws.dA[: n_prev * m],
                      ws.Z[ws.a_off[l - 1]: ws.a_off[l - 1] + n_prev * m])


@kernel(inline=True)
def _steps(costs, ws, Y, lr):
    # costs: (k,) out, the cost at each of k steps (before that step's update).
    # Y: (nL, m) in the workspace's dtype. lr: learning rate.
    L = ws.dims.size - 1
    m = Y.shape[1]
    nL = ws.dims[L]
    # W1's slot holds W1_0 and stays; everything after it is updated.
    first = ws.b_off[1]
    c = lr / m
    for it in range(costs.size):
        _forward(ws, m)
        if nL == 1:
            a = ws.A[ws.a_off[L]: ws.a_off[L] + m]
            costs[it] = (-1.0 / m) * cross_entropy_sum(a, Y.reshape(-1), ws.cost_buf)
        else:
            costs[it] = (-1.0 / m) * softmax_log_likelihood(view(ws.Z, ws.a_off[L], nL, m),
                                                            Y.T)
        _backward(ws, Y, m)
        sgd_update(ws.theta[first:], ws.theta[first:], ws.grad[first:], lr)
        _sync(ws.P, ws.Pb, ws.P0, ws.S, ws.gram, c)


@kernel(parallel=True)
def train_steps(costs, ws, Y, lr):
    _steps(costs, ws, Y, lr)


@kernel
def train_steps_serial(costs, ws, Y, lr):
    _steps(costs, ws, Y, lr)

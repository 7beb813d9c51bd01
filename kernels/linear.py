"""Linear layers with their activation, forward next to backward (2-D arrays).

Guarantees: the course's arithmetic in the course's order (``W·A + b``; ``1/m`` times the
product and the row sum), so results match numpy up to the BLAS library's rounding.
Outputs are C-contiguous; inputs may be C- or F-contiguous.

The products themselves are made by the caller (numpy's BLAS in the public API,
``blas.gemm`` inside the training loop: layers.py); these kernels are the passes around them,
plus ``small_linear_forward``, a whole layer's W·A + b at the notebook's sizes.
"""
from ._jit import kernel
from .activations import activation_backward, activation_forward
from .codes import LINEAR
from .lanes import sum8


@kernel
def bias_activation_forward(A, Z, b, act):
    # Z: (n, m) in: W·A_prev; out: W·A_prev + b. A: (n, m) out: act(Z) (unused when LINEAR).
    # One pass over Z instead of numpy's separate add and activation passes.
    n, m = Z.shape
    for i in range(n):
        bi = b[i, 0]
        for j in range(m):
            Z[i, j] += bi
    if act != LINEAR:
        activation_forward(A.reshape(-1), Z.reshape(-1), act)


@kernel
def small_linear_forward(Z, W, A, b):
    # Z: (n, m) out = W·A + b. W: (n, k). A: (k, m). b: (n, 1). For the notebook's sizes,
    # where numpy's dot and add cost more in dispatch than in arithmetic: one compiled call.
    # Each sum runs over k in order, then adds b (the course's order; BLAS may use FMAs).
    n, k = W.shape
    m = A.shape[1]
    for i in range(n):
        for j in range(m):
            Z[i, j] = 0.0
        for p in range(k):
            w = W[i, p]
            for j in range(m):
                Z[i, j] += w * A[p, j]
        bi = b[i, 0]
        for j in range(m):
            Z[i, j] += bi


@kernel
def activation_bias_backward(dZ, db, dA, Z, act):
    # dZ: (n, m) out = act'(Z) * dA. db: (n, 1) out = (1/m) Σ_columns dZ. dA, Z: (n, m).
    activation_backward(dZ.reshape(-1), dA.reshape(-1), Z.reshape(-1), act)
    bias_grad(db, dZ)


@kernel
def bias_grad(db, dZ):
    # db: (n, 1) out. dZ: (n, m), C-contiguous. db = (1/m) Σ_columns dZ, each row summed with
    # 8 independent float64 accumulators: a single running sum is bound by the add's latency
    # (4x slower than numpy's pairwise sum on wide rows), and no less accurate.
    inv_m = 1.0 / dZ.shape[1]
    for i in range(dZ.shape[0]):
        db[i, 0] = inv_m * sum8(dZ[i])

"""Binary cross-entropy: the cost in one pass, and the course's dAL (the output layer's fused
gradient A - Y of a training step is softmax.output_gradient, for both output kinds).

Guarantees: ``cross_entropy_sum`` is the course's formula ``Σ (y log a + (1-y) log(1-a))``
(compute_cost's) including its NaN/inf results at the edges (a term whose unused log would be
±inf or NaN is NaN, because numpy multiplies it by zero), with one log per element when
labels are exactly 0 or 1. ``training_cross_entropy_sum``, the training engine's, is the same
sum, bit for bit, wherever the course's terms are finite; where an output rounded to 0 or 1
makes a term NaN or infinite, that term comes from the output's logit (its true value to
rounding, finite), so the cost is not finite only when a logit is not.
Sums use 8 independent accumulators per block: accurate like numpy's pairwise sum, and fast.
"""
import numba
import numpy as np

from ._jit import kernel
from .buffers import in_dtype_of
from .lanes import sum8
from .vmath import vlog

from .codes import COST_BLOCK as BLOCK, EXP, LINEAR, SOFTMAX


@kernel
def _count_soft_labels(y):
    # y: (n,). How many labels are neither 0 nor 1 (integer sum: vectorises, no fast-math).
    c = 0
    for i in range(y.size):
        v = y[i]
        c += 0 if (v == 0 or v == 1) else 1
    return c


@kernel
def _xent_terms(buf, a, y, binary):
    # buf, a, y: (k,). buf[i] = y log a + (1-y) log(1-a), one log when binary. In a's dtype,
    # as numpy computes it (a Python 1 would make 1 - a float64: a float32 log then runs
    # on float64 values, at a third of the speed).
    one = in_dtype_of(a, 1.0)
    if binary:
        for i in range(a.size):
            ai = a[i]
            is_one = y[i] == one
            used = ai if is_one else one - ai
            unused = one - ai if is_one else ai   # numpy computes 0 * log(unused): NaN unless > 0
            t = vlog(used)
            buf[i] = t if unused > 0 else np.nan
    else:
        for i in range(a.size):
            ai = a[i]
            yi = y[i]
            buf[i] = yi * vlog(ai) + (one - yi) * vlog(one - ai)


@kernel
def cross_entropy_sum(a, y, buf):
    # a, y: (n,). buf: (BLOCK,) workspace in a's dtype. Returns Σ terms (float64).
    n = a.size
    binary = _count_soft_labels(y) == 0
    total = 0.0
    for lo in range(0, n, BLOCK):
        hi = min(lo + BLOCK, n)
        part = buf[: hi - lo]
        _xent_terms(part, a[lo:hi], y[lo:hi], binary)
        total += sum8(part)
    return total


@kernel(parallel=True, nrt=True)
def cross_entropy_sum_parallel(a, y):
    # a, y: (n,). Same as cross_entropy_sum, bit for bit: the blocks' sums are made over
    # threads, then added in block order (a reduction over threads would add them in an
    # order that depends on the thread count).
    n = a.size
    binary = _count_soft_labels(y) == 0
    blocks = (n + BLOCK - 1) // BLOCK
    sums = np.empty(blocks)
    for t in numba.prange(blocks):
        lo = t * BLOCK
        hi = min(lo + BLOCK, n)
        part = np.empty(hi - lo, a.dtype)
        _xent_terms(part, a[lo:hi], y[lo:hi], binary)
        sums[t] = sum8(part)
    total = 0.0
    for t in range(blocks):
        total += sums[t]
    return total


@kernel
def cross_entropy_backward(dA, a, y):
    # dA, a, y: (n,). The course's dAL = -(Y/AL - (1-Y)/(1-AL)), for AL not from a sigmoid.
    for i in range(a.size):
        dA[i] = -(y[i] / a[i] - (1 - y[i]) / (1 - a[i]))


@kernel(inline=True)
def _softplus(x):
    # log(1 + e^x) without overflow or loss of accuracy for large |x|.
    return max(x, 0.0) + np.log1p(np.exp(-abs(x)))


@kernel(inline=True)
def _logit_term(z, y):
    # y log a + (1-y) log(1-a) for a = sigmoid(z), from z (float64): log a = -softplus(-z)
    # and log(1 - a) = -softplus(z), finite for any finite z.
    if y == 1:
        return -_softplus(-z)
    if y == 0:
        return -_softplus(z)
    return -(y * _softplus(-z) + (1 - y) * _softplus(z))


@kernel
def training_cross_entropy_sum(a, z, y, buf):
    # a, z, y: (n,) the sigmoid output, its logits and the labels. buf: (BLOCK,) in a's dtype.
    # Returns Σ terms (float64): the course's terms (cross_entropy_sum's, the same bits)
    # wherever they are finite; a term that is NaN or infinite because a rounded to 0 or 1
    # is computed from its logit instead (only blocks whose sum is not finite are revisited).
    n = a.size
    binary = _count_soft_labels(y) == 0
    total = 0.0
    for lo in range(0, n, BLOCK):
        hi = min(lo + BLOCK, n)
        part = buf[: hi - lo]
        _xent_terms(part, a[lo:hi], y[lo:hi], binary)
        s = sum8(part)
        if not np.isfinite(s):
            for i in range(hi - lo):
                if not np.isfinite(part[i]):
                    part[i] = _logit_term(np.float64(z[lo + i]), np.float64(y[lo + i]))
            s = sum8(part)
        total += s
    return total


@kernel(inline=True)
def _xlogy(y, p):
    # scipy.special.xlogy: 0 where y == 0 (whatever p), else y·log(p).
    return 0.0 if y == 0 else y * np.log(p)


@kernel(inline=True)
def sk_loss_terms(A, Y_t, out_act, sw, samples):
    # scikit-learn's MLP losses for the outputs A (n_L, t) of the activation out_act and the
    # labels Y_t (t, n_L), as the sum over the tile of terms whose batch average is minus
    # the loss (the tiled cost's sign): SIGMOID, its binary log loss summed over outputs;
    # SOFTMAX, its log loss; LINEAR, half the squared error averaged over outputs; EXP, its
    # Poisson loss (y log(y/a) - y + a, 0·log 0 = 0) summed over outputs. Log-loss outputs
    # are clipped to [eps, 1 - eps] of their dtype as scikit-learn's log losses clip them.
    # Sample j's terms times sw[samples[j]] when sw is not empty. Returns float64.
    nL, t = A.shape
    eps = 2.220446049250313e-16 if A.itemsize == 8 else 1.1920928955078125e-07
    total = 0.0
    for j in range(t):
        s = 0.0
        for k in range(nL):
            a = np.float64(A[k, j])
            y = np.float64(Y_t[j, k])
            if out_act == LINEAR:
                s -= (y - a) * (y - a)
            elif out_act == EXP:
                s -= _xlogy(y, y / a) - y + a
            else:
                p = min(max(a, eps), 1.0 - eps)
                s += _xlogy(y, p)
                if out_act != SOFTMAX:
                    s += _xlogy(1.0 - y, 1.0 - p)
        if out_act == LINEAR:
            s = 0.5 * s / nL
        total += s * sw[samples[j]] if sw.size else s
    return total

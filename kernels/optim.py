"""The optimizers' update rules, L2 regularisation and inverted dropout's mask, for the tiled
training step (the course's sequel, *Improving Deep Neural Networks*).

Guarantees: each formula element by element in numpy's arithmetic (no fused multiply-add),
in theta's dtype (each setting rounded to it first, as numpy treats a Python float next to
a float32 array), for every entry of theta (W and b alike), with t the step being taken
(from 1):
  GD:       theta -= lr·g
  MOMENTUM: v = beta·v + (1-beta)·g;  theta -= lr·v
  ADAM:     v = beta1·v + (1-beta1)·g;  s = beta2·s + (1-beta2)·g²;
            theta -= lr · (v / (1-beta1^t)) / (sqrt(s / (1-beta2^t)) + epsilon)
            (computed with the corrections folded into two constants: within an ulp or two)
scikit-learn's MLP rules (its _stochastic_optimizers, the same arithmetic):
  SK_SGD:      v = beta·v - lr·g;  theta += v
  SK_NESTEROV: v = beta·v - lr·g;  theta += beta·v - lr·g
  SK_ADAM:     v = beta1·v + (1-beta1)·g;  s = beta2·s + (1-beta2)·g²;
               theta += -(lr·sqrt(1-beta2^t)/(1-beta1^t)) · v / (sqrt(s) + epsilon)
  NO_UPDATE:   theta unchanged (the caller steps)
L2 adds (lambd/mb)·W_l to dW_l (never to b) and (lambd/(2·mb))·Σ_l ‖W_l‖² to the cost.
Dropout keeps unit i of hidden layer l for sample j at step t when
  u(seed, t, l, i, j) < keep_prob,   u = (h >> 11) · 2^-53,
  h = mix(mix(mix(mix(seed + G) ^ t) ^ (l << 32 | i)) ^ j)
with mix splitmix64's finaliser and G = 0x9e3779b97f4a7c15, all in uint64 arithmetic (a
counter-based generator: the mask depends on no tile, thread or order; tests/naive.py
reproduces it in plain Python).
"""
import numpy as np

from ._jit import kernel
from .buffers import in_dtype_of
from .codes import ADAM, MOMENTUM, NO_UPDATE, SK_ADAM, SK_NESTEROV, SK_SGD
from .update import sgd_update

M1 = np.uint64(0xBF58476D1CE4E5B9)
M2 = np.uint64(0x94D049BB133111EB)
G = np.uint64(0x9E3779B97F4A7C15)
S11, S27, S30, S31, S32 = (np.uint64(k) for k in (11, 27, 30, 31, 32))
TWO_M53 = 1.0 / 9007199254740992.0


@kernel(inline=True)
def _mix(x):
    x = (x ^ (x >> S30)) * M1
    x = (x ^ (x >> S27)) * M2
    return x ^ (x >> S31)


@kernel(inline=True)
def unit_key(seed, step, layer, unit):
    # The part of the dropout hash shared by every sample of one unit at one step.
    h = _mix(np.uint64(seed) + G)
    h = _mix(h ^ np.uint64(step))
    return _mix(h ^ ((np.uint64(layer) << S32) | np.uint64(unit)))


@kernel(inline=True)
def keep_factor(key, sample, keep_prob):
    # 1.0 when the unit is kept for this sample, else 0.0 (the mask D of the course).
    u = np.float64(_mix(key ^ np.uint64(sample)) >> S11) * TWO_M53
    return 1.0 if u < keep_prob else 0.0


@kernel(inline=True)
def dropout(a, layer, mask):
    # a: (n, t) this layer's activations (forward) or their gradient (backward), in place:
    # a = a·D / keep_prob, the course's inverted dropout. mask: structs.Mask of the tile.
    kp = mask.keep_prob
    for i in range(a.shape[0]):
        key = unit_key(mask.seed, mask.step, layer, i)
        for j in range(a.shape[1]):
            a[i, j] = (a[i, j] * keep_factor(key, mask.samples[j], kp)) / kp


@kernel(inline=True)
def l2_gradient(net, coef, k0, k1):
    # dW_l += coef·W_l in net.grad's entries k0..k1 (those of a W; coef = lambd/mb).
    dims, w_off, theta, grad = net.dims, net.w_off, net.theta, net.grad
    c = in_dtype_of(grad, coef)
    for l in range(1, dims.size):
        lo, hi = max(k0, w_off[l]), min(k1, w_off[l] + dims[l] * dims[l - 1])
        g, w = grad[lo: max(lo, hi)], theta[lo: max(lo, hi)]
        for k in range(g.size):
            g[k] = g[k] + c * w[k]


@kernel(inline=True)
def l2_sum(net):
    # Σ_l ‖W_l‖² (float64), the W entries in theta's order.
    dims, w_off, theta = net.dims, net.w_off, net.theta
    total = 0.0
    for l in range(1, dims.size):
        for k in range(w_off[l], w_off[l] + dims[l] * dims[l - 1]):
            total += np.float64(theta[k]) * np.float64(theta[k])
    return total


@kernel(inline=True)
def _momentum(theta, grad, v, opt):
    lr = in_dtype_of(theta, opt.lr)
    b, c = in_dtype_of(theta, opt.beta), in_dtype_of(theta, 1 - opt.beta)
    for i in range(theta.size):
        vi = b * v[i] + c * grad[i]
        v[i] = vi
        theta[i] = theta[i] - lr * vi


@kernel(inline=True)
def _adam(theta, grad, v, s, opt, a, k):
    # theta -= a·v / (sqrt(s)·k + eps) after the moments' update: both Adams, by their
    # constants (optimizer_update). One square root and one division an element (they
    # bound this loop's speed).
    b1, c1 = in_dtype_of(theta, opt.beta1), in_dtype_of(theta, 1 - opt.beta1)
    b2, c2 = in_dtype_of(theta, opt.beta2), in_dtype_of(theta, 1 - opt.beta2)
    a, k, eps = in_dtype_of(theta, a), in_dtype_of(theta, k), in_dtype_of(theta, opt.epsilon)
    for i in range(theta.size):
        g = grad[i]
        vi = b1 * v[i] + c1 * g
        si = b2 * s[i] + c2 * (g * g)
        v[i] = vi
        s[i] = si
        theta[i] = theta[i] - a * vi / (np.sqrt(si) * k + eps)


@kernel(inline=True)
def _sk_sgd(theta, grad, v, opt, nesterov):
    lr, mu = in_dtype_of(theta, opt.lr), in_dtype_of(theta, opt.beta)
    for i in range(theta.size):
        vi = mu * v[i] - lr * grad[i]
        v[i] = vi
        theta[i] += (mu * vi - lr * grad[i]) if nesterov else vi


@kernel
def optimizer_update(theta, grad, opt, k0, k1):
    # One step of opt's rule on entries k0..k1 of theta (P,), from grad (P,); opt.t[0] is
    # this step's t. Every rule is element by element: any split of 0..P into ranges gives
    # the same bits. (Each rule loops over its range's views from 0, so that the compiler
    # vectorises it: indices from k0 would need numpy's negative-index check.)
    th, g, v, s = theta[k0:k1], grad[k0:k1], opt.v[k0:k1], opt.s[k0:k1]
    if opt.code == MOMENTUM:
        _momentum(th, g, v, opt)
    elif opt.code == ADAM:
        # the course's lr·(v/c1)/(sqrt(s/c2) + eps), the bias corrections c1 = 1 - beta1^t
        # and c2 = 1 - beta2^t folded into a and k: within an ulp or two of it as written
        t = opt.t[0]
        _adam(th, g, v, s, opt, opt.lr / (1 - opt.beta1 ** t), 1.0 / np.sqrt(1 - opt.beta2 ** t))
    elif opt.code == SK_ADAM:
        # scikit-learn's: the corrections in lr, eps added to sqrt(s) (k = 1 is exact, and
        # theta - x is theta + (-x): its arithmetic to the bit)
        t = opt.t[0]
        _adam(th, g, v, s, opt, opt.lr * np.sqrt(1 - opt.beta2 ** t) / (1 - opt.beta1 ** t),
              1.0)
    elif opt.code == SK_SGD or opt.code == SK_NESTEROV:
        _sk_sgd(th, g, v, opt, opt.code == SK_NESTEROV)
    elif opt.code == NO_UPDATE:
        return
    else:
        sgd_update(th, th, g, opt.lr)

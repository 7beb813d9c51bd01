"""Element-wise activations, each forward next to its backward, on 1-D contiguous arrays.

Guarantees: numpy's results to the last ulp or two (see kernels/vmath.py), numpy's NaN
propagation (relu keeps NaN, relu_backward keeps dA where Z is NaN), +0.0 where relu clips.
``*_parallel`` splits the same work into BLOCK-sized tasks over the Numba thread pool.
"""
import numba
import numpy as np

from ._jit import kernel
from .vmath import vsigmoid
from .buffers import copy
from .codes import (ELEMENT_BLOCK as BLOCK, RELU, RELU_BACKWARD, RELU_FORWARD, SIGMOID,
                    SIGMOID_FORWARD, TANH, EXP)


@kernel(inline=True)
def relu_forward(out, z):
    # out, z: (n,). np.maximum(0, z) exactly: NaN stays NaN, -0.0 stays -0.0, z < 0 gives +0.0.
    for i in range(z.size):
        v = z[i]
        out[i] = v if (v >= 0 or v != v) else 0


@kernel(inline=True)
def relu_backward(dz, da, z):
    # dz, da, z: (n,). The course's `dZ = copy(dA); dZ[Z <= 0] = 0` in one pass.
    for i in range(z.size):
        dz[i] = 0 if z[i] <= 0 else da[i]


@kernel(inline=True)
def sigmoid_forward(out, z):
    # out, z: (n,). 1 / (1 + exp(-z)) with the vectorisable exp.
    for i in range(z.size):
        out[i] = vsigmoid(z[i])


@kernel(inline=True)
def sigmoid_backward(dz, da, z):
    # dz, da, z: (n,). dA * s * (1 - s) with s recomputed from Z (the cache holds only Z),
    # fused: numpy makes five temporaries for this.
    for i in range(z.size):
        s = vsigmoid(z[i])
        dz[i] = da[i] * s * (1 - s)


@kernel(inline=True)
def tanh_forward(out, z):
    # out, z: (n,).
    for i in range(z.size):
        out[i] = np.tanh(z[i])


@kernel(inline=True)
def tanh_backward(dz, da, z):
    # dz, da, z: (n,). dA * (1 - a²) with a = tanh(z) recomputed (the cache holds only Z).
    for i in range(z.size):
        a = np.tanh(z[i])
        dz[i] = da[i] * (1 - a * a)


@kernel
def apply(out, a, b, op):
    # out, a, b: same shape, any ndim, C-contiguous. One element-wise op by code: forward
    # ops read a (pass it twice), backward ops read da=a, z=b.
    o, x, y = out.reshape(-1), a.reshape(-1), b.reshape(-1)
    if op == RELU_FORWARD:
        relu_forward(o, x)
    elif op == RELU_BACKWARD:
        relu_backward(o, x, y)
    elif op == SIGMOID_FORWARD:
        sigmoid_forward(o, x)
    else:
        sigmoid_backward(o, x, y)


@kernel(parallel=True)
def apply_parallel(out, a, b, op):
    # Same as apply(), BLOCK elements per task. Worth it only for large n (thread start-up).
    o, x, y = out.reshape(-1), a.reshape(-1), b.reshape(-1)
    n = o.size
    for t in numba.prange((n + BLOCK - 1) // BLOCK):
        lo = t * BLOCK
        hi = min(lo + BLOCK, n)
        apply(o[lo:hi], x[lo:hi], y[lo:hi], op)


@kernel(inline=True)
def activation_forward(out, z, act):
    # out, z: (n,). act in {LINEAR, RELU, SIGMOID, TANH, EXP}; LINEAR copies.
    if act == RELU:
        relu_forward(out, z)
    elif act == SIGMOID:
        sigmoid_forward(out, z)
    elif act == TANH:
        tanh_forward(out, z)
    elif act == EXP:
        for i in range(z.size):
            out[i] = np.exp(z[i])
    else:
        copy(out, z)


@kernel(inline=True)
def activation_backward(dz, da, z, act):
    # dz, da, z: (n,). dZ from dA through the activation whose input was z.
    if act == RELU:
        relu_backward(dz, da, z)
    elif act == SIGMOID:
        sigmoid_backward(dz, da, z)
    elif act == TANH:
        tanh_backward(dz, da, z)
    else:
        copy(dz, da)

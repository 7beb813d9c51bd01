"""The course's dnn_utils: sigmoid, relu and their backward passes, computed by fastdnn.kernels.

Guarantees: the course's names, arguments and return structures ((A, cache) forward, dZ
backward) and numbers (to ~1e-12 relative in float64; relu exactly np.maximum, -0.0 and NaN
included); float32 in gives float32 out; inputs are never modified. Large arrays run on
every core (runtime/threads.pick); small ones on the caller's thread.
"""
import numpy as np

from . import _validate as v
from . import kernels as K
from .runtime.threads import pick

# Below this many elements one thread is faster than starting the thread pool.
PARALLEL_MIN = 1 << 16
PARALLEL_WORK = 8      # element-wise work counted as this many multiply-adds per element
# Below this many elements relu calls np.maximum directly (see relu).
TINY = 64

_F64, _F32 = np.dtype(np.float64), np.dtype(np.float32)
# relu's zero in the array's own type: np.maximum(zero, Z) then needs no scalar conversion.
_ZERO = {_F64: np.float64(0), _F32: np.float32(0)}


def _is_fast(x):
    """A float32/float64 ndarray: usable by the kernels as it is (layout aside)."""
    return type(x) is np.ndarray and (x.dtype is _F64 or x.dtype is _F32)


def _map(a, b, op):
    # a, b: same shape and dtype, C-contiguous. Returns op(a, b) in a new array.
    out = np.empty_like(a)
    if a.size >= PARALLEL_MIN:
        apply, threads = pick(K.apply_parallel, K.apply, a.size * PARALLEL_WORK)
        with threads:
            apply(out, a, b, op)
    else:
        K.apply(out, a, b, op)
    return out


def _elementwise_input(Z, name):
    if _is_fast(Z) and Z.flags.c_contiguous:
        return Z
    z = v.array(Z, name, np.ndim(Z))
    return v.c_array(z, v.compute_dtype(z))


def _backward_inputs(dA, Z, op):
    if dA.__class__ is Z.__class__ is np.ndarray and dA.dtype is Z.dtype \
            and (dA.dtype is _F64 or dA.dtype is _F32) and dA.shape == Z.shape \
            and dA.flags.c_contiguous and Z.flags.c_contiguous:
        return dA, Z
    dA = v.array(dA, "dA", np.ndim(dA))
    Z = v.array(Z, "cache (Z)", np.ndim(Z))
    v.same_shape(dA, "dA", Z, "cache (Z)")
    # relu_backward copies dA (dZ keeps dA's precision); sigmoid_backward mixes both.
    dt = v.compute_dtype(dA) if op == K.RELU_BACKWARD else v.compute_dtype(dA, Z)
    return v.c_array(dA, dt), v.c_array(Z, dt)


def sigmoid(Z):
    """Sigmoid. Z: array, any shape. Returns ``(A, cache)``: A = 1/(1+exp(-Z)), cache = Z."""
    z = _elementwise_input(Z, "Z")
    return _map(z, z, K.SIGMOID_FORWARD), Z


def relu(Z):
    """ReLU. Z: array, any shape. Returns ``(A, cache)``: A = max(0, Z), cache = Z."""
    if Z.__class__ is np.ndarray and Z.size < TINY:
        # The course's relu is this very ufunc; below TINY elements one numpy call is cheaper
        # than any compiled call.
        # A zero of Z's own type gives the same bits (-0.0 and NaN kept) with no conversion;
        # other dtypes find no zero and take the checked path below.
        zero = _ZERO.get(Z.dtype)
        if zero is not None:
            return np.maximum(zero, Z), Z
    z = _elementwise_input(Z, "Z")
    return _map(z, z, K.RELU_FORWARD), Z


def relu_backward(dA, cache):
    """dZ = dA where Z > 0, else 0. dA, cache (= Z): same shape. Returns dZ."""
    if dA.__class__ is cache.__class__ is np.ndarray and dA.dtype is cache.dtype \
            and (dA.dtype is _F64 or dA.dtype is _F32) and dA.shape == cache.shape \
            and dA.size < PARALLEL_MIN and dA.flags.c_contiguous and cache.flags.c_contiguous:
        # The notebook's common case, inlined: numpy's own version is ~1 us, every call counts.
        dZ = np.empty_like(dA)
        K.apply(dZ, dA, cache, K.RELU_BACKWARD)
        return dZ
    return _map(*_backward_inputs(dA, cache, K.RELU_BACKWARD), K.RELU_BACKWARD)


def sigmoid_backward(dA, cache):
    """dZ = dA * s * (1 - s), s = sigmoid(Z). dA, cache (= Z): same shape. Returns dZ."""
    return _map(*_backward_inputs(dA, cache, K.SIGMOID_BACKWARD), K.SIGMOID_BACKWARD)

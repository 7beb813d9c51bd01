"""The course's step-by-step functions (initialisers, linear and model passes, cost, update),
computed by fastdnn.kernels; the activations are in dnn_utils.py.

Guarantees: the course's names, arguments, return structures (cache tuples, list of caches,
grads keys) and numbers (to ~1e-12 relative in float64); float32 in gives float32 out;
inputs are never modified; caches hold the caller's own objects, like the course.
Every public function validates its arguments once (see _validate.py) and then calls kernels.

Each function has a fast path for the common case (float32/float64 ndarrays of one dtype),
checked with a few identity tests so that a notebook-size call costs no more than numpy's;
anything else goes through the general conversion in _validate.py. Large products use
numpy's BLAS (``np.dot``), the one the course code runs on; kernels do the passes around them.
"""
import threading

import numpy as np

from . import _validate as v
from . import kernels as K
from .runtime.threads import pick
from .dnn_utils import _F32, _F64, PARALLEL_MIN, PARALLEL_WORK

# Name -> kernel code tables (no if-chains at call sites).
ACTIVATIONS = {"sigmoid": K.SIGMOID, "relu": K.RELU}
# Below this many multiply-adds, linear_forward is one compiled loop instead of np.dot + add.
SMALL_PRODUCT = 4096

# ---- initialisation (numpy's generator, as the course) ------------------------------------
# The course seeds numpy's global generator and then draws from it: two threads doing that at
# once (a threaded sweep) would interleave their draws. Seed-and-draw is one locked step.
SEED_LOCK = threading.Lock()


def initialize_parameters(n_x, n_h, n_y):
    """Two-layer parameters: seed 1, W = randn * 0.01, b = 0.

    Returns dict W1 (n_h, n_x), b1 (n_h, 1), W2 (n_y, n_h), b2 (n_y, 1).
    """
    n_x, n_h, n_y = (v.count(n, name, 1) for n, name in ((n_x, "n_x"), (n_h, "n_h"), (n_y, "n_y")))
    with SEED_LOCK:
        np.random.seed(1)
        W1 = np.random.randn(n_h, n_x) * 0.01
        W2 = np.random.randn(n_y, n_h) * 0.01
    return {"W1": W1, "b1": np.zeros((n_h, 1)), "W2": W2, "b2": np.zeros((n_y, 1))}


def _init_deep(layer_dims, seed, divide_by_sqrt):
    # The two deep initialisers differ only in seed and scaling; the scaling stays the exact
    # numpy operation of each (a division by sqrt(n_prev), or a multiplication by 0.01).
    dims = v.layer_dims(layer_dims)
    parameters = {}
    with SEED_LOCK:
        np.random.seed(seed)
        for l in range(1, len(dims)):
            W = np.random.randn(dims[l], dims[l - 1])
            parameters[f"W{l}"] = W / np.sqrt(dims[l - 1]) if divide_by_sqrt else W * 0.01
            parameters[f"b{l}"] = np.zeros((dims[l], 1))
    return parameters


def initialize_parameters_deep_app(layer_dims):
    """The application's deep initialiser: seed 1, W_l = randn(n_l, n_{l-1}) / sqrt(n_{l-1})."""
    return _init_deep(layer_dims, 1, True)


def initialize_parameters_deep_notebook(layer_dims):
    """The step-by-step notebook's deep initialiser: seed 3, W_l = randn(n_l, n_{l-1}) * 0.01."""
    return _init_deep(layer_dims, 3, False)


# ---- forward ------------------------------------------------------------------------------
def _linear_inputs(A, W, b, a_name="A"):
    """(A, W, b) checked and in one float dtype. A and W in any layout (np.dot takes them)."""
    if A.__class__ is W.__class__ is b.__class__ is np.ndarray and A.dtype is W.dtype is b.dtype \
            and (A.dtype is _F64 or A.dtype is _F32) and A.ndim == W.ndim == 2 \
            and W.shape[1] == A.shape[0] and b.shape == (W.shape[0], 1):
        return A, W, b
    A = v.array(A, a_name)
    W = v.array(W, "W")
    b = v.array(b, "b")
    if W.shape[1] != A.shape[0]:
        raise ValueError(f"W has shape {W.shape} and {a_name} has shape {A.shape}: W needs "
                         f"{A.shape[0]} columns (one per row of {a_name})")
    v.shape(b, "b", (W.shape[0], 1), "one bias per row of W")
    dt = v.compute_dtype(A, W, b)
    return A.astype(dt, copy=False), W.astype(dt, copy=False), b.astype(dt, copy=False)


def linear_forward(A, W, b):
    """Z = W·A + b.

    A: (n_prev, m). W: (n, n_prev). b: (n, 1). Returns ``(Z, (A, W, b))``, Z: (n, m).
    """
    a, w, bb = _linear_inputs(A, W, b)
    n, k = w.shape
    m = a.shape[1]
    if n * k * m <= SMALL_PRODUCT and a.flags.carray and w.flags.carray and bb.flags.carray:
        # One compiled call instead of numpy's dot and add (two dispatches). Only for the
        # arrays the notebook makes (C-contiguous, writable): each other layout would be a
        # compile of its own (about half a second) to save a microsecond; np.dot takes them.
        Z = np.empty((n, m), a.dtype)
        K.small_linear_forward(Z, w, a, bb)
        return Z, (A, W, b)
    # One BLAS call, then the bias added in place by a kernel: no second (n, m) array as in
    # numpy's `np.dot(W, A) + b` (and numpy's own in-place `Z += b` is slower than the kernel).
    Z = np.dot(w, a)
    K.bias_activation_forward(Z, Z, bb, K.LINEAR)
    return Z, (A, W, b)


def _layer_forward(A_prev, W, b, act, a_name="A_prev"):
    a, w, bb = _linear_inputs(A_prev, W, b, a_name)
    Z = np.dot(w, a)                       # (n, m), C-contiguous
    A = np.empty(Z.shape, Z.dtype)
    K.bias_activation_forward(A, Z, bb, act)
    return A, ((A_prev, W, b), Z)


def linear_activation_forward(A_prev, W, b, activation):
    """LINEAR -> ACTIVATION. activation: "sigmoid" or "relu".

    Returns ``(A, ((A_prev, W, b), Z))``, A and Z: (n, m).
    """
    return _layer_forward(A_prev, W, b, v.choice(activation, "activation", ACTIVATIONS))


def L_model_forward(X, parameters):
    """[LINEAR->RELU] x (L-1) -> LINEAR->SIGMOID. X: (n_x, m).

    Returns ``(AL, caches)``: AL (n_L, m), caches a list of L ``((A_prev, W, b), Z)``.
    """
    L = v.layer_count(parameters)
    caches = []
    A = X
    for l in range(1, L + 1):
        A, cache = _layer_forward(A, parameters[f"W{l}"], parameters[f"b{l}"],
                                  K.RELU if l < L else K.SIGMOID, "X" if l == 1 else f"A{l - 1}")
        caches.append(cache)
    return A, caches


# ---- cost ---------------------------------------------------------------------------------
def compute_cost(AL, Y):
    """Cross-entropy -(1/m) Σ (y log a + (1-y) log(1-a)). AL, Y: (1, m); Y may be integer.

    Returns a numpy scalar (float64, or float32 for float32 inputs). An AL of exactly 0 or 1
    gives the course's inf/nan and numpy's RuntimeWarning, like the course.
    """
    AL = v.array(AL, "AL")
    Y = v.array(Y, "Y")
    v.same_shape(AL, "AL", Y, "Y")
    dt = v.compute_dtype(AL, Y)
    a, y = v.c_array(AL, dt), v.c_array(Y, dt)
    m = Y.shape[1]
    work = a.size * PARALLEL_WORK if a.size >= PARALLEL_MIN else 0
    total_of, threads = pick(K.cross_entropy_sum_parallel,
                             lambda a, y: K.cross_entropy_sum(a, y, np.empty(K.COST_BLOCK, dt)),
                             work)
    with threads:
        total = total_of(a.reshape(-1), y.reshape(-1))
    cost = dt.type((-1.0 / m) * total)
    if not np.isfinite(cost):
        # Edge values: let numpy produce the course's exact inf/nan and its warnings.
        cost = np.squeeze((-1 / m) * np.sum(np.multiply(Y, np.log(AL)) +
                                             np.multiply(1 - Y, np.log(1 - AL))))
    return cost


# ---- backward -----------------------------------------------------------------------------
def _unpack(cache, name, n):
    try:
        parts = tuple(cache)
    except TypeError:
        parts = ()
    if len(parts) != n:
        what = "(A_prev, W, b) from linear_forward" if n == 3 else \
            "((A_prev, W, b), Z) from linear_activation_forward"
        raise TypeError(f"{name} must be the tuple {what}")
    return parts


def _products(dZ, A_prev, W, db):
    """dW = (1/m) dZ·A_prev^T and dA_prev = W^T·dZ with numpy's BLAS, as the course."""
    dW = np.dot(dZ, A_prev.T)
    np.multiply(dW, 1. / A_prev.shape[1], out=dW)
    return np.dot(W.T, dZ), dW, db


def _grad_input(g, name, n, m, dt):
    if g.__class__ is np.ndarray and g.dtype is dt and g.shape == (n, m) and g.flags.c_contiguous:
        return g
    g = v.array(g, name)
    v.shape(g, name, (n, m), "W's rows by A_prev's columns")
    return v.c_array(g, v.compute_dtype(g, np.empty(0, dt)))


def _linear_grad_inputs(linear_cache, cache_name, g, g_name):
    """(A_prev, W, g, n, m) of a layer's backward pass, checked and in g's dtype."""
    A_prev, W, b = _unpack(linear_cache, cache_name, 3)
    a, w, _ = _linear_inputs(A_prev, W, b, "A_prev")
    n, m = w.shape[0], a.shape[1]
    g = _grad_input(g, g_name, n, m, a.dtype)
    return a.astype(g.dtype, copy=False), w.astype(g.dtype, copy=False), g, n, m


def linear_backward(dZ, cache):
    """dZ: (n, m); cache: (A_prev, W, b). Returns ``(dA_prev, dW, db)``:
    dW = (1/m) dZ·A_prev^T, db = (1/m) Σ_columns dZ, dA_prev = W^T·dZ."""
    a, w, dz, n, m = _linear_grad_inputs(cache, "cache", dZ, "dZ")
    db = np.empty((n, 1), dz.dtype)
    K.bias_grad(db, dz)
    return _products(dz, a, w, db)


def _layer_backward(dA, cache, act, name="dA"):
    linear_cache, Z = _unpack(cache, "cache", 2)
    a, w, da, n, m = _linear_grad_inputs(linear_cache, "cache[0]", dA, name)
    z = _grad_input(Z, "cache[1] (Z)", n, m, da.dtype)
    if z.dtype is not da.dtype:      # a float64 Z with float32 dA: compute as numpy would
        dt = np.result_type(da, z)
        da, z, a, w = (x.astype(dt, copy=False) for x in (da, z, a, w))
    dZ = np.empty((n, m), da.dtype)
    db = np.empty((n, 1), da.dtype)
    K.activation_bias_backward(dZ, db, da, z, act)      # dZ and db in one pass
    return _products(dZ, a, w, db)


def linear_activation_backward(dA, cache, activation):
    """dA: (n, m); cache: ((A_prev, W, b), Z); activation "sigmoid" or "relu".
    Returns ``(dA_prev, dW, db)``."""
    return _layer_backward(dA, cache, v.choice(activation, "activation", ACTIVATIONS))


def model_backward(AL, Y, caches, key_shift):
    """Gradients of [LINEAR->RELU] x (L-1) -> LINEAR->SIGMOID.

    The gradient w.r.t. layer l's activation is stored under ``dA{l + key_shift}``
    (English edition: key_shift 0, keys dA0..dA{L-1}; Portuguese: 1, keys dA1..dAL).
    """
    AL = v.array(AL, "AL")
    Y = v.array(Y, "Y", np.ndim(Y))
    if Y.size != AL.size:
        raise ValueError(f"Y has shape {Y.shape} but AL has shape {AL.shape}; "
                         "they must hold the same number of labels")
    if not isinstance(caches, (list, tuple)) or not caches:
        raise TypeError("caches must be the non-empty list of caches from L_model_forward")
    dt = v.compute_dtype(AL, Y)
    a, y = v.c_array(AL, dt), v.c_array(Y.reshape(AL.shape), dt)
    dA = np.empty(a.shape, dt)
    K.cross_entropy_backward(dA.reshape(-1), a.reshape(-1), y.reshape(-1))
    if not np.isfinite(dA).all():
        # AL of exactly 0 or 1: let numpy give the course's inf/nan and its RuntimeWarning.
        dA = -(np.divide(y, a) - np.divide(1 - y, 1 - a))
    grads = {}
    L = len(caches)
    for l in range(L, 0, -1):
        dA, dW, db = _layer_backward(dA, caches[l - 1], K.SIGMOID if l == L else K.RELU,
                                     f"dA{l}")
        grads[f"dA{l - 1 + key_shift}"] = dA
        grads[f"dW{l}"] = dW
        grads[f"db{l}"] = db
    return grads


def L_model_backward(AL, Y, caches):
    """Backward pass. AL: (1, m); Y: labels (reshaped to AL's shape); caches: from
    L_model_forward. Returns grads with dW1..dWL, db1..dbL and dA0..dA{L-1}."""
    return model_backward(AL, Y, caches, 0)


# ---- update -------------------------------------------------------------------------------
def update_parameters(parameters, grads, learning_rate):
    """W_l <- W_l - lr * dW_l and b_l <- b_l - lr * db_l for l = 1..L.

    Rebinds the keys of ``parameters`` (the same dict, returned) to new arrays; the old
    arrays are left untouched, as in the course. Nothing changes if any entry is invalid.
    """
    L = v.layer_count(parameters)
    lr = v.real(learning_rate, "learning_rate")
    if not isinstance(grads, dict):
        raise TypeError(f"grads must be a dict with dW1, db1, ..., got {type(grads).__name__}")
    news = []
    for key, dkey in v.parameter_keys(L):
        P, G = parameters[key], grads.get(dkey)
        if not (P.__class__ is G.__class__ is np.ndarray and (P.dtype is _F64 or P.dtype is _F32)
                and G.dtype is P.dtype and G.shape == P.shape and P.ndim == 2):
            P, G = _update_inputs(P, G, key, L)       # converts, or raises naming the key
        new = np.empty_like(P)
        K.sgd_update_2d(new, P, G, lr)                 # 2-D indexing: any layout
        news.append((key, new))
    parameters.update(news)        # only once every entry is checked and computed
    return parameters


def _update_inputs(P, G, key, L):
    if G is None:
        raise ValueError(f"grads is missing 'd{key}' (parameters has {L} layers)")
    P = v.array(P, f"parameters[{key!r}]")
    G = v.array(G, f"grads['d{key}']")
    v.same_shape(G, f"grads['d{key}']", P, f"parameters[{key!r}]")
    dt = v.compute_dtype(P, G)
    return v.c_array(P, dt), v.c_array(G, dt)

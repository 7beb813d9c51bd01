"""The course's step-by-step functions, computed by fastdnn.kernels.

Guarantees: the course's names, arguments, return structures (cache tuples, list of caches,
grads keys) and numbers (to ~1e-12 relative in float64); float32 in gives float32 out;
inputs are never modified; caches hold the caller's own objects, like the course.
Every public function validates its arguments once (see _validate.py) and then calls kernels.
"""
import numpy as np

from . import _validate as v
from . import kernels as K

# Name -> kernel code tables (no if-chains at call sites).
ACTIVATIONS = {"sigmoid": K.SIGMOID, "relu": K.RELU}

# Below this many elements one thread is faster than starting the thread pool.
PARALLEL_MIN = 1 << 16


def _elementwise(out, a, b, op):
    # out, a, b: same shape, C-contiguous. Serial or threaded by size.
    if out.size >= PARALLEL_MIN:
        K.apply_parallel(out.reshape(-1), a.reshape(-1), b.reshape(-1), op)
    else:
        K.apply(out.reshape(-1), a.reshape(-1), b.reshape(-1), op)
    return out


# ---- activations (the course's dnn_utils) -------------------------------------------------
def _activation_forward(Z, name, op):
    z = v.array(Z, name, Z.ndim if type(Z) is np.ndarray else np.ndim(Z))
    z = v.c_array(z, v.compute_dtype(z))
    return _elementwise(np.empty(z.shape, z.dtype), z, z, op)


def _activation_backward(dA, cache, op):
    dA = v.array(dA, "dA", np.ndim(dA))
    Z = v.array(cache, "cache (Z)", np.ndim(cache))
    v.same_shape(dA, "dA", Z, "cache (Z)")
    if op == K.RELU_BACKWARD:          # the course copies dA: dZ keeps dA's precision
        dt = v.compute_dtype(dA)
    else:
        dt = v.compute_dtype(dA, Z)
    da, z = v.c_array(dA, dt), v.c_array(Z, dt)
    return _elementwise(np.empty(da.shape, dt), da, z, op)


def sigmoid(Z):
    """Sigmoid. Z: array, any shape. Returns ``(A, cache)``: A = 1/(1+exp(-Z)), cache = Z."""
    return _activation_forward(Z, "Z", K.SIGMOID_FORWARD), Z


def relu(Z):
    """ReLU. Z: array, any shape. Returns ``(A, cache)``: A = max(0, Z), cache = Z."""
    return _activation_forward(Z, "Z", K.RELU_FORWARD), Z


def relu_backward(dA, cache):
    """dZ = dA where Z > 0, else 0. dA, cache (= Z): same shape. Returns dZ."""
    return _activation_backward(dA, cache, K.RELU_BACKWARD)


def sigmoid_backward(dA, cache):
    """dZ = dA * s * (1 - s), s = sigmoid(Z). dA, cache (= Z): same shape. Returns dZ."""
    return _activation_backward(dA, cache, K.SIGMOID_BACKWARD)


# ---- initialisation (numpy's generator, as the course) ------------------------------------
def initialize_parameters(n_x, n_h, n_y):
    """Two-layer parameters: seed 1, W = randn * 0.01, b = 0.

    Returns dict W1 (n_h, n_x), b1 (n_h, 1), W2 (n_y, n_h), b2 (n_y, 1).
    """
    n_x, n_h, n_y = (v.count(n, name, 1) for n, name in ((n_x, "n_x"), (n_h, "n_h"), (n_y, "n_y")))
    np.random.seed(1)
    W1 = np.random.randn(n_h, n_x) * 0.01
    b1 = np.zeros((n_h, 1))
    W2 = np.random.randn(n_y, n_h) * 0.01
    b2 = np.zeros((n_y, 1))
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def initialize_parameters_deep_app(layer_dims):
    """The application's deep initialiser: seed 1, W_l = randn(n_l, n_{l-1}) / sqrt(n_{l-1})."""
    dims = v.layer_dims(layer_dims)
    np.random.seed(1)
    parameters = {}
    for l in range(1, len(dims)):
        parameters[f"W{l}"] = np.random.randn(dims[l], dims[l - 1]) / np.sqrt(dims[l - 1])
        parameters[f"b{l}"] = np.zeros((dims[l], 1))
    return parameters


def initialize_parameters_deep_notebook(layer_dims):
    """The step-by-step notebook's deep initialiser: seed 3, W_l = randn(n_l, n_{l-1}) * 0.01."""
    dims = v.layer_dims(layer_dims)
    np.random.seed(3)
    parameters = {}
    for l in range(1, len(dims)):
        parameters[f"W{l}"] = np.random.randn(dims[l], dims[l - 1]) * 0.01
        parameters[f"b{l}"] = np.zeros((dims[l], 1))
    return parameters


# ---- forward ------------------------------------------------------------------------------
def _linear_inputs(A, W, b, a_name="A"):
    """Validated (A, W, b, dtype) for a linear layer, converted for the kernels."""
    A = v.array(A, a_name)
    W = v.array(W, "W")
    b = v.array(b, "b")
    if W.shape[1] != A.shape[0]:
        raise ValueError(f"W has shape {W.shape} and {a_name} has shape {A.shape}: W needs "
                         f"{A.shape[0]} columns (one per row of {a_name})")
    v.shape(b, "b", (W.shape[0], 1), "one bias per row of W")
    dt = v.compute_dtype(A, W, b)
    return v.blas_array(A, dt), v.blas_array(W, dt), v.c_array(b, dt), dt


def linear_forward(A, W, b):
    """Z = W·A + b.

    A: (n_prev, m). W: (n, n_prev). b: (n, 1). Returns ``(Z, (A, W, b))``, Z: (n, m).
    """
    a, w, bb, dt = _linear_inputs(A, W, b)
    Z = np.empty((w.shape[0], a.shape[1]), dt)
    K.linear_forward(Z, a, w, bb)
    return Z, (A, W, b)


def _layer_forward(A_prev, W, b, act, a_name="A_prev"):
    a, w, bb, dt = _linear_inputs(A_prev, W, b, a_name)
    shape = (w.shape[0], a.shape[1])
    A, Z = np.empty(shape, dt), np.empty(shape, dt)
    K.linear_activation_forward(A, Z, a, w, bb, act)
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
        act = K.RELU if l < L else K.SIGMOID
        A, cache = _layer_forward(A, parameters[f"W{l}"], parameters[f"b{l}"], act,
                                  "X" if l == 1 else f"A{l - 1}")
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
    a, y = v.c_array(AL, dt).reshape(-1), v.c_array(Y, dt).reshape(-1)
    m = Y.shape[1]
    if a.size >= PARALLEL_MIN:
        total = K.cross_entropy_sum_parallel(a, y)
    else:
        total = K.cross_entropy_sum(a, y, np.empty(K.COST_BLOCK, dt))
    cost = dt.type((-1.0 / m) * total)
    if not np.isfinite(cost):
        # Edge values: let numpy produce the course's exact inf/nan and its warnings.
        cost = np.squeeze((-1 / m) * np.sum(np.multiply(Y, np.log(AL)) +
                                             np.multiply(1 - Y, np.log(1 - AL))))
    return cost


# ---- backward -----------------------------------------------------------------------------
def _linear_cache(cache, name="cache"):
    try:
        A_prev, W, b = cache
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be the tuple (A_prev, W, b) from linear_forward") from None
    return A_prev, W, b


def _layer_backward(dZ_or_dA, cache, act, dZ_name):
    """Backward through one layer; act=None means dZ is given (linear_backward)."""
    if act is None:
        A_prev, W, b = _linear_cache(cache)
        Z = None
    else:
        try:
            linear_cache, Z = cache
        except (TypeError, ValueError):
            raise TypeError("cache must be ((A_prev, W, b), Z) from linear_activation_forward")\
                from None
        A_prev, W, b = _linear_cache(linear_cache, "cache[0]")
    a, w, bb, dt = _linear_inputs(A_prev, W, b, "A_prev")
    g = v.array(dZ_or_dA, dZ_name)
    n, m = w.shape[0], a.shape[1]
    v.shape(g, dZ_name, (n, m), "W's rows by A_prev's columns")
    dt = v.compute_dtype(g, a)
    a, w = v.blas_array(a, dt), v.blas_array(w, dt)
    dA_prev = np.empty(a.shape, dt)
    dW = np.empty(w.shape, dt)
    db = np.empty((n, 1), dt)
    if act is None:
        K.linear_backward(dA_prev, dW, db, v.blas_array(g, dt), a, w, True)
    else:
        Z = v.array(Z, "cache[1] (Z)")
        v.shape(Z, "cache[1] (Z)", (n, m), "the layer's pre-activation")
        K.linear_activation_backward(dA_prev, dW, db, np.empty((n, m), dt), v.c_array(g, dt),
                                     a, w, v.c_array(Z, dt), act, True)
    return dA_prev, dW, db


def linear_backward(dZ, cache):
    """dZ: (n, m); cache: (A_prev, W, b). Returns ``(dA_prev, dW, db)``:
    dW = (1/m) dZ·A_prev^T, db = (1/m) Σ_columns dZ, dA_prev = W^T·dZ."""
    return _layer_backward(dZ, cache, None, "dZ")


def linear_activation_backward(dA, cache, activation):
    """dA: (n, m); cache: ((A_prev, W, b), Z); activation "sigmoid" or "relu".
    Returns ``(dA_prev, dW, db)``."""
    return _layer_backward(dA, cache, v.choice(activation, "activation", ACTIVATIONS), "dA")


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
    Y = Y.reshape(AL.shape)
    dt = v.compute_dtype(AL, Y)
    a, y = v.c_array(AL, dt), v.c_array(Y, dt)
    dAL = np.empty(a.shape, dt)
    K.cross_entropy_backward(dAL.reshape(-1), a.reshape(-1), y.reshape(-1))
    grads = {}
    L = len(caches)
    dA = dAL
    for l in range(L, 0, -1):
        act = K.SIGMOID if l == L else K.RELU
        dA, dW, db = _layer_backward(dA, caches[l - 1], act, f"dA{l}")
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
    arrays are left untouched, as in the course.
    """
    L = v.layer_count(parameters)
    lr = v.learning_rate(learning_rate)
    if not isinstance(grads, dict):
        raise TypeError(f"grads must be a dict with dW1, db1, ..., got {type(grads).__name__}")
    missing = [f"d{p}{l}" for l in range(1, L + 1) for p in "Wb" if f"d{p}{l}" not in grads]
    if missing:
        raise ValueError(f"grads is missing {missing} (parameters has {L} layers)")
    updates = []
    for l in range(1, L + 1):
        for p in "Wb":
            key = f"{p}{l}"
            P = v.array(parameters[key], f"parameters[{key!r}]")
            G = v.array(grads["d" + key], f"grads['d{key}']")
            v.same_shape(G, f"grads['d{key}']", P, f"parameters[{key!r}]")
            dt = v.compute_dtype(P, G)
            updates.append((key, v.c_array(P, dt), v.c_array(G, dt)))
    for key, P, G in updates:       # all checked first: a bad entry leaves the dict unchanged
        new = np.empty(P.shape, P.dtype)
        K.sgd_update(new.reshape(-1), P.reshape(-1), G.reshape(-1), lr)
        parameters[key] = new
    return parameters

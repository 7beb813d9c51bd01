"""The source of truth: the course's formulas in plain numpy, written for clarity, not speed.

Nothing here imports fastdnn. Every fastdnn result is compared with these functions.
"""
import numpy as np


def sigmoid(Z):
    return 1 / (1 + np.exp(-Z))


def relu(Z):
    return np.maximum(0, Z)


def relu_grad(dA, Z):
    dZ = np.array(dA, copy=True)
    dZ[Z <= 0] = 0
    return dZ


def sigmoid_grad(dA, Z):
    s = sigmoid(Z)
    return dA * s * (1 - s)


ACT = {"relu": (relu, relu_grad), "sigmoid": (sigmoid, sigmoid_grad)}


def layer_forward(A_prev, W, b, activation=None):
    Z = np.dot(W, A_prev) + b
    return Z if activation is None else (ACT[activation][0](Z), Z)


def forward(X, params):
    """Returns AL and a list of (A_prev, W, b, Z) per layer."""
    L = len(params) // 2
    A, tape = X, []
    for l in range(1, L + 1):
        W, b = params["W%d" % l], params["b%d" % l]
        A_next, Z = layer_forward(A, W, b, "relu" if l < L else "sigmoid")
        tape.append((A, W, b, Z))
        A = A_next
    return A, tape


def cost(AL, Y):
    m = Y.shape[1]
    return np.squeeze(-np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / m)


def logit_cost(Z, Y):
    """The cross-entropy of a sigmoid output from its logits Z (1, m): the same value as
    cost(sigmoid(Z), Y), finite where sigmoid(Z) rounds to 0 or 1. Written with numpy's
    logaddexp: -log a = log(1 + e^-z) = logaddexp(0, -z), -log(1 - a) = logaddexp(0, z)."""
    m = Y.shape[1]
    return float(np.sum(Y * np.logaddexp(0, -Z) + (1 - Y) * np.logaddexp(0, Z)) / m)


def training_cost(Z, Y):
    """The training engine's cost: the course's terms where they are finite; a term that an
    output rounded to 0 or 1 makes NaN or infinite, from its logit (logit_cost's term)."""
    with np.errstate(all="ignore"):
        A = sigmoid(Z)
        terms = Y * np.log(A) + (1 - Y) * np.log(1 - A)
    from_logits = -(Y * np.logaddexp(0, -Z) + (1 - Y) * np.logaddexp(0, Z))
    return float(-np.sum(np.where(np.isfinite(terms), terms, from_logits)) / Y.shape[1])


def layer_backward(dZ, A_prev, W, input_grad=True):
    """(dA_prev, dW, db); dA_prev is None when not ``input_grad``."""
    m = A_prev.shape[1]
    dA_prev = W.T @ dZ if input_grad else None
    return dA_prev, (dZ @ A_prev.T) / m, dZ.sum(axis=1, keepdims=True) / m


def backward(AL, Y, tape, input_grad=True):
    """Gradients keyed dW{l}, db{l}, and dA{l} for the activation of layer l (l = 0..L-1).
    ``input_grad=False`` leaves out dA0 (the gradient for X, which no update reads: a third
    of a wide first layer's products)."""
    Y = Y.reshape(AL.shape)
    dA = -(Y / AL - (1 - Y) / (1 - AL))
    grads = {}
    L = len(tape)
    for l in range(L, 0, -1):
        A_prev, W, b, Z = tape[l - 1]
        dZ = ACT["sigmoid" if l == L else "relu"][1](dA, Z)
        dA, grads["dW%d" % l], grads["db%d" % l] = layer_backward(dZ, A_prev, W,
                                                                  input_grad or l > 1)
        if dA is not None:
            grads["dA%d" % (l - 1)] = dA
    return grads


def update(params, grads, lr):
    return {k: params[k] - lr * grads["d" + k] for k in params}


def train(X, Y, params, lr, iterations):
    """The course loop. Returns (final params, costs of every iteration)."""
    costs = []
    for _ in range(iterations):
        AL, tape = forward(X, params)
        costs.append(float(cost(AL, Y)))
        params = update(params, backward(AL, Y, tape, input_grad=False), lr)
    return params, np.array(costs)


def init_deep_app(dims):
    np.random.seed(1)
    return {k: v for l in range(1, len(dims)) for k, v in
            (("W%d" % l, np.random.randn(dims[l], dims[l - 1]) / np.sqrt(dims[l - 1])),
             ("b%d" % l, np.zeros((dims[l], 1))))}


def init_two_layer(n_x, n_h, n_y):
    np.random.seed(1)
    W1 = np.random.randn(n_h, n_x) * 0.01
    W2 = np.random.randn(n_y, n_h) * 0.01
    return {"W1": W1, "b1": np.zeros((n_h, 1)), "W2": W2, "b2": np.zeros((n_y, 1))}


# ---- the sequel's tools: mini-batches, momentum, Adam, L2, dropout (fastdnn.fit's options) ---
MASK64 = (1 << 64) - 1


def _splitmix(x):
    # splitmix64's finaliser, on Python integers (the documented dropout hash).
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


def dropout_mask(seed, step, layer, units, samples, keep_prob):
    """(units, len(samples)) of 0/1: keep unit i for sample j when u < keep_prob, with
    u = (h >> 11) / 2^53, h = mix(mix(mix(mix(seed + G) ^ step) ^ (layer << 32 | i)) ^ j)."""
    h = _splitmix((seed + 0x9E3779B97F4A7C15) & MASK64)
    h = _splitmix(h ^ step)
    D = np.empty((units, len(samples)))
    for i in range(units):
        key = _splitmix(h ^ ((layer << 32) | i))
        for c, j in enumerate(samples):
            D[i, c] = float((_splitmix(key ^ int(j)) >> 11) / 2.0 ** 53 < keep_prob)
    return D


def forward_logits(X, params):
    """Z_L, the output layer's pre-activation (ReLU hidden layers)."""
    L, A = len(params) // 2, X
    for l in range(1, L + 1):
        Z = params["W%d" % l] @ A + params["b%d" % l]
        A = relu(Z)
    return Z


def _batch_step(Xb, Yb, idx, params, opt, t):
    """Cost and gradients of one mini-batch (samples idx) at step t, with L2 and dropout."""
    L, mb, kp = len(params) // 2, Xb.shape[1], opt["keep_prob"]
    A, tape, masks = Xb, [], {}
    for l in range(1, L + 1):
        W, b = params["W%d" % l], params["b%d" % l]
        Z = W @ A + b
        A_next = relu(Z) if l < L else (softmax(Z) if opt.get("softmax") else sigmoid(Z))
        if l < L and kp < 1:
            masks[l] = dropout_mask(opt["seed"], t, l, W.shape[0], idx, kp)
            A_next = A_next * masks[l] / kp
        tape.append((A, W, Z))
        A = A_next
    data_cost = softmax_cost(tape[-1][2], Yb) if opt.get("softmax") else cost(A, Yb)
    c = data_cost + opt["lambd"] / (2 * mb) * sum(np.sum(params["W%d" % l] ** 2)
                                                     for l in range(1, L + 1))
    grads, dZ = {}, A - Yb
    for l in range(L, 0, -1):
        A_prev, W, Z = tape[l - 1]
        grads["dW%d" % l] = dZ @ A_prev.T / mb + opt["lambd"] / mb * W
        grads["db%d" % l] = dZ.sum(axis=1, keepdims=True) / mb
        if l > 1:
            dA = W.T @ dZ
            if kp < 1:
                dA = dA * masks[l - 1] / kp
            dZ = relu_grad(dA, tape[l - 2][2])
    return float(c), grads


def _apply(params, grads, state, opt, t):
    lr, new = opt["lr"], {}
    for k in params:
        g = grads["d" + k]
        if opt["optimizer"] == "gd":
            new[k] = params[k] - lr * g
        elif opt["optimizer"] == "momentum":
            state["v" + k] = opt["beta"] * state["v" + k] + (1 - opt["beta"]) * g
            new[k] = params[k] - lr * state["v" + k]
        else:
            b1, b2 = opt["beta1"], opt["beta2"]
            state["v" + k] = b1 * state["v" + k] + (1 - b1) * g
            state["s" + k] = b2 * state["s" + k] + (1 - b2) * g ** 2
            v_hat, s_hat = state["v" + k] / (1 - b1 ** t), state["s" + k] / (1 - b2 ** t)
            new[k] = params[k] - lr * v_hat / (np.sqrt(s_hat) + opt["epsilon"])
    return new


def train_optimized(X, Y, params, epochs, **opt):
    """fit's options in plain numpy: each epoch in the order
    default_rng([seed, epoch]).permutation(m) (mini-batches) or as is (full batch).
    Returns (params, costs per epoch: the sample-weighted mean of the batch costs)."""
    opt = dict(dict(optimizer="gd", mini_batch_size=None, beta=0.9, beta1=0.9, beta2=0.999,
                    epsilon=1e-8, lambd=0.0, keep_prob=1.0, seed=0, softmax=False), **opt)
    m = X.shape[1]
    state = {p + k: np.zeros_like(v) for k, v in params.items() for p in "vs"}
    costs, t = [], 0
    for epoch in range(epochs):
        mb = opt["mini_batch_size"]
        order = np.arange(m) if mb is None else \
            np.random.default_rng([opt["seed"], epoch]).permutation(m)
        mb = mb or m
        total = 0.0
        for b0 in range(0, m, mb):
            idx = order[b0:b0 + mb]
            t += 1
            c, grads = _batch_step(X[:, idx], Y[:, idx], idx, params, opt, t)
            params = _apply(params, grads, state, opt, t)
            total += len(idx) / m * c
        costs.append(total)
    return params, np.array(costs)


# ---- K >= 2 classes: a softmax output and the categorical cross-entropy ----------------------
def softmax(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def softmax_cost(Z, Y):
    """-(1/m) Σ_samples Σ_k y_k log a_k, the log-probabilities by log-sum-exp."""
    top = Z.max(axis=0, keepdims=True)
    log_a = Z - top - np.log(np.exp(Z - top).sum(axis=0, keepdims=True))
    return float(-np.sum(Y * log_a) / Y.shape[1])


def train_softmax(X, Y, params, lr, iterations):
    """Full-batch gradient descent, ReLU hidden layers, softmax output; Y (K, m) one-hot."""
    L, m = len(params) // 2, X.shape[1]
    costs = []
    for _ in range(iterations):
        A, tape = X, []
        for l in range(1, L + 1):
            Z = params["W%d" % l] @ A + params["b%d" % l]
            tape.append((A, Z))
            A = relu(Z) if l < L else softmax(Z)
        costs.append(softmax_cost(tape[-1][1], Y))
        dZ, grads = A - Y, {}
        for l in range(L, 0, -1):
            A_prev, _ = tape[l - 1]
            grads["W%d" % l] = dZ @ A_prev.T / m
            grads["b%d" % l] = dZ.sum(axis=1, keepdims=True) / m
            if l > 1:
                dZ = relu_grad(params["W%d" % l].T @ dZ, tape[l - 2][1])
        params = {k: params[k] - lr * grads[k] for k in params}
    return params, np.array(costs)

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


def layer_backward(dZ, A_prev, W):
    m = A_prev.shape[1]
    return W.T @ dZ, (dZ @ A_prev.T) / m, dZ.sum(axis=1, keepdims=True) / m


def backward(AL, Y, tape):
    """Gradients keyed dW{l}, db{l}, and dA{l} for the activation of layer l (l = 0..L-1)."""
    Y = Y.reshape(AL.shape)
    dA = -(Y / AL - (1 - Y) / (1 - AL))
    grads = {}
    L = len(tape)
    for l in range(L, 0, -1):
        A_prev, W, b, Z = tape[l - 1]
        dZ = ACT["sigmoid" if l == L else "relu"][1](dA, Z)
        dA, grads["dW%d" % l], grads["db%d" % l] = layer_backward(dZ, A_prev, W)
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
        params = update(params, backward(AL, Y, tape), lr)
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

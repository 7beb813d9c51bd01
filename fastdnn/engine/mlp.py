"""scikit-learn's multi-layer perceptron on the engine's tiled kernels.

Guarantees: the network, losses and update rules of scikit-learn's MLPClassifier and
MLPRegressor (hidden activations identity, logistic, tanh, relu; an identity, logistic or
softmax output, or an exponential one for the Poisson loss, each with its canonical loss; its SGD, Nesterov and Adam rules; L2 as it scales
it, alpha / batch size, or / the batch's weight sum with sample weights), computed by the
kernels of kernels/tiled.py given codes (Net.acts, Net.loss, Optimizer.code): one kernel
call an epoch, every batch of the epoch in it, or one call a loss-and-gradient for L-BFGS.
Its coefs_[i] (fan_in, fan_out) are views of the engine's W_{i+1} (fan_out, fan_in), so
the estimator reads the parameters the kernels write without a copy. Same bits for any
thread count (the tiled kernels' fixed summation order).
"""
import numpy as np

from .. import kernels as K
from ..runtime.threads import pick
from .network import bias, new_net, step_work, weight
from .tiles import allocate_tiles, chunks_for, kernel_samples

HIDDEN = {"identity": K.LINEAR, "logistic": K.SIGMOID, "tanh": K.TANH, "relu": K.RELU}
OUTPUT = {"identity": K.LINEAR, "logistic": K.SIGMOID, "softmax": K.SOFTMAX, "exp": K.EXP}
_NONE = np.zeros(0, np.int64)     # an empty order: positions as they are


class MLPEngine:
    """One fit's network (``layer_units``: n_features, hidden sizes..., n_outputs) with the
    ``hidden`` and ``output`` activations (scikit-learn's names) in ``dtype``, and the
    workspace for batches of ``batch`` of m samples."""

    def __init__(self, layer_units, hidden, output, dtype, m, batch):
        dims = [int(u) for u in layer_units]
        acts = [0] + [HIDDEN[hidden]] * (len(dims) - 2) + [OUTPUT[output]]
        self.dims, self.dtype = dims, np.dtype(dtype)
        self.net = new_net(dims, self.dtype, acts=acts, loss=K.SK_LOSS)
        self.P = self.net.theta.size
        self.batch = min(batch, m)
        # copies=True: X's rows may come in any layout (a tile is copied when not a view)
        self.tiles = allocate_tiles(dims, m, self.dtype, self.P, batch=self.batch, copies=True)

    # ---- scikit-learn's parameter lists <-> theta ----------------------------------------
    def coefs(self):
        """[(n_{l-1}, n_l) for each layer]: views of theta (W_l transposed)."""
        return [weight(self.net, l).T for l in range(1, len(self.dims))]

    def intercepts(self):
        """[(n_l,) for each layer]: views of theta."""
        return [bias(self.net, l).reshape(-1) for l in range(1, len(self.dims))]

    def flat(self, coefs, intercepts, out=None):
        """coefs + intercepts (scikit-learn's order of params) into theta's layout."""
        out = np.zeros(self.P, self.dtype) if out is None else out
        net = self.net._replace(theta=out)
        for l, (W, b) in enumerate(zip(coefs, intercepts), start=1):
            weight(net, l)[...] = np.asarray(W).T
            bias(net, l)[:, 0] = np.asarray(b).reshape(-1)
        return out

    def lists(self, flat):
        """theta's layout -> (coefs, intercepts) as new arrays in scikit-learn's shapes."""
        net = self.net._replace(theta=flat)
        return ([weight(net, l).T.copy() for l in range(1, len(self.dims))],
                [bias(net, l).reshape(-1).copy() for l in range(1, len(self.dims))])

    # ---- training -------------------------------------------------------------------------
    def _kernel(self, samples, X):
        # A sparse X (a kernels.CSR inside Samples) runs on one core: Numba's parallel
        # loops do not take a struct of arrays nested in a struct.
        parts = chunks_for(self.tiles.T, samples) if isinstance(X, np.ndarray) else 1
        return pick(K.tiled_train_steps, K.tiled_train_steps_serial,
                    step_work(self.dims, samples, False), parts)

    def epoch(self, X, Y, sw, order, opt):
        """One epoch of batches of self.batch (positions in ``order``, or as they are when
        it is empty), each step opt's rule. X (m, n0) (an array or a kernels.CSR, whose
        tiles are densified), Y (m, n_L) C in the dtype, sw (m,)
        float64 or (0,). Returns the epoch's loss (batches' losses weighted by size)."""
        cost = np.zeros(1)
        steps, threads = self._kernel(self.batch, X)
        with threads:                    # the caller holds BLAS at one thread
            data = kernel_samples(X, order, Y, order, sw)
            steps(cost, self.net, self.tiles, data, opt, self.batch,
                  K.chunk_callee(self.tiles, self.net, data, opt))
        return float(cost[0])

    def loss_grad(self, theta, X, Y, sw, alpha):
        """(loss, gradient) at ``theta`` (theta's layout) over all of X: scikit-learn's
        full-batch loss with L2 and its gradient (a new array), theta left unchanged."""
        m = X.shape[0]        # X: an array or a kernels.CSR
        self.net.theta[...] = theta
        opt = K.Optimizer(K.NO_UPDATE, 0.0, 0.0, 0.0, 0.0, 0.0, float(alpha), 1.0, 0,
                          np.zeros(0, self.dtype), np.zeros(0, self.dtype),
                          np.zeros(1, np.int64))
        cost = np.zeros(1)
        steps, threads = self._kernel(m, X)
        with threads:
            data = kernel_samples(X, _NONE, Y, _NONE, sw)
            steps(cost, self.net, self.tiles, data, opt, m,
                  K.chunk_callee(self.tiles, self.net, data, opt))
        return float(cost[0]), self.net.grad.astype(np.float64)


def optimizer(code, lr, momentum, beta_1, beta_2, epsilon, alpha, v, s, t):
    """The kernels' Optimizer for a scikit-learn rule (code SK_SGD, SK_NESTEROV, SK_ADAM)
    with its state v, s ((P,) or (0,)) and t ((1,) int64: steps taken)."""
    return K.Optimizer(code, float(lr), float(momentum), float(beta_1), float(beta_2),
                       float(epsilon), float(alpha), 1.0, 0, v, s, t)

"""The training engine: full-batch gradient descent with one workspace allocated up front.

Guarantees: the course's loop (forward, cost, backward, update) for
[LINEAR->RELU] x (L-1) -> LINEAR->SIGMOID, run in compiled kernels with nothing allocated
per iteration; the same parameters and costs as the numpy loop to ~1e-9 relative over
thousands of iterations (float64). Training data is checked before any work.

The first layer has two exact paths:
``gram=False`` computes W1·X and dW1 = dZ1·X^T/m every step (the course's way), sample-tiled
over every core (kernels/tiled.py): a tile's activations stay in cache;
``gram=True`` keeps G = X^T X and the sum S of dZ1, so a step costs n1·m² instead of
2·n1·n0·m; W1 = W1_0 - (lr/m)·S·X^T is rebuilt whenever parameters are read
(kernels/gram.py has the algebra).
``gram="auto"`` picks the cheaper one when G fits in GRAM_MAX_BYTES (by the shapes alone).
X may also be a file's dataset, streamed (streaming.py): the same path, the same bits.

Determinism: BLAS runs on one thread inside the engine (_threads.py) and the tiled path
splits samples in a way set by the shapes only, so costs and parameters are the same bits
for any thread count.
"""
from typing import NamedTuple

import numpy as np

from . import _validate as v
from . import kernels as K
from . import optim, streaming
from ._threads import one_blas_thread, pick
from .h5source import file_source
from .samples import check_streamed, check_training_data
from .workspace import (allocate_tiles, chunks_for, network_dims, parameter_layout, source_of,
                        step_work)

GRAM_MAX_BYTES = 1 << 30   # G is m x m: never more than 1 GiB of it by default
# "auto" weighs G's one-time cost over this many steps, whatever the run's length: the path
# then depends on the shapes alone, so a run continued later (resume) takes the same path
# as the same run made in one go, and ends with the same bits.
AUTO_HORIZON = 1000


class DivergenceError(FloatingPointError):
    """The cost became NaN or infinite during training."""


class FitResult(NamedTuple):
    parameters: dict      # W1, b1, ..., WL, bL after training
    costs: np.ndarray     # (num_iterations,) the cost at every iteration, before its update


def gram_is_cheaper(dims, m, iterations=AUTO_HORIZON, itemsize=8, max_bytes=GRAM_MAX_BYTES):
    """True when the Gram path costs fewer multiply-adds over ``iterations`` steps and G fits
    in max_bytes."""
    n0, n1 = dims[0], dims[1]
    if m * m * itemsize > max_bytes:
        return False
    direct = iterations * 2 * n1 * n0 * m               # W1·X and dZ1·X^T each step
    gram = n0 * m * m + iterations * n1 * m * m + n1 * m * n0   # G once, S·G each step, W1 at the end
    return gram < 0.5 * direct


class Trainer:
    """One training run's state: the workspace, the iteration count, the chosen path.

    Parameters
    ----------
    X : (n0, m) array, or the samples-first (m, ...) HDF5 dataset (or (path, name)) whose
        rows are its columns: streamed (streaming.py; either path, the same bits).
    Y : (1, m) labels in {0, 1}.
    parameters : dict W1, b1, ..., WL, bL (copied; never modified).
    learning_rate : float.  dtype : float64 (default) or float32.
    gram : "auto", True or False ("auto" weighs G's one-time cost over AUTO_HORIZON steps;
        the Gram path carries only the course's plain full-batch gradient descent).
    options : optim.Settings (optimizer, mini-batches, L2, dropout); default the course's.
        An iteration is an epoch: one step on a full batch, or one pass of mini-batches.
    x_divisor : None, or X is used as X / x_divisor (255.0 for the bytes of images): X may
        then be uint8; the same bits as dividing the whole array first, without the copy.
    """

    def __init__(self, X, Y, parameters, learning_rate, *, dtype=None, gram="auto",
                 options=None, x_divisor=None):
        dims = network_dims(parameters)
        L = len(dims) - 1
        self.source = file_source(X)
        if self.source is None:
            X, Y = check_training_data(X, Y, dims)
        else:
            Y = check_streamed(self.source, Y, dims, options)
        self.dtype = np.dtype(np.float64 if dtype is None else dtype)
        if self.dtype not in (np.float32, np.float64):
            raise TypeError(f"dtype must be float32 or float64, got {self.dtype}")
        self.learning_rate = v.learning_rate(learning_rate)
        self.options = options or optim.Settings()
        self.dims, self.m = dims, Y.shape[1]
        self.gram = self._path(gram)
        if self.gram:
            self.Y = v.c_array(Y, self.dtype)                        # (nL, m)
        else:
            self.YT = np.ascontiguousarray(Y.T, dtype=self.dtype)    # (m, nL): rows as X^T
        self.x_divisor = None if x_divisor is None else v.real(x_divisor, "x_divisor")
        if self.x_divisor is not None and self.x_divisor <= 0:
            raise ValueError(f"x_divisor must be > 0, got {x_divisor!r}")
        if self.gram and self.source is None:
            # (n0, m), C or F order: G's products need it whole, divided (m is small here).
            X = X if self.x_divisor is None else X / self.x_divisor
            self.X = v.blas_array(X, self.dtype)
        elif self.source is not None:      # read from the file (streaming.py), either path
            copies = self.source.dtype != self.dtype or self.x_divisor is not None
        else:
            # The tiled path reads samples as rows of X^T, tile by tile (workspace.source_of).
            self.XT, copies = source_of(X, self.dtype, self.x_divisor)
        self.ws = self._allocate()
        self.tiles = None if self.gram else allocate_tiles(
            dims, self.m, self.dtype, self.ws.theta.size, self.options.mini_batch_size,
            copies, self.x_divisor or 1.0)
        self.opt = optim.state(self.options, self.learning_rate, self.ws.theta.size,
                               self.dtype)
        for l in range(1, L + 1):
            self._W(l)[...] = parameters[f"W{l}"]
            self._b(l)[...] = parameters[f"b{l}"]
        self.iteration = 0
        if self.gram:
            self._gram_init()
            self.ws.P[...] = self.ws.P0

    def _path(self, gram):
        """The first-layer path: True for the Gram path (see the module's docstring)."""
        if gram == "auto":
            return self.options.plain and gram_is_cheaper(self.dims, self.m, AUTO_HORIZON,
                                                          self.dtype.itemsize)
        if not isinstance(gram, (bool, np.bool_)):
            raise ValueError(f"gram must be 'auto', True or False, got {gram!r}")
        if gram and not self.options.plain:
            raise ValueError("gram=True carries only full-batch gradient descent without L2 "
                             f"or dropout; this run asks for {self.options}: use gram='auto'")
        return bool(gram)

    def _allocate(self):
        dims, m, dt = self.dims, self.m, self.dtype
        L = len(dims) - 1
        w_off, b_off, p = parameter_layout(dims)
        a_off, a = np.zeros(L + 1, np.int64), 0
        if self.gram:          # the tiled path keeps its activations per tile (Tiles)
            for l in range(1, L + 1):
                a_off[l], a = a, a + dims[l] * m
        widest = max(dims[1:]) * m if self.gram else 0   # dA/dZ of layers 1..L (no dA0)
        g = (m, m) if self.gram else (0, 0)
        p1 = (dims[1], m) if self.gram else (0, 0)
        return K.Workspace(
            dims=np.asarray(dims, np.int64), w_off=w_off, b_off=b_off, a_off=a_off,
            theta=np.zeros(p, dt), grad=np.zeros(p, dt), Z=np.zeros(a, dt), A=np.zeros(a, dt),
            dA=np.zeros(widest, dt), dZ=np.zeros(widest, dt), cost_buf=np.zeros(K.COST_BLOCK, dt),
            gram=np.zeros(g, dt), P0=np.zeros(p1, dt), S=np.zeros(p1, dt), P=np.zeros(p1, dt),
            Pb=np.zeros(p1[0] * p1[1], dt))

    def _gram_init(self):
        # G = X^T X and P0 = W1_0·X from X^T as (m, n0) C: X itself, transposed, when X is
        # F-ordered (the course's flatten); otherwise a temporary copy; or read from a file.
        if self.source is not None:
            with one_blas_thread():
                streaming.gram_init(self)
            return
        n0, m = self.X.shape
        init, threads = pick(K.gram_init, K.gram_init_serial, n0 * m * m)
        with threads, one_blas_thread():
            init(self.ws.gram, self.ws.P0, np.ascontiguousarray(self.X.T), self._W(1))

    def _W(self, l):
        n, n_prev = self.dims[l], self.dims[l - 1]
        o = self.ws.w_off[l]
        return self.ws.theta[o: o + n * n_prev].reshape(n, n_prev)

    def _dW1(self):
        """The gradient's W1 slot (n1, n0): scratch on the Gram path, which keeps S instead."""
        return self.ws.grad[: self.ws.b_off[1]].reshape(self.dims[1], self.dims[0])

    def _b(self, l):
        o = self.ws.b_off[l]
        return self.ws.theta[o: o + self.dims[l]].reshape(-1, 1)

    def run(self, costs):
        """Take ``len(costs)`` iterations (epochs), writing each one's cost into ``costs``
        (1-D, float64). Raises DivergenceError, naming the iteration, if a cost is NaN or
        infinite."""
        start = self.iteration
        with one_blas_thread():              # once a call: threadpoolctl's switch costs
            if self.gram:
                work = step_work(self.dims, self.m, True)
                steps, threads = pick(K.train_steps, K.train_steps_serial, work)
                with threads:
                    steps(costs, self.ws, self.Y, self.learning_rate)
            elif self.source is not None:
                streaming.train(self, costs, self._orders(start, costs.size))
            elif self.options.mini_batch_size is None:
                self._tiled(costs, np.empty(0, np.int64), self.m)
            else:
                for e, order in enumerate(self._orders(start, costs.size)):
                    self._tiled(costs[e:e + 1], order, self.options.mini_batch_size)
        self.iteration += costs.size
        if not np.isfinite(costs).all():
            bad = int(np.argmin(np.isfinite(costs)))
            raise DivergenceError(f"the cost became {costs[bad]} at iteration {start + bad}")
        return costs

    def _orders(self, start, epochs):
        """Each epoch's order of the samples: (m,) shuffled for mini-batches, else (0,)."""
        o = self.options
        for e in range(start, start + epochs):
            yield (np.empty(0, np.int64) if o.mini_batch_size is None else
                   optim.epoch_order(o.seed, e, self.m, o.shuffle_block))

    def _tiled(self, costs, order, batch):
        """Epochs of the tiled path in batches of ``batch`` samples, in ``order`` (empty: as
        they are), on every core where a batch has more than one chunk."""
        ws, tw = self.ws, self.tiles
        samples = min(batch, self.m)
        steps, threads = pick(K.tiled_train_steps, K.tiled_train_steps_serial,
                              step_work(self.dims, samples, False), chunks_for(tw.T, samples))
        with threads:                         # BLAS already at one thread (run)
            steps(costs, ws.grad, tw, self.XT, self.YT, order, ws.theta, ws.dims,
                  ws.w_off, ws.b_off, self.opt, batch)

    def parameters(self):
        """A new dict of the current parameters (W1 rebuilt from S on the Gram path)."""
        L = len(self.dims) - 1
        params = {}
        for l in range(1, L + 1):
            params[f"W{l}"] = self._W(l).copy()
            params[f"b{l}"] = self._b(l).copy()
        if self.gram:
            with one_blas_thread():
                if self.source is not None:
                    streaming.gram_weights(params["W1"], self)
                else:
                    K.gram_weights(params["W1"], self._dW1(), self._W(1), self.ws.S,
                                   np.ascontiguousarray(self.X.T), self.learning_rate / self.m)
        return params

    # Checkpoint support: the exact state that determines every later step.
    def state(self):
        """Arrays that, with the data and settings, resume this run bit for bit: the
        parameters, the Gram path's S, the optimizer's moments and step count."""
        return {"theta": self.ws.theta.copy(), "S": self.ws.S.copy(),
                "iteration": self.iteration, "gram": self.gram, "v": self.opt.v.copy(),
                "s": self.opt.s.copy(), "t": int(self.opt.t[0])}

    def load_state(self, state):
        """Restore a state() taken from a run with the same data, layers and settings."""
        theta, S = np.asarray(state["theta"]), np.asarray(state["S"])
        if bool(state["gram"]) != self.gram or theta.shape != self.ws.theta.shape \
                or S.shape != self.ws.S.shape:
            raise ValueError("checkpoint does not match this run (layers, samples or path)")
        w1 = slice(0, self.ws.b_off[1])       # W1's slot: W1_0 on the Gram path
        if self.gram and not np.array_equal(theta[w1], self.ws.theta[w1]):
            # The state started from another W1_0 than this trainer: P0 = W1_0·X follows it.
            self.ws.theta[w1] = theta[w1]
            self._gram_init()
        self.ws.theta[...] = theta
        self.ws.S[...] = S
        self.iteration = int(state["iteration"])
        for name in ("v", "s"):
            saved = np.asarray(state.get(name, np.zeros(0)))
            if saved.shape != getattr(self.opt, name).shape:
                raise ValueError(f"checkpoint holds optimizer state {name} of shape "
                                 f"{saved.shape}, this run needs {getattr(self.opt, name).shape}")
            getattr(self.opt, name)[...] = saved
        # Plain gradient descent counts one step an iteration (files without "t").
        self.opt.t[0] = int(state.get("t", self.iteration))
        if self.gram:
            with one_blas_thread():
                K.gram_sync(self.ws.P, self.ws.Pb, self.ws.P0, self.ws.S, self.ws.gram,
                            self.learning_rate / self.m)

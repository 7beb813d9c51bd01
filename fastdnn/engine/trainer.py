"""The training engine: one run's structs, allocated up front, and its epochs.

Guarantees: the course's loop (forward, cost, backward, update) for
[LINEAR->RELU] x (L-1) -> LINEAR->SIGMOID (a softmax over K >= 2 output units), run in
compiled kernels with nothing allocated per iteration; the same parameters and costs as the
numpy loop to ~1e-9 relative over thousands of iterations (float64). Training data is
checked before any work.

The first layer has two exact paths:
``gram=False`` computes W1·X and dW1 = dZ1·X^T/m every step (the course's way), sample-tiled
over every core (kernels/tiled.py): a tile's activations stay in cache;
``gram=True`` keeps G = X^T X and the sum S of dZ1, so a step costs n1·m² instead of
2·n1·n0·m; W1 = W1_0 - (lr/m)·S·X^T is rebuilt whenever parameters are read (gram.py).
``gram="auto"`` picks the cheaper one when G fits in GRAM_MAX_BYTES (by the shapes alone).
X is a source (sources/): an array in memory, or a file's dataset streamed: the same path,
the same bits.

Determinism: BLAS runs on one thread inside the engine (threads.py) and the tiled path
splits samples in a way set by the shapes only, so costs and parameters are the same bits
for any thread count.
"""
from typing import NamedTuple

import numpy as np

from .. import _validate as v
from .gram import AUTO_HORIZON, GramPath, gram_is_cheaper
from .network import network_dims, new_net, parameters_of
from .settings import Settings, epoch_order, optimizer_state
from .sources import Run, open_source
from ..runtime.threads import one_blas_thread
from .tiles import allocate_tiles


class DivergenceError(FloatingPointError):
    """The cost became NaN or infinite during training: a parameter or an output's logit is no
    longer finite (an output that merely rounds to 0 or 1 keeps the cost finite)."""


class FitResult(NamedTuple):
    parameters: dict      # W1, b1, ..., WL, bL after training
    costs: np.ndarray     # (num_iterations,) the cost at every iteration, before its update


class Trainer:
    """One training run's state: its structs, the iteration count, the chosen path.

    Parameters
    ----------
    X : (n0, m) array, or the samples-first (m, ...) HDF5 dataset (or (path, name)) whose
        rows are its columns: streamed (sources/streamed.py; either path, the same bits).
    Y : (1, m) labels in {0, 1}; for K >= 2 output units, (K, m) one-hot or integer labels.
    parameters : dict W1, b1, ..., WL, bL (copied; never modified).
    learning_rate : float.  dtype : float64 (default) or float32.
    gram : "auto", True or False ("auto" weighs G's one-time cost over AUTO_HORIZON steps;
        the Gram path carries only the course's plain full-batch gradient descent).
    settings : settings.Settings (optimizer, mini-batches, L2, dropout); default the
        course's. An iteration is an epoch: one step on a full batch, or one pass of
        mini-batches.
    x_divisor : None, or X is used as X / x_divisor (255.0 for the bytes of images): X may
        then be uint8; the same bits as dividing the whole array first, without the copy.
    cluster : None, or a ``dask.distributed.Client`` or scheduler address: the steps' chunks
        are computed on its workers (sources/cluster.py; the same bits; the tiled path only).
        ``close()`` releases the workers' state.
    """

    def __init__(self, X, Y, parameters, learning_rate, *, dtype=None, gram="auto",
                 settings=None, x_divisor=None, cluster=None):
        dims = network_dims(parameters)
        self.dtype = np.dtype(np.float64 if dtype is None else dtype)
        if self.dtype not in (np.float32, np.float64):
            raise TypeError(f"dtype must be float32 or float64, got {self.dtype}")
        self.x_divisor = None if x_divisor is None else v.real(x_divisor, "x_divisor")
        if self.x_divisor is not None and self.x_divisor <= 0:
            raise ValueError(f"x_divisor must be > 0, got {x_divisor!r}")
        self.settings = settings or Settings()
        self.source, Y = open_source(X, Y, dims, self.settings, self.dtype, self.x_divisor)
        self.learning_rate = v.learning_rate(learning_rate)
        self.dims, self.m = dims, self.source.m
        if cluster is not None:
            if gram is True:
                raise ValueError("gram=True is not available with a cluster (the Gram path "
                                 "runs on one machine): use gram='auto' or False")
            gram = False
        self.gram = self._path(gram)
        if cluster is not None:
            from .sources.cluster import ClusterSource
            self.source = ClusterSource(self.source, cluster, dims)
        self.YT = np.ascontiguousarray(Y.T, dtype=self.dtype)    # (m, nL): rows as X^T
        self.net = new_net(dims, self.dtype, parameters)
        P = self.net.theta.size
        self.opt = optimizer_state(self.settings, self.learning_rate, P, self.dtype)
        if self.gram:
            self.gram_path = GramPath(self.source, self.net, self.YT, self.dtype)
        else:
            self.tiles = allocate_tiles(dims, self.m, self.dtype, P,
                                        self.settings.mini_batch_size, self.source.copies,
                                        self.x_divisor or 1.0)
        self.iteration = 0

    def _path(self, gram):
        """The first-layer path: True for the Gram path (see the module's docstring)."""
        if gram == "auto":
            return self.settings.plain and gram_is_cheaper(self.dims, self.m, AUTO_HORIZON,
                                                           self.dtype.itemsize)
        if not isinstance(gram, (bool, np.bool_)):
            raise ValueError(f"gram must be 'auto', True or False, got {gram!r}")
        if gram and not self.settings.plain:
            raise ValueError("gram=True carries only full-batch gradient descent without L2 "
                             f"or dropout; this run asks for {self.settings}: use gram='auto'")
        return bool(gram)

    def run(self, costs):
        """Take ``len(costs)`` iterations (epochs), writing each one's cost into ``costs``
        (1-D, float64). Raises DivergenceError, naming the iteration, if a cost is NaN or
        infinite."""
        start = self.iteration
        with one_blas_thread():              # once a call: threadpoolctl's switch costs
            if self.gram:
                self.gram_path.steps(costs, self.net, self.opt)
            else:
                s = self.settings
                self.source.train(Run(self.net, self.tiles, self.opt, self.YT,
                                      s.mini_batch_size, s.shuffle_block, self.dims),
                                  costs, self._orders(start, costs.size))
        self.iteration += costs.size
        if not np.isfinite(costs).all():
            bad = int(np.argmin(np.isfinite(costs)))
            raise DivergenceError(f"the cost became {costs[bad]} at iteration {start + bad}: "
                                  "a parameter or an output's logit is no longer finite")
        return costs

    def close(self):
        """Release what the run holds elsewhere (its state on a cluster's workers)."""
        close = getattr(self.source, "close", None)
        if close is not None:
            close()

    def _orders(self, start, epochs):
        """Each epoch's order of the samples: (m,) shuffled for mini-batches, else (0,)."""
        s = self.settings
        for e in range(start, start + epochs):
            yield (np.empty(0, np.int64) if s.mini_batch_size is None else
                   epoch_order(s.seed, e, self.m, s.shuffle_block))

    def parameters(self):
        """A new dict of the current parameters (W1 rebuilt from S on the Gram path)."""
        params = parameters_of(self.net)
        if self.gram:
            self.gram_path.weights(params["W1"], self.net, self.learning_rate)
        return params

    # Checkpoint support: the exact state that determines every later step.
    def state(self):
        """Arrays that, with the data and settings, resume this run bit for bit: the
        parameters, the Gram path's S, the optimizer's moments and step count."""
        S = self.gram_path.gw.S if self.gram else np.zeros((0, 0), self.dtype)
        return {"theta": self.net.theta.copy(), "S": S.copy(), "iteration": self.iteration,
                "gram": self.gram, "v": self.opt.v.copy(), "s": self.opt.s.copy(),
                "t": int(self.opt.t[0])}

    def load_state(self, state):
        """Restore a state() taken from a run with the same data, layers and settings."""
        theta, S = np.asarray(state["theta"]), np.asarray(state["S"])
        S_now = self.gram_path.gw.S if self.gram else np.zeros((0, 0))
        if bool(state["gram"]) != self.gram or theta.shape != self.net.theta.shape \
                or S.shape != S_now.shape:
            raise ValueError("checkpoint does not match this run (layers, samples or path)")
        w1 = slice(0, self.net.b_off[1])      # W1's slot: W1_0 on the Gram path
        if self.gram and not np.array_equal(theta[w1], self.net.theta[w1]):
            # The state started from another W1_0 than this trainer: P0 = W1_0·X follows it.
            self.net.theta[w1] = theta[w1]
            self.gram_path.start(self.net)
        self.net.theta[...] = theta
        S_now[...] = S
        self.iteration = int(state["iteration"])
        for name in ("v", "s"):
            saved = np.asarray(state.get(name, np.zeros(0)))
            if saved.shape != getattr(self.opt, name).shape:
                raise ValueError(f"checkpoint holds optimizer state {name} of shape "
                                 f"{saved.shape}, this run needs {getattr(self.opt, name).shape}")
            getattr(self.opt, name)[...] = saved
        # Plain gradient descent counts one step an iteration (files without "t").
        self.opt.t[0] = int(state.get("t", self.iteration))

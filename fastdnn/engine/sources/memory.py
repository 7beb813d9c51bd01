"""Training samples held in memory: X (n0, m) as the user has it, never copied whole.

Guarantees: the tiled kernels read X^T, a view of X in its own layout and dtype (uint8,
float32, float64 as they are; any other real dtype converted once), a tile at a time: a
view of X^T when it is C-contiguous in the compute dtype and nothing is divided (X
F-ordered, as the course's flatten and a samples-in-rows array make it), else a tile-sized
copy converted (and divided) as it is copied. The Gram path's blocks of X^T are divided in
float64 and then converted, as dividing the whole array first would give.
"""
import numpy as np

from ... import kernels as K
from ..network import step_work
from ...runtime.threads import pick
from ..tiles import chunks_for, kernel_samples

_NONE = np.empty(0, np.int64)       # an empty order: positions as they are


def source_of(X, dtype, divisor=None):
    """(XT, copies): what the tiled kernels read for X (n0, m), and whether its tiles are
    copies (see the module's guarantees)."""
    if X.dtype.type not in K.SOURCE_DTYPES:
        X = X.astype(dtype)
    XT = X.T
    return XT, not (XT.flags.c_contiguous and XT.dtype == dtype and divisor is None)


class MemorySource:
    """X (n0, m) in memory (checked by the caller), used as X / divisor in ``dtype``."""

    def __init__(self, X, dtype, divisor=None):
        self.X, self.dtype, self.divisor = X, dtype, divisor
        self.n0, self.m = X.shape
        self.XT, self.copies = source_of(X, dtype, divisor)

    def train(self, run, costs, orders):
        """``len(costs)`` epochs of the tiled run ``run`` (sources.Run), each epoch's order of
        the samples from ``orders``; each epoch's cost written into costs."""
        samples = min(run.batch or self.m, self.m)
        steps, threads = pick(K.tiled_train_steps, K.tiled_train_steps_serial,
                              step_work(run.dims, samples, False),
                              chunks_for(run.tiles.T, samples))
        with threads:                         # BLAS already at one thread (Trainer.run)
            if run.batch is None:             # one kernel call for every epoch
                data = kernel_samples(self.XT, _NONE, run.YT, _NONE)
                steps(costs, run.net, run.tiles, data, run.opt, self.m,
                      K.chunk_callee(run.tiles, run.net, data, run.opt))
                return
            chunk_fn = None                   # every epoch's arguments have the same types
            for e, order in enumerate(orders):
                data = kernel_samples(self.XT, order, run.YT, order)
                chunk_fn = chunk_fn or K.chunk_callee(run.tiles, run.net, data, run.opt)
                steps(costs[e:e + 1], run.net, run.tiles, data, run.opt, run.batch, chunk_fn)

    def rows(self, b0, b1):
        """Samples b0..b1 as rows of X^T, (w, n0) C in the compute dtype, divided."""
        part = self.X[:, b0:b1]
        if self.divisor is not None:
            part = part / self.divisor
        return np.ascontiguousarray(part.T, self.dtype)

    def gram_init(self, gw, W1):
        """G = X^T X and P0 = W1·X into gw (kernels.Gram), on every core."""
        n0, m = self.X.shape
        init, threads = pick(K.gram_init, K.gram_init_serial, n0 * m * m)
        with threads:
            init(gw.G, gw.P0, self.rows(0, m), W1)

    def gram_weights(self, W1, tmp, W1_0, S, c):
        """W1 (n1, n0) out = W1_0 - c·S·X^T (tmp: (n1, n0) scratch)."""
        K.gram_weights(W1, tmp, W1_0, S, self.rows(0, self.m), c)

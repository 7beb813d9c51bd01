"""The first-layer Gram path: when it is cheaper, its buffers, and the one-off parts of its
algebra (G and P0 from the source, W1 when the parameters are read). The
steps themselves are kernels/gram.py, whose docstring has the algebra.

Guarantees: the path is chosen by the shapes alone (never by a run's length), so a run
continued later takes the same path as the same run made in one go; G, P0 and W1 come from
the same fixed sample blocks whether X is in memory or in a file, so both give the same bits.
"""
import numpy as np

from .. import kernels as K
from .network import step_work, weight
from ..runtime.threads import one_blas_thread, pick
from .aligned import zeros as aligned_zeros
from .tiles import gram_tiles, kernel_samples

GRAM_MAX_BYTES = 1 << 30   # G is m x m: never more than 1 GiB of it by default
# "auto" weighs G's one-time cost over this many steps, whatever the run's length: the path
# then depends on the shapes alone, so a run continued later (resume) takes the same path
# as the same run made in one go, and ends with the same bits.
AUTO_HORIZON = 1000


def gram_is_cheaper(dims, m, iterations=AUTO_HORIZON, itemsize=8, max_bytes=GRAM_MAX_BYTES):
    """True when the Gram path costs fewer multiply-adds over ``iterations`` steps and G fits
    in max_bytes."""
    n0, n1 = dims[0], dims[1]
    if m * m * itemsize > max_bytes:
        return False
    direct = iterations * 2 * n1 * n0 * m               # W1·X and dZ1·X^T each step
    gram = n0 * m * m + iterations * n1 * m * m + n1 * m * n0   # G once, S·G each step, W1 at the end
    return gram < 0.5 * direct


def without_w1(net):
    """net from b1 on: theta and grad views that start at b1, the offsets shifted to match
    (W1's is negative: its slot is never read, the Gram path keeps S instead). The steps'
    gradient sums then skip W1's n1 x n0 entries."""
    first = int(net.b_off[1])
    return net._replace(w_off=net.w_off - first, b_off=net.b_off - first,
                        theta=net.theta[first:], grad=net.grad[first:])


class GramPath:
    """A run's Gram path: G, P0, S (kernels.Gram) and the tiles of its chunks.

    theta's W1 slot keeps W1_0 while the path runs; ``weights`` rebuilds W1 from S.
    """

    def __init__(self, source, net, YT, dtype):
        m, n1 = source.m, int(net.dims[1])
        self.source, self.m = source, m
        self.gw = K.Gram(*(aligned_zeros(shape, dtype, padded=False)
                           for shape in ((m, m), (n1, m), (n1, m), (n1, m), (n1, m))))
        self.tiles = gram_tiles(list(net.dims), m, dtype)
        none = np.empty(0, np.int64)
        self.data = kernel_samples(np.empty((0, 0), dtype), none, YT, none)
        self.start(net)

    def start(self, net):
        """G = X^T X and P0 = W1_0·X from the source."""
        with one_blas_thread():
            self.source.gram_init(self.gw, weight(net, 1))

    def steps(self, costs, net, opt):
        """len(costs) full-batch steps, each one's cost written into costs."""
        steps, threads = pick(K.train_steps, K.train_steps_serial,
                              step_work(list(net.dims), self.m, True))
        with threads:
            steps(costs, without_w1(net), self.tiles, self.gw, self.data, opt)

    def weights(self, W1, net, lr):
        """W1 (n1, n0) out = W1_0 - (lr/m)·S·X^T: the first layer after the steps taken (the
        gradient's W1 slot, unused on this path, is the product's scratch)."""
        tmp = net.grad[: net.b_off[1]].reshape(W1.shape)
        with one_blas_thread():
            self.source.gram_weights(W1, tmp, weight(net, 1), self.gw.S, lr / self.m)

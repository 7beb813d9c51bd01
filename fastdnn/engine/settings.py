"""A training run's settings (optimizer, mini-batches, L2, dropout; checked once), the
kernels' optimizer state, and the epochs' order of the samples.

Guarantees: the defaults (gradient descent, full batch, no L2, no dropout) are the course's
algorithm. ``epoch_order`` is the documented function a numpy reference reproduces: an
epoch's order depends on the seed and the epoch number alone (the dropout mask, a function
of (seed, step, layer, unit, sample index), is documented in kernels/optim.py).
"""
import math
import numbers
from dataclasses import asdict, dataclass

import numpy as np

from .. import _validate as v
from .. import kernels as K
from .aligned import zeros as aligned_zeros

CODES = {"gd": K.GD, "momentum": K.MOMENTUM, "adam": K.ADAM}
# fit's optimizer keyword arguments (and the sweep's and the command line's options)
FIT_OPTIONS = ("optimizer", "mini_batch_size", "beta", "beta1", "beta2", "epsilon", "lambd",
               "keep_prob", "seed", "shuffle_block")


@dataclass(frozen=True)
class Settings:
    """fit's optimizer options (see fit's docstring); ``Settings()`` is the course's."""
    optimizer: str = "gd"
    mini_batch_size: int = None
    beta: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8
    lambd: float = 0.0
    keep_prob: float = 1.0
    seed: int = 0
    # None: an epoch's shuffle is a permutation of all samples; k: of blocks of k consecutive
    # samples, each block's samples shuffled within it (what a file streamed in blocks allows).
    shuffle_block: int = None

    def as_dict(self):
        return asdict(self)

    @property
    def plain(self):
        """The course's full-batch gradient descent, with no L2 and no dropout."""
        return self.optimizer == "gd" and self.mini_batch_size is None and \
            self.lambd == 0 and self.keep_prob == 1


FIT_DEFAULTS = {k: getattr(Settings(), k) for k in FIT_OPTIONS}   # fit's defaults of them


def _fraction(x, name, low_open, high_open, low=0.0, high=1.0):
    x = v.real(x, name)
    if (x <= low if low_open else x < low) or (x >= high if high_open else x > high):
        lo, hi = "(" if low_open else "[", ")" if high_open else "]"
        raise ValueError(f"{name} must be in {lo}{low}, {high}{hi}, got {x!r}")
    return x


def checked(optimizer="gd", mini_batch_size=None, beta=0.9, beta1=0.9, beta2=0.999,
            epsilon=1e-8, lambd=0.0, keep_prob=1.0, seed=0, shuffle_block=None):
    """Settings checked: each bad value raises naming the option, the value and the range."""
    optimizer = v.choice(optimizer, "optimizer", {k: k for k in CODES})
    if mini_batch_size is not None:
        mini_batch_size = v.count(mini_batch_size, "mini_batch_size", 1)
    if shuffle_block is not None:
        shuffle_block = v.count(shuffle_block, "shuffle_block", 1)
    eps = v.real(epsilon, "epsilon")
    if eps <= 0:
        raise ValueError(f"epsilon must be > 0, got {epsilon!r}")
    lambd = v.real(lambd, "lambd")
    if lambd < 0:
        raise ValueError(f"lambd must be >= 0, got {lambd!r}")
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral) \
            or not 0 <= seed < 2 ** 63:
        raise ValueError(f"seed must be an integer in [0, 2**63), got {seed!r}")
    return Settings(optimizer, mini_batch_size, _fraction(beta, "beta", False, True),
                    _fraction(beta1, "beta1", False, True),
                    _fraction(beta2, "beta2", False, True), eps, lambd,
                    _fraction(keep_prob, "keep_prob", True, False), int(seed), shuffle_block)


def optimizer_state(settings, lr, n_params, dtype):
    """The kernels' Optimizer for a run: its settings, learning rate, and zeroed state."""
    moments = n_params if settings.optimizer != "gd" else 0
    return K.Optimizer(CODES[settings.optimizer], float(lr), settings.beta, settings.beta1,
                       settings.beta2, settings.epsilon, settings.lambd, settings.keep_prob,
                       settings.seed, aligned_zeros(moments, dtype),
                       aligned_zeros(n_params if settings.optimizer == "adam" else 0, dtype),
                       np.zeros(1, np.int64))


def epoch_order(seed, epoch, m, block=None):
    """(m,) int64: the order in which epoch ``epoch`` (from 0) walks the samples, for
    mini-batch training. With rng = ``np.random.default_rng([seed, epoch])``: block None,
    ``rng.permutation(m)``; else the blocks of ``block`` consecutive samples (the last one
    shorter) in the order ``rng.permutation(blocks)``, each one's samples in the order
    ``first + rng.permutation(its size)`` drawn block after block in that order."""
    rng = np.random.default_rng([seed, epoch])
    if block is None:
        return rng.permutation(m).astype(np.int64, copy=False)
    order = np.empty(m, np.int64)
    p = 0
    for b in rng.permutation(-(-m // block)):
        first = int(b) * block
        size = min(block, m - first)
        order[p:p + size] = first + rng.permutation(size)
        p += size
    return order


def describe_differences(saved, settings):
    """Human-readable differences between saved settings (a dict) and ``settings``."""
    now = settings.as_dict()
    return [f"{k} {saved[k]!r} (this run: {now[k]!r})" for k in now
            if k in saved and saved[k] != now[k] and not
            (isinstance(saved[k], float) and math.isnan(saved[k]))]

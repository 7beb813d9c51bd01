"""Where a training run's samples come from: an array in memory (memory.py) or a
samples-first HDF5 dataset streamed from its file (streamed.py, reader.py). Both feed the
kernels the same chunks and tiles, so a run gives the same bits from either.

A source has ``m``, ``n0``, ``copies`` (its tiles are copies, not views of X^T);
``train(run, costs, orders)`` runs epochs of the tiled path; ``rows(b0, b1)``,
``gram_init(gw, W1)`` and ``gram_weights(...)`` serve the Gram path. checks.py validates the
data before any source is made.
"""
from typing import NamedTuple

import numpy as np

from ...io.hdf5 import file_source
from .checks import check_streamed, check_training_data
from .memory import MemorySource
from .streamed import FileSource


class Run(NamedTuple):
    """What a source's train() drives: the kernels' structs of one tiled run."""
    net: object           # kernels.Net
    tiles: object         # kernels.Tiles
    opt: object           # kernels.Optimizer
    YT: np.ndarray        # (m, n_L) C labels
    batch: int            # samples a mini-batch, or None: the full batch
    block: int            # rows a shuffle block (streamed mini-batches), or None
    dims: list            # [n0, ..., n_L]


def open_source(X, Y, dims, settings, dtype, divisor):
    """(source, Y (n_L, m)): X checked and wrapped (an array, an h5py dataset or (path, name)
    of one), and its labels checked (checks.py)."""
    src = file_source(X)
    if src is None:
        X, Y = check_training_data(X, Y, dims)
        return MemorySource(X, dtype, divisor), Y
    Y = check_streamed(src, Y, dims, settings)
    return FileSource(src, dtype, divisor), Y

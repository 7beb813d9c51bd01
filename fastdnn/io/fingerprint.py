"""Data fingerprints: a short hash that identifies a run's training data, so that a
checkpoint resumes only on the same data, in memory or streamed from a file.

Guarantees: the hash covers X's samples in order as stored (each one's n0 values), the
divisor and Y, read by blocks (no X-sized copy); X in memory and the same samples in a file
give the same fingerprint. Fingerprints of files from before it (legacy_fingerprint) are
still recognised where X is in memory.
"""
import hashlib

import numpy as np

from .hdf5 import file_source


def _samples(X, block):
    """((m, n0), dtype, blocks): X's size and stored type, and its samples in order by blocks
    of about ``block`` bytes ((rows, n0) arrays); X (n0, m) in memory or a file's dataset."""
    src = file_source(X)
    if src is not None:
        return (src.m, src.n0), src.dtype, (rows for _, rows in src.blocks(block))
    X = np.asarray(X)
    rows = max(1, block // max(1, X.shape[0] * X.itemsize))
    return X.shape[::-1], X.dtype, (X[:, s:s + rows].T for s in range(0, X.shape[1], rows))


def data_fingerprint(X, Y, x_divisor=None, block=1 << 22):
    """A short hash identifying the training data (a checkpoint resumes only on the same
    data, in memory or streamed from a file): of X's samples in order as stored (each one's
    n0 values), x_divisor, and Y, by blocks: no X-sized copy is made. Prefixed "s" (files
    from before it hold legacy_fingerprint's values, which same_data still accepts)."""
    h = hashlib.sha256()
    shape, dtype, blocks = _samples(X, block)
    h.update(str((shape, dtype.str, x_divisor)).encode())
    for part in blocks:
        h.update(np.ascontiguousarray(part).tobytes())
    Y = np.asarray(Y)
    h.update(str((Y.shape, Y.dtype.str)).encode() + np.ascontiguousarray(Y).tobytes())
    return "s" + h.hexdigest()[:15]


def legacy_fingerprint(X, Y, x_divisor=None, block=1 << 22):
    """The fingerprint of files written before data_fingerprint (X in memory only): of X's
    C-order bytes (features first) and of Y."""
    h = hashlib.sha256()
    for a, divisor in ((np.asarray(X), x_divisor), (np.asarray(Y), None)):
        dtype = np.dtype(np.float64) if divisor is not None else a.dtype
        h.update(str((a.shape, dtype.str)).encode())
        flat = a.reshape(len(a), -1) if a.ndim > 1 else a.reshape(1, -1)   # rows, C order
        rows = max(1, block // max(1, flat[0].nbytes))
        for i in range(0, len(flat), rows):
            part = flat[i:i + rows] if divisor is None else flat[i:i + rows] / divisor
            h.update(np.ascontiguousarray(part, dtype).tobytes())
    return h.hexdigest()[:16]


def same_data(saved, fingerprint, X, Y, x_divisor=None):
    """Whether a file's data fingerprint ``saved`` is this run's (``fingerprint``); a legacy
    one (no "s") is compared as it was made, where X is in memory."""
    if not saved or saved == fingerprint:
        return True
    if saved.startswith("s") or file_source(X) is not None:
        return False
    return saved == legacy_fingerprint(X, Y, x_divisor)

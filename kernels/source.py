"""Where a tile of samples comes from: a view of X^T when X^T is already the tile's layout and
type, else a tile-sized copy that converts (and divides) as it copies.

Guarantees: the training data is never copied whole. XT (m, n0) may be any layout (C when X
is F-ordered, as the course's flatten makes it; F for a C-ordered X; a structs.CSR for a
sparse X, its tile's rows densified) and any real dtype
(uint8 images, float16, float32, float64); each tile value is ``XT[r, k] / divisor``
computed in float64 and then stored in the tile's dtype: the same bits as dividing the whole
array in float64 first (a correctly rounded division is the same wherever it is done) and
converting it. Which of the two happens is decided by the types, at compile time.
"""
import numpy as np
from numba import types
from numba.extending import overload

from ._jit import JIT_OPTIONS, kernel
from .buffers import view


def tile_samples(buf, XT, order, j0, t, divisor):
    """(t, n0) C tile of samples order[j0:j0+t] (or j0..j0+t when order is empty) of XT,
    divided by ``divisor``; ``buf`` (>= t·n0,) holds it when it cannot be a view."""
    rows = order[j0: j0 + t] if order.size else np.arange(j0, j0 + t)
    tile = buf[: t * XT.shape[1]].reshape(t, XT.shape[1])
    tile[...] = np.asarray(XT[rows], np.float64) / divisor
    return tile


@kernel(inline=True)
def _row(order, p):
    # The row of XT at position p: order[p], or p itself when order is empty.
    return order[p] if order.size else p


@kernel(inline=True)
def _copy_rows(buf, XT, order, j0, t, divisor):
    # Row by row: reads each sample's n0 values together (XT C or any-strided).
    n0 = XT.shape[1]
    for j in range(t):
        r = _row(order, j0 + j)
        for k in range(n0):
            buf[j * n0 + k] = XT[r, k] / divisor
    return view(buf, 0, t, n0)


@kernel(inline=True)
def _copy_columns(buf, XT, order, j0, t, divisor):
    # Feature by feature: XT F-ordered holds a feature's samples together (X C-ordered).
    n0 = XT.shape[1]
    for k in range(n0):
        for j in range(t):
            r = _row(order, j0 + j)
            buf[j * n0 + k] = XT[r, k] / divisor
    return view(buf, 0, t, n0)


def _view_or_copy(buf, XT, order, j0, t, divisor):
    n0 = XT.shape[1]
    if order.size == 0 and divisor == 1.0:
        return view(XT.reshape(-1), j0 * n0, t, n0)
    return _copy_rows(buf, XT, order, j0, t, divisor)


def _copy_by_columns(buf, XT, order, j0, t, divisor):
    return _copy_columns(buf, XT, order, j0, t, divisor)


@kernel(inline=True)
def _copy_csr(buf, XT, order, j0, t, divisor):
    # A sparse XT (structs.CSR): each row's n0 values zeroed, then its stored values added
    # (a repeated index adds up, as a product with the sparse matrix would).
    n0 = XT.shape[1]
    for j in range(t):
        r = _row(order, j0 + j)
        for k in range(n0):
            buf[j * n0 + k] = 0
        for p in range(XT.indptr[r], XT.indptr[r + 1]):
            buf[j * n0 + XT.indices[p]] += XT.data[p] / divisor
    return view(buf, 0, t, n0)


def _copy_sparse_rows(buf, XT, order, j0, t, divisor):
    return _copy_csr(buf, XT, order, j0, t, divisor)


def _copy_by_rows(buf, XT, order, j0, t, divisor):
    return _copy_rows(buf, XT, order, j0, t, divisor)


@overload(tile_samples, jit_options=JIT_OPTIONS)
def _ov_tile_samples(buf, XT, order, j0, t, divisor):
    if isinstance(XT, types.Array) and XT.layout == "C" and XT.dtype == buf.dtype:
        return _view_or_copy
    if isinstance(XT, types.Array) and XT.layout == "F":
        return _copy_by_columns
    if isinstance(XT, types.BaseTuple) and not isinstance(XT, types.Array):
        return _copy_sparse_rows                  # structs.CSR
    return _copy_by_rows

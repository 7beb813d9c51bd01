"""Where a tile of samples comes from: a view of X^T when X^T is already the tile's layout and
type, else a tile-sized copy that converts (and divides) as it copies.

Guarantees: the training data is never copied whole. XT (m, n0) is an array in the tiles'
dtype, C-contiguous (C when X is F-ordered, as the course's flatten makes it: a tile is a
view when it needs no order and no divisor), or any other array given as its bytes and its
form (codes.FORM_*: any layout, F for a C-ordered X, any strides; any of SOURCE_DTYPES:
uint8 images, float32, float64), or a structs.CSR (a sparse X, its tile's rows densified).
Each tile value is ``XT[r, k] / divisor`` computed in float64 and then stored in the tile's
dtype: the same bits as dividing the whole array in float64 first (a correctly rounded
division is the same wherever it is done) and converting it. A divisor of 1 divides nothing
(x / 1 is x, bit for bit), so a float X's copy is a plain copy.

Compile time: Numba compiles a kernel for each argument type, many seconds each. Read as
bytes, every form of X that is copied a tile at a time shares one compiled kernel (its
dtype and layout a branch once a tile, beside a copy that costs far more); the view path
keeps its own typed array, the machine code it had.
"""
import numpy as np
from numba import types
from numba.extending import overload

from ._jit import JIT_OPTIONS, kernel
from .buffers import view
from .codes import FORM_COLS, FORM_CS, FORM_KIND, FORM_OFFSET, FORM_RS, SOURCE_DTYPES
from .structs import CSR
from .transpose import transpose_strided

U8, F32 = SOURCE_DTYPES.index(np.uint8), SOURCE_DTYPES.index(np.float32)


def tile_samples(buf, XT, form, order, j0, t, divisor):
    """(t, n0) C tile of samples order[j0:j0+t] (or j0..j0+t when order is empty) of XT
    (bytes read as ``form`` says), divided by ``divisor``; ``buf`` (>= t·n0,) holds it when
    it cannot be a view."""


@kernel(inline=True)
def _row(order, p):
    # The row of XT at position p: order[p], or p itself when order is empty.
    return order[p] if order.size else p


@kernel(inline=True)
def _at(i):
    # i as an index that cannot be negative: Numba adds a wrap-around check to every access
    # with a signed index whose sign it cannot prove (offset + stride sums), which keeps
    # the loop from vectorising; an unsigned one has none.
    return np.uint64(i)


@kernel(inline=True)
def _scaled(x, divisor):
    # x / divisor, or x itself when the divisor is 1 (x / 1.0 is x, bit for bit: the division
    # is the copy's costliest step; the test is loop-invariant, so the compiler hoists it).
    return x / divisor if divisor != 1.0 else x


# A C-ordered X's tile (feature k's samples cs values apart) is copied in blocks: its reads
# run along samples, its writes along features (n0 values apart); feature by feature over
# the whole tile, each write fell in another cache line, and in another page where a tile's
# row spans one (COPY_PAGE bytes). A plain copy (the tiles' dtype, in order, no divisor) goes
# through transpose.py's register blocks; others by blocks of COPY_BLOCK x COPY_BLOCK values
# where a row spans a page, else feature by feature (there the blocks ran slower in the
# step: [784,128,64,1] float32 from a float64 X, 170.6-174.1 ms against 180.3-183.6).
# Measured, cifar-mlp [3072,256,128,1], m = 10,000, float32, a step: 324-356 ms before,
# 209-211 by blocks of values, 174-191 by register blocks; 152-163 with X F-ordered (a view).
COPY_BLOCK, COPY_PAGE = 32, 4096


def _feature_rows_tile(buf, a, form, order, j0, t, divisor):
    """The tile of a C-ordered X (form: its feature k's samples FORM_CS values apart): rows
    j < t of buf, buf[j·n0 + k] = a[offset + k·cs + row(j0 + j)] / divisor."""


@overload(_feature_rows_tile, jit_options=JIT_OPTIONS)
def _ov_feature_rows_tile(buf, a, form, order, j0, t, divisor):
    if a.dtype != buf.dtype:
        return lambda buf, a, form, order, j0, t, divisor: _copy_transposed(
            buf, a, form, order, j0, t, divisor)

    def tile(buf, a, form, order, j0, t, divisor):
        if order.size == 0 and divisor == 1.0:
            transpose_strided(view(buf, 0, t, form[FORM_COLS]), a, form[FORM_OFFSET] + j0,
                              form[FORM_CS])
        else:
            _copy_transposed(buf, a, form, order, j0, t, divisor)
    return tile


@kernel(inline=True)
def _copy_transposed(buf, a, form, order, j0, t, divisor):
    # _feature_rows_tile by blocks of COPY_BLOCK x COPY_BLOCK values (one block of the whole
    # tile, feature by feature, where a tile's row spans less than COPY_PAGE bytes).
    n0, off, cs = form[FORM_COLS], form[FORM_OFFSET], form[FORM_CS]
    paged = n0 * buf.itemsize >= COPY_PAGE
    kb, tb = (COPY_BLOCK, COPY_BLOCK) if paged else (max(n0, 1), max(t, 1))
    for k0 in range(0, n0, kb):
        k1 = min(n0, k0 + kb)
        for b0 in range(0, t, tb):
            b1 = min(t, b0 + tb)
            for k in range(k0, k1):
                src = off + k * cs
                for j in range(b0, b1):
                    buf[_at(j * n0 + k)] = _scaled(a[_at(src + _row(order, j0 + j))], divisor)


@kernel(inline=True)
def _copy_dense(buf, a, form, order, j0, t, divisor):
    # a: X^T's values, flat in their dtype: X^T[r, k] = a[offset + r·rs + k·cs] (form).
    n0, off = form[FORM_COLS], form[FORM_OFFSET]
    rs, cs = form[FORM_RS], form[FORM_CS]
    if cs == 1:                                    # a sample's values together: by rows
        for j in range(t):
            src, dst = off + _row(order, j0 + j) * rs, j * n0
            for k in range(n0):
                buf[_at(dst + k)] = _scaled(a[_at(src + k)], divisor)
    elif rs == 1:                                  # a feature's samples together (X C-ordered)
        _feature_rows_tile(buf, a, form, order, j0, t, divisor)
    else:
        for j in range(t):
            src, dst = off + _row(order, j0 + j) * rs, j * n0
            for k in range(n0):
                buf[_at(dst + k)] = _scaled(a[_at(src + k * cs)], divisor)
    return view(buf, 0, t, n0)


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
            buf[j * n0 + XT.indices[p]] += _scaled(XT.data[p], divisor)
    return view(buf, 0, t, n0)


def _sparse_tile(buf, XT, form, order, j0, t, divisor):
    return _copy_csr(buf, XT, order, j0, t, divisor)


@kernel(inline=True)
def _copy_rows(buf, XT, order, j0, t, divisor):
    # XT (m, n0) C in the tiles' dtype: row by row.
    n0 = XT.shape[1]
    for j in range(t):
        r = _row(order, j0 + j)
        for k in range(n0):
            buf[j * n0 + k] = _scaled(XT[r, k], divisor)
    return view(buf, 0, t, n0)


def _view_or_copy(buf, XT, form, order, j0, t, divisor):
    n0 = XT.shape[1]
    if order.size == 0 and divisor == 1.0:
        return view(XT.reshape(-1), j0 * n0, t, n0)
    return _copy_rows(buf, XT, order, j0, t, divisor)


def _bytes_tile(buf, XT, form, order, j0, t, divisor):
    # One copy loop a source dtype (each costs compile time).
    kind = form[FORM_KIND]
    if kind == U8:
        return _copy_dense(buf, XT, form, order, j0, t, divisor)
    if kind == F32:
        return _copy_dense(buf, XT.view(np.float32), form, order, j0, t, divisor)
    return _copy_dense(buf, XT.view(np.float64), form, order, j0, t, divisor)


@overload(tile_samples, jit_options=JIT_OPTIONS)
def _ov_tile_samples(buf, XT, form, order, j0, t, divisor):
    if isinstance(XT, types.BaseNamedTuple) and XT.instance_class is CSR:
        return _sparse_tile
    if isinstance(XT, types.Array) and XT.ndim == 2 and XT.layout == "C" and \
            XT.dtype == buf.dtype:
        return _view_or_copy
    if isinstance(XT, types.Array) and XT.ndim == 1 and XT.dtype == types.uint8:
        return _bytes_tile
    return None

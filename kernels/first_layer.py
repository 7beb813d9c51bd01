"""Layer 1's products on one tile of the direct path: its Z from the tile of X, and its
weight gradient added into the chunk's sums, each in the form the shapes choose (codes.py's
rules, set by the shapes and dtype alone: part of the fixed summation order).

Guarantees: Z_1 = W1·X_t^T and dW1 += dZ_1·X_t, the course's products, in one of the forms
below; a form moves values (transposed copies of the tile of X or of W1, in this thread's
Tiles.xf) or sums in its own fixed order (small.py, the BLAS), so every form's bits are the
same for any thread count. The forms, by the layer's shape and the tile's width:
* a small layer, or a narrow tile's product (transposes_x): the tile transposed, then the
  rows form (with the bias and RELU fused), its weight gradient by lane dots or the rows
  form (transposed_dw1: X_t^T·dZ_1^T added onto the chunk's transposed sums);
* a float32 layer of few units on many inputs (blocked_dw1): its weight gradient in the rows
  form over blocks of the tile's samples; with at most 64 units (rows_z1) its Z too, as
  Z_1^T = X_t·W1^T from W1^T transposed once a chunk;
* other layers: the BLAS (float32's weight gradient summed transposed within
  transposed_w1_sums' bounds).
"""
import numba

from ._jit import kernel
from .buffers import view
from .codes import RELU
from .layers import layer_a, layer_z, weights
from .small import (add_dots, add_times, add_times_blocked, blocked_dw1, rows_bias_relu,
                    rows_product, rows_z1, small_layer, times, times_t, transposed_dw1,
                    transposed_blas_dw1, transposes_x)
from .transpose import transpose, transpose_into
from .blas import gemm


@kernel(inline=True)
def _held(tw, rows, cols):
    # This thread's tw.xf as a (rows, cols) C view: what transposed_tile or
    # transposed_weights left there.
    return view(tw.xf[numba.get_thread_id()], 0, rows, cols)


@kernel(inline=True)
def transposed_tile(tw, X_t, stamp, j0):
    # This thread's tw.xf holding X_t^T, (n_0, t) C: made from X_t unless it already holds
    # the tile at position j0 of the call stamped ``stamp`` (>= 1; -1: never kept).
    tid = numba.get_thread_id()
    if stamp >= 1 and tw.xtag[tid, 0] == stamp and tw.xtag[tid, 1] == j0:
        return _held(tw, X_t.shape[1], X_t.shape[0])
    tw.xtag[tid, 0], tw.xtag[tid, 1] = stamp, j0
    return transpose_into(tw.xf[tid], X_t)


@kernel(inline=True)
def transposed_weights(tw, net):
    # Whether this thread's tw.xf holds W1^T (n_0, n_1) C for the chunk's tiles: made here
    # where the first layer takes codes.rows_z1 (a chunk's tiles all read the same W1: the
    # update comes after every chunk of the step).
    n, n0 = net.dims[1], net.dims[0]
    if not rows_z1(n, n0, tw.T, tw.xf.itemsize, tw.blas):
        return False
    transpose(_held(tw, n0, n), weights(net, 1))
    return True


@kernel(inline=True)
def first_layer_forward(tile, net, X_t, tw, stamp, j0, w1t):
    # Z_1 = W1·X_t^T; returns whether b_1 is added and A_1 made too (layers.forward's
    # first_done). X_t: (t, n_0) C, the tile's rows of X^T (at position j0). Where the
    # run's tiles of tw.T samples take the rows form (transposes_x: a small layer 1 of
    # several units, or a narrow tile's product), the tile is transposed into this thread's
    # tw.xf first (kept between steps where stamp allows: transposed_tile), and a RELU
    # layer takes its bias and activation in the same pass (small.rows_bias_relu); one
    # unit takes a lane dot (small.dot_product) of each row of X_t; where this thread's
    # tw.xf holds W1^T (w1t: transposed_weights), Z_1^T = X_t·W1^T by rows into the tile's
    # dA buffer (free until the backward pass), then transposed into Z_1; others the BLAS.
    n, n0 = net.dims[1], net.dims[0]
    Z = layer_z(tile, 1, n)
    if w1t:
        ZT = view(tile.dA, 0, tile.t, n)
        rows_product(ZT, X_t, _held(tw, n0, n), False, 0.0)
        transpose(Z, ZT)
        return False
    W = weights(net, 1)
    if not transposes_x(n, n0, tw.T, Z.itemsize):
        times_t(Z, W, X_t, small_layer(n, n0))
        return False
    XF = transposed_tile(tw, X_t, stamp, j0)
    if net.acts[1] == RELU:
        rows_bias_relu(Z, layer_a(tile, 1, n), W, XF, view(net.theta, net.b_off[1], n, 1))
        return True
    times(Z, W, XF, False, True)
    return False


@kernel(inline=True)
def first_layer_backward(tile, net, X_t, tw):
    # dW1 += dZ_1·X_t, from the dZ_1 that layers.backward leaves. Where first_layer_forward
    # took the rows form (transposes_x), this thread's tw.xf holds the transposed tile: a
    # small layer takes lane dots with it; where transposed_dw1 (rows of n1 values whole
    # vectors, of n0 not; wide tiles, steps of CHUNKS chunks) the chunk's sums hold dW1^T
    # (n0, n1), onto which xf·dZ_1^T is added in the rows form (dZ_1^T first into the
    # tile's dA buffer, free once dZ_1 is made); other layers take the rows form over X_t.
    # Layers whose forward took the BLAS take it here too (small.add_times), summed
    # transposed where transposed_blas_dw1: dW1^T (n0, n1) += X_t^T·dZ_1^T in W1's place of
    # the sums; or take the rows form over blocks of the tile's samples where blocked_dw1.
    n, n0, t = net.dims[1], net.dims[0], tile.t
    g, dZ = tile.g[net.w_off[1]: net.w_off[1] + n * n0], view(tile.dZ, 0, n, t)
    if transposed_dw1(n, n0, tw.T, dZ.itemsize, tw.chunks):
        rows_product(view(g, 0, n0, n), _held(tw, n0, t), transpose_into(tile.dA, dZ), False,
                     1.0)
        return
    if transposed_blas_dw1(n, n0, tw.T, dZ.itemsize, tw.blas):
        gemm(view(g, 0, n0, n), X_t, dZ, True, True, 1.0)
        return
    if blocked_dw1(n, n0, tw.T, dZ.itemsize, tw.blas):
        add_times_blocked(g, tile.wtmp, dZ, X_t)
        return
    if not transposes_x(n, n0, tw.T, dZ.itemsize):
        add_times(g, tile.wtmp, dZ, X_t, small_layer(n, n0))
        return
    if small_layer(n, n0):
        add_dots(g, tile.wtmp, dZ, _held(tw, n0, t), True)
    else:
        add_times(g, tile.wtmp, dZ, X_t, True)

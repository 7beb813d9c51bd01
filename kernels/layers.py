"""A network's layers on one tile of samples, shared by both first-layer paths: the forward
pass from layer 1's Z, the cost's terms, and the backward pass down to layer 1's dZ.

Guarantees: the course's arithmetic and order for [LINEAR->RELU] x (L-1) -> LINEAR->SIGMOID
(a softmax over K >= 2 output units): Z_l = W_l·A_{l-1} + b_l, the output layer's
dZ_L = A_L - Y, db_l and dW_l as sums over the tile's samples (no 1/m: added into the
tile's gradient sums, in layer order), dZ_{l-1} = W_l^T·dZ_l where Z_{l-1} > 0.
Each layer's activation is the code net.acts[l] (the course's: RELU hidden, SIGMOID or
SOFTMAX out; scikit-learn's MLP adds TANH, LINEAR and SIGMOID hidden, LINEAR out, each with
its canonical loss, and EXP out with the Poisson loss, so dZ_L = A_L - Y holds for all). With sample weights (sw not empty)
sample j's dZ_L and cost term are multiplied by its weight. Only layer
1 differs between the paths (the direct path multiplies by a tile of X, the Gram path
rebuilds W1·X from its step sum), so the callers make layer 1's Z and use layer 1's dZ.
Each product is one single-threaded BLAS call, or fastdnn's own vector code for a small
layer or a small product on a narrow tile (small.py: chosen by the layer's shape and the
tile's width, both set by the shapes); nothing is allocated.
"""
from ._jit import kernel
from .activations import activation_backward, relu_backward
from .buffers import view
from .buffers import copy
from .codes import LINEAR, RELU, SK_LOSS, SOFTMAX
from .linear import bias_activation_forward
from .lanes import sum8
from .loss import sk_loss_terms, training_cross_entropy_sum
from .optim import dropout
from .small import (add_dots, add_times, rows_bias_relu, rows_relu_gradient,
                    rows_weight_gradient, small_layer, small_rows, times)
from .transpose import transpose_into
from .softmax import output_gradient, softmax_forward, softmax_log_likelihood
from .structs import Tile


@kernel(inline=True)
def chunk_tile(tw, c, t):
    # Chunk c's buffers (tw: Tiles) for a tile of t samples.
    return Tile(tw.acts[c], tw.zs[c], tw.dA[c], tw.dZ[c], tw.wtmp[c], tw.gacc[c], tw.r_off, t)


@kernel(inline=True)
def layer_z(tile, l, n):
    # Z_l of the tile: (n, t) C.
    return view(tile.zs, tile.r_off[l] * tile.t, n, tile.t)


@kernel(inline=True)
def layer_a(tile, l, n):
    # A_l of the tile: (n, t) C.
    return view(tile.acts, tile.r_off[l] * tile.t, n, tile.t)


@kernel(inline=True)
def weights(net, l):
    # W_l: (n_l, n_{l-1}) C, a view of theta.
    return view(net.theta, net.w_off[l], net.dims[l], net.dims[l - 1])


@kernel(inline=True)
def reset_sums(tw, c, k0):
    # Chunk c's gradient sums from entry k0 on, and its cost sum, set to zero.
    g = tw.gacc[c]
    for k in range(k0, g.size):
        g[k] = 0.0
    tw.cost[c] = 0.0


@kernel
def forward(tile, net, mask, first_done):
    # Every layer of the tile, from Z_1 (which holds W1·X, made by the caller; and b_1
    # added, A_1 made too, where first_done): Z_l += b_l and A_l = act_l(Z_l),
    # Z_{l+1} = W_{l+1}·A_l. A hidden RELU layer in small.py's rows form takes all three in
    # one pass (small.rows_bias_relu: the same bits). Dropout (mask.keep_prob < 1) on the
    # hidden layers' activations.
    L = net.dims.size - 1
    for l in range(1, L + 1):
        n = net.dims[l]
        Z, A = layer_z(tile, l, n), layer_a(tile, l, n)
        b = view(net.theta, net.b_off[l], n, 1)
        act = net.acts[l]
        done = first_done and l == 1
        if l > 1:
            n_prev = net.dims[l - 1]
            W, A_prev = weights(net, l), layer_a(tile, l - 1, n_prev)
            small = small_rows(n, n_prev, tile.t, Z.itemsize)
            if act == RELU and small:
                rows_bias_relu(Z, A, W, A_prev, b)
                done = True
            else:
                times(Z, W, A_prev, False, small)
        if not done:
            bias_and_activation(A, Z, b, act)
        if l < L and mask.keep_prob < 1.0:
            dropout(A, l, mask)


@kernel(inline=True)
def bias_and_activation(A, Z, b, act):
    # Z (n, t) += b (n, 1), A = act(Z): a pass over Z.
    if act == SOFTMAX:                         # over each column
        bias_activation_forward(A, Z, b, LINEAR)
        softmax_forward(A, Z)
    elif act == LINEAR:                        # the identity: A is a copy of Z
        bias_activation_forward(A, Z, b, LINEAR)
        copy(A.reshape(-1), Z.reshape(-1))
    else:
        bias_activation_forward(A, Z, b, act)


@kernel
def tile_cost(tile, net, Y_t, cbuf, sw, samples):
    # The tile's cost terms summed (float64; the batch's cost is -1/mb of the batch's sum).
    # COURSE_LOSS: Σ y log a + (1-y) log(1-a) (one sigmoid unit; a term that an output
    # rounded to 0 or 1 makes NaN or infinite comes from its logit: loss.py), or Σ_k y_k
    # log a_k (a softmax). SK_LOSS: scikit-learn's (loss.sk_loss_terms), each sample's terms
    # times its weight sw[samples[j]] when sw is not empty. Y_t: (t, n_L).
    # cbuf: (>= min(t, COST_BLOCK),).
    L = net.dims.size - 1
    nL, r, t = net.dims[L], tile.r_off[L], tile.t
    if net.loss == SK_LOSS:
        return sk_loss_terms(layer_a(tile, L, nL), Y_t, net.acts[L], sw, samples)
    if nL > 1:
        return softmax_log_likelihood(layer_z(tile, L, nL), Y_t)
    return training_cross_entropy_sum(tile.acts[r * t: (r + 1) * t],
                                      tile.zs[r * t: (r + 1) * t], Y_t.reshape(-1), cbuf)


@kernel(inline=True)
def swapped(tile):
    # The tile with its dA and dZ buffers exchanged.
    return Tile(tile.acts, tile.zs, tile.dZ, tile.dA, tile.wtmp, tile.g, tile.r_off, tile.t)


@kernel
def backward(tile, net, Y_t, mask, sw):
    # Adds the tile's db_l (every layer) and dW_l (layers 2..L) to tile.g; returns the tile
    # whose dZ buffer holds dZ_1 (n_1, t), for the caller's layer 1 (a RELU layer's dZ_{l-1}
    # in small.py's rows form is made in one pass, small.rows_relu_gradient, into the dA
    # buffer: the two buffers then trade places). Needs the tile's forward pass. sw: (m,)
    # sample weights (sample j of the tile is mask.samples[j]), or (0,).
    L = net.dims.size - 1
    t, g = tile.t, tile.g
    # Output layer: dZ_L = A_L - Y (the course's dAL through sigmoid_backward, simplified;
    # the same for a softmax with the categorical cross-entropy). Y_t: (t, n_L).
    nL = net.dims[L]
    output_gradient(view(tile.dZ, 0, nL, t), layer_a(tile, L, nL), Y_t)
    if sw.size:
        weigh_columns(view(tile.dZ, 0, nL, t), sw, mask.samples)
    for l in range(L, 0, -1):
        n, n_prev = net.dims[l], net.dims[l - 1]
        dZ = view(tile.dZ, 0, n, t)
        for i in range(n):
            g[net.b_off[l] + i] += sum8(dZ[i])
        if l == 1:
            break
        weight_gradient(g[net.w_off[l]: net.w_off[l] + n * n_prev], tile, dZ,
                        layer_a(tile, l - 1, n_prev))
        dA = view(tile.dA, 0, n_prev, t)
        small = small_rows(n, n_prev, t, dA.itemsize)
        if small and net.acts[l - 1] == RELU and mask.keep_prob == 1.0:
            rows_relu_gradient(dA, weights(net, l), dZ, layer_z(tile, l - 1, n_prev))
            tile = swapped(tile)
            continue
        times(dA, weights(net, l), dZ, True, small)
        if mask.keep_prob < 1.0:
            dropout(dA, l - 1, mask)
        dz, da = tile.dZ[: n_prev * t], tile.dA[: n_prev * t]
        z = layer_z(tile, l - 1, n_prev).reshape(-1)
        if net.acts[l - 1] == RELU:               # the course's: dZ_{l-1} = dA where Z > 0
            relu_backward(dz, da, z)
        else:
            activation_backward(dz, da, z, net.acts[l - 1])
    return tile


@kernel(inline=True)
def weight_gradient(g, tile, dZ, A):
    # g: (n·n_prev,) the layer's dW sums += dZ·A^T, dZ (n, t), A (n_prev, t) the layer's
    # input. A small layer's by lane dots; where rows_weight_gradient (narrow tiles,
    # mid-size layers on tiles that fit the caches) by rows: A^T (t, n_prev) into tile.dA
    # first (free until this layer's input gradient), then dZ·A^T in the rows form; others
    # the BLAS.
    n, n_prev = dZ.shape[0], A.shape[0]
    if small_layer(n, n_prev) or not rows_weight_gradient(n, n_prev, tile.t, A.itemsize):
        add_dots(g, tile.wtmp, dZ, A, small_layer(n, n_prev))
    else:
        add_times(g, tile.wtmp, dZ, transpose_into(tile.dA, A), True)


@kernel(inline=True)
def weigh_columns(dZ, sw, samples):
    # dZ: (n, t). Column j times sw[samples[j]].
    for j in range(dZ.shape[1]):
        w = sw[samples[j]]
        for k in range(dZ.shape[0]):
            dZ[k, j] = dZ[k, j] * w

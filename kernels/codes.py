"""Integer codes, block sizes and types shared by the kernels and their callers (no Numba
import).

Guarantees: importing this module is free (plain numbers), so fastdnn can name activations
and size its buffers without loading Numba; the kernels read the same numbers.
"""
import numpy as np
# Activation codes shared by every kernel that takes ``act``.
LINEAR, RELU, SIGMOID, SOFTMAX, TANH, EXP = 0, 1, 2, 3, 4, 5   # SOFTMAX: over each column
# (output); EXP: the exponential (output, with scikit-learn's Poisson loss)

# Element-wise op codes for activations.apply() / apply_parallel().
RELU_FORWARD, RELU_BACKWARD, SIGMOID_FORWARD, SIGMOID_BACKWARD = 0, 1, 2, 3

LINE = 64                 # bytes a cache line (and an AVX-512 vector)
CHUNKS = 16   # most chunks of samples; their number depends on the shapes, never on threads
# Which BLAS the kernels' products call (Tiles.blas; kernels/linking.py binds it): the first
# layer's forms that work around OpenBLAS's packing of a streamed tile of X (blocked_dw1,
# rows_z1, transposed_blas_dw1) are OpenBLAS's only.
BLAS_OPENBLAS, BLAS_MKL = 0, 1
BLAS_CODES = {"scipy": BLAS_OPENBLAS, "mkl": BLAS_MKL}
ELEMENT_BLOCK = 1 << 15   # elements per parallel element-wise task: amortises the task's start
COST_BLOCK = 1 << 12      # elements per cross-entropy block (and per parallel task)

# Optimizer codes for optim.optimizer_update() (the update rule of a training step).
GD, MOMENTUM, ADAM = 0, 1, 2
# scikit-learn's rules (its _stochastic_optimizers): SGD with momentum (beta), Nesterov's
# variant, and its Adam (epsilon added to sqrt(s), the corrections folded into lr).
SK_SGD, SK_NESTEROV, SK_ADAM = 3, 4, 5
NO_UPDATE = 6   # the gradient only: SciPy's L-BFGS-B takes the step

# Loss codes (Net.loss): the course's cost, or scikit-learn's losses (clipped log losses, half
# the squared error averaged over outputs), chosen by the output layer's activation.
COURSE_LOSS, SK_LOSS = 0, 1

# Which layers multiply in kernels/small.py's vector code instead of the BLAS: plain Python
# here, so that fastdnn sizes its buffers by the same rule without calling a kernel
# (small.py registers both for the kernels: numba.extending.register_jitable).
SMALL_WEIGHTS = 256       # a layer of at most this many weights is small


def small_layer(n, n_prev):
    """True when a layer of n units on n_prev inputs runs its products in small.py."""
    return n * n_prev <= SMALL_WEIGHTS or n == 1


# A layer's rows-form products (its Z = W·A and its input's gradient W^T·dZ; its weight
# gradient by rows_weight_gradient) on a tile of t samples run in small.py where they are at
# most SMALL_PRODUCT multiply-adds (the narrow tiles of mini-batches), or where the layer has
# at most ROWS_UNITS units on at most ROWS_INPUTS inputs: the vector code's blocks of rows
# then read their rows of W from the first-level cache and the tile's operand from L2 (in
# panels copied to the stack where its rows lie 2 KiB or more apart: small.py), while the
# single-threaded BLAS packs both on every call.
# Measured (one thread, best of 5, 2-core Zen 3, OpenBLAS 0.3.30's Haswell kernels; the
# table is in docs/performance.md): within these bounds the vector code wins on the
# products measured (float32 32x64 to 64x128 at t = 256 to 1024 by 1.05-1.9x; float64 32x64
# to 64x100 at t = 256 by 1.05-1.15x, 64x64 at t = 512 by 1.1x), near the core's peak rate;
# past them it loses (128 units: input gradients 1.1-1.2x slower, W^T's rows then evict
# each other from the first-level cache).
SMALL_PRODUCT = 1 << 17
ROWS_UNITS, ROWS_INPUTS, ROWS_BYTES = 64, 128, 1 << 16


def small_product(n, n_prev, t):
    """True when a layer's products on a tile of t samples run in small.py's vector code
    whatever their layer's size: a small layer's, or products of at most SMALL_PRODUCT
    multiply-adds (both small_rows and rows_weight_gradient start from this)."""
    return small_layer(n, n_prev) or n * n_prev * t <= SMALL_PRODUCT


def small_rows(n, n_prev, t, itemsize):
    """True when a layer's Z and input gradient on a tile of t samples of ``itemsize``-byte
    values run in small.py's rows form: a small layer's, products of at most
    SMALL_PRODUCT multiply-adds, or a layer of at most ROWS_UNITS units on at most
    ROWS_INPUTS inputs."""
    return small_product(n, n_prev, t) or (n <= ROWS_UNITS and n_prev <= ROWS_INPUTS)


def rows_weight_gradient(n, n_prev, t, itemsize):
    """True when a layer's weight gradient dZ·A^T runs in small.py's rows form over A's
    transposed tile (the transpose costs a pass over the tile): small_product's, or a
    layer of at most ROWS_UNITS units and inputs whose widest tile operand, max(n, n_prev)
    rows of t values, is at most ROWS_BYTES (float32 at 256 samples, float64 at 128; its
    other products then take the rows form too). Larger tiles take the BLAS, whose packing
    then costs about the transpose (64x128 float32 at 1024 samples: 250-307 µs by rows, 254
    by the BLAS)."""
    widest = max(n, n_prev)
    return small_product(n, n_prev, t) or (widest <= ROWS_UNITS
                                           and widest * t * itemsize <= ROWS_BYTES)


# The Gram path's product S·G (n1 x m by m x m, every step) runs in small.py's rows form,
# each chunk of samples its own columns, where it is at most SMALL_GRAM multiply-adds;
# larger ones take one single-threaded BLAS call a chunk. Measured (one thread, best of 5, 2-core Zen 3):
# the vector code wins up to about 1M multiply-adds (20 x 209 x 209, the cat data's: float32
# 31 µs against the BLAS blocks' 52, float64 64 against 74; 8 x 209 x 209: 12 against 37),
# is mixed near 3M (64 x 209 x 209: float32 96 against 101, float64 197 against 186) and
# loses beyond (64 x 400 x 400: float32 431 against 225).
SMALL_GRAM = 1 << 21


def small_gram(n1, m):
    """True when the Gram path's S·G (n1 units, m samples) runs in small.py's rows form."""
    return n1 * m * m <= SMALL_GRAM


def transposes_x(n1, n0, T, itemsize):
    """True when the first layer (n1 units on n0 features), in tiles of T samples of
    ``itemsize``-byte values, makes its Z from a transposed copy of each tile of X, (n0, t),
    by rows: where its Z runs in the rows form (small_rows: a small layer, a mini-batch's
    narrow tiles, a layer of at most ROWS_UNITS units on at most ROWS_INPUTS inputs) and it has
    several units. (One unit takes a lane dot of each sample's row instead: a copy would
    cost more than its product.) On a narrow tile the rows form beats the BLAS call's
    fixed cost in float32 and matches it in float64 (docs/performance.md)."""
    return n1 > 1 and small_rows(n1, n0, T, itemsize)


# A first layer in the rows form sums its weight gradient transposed (transposed_dw1) on tiles
# of at least TRANSPOSED_DW1_SAMPLES samples (float32: TRANSPOSED_DW1_SAMPLES_32) in runs
# whose full steps are cut into CHUNKS chunks; in float64, on at least
# TRANSPOSED_DW1_INPUTS_64 inputs.
TRANSPOSED_DW1_SAMPLES, TRANSPOSED_DW1_SAMPLES_32, TRANSPOSED_DW1_INPUTS_64 = 256, 128, 32


def transposed_dw1(n1, n0, T, itemsize, chunks):
    """True when a first layer in the rows form (transposes_x, not a small layer) sums its
    weight gradient transposed (transposed_w1_sums): each tile adds X_t^T·dZ_1^T (n0, n1),
    from the tile transposed for its Z and dZ_1^T, onto the chunk's dW1^T (n0, n1) in the
    rows form. Where n1 values fill whole 64-byte vectors and n0 values do not, the direct
    product's rows (n0 long) each end in a masked vector and the transposed one's do not.
    On tiles of TRANSPOSED_DW1_SAMPLES (float32: TRANSPOSED_DW1_SAMPLES_32) or more, in a
    run whose full steps have CHUNKS chunks (``chunks``: Tiles.chunks; 16 tiles or more a
    step): the transpose back, and the update that then runs as one range, cost a step
    more than one tile a chunk saves (Adam on batches of 256, two tiles a step, 5% slower).
    float64 takes it from TRANSPOSED_DW1_INPUTS_64 inputs (on fewer, the transposed
    product's few rows of sums run slower than the direct product's masked vectors).
    Measured on a 2-core Intel Xeon (docs/performance.md): one product, one thread, 64x100
    float32 at 128 samples 14.0 -> 11.7 µs with dZ_1's transpose, 64x50 8.3 -> 6.5, 32x50
    4.5 -> 3.1, 64x20 4.7 -> 3.3; float64 at 256 samples 64x100 52.7 -> 49.9 against the
    transposed product added each tile, 64x30 19.1 -> 18.5 against the direct one, but 64x20
    12.5 -> 14.5; in the step, deep float32's layer-1 weight gradient 14.2-14.6 -> 11.8-11.9
    µs a tile. Set by the shapes and dtype only."""
    return (chunks >= CHUNKS and transposes_x(n1, n0, T, itemsize)
            and not small_layer(n1, n0) and (n0 * itemsize) % LINE != 0
            and (n1 * itemsize) % LINE == 0
            and (T >= TRANSPOSED_DW1_SAMPLES_32 if itemsize == 4 else
                 T >= TRANSPOSED_DW1_SAMPLES and n0 >= TRANSPOSED_DW1_INPUTS_64))


def blas_float32_layer1(n1, n0, T, itemsize, blas):
    """True for a float32 first layer whose Z takes the BLAS (not a small layer, not
    transposes_x) when that BLAS is OpenBLAS (``blas``: Tiles.blas): the layers whose weight
    gradient blocked_dw1 and transposed_w1_sums choose a form for. OpenBLAS packs the
    streamed tile of X afresh in every call, and these forms avoid it; MKL's products run
    the plain BLAS forms faster (mnist float32's step 120 -> 105-107 ms without them,
    docs/performance.md), so under MKL every such layer keeps them."""
    return (blas == BLAS_OPENBLAS and itemsize == 4 and not small_layer(n1, n0)
            and not transposes_x(n1, n0, T, itemsize))


# A float32 first layer of at most BLOCKED_W1_UNITS units on at least BLOCKED_W1_INPUTS
# inputs, and at least BLOCKED_W1_RATIO inputs a unit, that takes the BLAS for its Z makes
# its weight gradient dZ_1·X_t in the rows form over blocks of K_BLOCK samples (blocked_dw1).
BLOCKED_W1_UNITS, BLOCKED_W1_INPUTS, BLOCKED_W1_RATIO, K_BLOCK = 256, 256, 4, 128


def blocked_dw1(n1, n0, T, itemsize, blas):
    """True when a first layer's weight gradient dZ_1·X_t (n1, n0) is added into the chunk's
    sums by small.add_times_blocked: rows_product over blocks of K_BLOCK of the tile's
    samples, each block's rows of X_t read into panels of B (small_ir.PANEL_BYTES: a quarter
    of the second-level cache) once for every block of rows of dZ_1, the sums' block in
    registers over the K_BLOCK terms. A float32 layer of at most BLOCKED_W1_UNITS units on
    at least BLOCKED_W1_INPUTS inputs, BLOCKED_W1_RATIO or more a unit, that takes the BLAS
    (not transposes_x, not a small layer): the fewer rows dZ_1 has, the more of the
    single-threaded BLAS's time goes to packing the tile of X. Measured on a 2-core Intel
    Xeon (SkylakeX kernels), a step of full-batch descent on 2 threads, alternating runs
    (docs/performance.md): [1100,16,1]
    19.3-19.8 -> 13.8-14.3 ms, [784,32,1] 50.1-50.8 -> 45.8-46.7, [300,32,1] 6% faster,
    [784,64,1] 4.5%, [3072,128,1] 11%, [512,128,1] 3%, [784,128,64,1] 3-4%, [784,128,1]
    even; slower past the bounds: [300,128,1] 2%, [784,256,1] 5%; and float64 (one product,
    one thread: the BLAS faster at 16 to 256 units). Up to 256 units since panels of 256 KiB
    (one product, one thread, median of three: [3072,256] 102 -> 113 GFLOP/s, [1024,256]
    108 -> 115, [1536,256] 112 -> 115, 160 to 256 units on 1,024 to 4,096 inputs otherwise
    within 2%; the step of [3072,256,128,1] 159.7-162.6 -> 148.2-157.8 ms). Set by the shapes,
    the dtype and the kernels' BLAS (blas_float32_layer1): the same on every machine and
    worker that calls the same BLAS."""
    return (blas_float32_layer1(n1, n0, T, itemsize, blas) and n1 <= BLOCKED_W1_UNITS
            and n0 >= BLOCKED_W1_INPUTS and n0 >= BLOCKED_W1_RATIO * n1)


# Such a layer of at most ROWS_Z1_UNITS units whose weights take at most ROWS_Z1_BYTES makes
# its Z in the rows form too on tiles of at least ROWS_Z1_SAMPLES (rows_z1).
ROWS_Z1_UNITS, ROWS_Z1_BYTES, ROWS_Z1_SAMPLES = 64, 1 << 19, 64


def rows_z1(n1, n0, T, itemsize, blas):
    """True when a first layer makes its Z transposed, Z_1^T = X_t·W1^T (t, n1) in the rows
    form (then transposed into Z_1), from W1^T (n0, n1) that each training chunk transposes
    once for all of its tiles (first_layer.transposed_weights): blocked_dw1's layers of at most
    ROWS_Z1_UNITS units whose W1 is at most ROWS_Z1_BYTES, so that a block of rows of X_t
    (its samples' features, read where they lie) meets W1^T's rows in L2, on tiles of at
    least ROWS_Z1_SAMPLES (W1's transpose is paid once a chunk: a mini-batch's chunk is one
    tile). The BLAS packs the streamed tile of X for a product of few rows here too.
    Measured on a 2-core Intel Xeon (SkylakeX kernels), 2 threads, alternating runs
    against the BLAS's Z_1 (both with blocked_dw1), a step of full-batch descent:
    [1100,16,1] 10.2-10.4 ms against 19.0-19.9 before either, [784,32,1] 38.0-38.3 against
    50.0, [784,64,1] 63.0-63.4 against 72.9-73.0, [2048,64,1] 52.3-52.6 against 61.4-62.0,
    [3072,32,1] 23.6-23.7 against 29.7-30.6; Adam epochs, [784,32,1] on batches of 256
    (tiles of 128) 15-25% faster, [784,64,1] on 128 (tiles of 64) 10%, on 64 (tiles of 32)
    even; at 128 units no gain ([784,128,1] even, [784,128,64,1] 0-3% slower, [512,128,1]
    2% faster): left at the BLAS. Set by the shapes, the dtype and the kernels' BLAS."""
    return (blocked_dw1(n1, n0, T, itemsize, blas) and n1 <= ROWS_Z1_UNITS
            and n1 * n0 * itemsize <= ROWS_Z1_BYTES and T >= ROWS_Z1_SAMPLES)


# A float32 first layer of at most TRANSPOSED_W1_UNITS units on at most TRANSPOSED_W1_INPUTS
# inputs that takes the BLAS sums its weight gradient transposed (transposed_blas_dw1), where
# it does not take blocked_dw1; so does a first layer that takes transposed_dw1.
TRANSPOSED_W1_UNITS, TRANSPOSED_W1_INPUTS = 512, 1024


def transposed_w1_sums(n1, n0, T, itemsize, chunks, blas):
    """True when a chunk sums its first layer's weight gradient transposed, dW1^T (n0, n1)
    C in W1's place of its sums (tiled.batch_gradient transposes the total back): a first
    layer in the rows form that takes transposed_dw1 (``chunks``: Tiles.chunks), or one
    that takes the BLAS and transposed_blas_dw1."""
    return (transposed_dw1(n1, n0, T, itemsize, chunks)
            or transposed_blas_dw1(n1, n0, T, itemsize, blas))


def transposed_blas_dw1(n1, n0, T, itemsize, blas):
    """True when a float32 first layer of at most TRANSPOSED_W1_UNITS units on at most
    TRANSPOSED_W1_INPUTS inputs that takes the BLAS (blas_float32_layer1: not transposes_x,
    not a small layer, OpenBLAS's; and not blocked_dw1) sums its weight gradient transposed
    (transposed_w1_sums). Its tiles' products then read the tile of X as the BLAS
    call's second operand, X_t^T·dZ_1^T, which OpenBLAS's AVX-512 float32 kernels run
    faster than dZ_1·X_t with X_t streamed from memory (a step, 2 threads: [784,128,64,1]
    at m = 60,000 155-156 -> 137-138 ms; [1000,128,1] and [1024,128,1] 8-12% faster,
    [784,512,1] 4%). Outside the bounds it does not pay on every machine: at 1,024 units
    both forms run alike and the transpose back costs more than they differ ([1024,1024,1],
    m = 4,096: 71 -> 75 ms), and OpenBLAS's Haswell kernels (AMD machines without AVX-512)
    run the step alike up to 1,024 inputs but 3-5% slower beyond ([2048,128,1],
    [3072,256,128,1]). float64's kernels run the transposed form far slower (one product
    3.5 -> 4.2 ms), so float64 keeps dZ_1·X_t there. Measured on a 2-core Intel Xeon,
    SkylakeX kernels and Haswell's (forced by OPENBLAS_CORETYPE); docs/performance.md. Set
    by the shapes, the dtype and the kernels' BLAS (blas_float32_layer1): the same on every
    machine and every worker that calls the same BLAS."""
    return (blas_float32_layer1(n1, n0, T, itemsize, blas) and n1 <= TRANSPOSED_W1_UNITS
            and n0 <= TRANSPOSED_W1_INPUTS and not blocked_dw1(n1, n0, T, itemsize, blas))


# The int64 values of a team's state (team.py: a call's steps in one parallel region), held
# in the Tiles workspace so that a call allocates nothing for it.
TEAM_STATE = 40

# The dtypes the tiled kernels read X in as stored (source.py); others are converted once.
SOURCE_DTYPES = (np.uint8, np.float32, np.float64)

# Samples.form: where value X^T[r, k] of an array X^T (rows, n_0), of any layout (C, F,
# strided) and any of SOURCE_DTYPES, lies in Samples.XT (its bytes): value
# offset + r·rs + k·cs of the bytes read in dtype SOURCE_DTYPES[kind] (strides counted in
# values, negative where the array runs back); kind -1 where Samples.XT is a typed array or
# a CSR (their rows and columns only are read). (An array, not a struct: a struct nested in
# Samples keeps the kernels off Numba's parallel loops.)
FORM_KIND, FORM_OFFSET, FORM_RS, FORM_CS, FORM_ROWS, FORM_COLS = range(6)
FORM_SIZE = 6

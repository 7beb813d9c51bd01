"""The training engine at scale: per-iteration times of fastdnn, the numpy course loop, and
PyTorch and JAX on the CPU when they are installed (optional, never required; peers.py).

Shared by ``fastdnn bench --scale`` and asv's bench_scaling.py. Every peer trains the same
network from the same initial weights with full-batch plain gradient descent and the course's
cost, in the same process and with the same thread count; JIT compilation (Numba, torch's
first call, JAX's jit) is done before timing. ``gemm_floor_s`` is the iteration's
multiply-adds at the best GEMM rate of any library in the process (numpy's BLAS, the
kernels' BLAS, each peer's), measured in the same run (product_rates).
"""
import os

import numpy as np

import fastdnn
from ..engine.gram import gram_is_cheaper
from . import baseline
from .peers import LR, jax_time, products, torch_time
from .timing import per_iteration

# name -> (layers, m): the scaling table's shapes.
SHAPES = {
    "tiny": ([20, 10, 1], 1000),
    "tabular": ([50, 64, 32, 1], 100_000),
    "deep": ([100, 64, 64, 64, 64, 1], 50_000),
    "mnist": ([784, 128, 64, 1], 60_000),
    "cifar": ([3072, 256, 128, 1], 10_000),
    "wide": ([1024, 1024, 1], 4096),
    "gram": ([4096, 64, 1], 2000),
    "cat": ([12288, 20, 7, 5, 1], 209),
    "mnist10": ([784, 128, 64, 10], 60_000),      # ten classes: a softmax output
}


def data(name, dtype=np.float64, seed=0):
    """(X (n0, m) F-ordered as the course's flatten makes it, Y (1, m), layers) for a shape."""
    layers, m = SHAPES[name]
    rng = np.random.default_rng(seed)
    X = np.asfortranarray(rng.random((layers[0], m), dtype=np.float32 if dtype == np.float32
                                     else np.float64))
    K = layers[-1]
    if K == 1:
        Y = (X[:1] + 0.1 * rng.standard_normal((1, m)) > 0.5).astype(dtype)
    else:                                           # one-hot of the largest of K projections
        Y = np.zeros((K, m), dtype)
        Y[np.argmax(rng.standard_normal((K, layers[0])) @ X, axis=0), np.arange(m)] = 1
    return X, Y, layers


def multiply_adds(layers, m):
    """Multiply-adds of one iteration: forward, dW of every layer, dA of layers 2..L."""
    pairs = [layers[l] * layers[l - 1] for l in range(1, len(layers))]
    return m * (3 * sum(pairs) - pairs[0])


def product_rates(dtype=np.float64, peers=True):
    """Each library's GEMM rate in this process: [{library, kernels, gflops}] for numpy's
    BLAS, the kernels' (runtime.blas.kernel_blas: SciPy's unless FASTDNN_BLAS=mkl), SciPy's
    when the kernels call another, and each installed peer's."""
    from ..runtime.blas import RATE_SIZE, describe, gflops, libraries, product
    rates = []
    for lib in libraries():
        fn = product(lib["owner"], dtype)
        if fn is not None:
            rates.append({"library": lib["owner"], "gflops": gflops(fn), "kernels": describe(lib)})
    for name, (kernels, fn) in (products(dtype, RATE_SIZE) if peers else {}).items():
        rates.append({"library": name, "kernels": kernels, "gflops": gflops(fn)})
    return rates


def gemm_rate(dtype=np.float64, peers=False):
    """The best multiply-adds per second of any library's GEMM here (product_rates)."""
    return max(r["gflops"] for r in product_rates(dtype, peers)) * 1e9 / 2


def fastdnn_time(X, Y, layers, dtype):
    # A Trainer made once (its one-time set-up, like the peers' tensor set-up, is not timed).
    trainer = fastdnn.Trainer(X, Y, fastdnn.initialize_parameters_deep(layers), LR, dtype=dtype)
    return per_iteration(lambda k: trainer.run(np.empty(k)))


def numpy_time(X, Y, layers, dtype):
    if layers[-1] > 1:
        return None                       # the course's numpy loop has a sigmoid output only
    p0 = {k: v.astype(dtype) for k, v in fastdnn.initialize_parameters_deep(layers).items()}
    Xd, Yd = X.astype(dtype, copy=False), Y.astype(dtype, copy=False)
    return per_iteration(lambda k: baseline.train(Xd, Yd, p0, LR, k), most=20, rounds=2)


def scale_row(name, dtype=np.float64, peers=True, rate=None):
    """One row of the scaling table: seconds per iteration of each, and the GEMM floor at
    ``rate`` multiply-adds per second (default: gemm_rate, measured now)."""
    dtype = np.dtype(dtype).type
    X, Y, layers = data(name, dtype)
    m = X.shape[1]
    row = {"shape": name, "layers": layers, "m": m, "dtype": np.dtype(dtype).name,
           "threads": os.cpu_count(), "fastdnn_s": fastdnn_time(X, Y, layers, dtype),
           "numpy_s": numpy_time(X, Y, layers, dtype),
           "torch_s": torch_time(X, Y, layers, dtype) if peers else None,
           "jax_s": jax_time(X, Y, layers, dtype) if peers else None,
           "gemm_floor_s": multiply_adds(layers, m) / (rate or gemm_rate(dtype, peers)),
           "path": "gram" if gram_is_cheaper(layers, m) else "direct"}
    peer = [t for t in (row["torch_s"], row["jax_s"]) if t]
    row["vs_numpy"] = row["numpy_s"] / row["fastdnn_s"] if row["numpy_s"] else None
    row["vs_best_peer"] = min(peer) / row["fastdnn_s"] if peer else None
    row["of_gemm_floor"] = row["gemm_floor_s"] / row["fastdnn_s"]
    return row


def rates_table(rates):
    return "\n".join(f"  {r['library']:8} {r['gflops']:7.1f} GFLOP/s  ({r['kernels']})"
                     for r in rates)


def table(rows):
    head = (f"{'shape':8} {'dtype':8} {'fastdnn':>10} {'numpy':>10} {'torch':>10} {'jax':>10} "
            f"{'x numpy':>8} {'x peer':>7} {'GEMM floor':>10}")
    fmt = lambda s: "-" if s is None else f"{s * 1e3:.3f}ms"
    lines = [head]
    for r in rows:
        lines.append(f"{r['shape']:8} {r['dtype']:8} {fmt(r['fastdnn_s']):>10} "
                     f"{fmt(r['numpy_s']):>10} {fmt(r['torch_s']):>10} {fmt(r['jax_s']):>10} "
                     + (f"{r['vs_numpy']:7.1f}x " if r["vs_numpy"] else "      -  ")
                     + (f"{r['vs_best_peer']:6.2f}x" if r['vs_best_peer'] else "     - ")
                     + f" {100 * r['of_gemm_floor']:9.0f}%")
    return "\n".join(lines)

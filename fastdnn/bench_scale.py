"""The training engine at scale: per-iteration times of fastdnn, the numpy course loop, and
PyTorch and JAX on the CPU when they are installed (optional, never required).

Shared by ``fastdnn bench --scale`` and asv's bench_scaling.py. Every peer trains the same
network from the same initial weights with full-batch plain gradient descent and the course's
cost, in the same process and with the same thread count; JIT compilation (Numba, torch's
first call, JAX's jit) is done before timing. ``gemm_floor_s`` is the iteration's
multiply-adds at numpy's own GEMM rate, measured in the same run.
"""
import os
import time

import numpy as np

import fastdnn
from . import baseline

# name -> (layers, m): the shapes of the engine issue's table.
SHAPES = {
    "tiny": ([20, 10, 1], 1000),
    "tabular": ([50, 64, 32, 1], 100_000),
    "mnist": ([784, 128, 64, 1], 60_000),
    "cifar": ([3072, 256, 128, 1], 10_000),
    "cat": ([12288, 20, 7, 5, 1], 209),
}
LR = 0.01


def data(name, dtype=np.float64, seed=0):
    """(X (n0, m) F-ordered as the course's flatten makes it, Y (1, m), layers) for a shape."""
    layers, m = SHAPES[name]
    rng = np.random.default_rng(seed)
    X = np.asfortranarray(rng.random((layers[0], m), dtype=np.float32 if dtype == np.float32
                                     else np.float64))
    Y = (X[:1] + 0.1 * rng.standard_normal((1, m)) > 0.5).astype(dtype)
    return X, Y, layers


def multiply_adds(layers, m):
    """Multiply-adds of one iteration: forward, dW of every layer, dA of layers 2..L."""
    pairs = [layers[l] * layers[l - 1] for l in range(1, len(layers))]
    return m * (3 * sum(pairs) - pairs[0])


def gemm_rate(dtype=np.float64, n=1024):
    """numpy's multiply-adds per second on an (n x n) by (n x n) product (best of 5)."""
    a = np.ones((n, n), dtype)
    best = np.inf
    for _ in range(5):
        t0 = time.perf_counter()
        np.dot(a, a)
        best = min(best, time.perf_counter() - t0)
    return n ** 3 / best


def _per_iteration(step_k, budget=1.0, most=2000, rounds=3):
    """Best seconds per iteration of ``step_k(k)`` over ``rounds``, after a warm-up (which
    compiles); k is sized so that a round takes about budget / rounds seconds."""
    step_k(2)
    t0 = time.perf_counter()
    step_k(1)
    once = time.perf_counter() - t0
    k = int(min(most, max(2, budget / rounds / max(once, 1e-7))))
    best = np.inf
    for _ in range(rounds):
        t0 = time.perf_counter()
        step_k(k)
        best = min(best, (time.perf_counter() - t0) / k)
    return best


def fastdnn_time(X, Y, layers, dtype):
    # A Trainer made once (its one-time set-up, like the peers' tensor set-up, is not timed).
    trainer = fastdnn.Trainer(X, Y, fastdnn.initialize_parameters_deep(layers), LR, dtype=dtype)
    return _per_iteration(lambda k: trainer.run(np.empty(k)))


def numpy_time(X, Y, layers, dtype):
    p0 = {k: v.astype(dtype) for k, v in fastdnn.initialize_parameters_deep(layers).items()}
    Xd, Yd = X.astype(dtype, copy=False), Y.astype(dtype, copy=False)
    return _per_iteration(lambda k: baseline.train(Xd, Yd, p0, LR, k), most=20, rounds=2)


def torch_model(X, Y, layers, dtype=np.float64, lr=LR):
    """(W, b, step) of the same training in PyTorch (autograd + optim.SGD): W and b lists of
    leaf tensors from fastdnn's initial weights, step() one iteration returning the loss.
    Raises ImportError without torch."""
    import torch
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    p0 = fastdnn.initialize_parameters_deep(layers)
    L = len(layers) - 1
    W = [torch.tensor(p0[f"W{l}"], dtype=tdt, requires_grad=True) for l in range(1, L + 1)]
    b = [torch.tensor(p0[f"b{l}"], dtype=tdt, requires_grad=True) for l in range(1, L + 1)]
    Xt = torch.from_numpy(np.ascontiguousarray(X, dtype=dtype))
    Yt = torch.from_numpy(np.ascontiguousarray(Y, dtype=dtype))
    opt = torch.optim.SGD(W + b, lr=lr)

    def step():
        A = Xt
        for l in range(L - 1):
            A = torch.relu(W[l] @ A + b[l])
        loss = torch.nn.functional.binary_cross_entropy_with_logits(W[-1] @ A + b[-1], Yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return W, b, step


def torch_time(X, Y, layers, dtype):
    """Seconds per iteration of the same training in PyTorch, or None without torch."""
    try:
        _, _, step = torch_model(X, Y, layers, dtype)
    except ImportError:
        return None

    def steps(k):
        for _ in range(k):
            step()

    return _per_iteration(steps)


def jax_time(X, Y, layers, dtype):
    """Seconds per iteration in JAX (the whole loop jitted with lax.scan), or None."""
    try:
        import jax
    except ImportError:
        return None
    if dtype == np.float64:
        jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    p0 = fastdnn.initialize_parameters_deep(layers)
    L = len(layers) - 1
    params = [(jnp.asarray(p0[f"W{l}"], dtype), jnp.asarray(p0[f"b{l}"], dtype))
              for l in range(1, L + 1)]
    Xj, Yj = jnp.asarray(X, dtype), jnp.asarray(Y, dtype)

    def loss(ps):
        A = Xj
        for W, b in ps[:-1]:
            A = jax.nn.relu(W @ A + b)
        Z = ps[-1][0] @ A + ps[-1][1]
        return jnp.mean(jax.nn.softplus(Z) - Yj * Z)    # the course's cost, from the logits

    def step(ps, _):
        value, g = jax.value_and_grad(loss)(ps)
        return jax.tree_util.tree_map(lambda p, d: p - LR * d, ps, g), value

    compiled = {}

    def steps(k):
        if k not in compiled:
            compiled[k] = jax.jit(lambda ps: jax.lax.scan(step, ps, None, length=k))
            jax.block_until_ready(compiled[k](params))          # compile outside the timing
        return jax.block_until_ready(compiled[k](params))

    steps(1)
    t0 = time.perf_counter()
    steps(2)
    k = int(min(1000, max(2, 1.0 / max((time.perf_counter() - t0) / 2, 1e-6))))
    steps(k)                                                    # compiles for k
    t0 = time.perf_counter()
    steps(k)
    return (time.perf_counter() - t0) / k


def scale_row(name, dtype=np.float64, peers=True):
    """One row of the scaling table: seconds per iteration of each, and the GEMM floor."""
    dtype = np.dtype(dtype).type
    X, Y, layers = data(name, dtype)
    m = X.shape[1]
    row = {"shape": name, "layers": layers, "m": m, "dtype": np.dtype(dtype).name,
           "threads": os.cpu_count(), "fastdnn_s": fastdnn_time(X, Y, layers, dtype),
           "numpy_s": numpy_time(X, Y, layers, dtype),
           "torch_s": torch_time(X, Y, layers, dtype) if peers else None,
           "jax_s": jax_time(X, Y, layers, dtype) if peers else None,
           "gemm_floor_s": multiply_adds(layers, m) / gemm_rate(dtype)}
    peer = [t for t in (row["torch_s"], row["jax_s"]) if t]
    row["vs_numpy"] = row["numpy_s"] / row["fastdnn_s"]
    row["vs_best_peer"] = min(peer) / row["fastdnn_s"] if peer else None
    row["of_gemm_floor"] = row["gemm_floor_s"] / row["fastdnn_s"]
    return row


def table(rows):
    head = (f"{'shape':8} {'dtype':8} {'fastdnn':>10} {'numpy':>10} {'torch':>10} {'jax':>10} "
            f"{'x numpy':>8} {'x peer':>7} {'GEMM floor':>10}")
    fmt = lambda s: "-" if s is None else f"{s * 1e3:.3f}ms"
    lines = [head]
    for r in rows:
        lines.append(f"{r['shape']:8} {r['dtype']:8} {fmt(r['fastdnn_s']):>10} "
                     f"{fmt(r['numpy_s']):>10} {fmt(r['torch_s']):>10} {fmt(r['jax_s']):>10} "
                     f"{r['vs_numpy']:7.1f}x "
                     + (f"{r['vs_best_peer']:6.2f}x" if r['vs_best_peer'] else "     - ")
                     + f" {100 * r['of_gemm_floor']:9.0f}%")
    return "\n".join(lines)

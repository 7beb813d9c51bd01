"""The peers a user would pick instead, training the same network: PyTorch (autograd and
optim.SGD) and JAX (the whole loop jitted with lax.scan), on the CPU. Both optional: each
function returns None (or raises ImportError, torch_model) when its library is missing.

Every peer starts from fastdnn's initial weights and uses full-batch plain gradient descent
and the course's cost, so that per-iteration times compare the same work.
"""
import numpy as np

import fastdnn
from .timing import per_iteration

LR = 0.01


def import_first():
    """Import the installed peers before fastdnn's kernels load MKL (FASTDNN_BLAS=mkl):
    PyTorch carries an MKL of its own whose calls resolve to the first one the process
    loaded, so loaded after the kernels' sequential MKL it would run on one thread."""
    for module in ("torch", "jax"):
        try:
            __import__(module)
        except ImportError:
            pass


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
        Z = W[-1] @ A + b[-1]
        loss = (torch.nn.functional.binary_cross_entropy_with_logits(Z, Yt) if Z.shape[0] == 1
                else torch.nn.functional.cross_entropy(Z.T, Yt.T))     # softmax, one-hot Y
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

    return per_iteration(steps)


def jax_model(X, Y, layers, dtype=np.float64, lr=LR):
    """steps(k): k full-batch steps of the same training in JAX, the whole loop jitted with
    lax.scan (compiled once per k), from fastdnn's initial weights. Raises ImportError
    without jax."""
    import jax
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
        if Z.shape[0] > 1:                              # softmax with one-hot Y
            return -jnp.mean(jnp.sum(Yj * jax.nn.log_softmax(Z, axis=0), axis=0))
        return jnp.mean(jax.nn.softplus(Z) - Yj * Z)    # the course's cost, from the logits

    def step(ps, _):
        value, g = jax.value_and_grad(loss)(ps)
        return jax.tree_util.tree_map(lambda p, d: p - lr * d, ps, g), value

    compiled = {}

    def steps(k):
        if k not in compiled:       # one compiled scan per k (per_iteration warms it up)
            compiled[k] = jax.jit(lambda ps: jax.lax.scan(step, ps, None, length=k))
        return jax.block_until_ready(compiled[k](params))

    return steps


def jax_time(X, Y, layers, dtype):
    """Seconds per iteration of jax_model's steps, or None without jax."""
    try:
        steps = jax_model(X, Y, layers, dtype)
    except ImportError:
        return None
    return per_iteration(steps, most=1000, rounds=1, warm_k=True)


def products(dtype, n):
    """{peer: (kernels in words, one n x n product)} for each installed peer (its own GEMM)."""
    found = {}
    try:
        import torch
        a = torch.ones((n, n), dtype=torch.float64 if dtype == np.float64 else torch.float32)
        found["torch"] = (f"torch {torch.__version__}, "
                          f"{torch.backends.cpu.get_cpu_capability()} kernels, "
                          f"{torch.get_num_threads()} threads",
                          lambda: torch.mm(a, a))
    except ImportError:
        pass
    try:
        import jax
        if dtype == np.float64:
            jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        b = jnp.ones((n, n), dtype)
        dot = jax.jit(jnp.dot)
        found["jax"] = (f"jax {jax.__version__}, XLA:CPU", lambda: dot(b, b).block_until_ready())
    except ImportError:
        pass
    return found

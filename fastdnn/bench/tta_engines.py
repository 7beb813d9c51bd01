"""The runs that ``fastdnn bench --tta`` times: fastdnn's and each installed peer's, each an
object with .chunk() (train one epoch, or ``every`` full-batch steps) and .accuracy() (on the
test set). Peers are optional: peers() yields only those installed."""
import numpy as np

import fastdnn
from ..engine.inference import accuracy
from ..engine.settings import checked as checked_settings


class Fastdnn:
    def __init__(self, data, layers, lr, optimizer, batch, every):
        X, Y, self.Xt, self.Yt = data
        self.trainer = fastdnn.Trainer(
            X, Y, fastdnn.initialize_parameters_deep(layers), lr, dtype=X.dtype,
            settings=checked_settings(optimizer=optimizer, mini_batch_size=batch))
        self.costs = np.empty(every)

    def chunk(self):
        self.trainer.run(self.costs)

    def accuracy(self):
        return accuracy(self.Xt, self.Yt, self.trainer.parameters())


class TorchRun:
    """PyTorch on the CPU: Adam on shuffled mini-batches, or full-batch SGD (batch None)."""

    def __init__(self, data, layers, lr, batch, every):
        import torch
        X, Y, Xt, Yt = data
        tdt = torch.float64 if X.dtype == np.float64 else torch.float32
        p0 = fastdnn.initialize_parameters_deep(layers)
        mods = []
        for l in range(1, len(layers)):
            lin = torch.nn.Linear(layers[l - 1], layers[l]).to(tdt)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(p0[f"W{l}"]))
                lin.bias.copy_(torch.from_numpy(p0[f"b{l}"].ravel()))
            mods += [lin, torch.nn.ReLU()]
        self.model = torch.nn.Sequential(*mods[:-1])
        self.X = torch.from_numpy(np.ascontiguousarray(X.T, X.dtype))
        self.Y = torch.from_numpy(np.ascontiguousarray(Y.T, X.dtype))
        self.Xt = torch.from_numpy(np.ascontiguousarray(Xt.T, X.dtype))
        self.Yt = np.asarray(Yt).ravel()
        self.batch, self.every, self.torch = batch, every, torch
        self.opt = (torch.optim.Adam if batch else torch.optim.SGD)(self.model.parameters(), lr)
        self.loss = torch.nn.BCEWithLogitsLoss()
        self.gen = torch.Generator().manual_seed(0)

    def _step(self, xb, yb):
        self.opt.zero_grad()
        self.loss(self.model(xb), yb).backward()
        self.opt.step()

    def chunk(self):
        if self.batch is None:
            for _ in range(self.every):
                self._step(self.X, self.Y)
            return
        order = self.torch.randperm(self.X.shape[0], generator=self.gen)
        for b0 in range(0, len(order), self.batch):
            idx = order[b0:b0 + self.batch]
            self._step(self.X[idx], self.Y[idx])

    def accuracy(self):
        with self.torch.no_grad():
            p = (self.model(self.Xt).numpy().ravel() > 0).astype(float)
        return float(np.mean(p == self.Yt))


_JAX_EPOCHS = {}          # (layers, dtype) -> the jitted epoch (compiled once per batch shape)


def _jax_epoch(jax, layers, dtype):
    import jax.numpy as jnp
    key = (tuple(layers), np.dtype(dtype).name)
    if key in _JAX_EPOCHS:
        return _JAX_EPOCHS[key]

    def loss(ps, xb, yb):
        A = xb
        for W, b in ps[:-1]:
            A = jax.nn.relu(A @ W + b)
        Z = A @ ps[-1][0] + ps[-1][1]
        return jnp.mean(jax.nn.softplus(Z) - yb * Z)

    def step(carry, batch):
        ps, v, s, t, lr = carry
        g = jax.grad(loss)(ps, *batch)
        t = t + 1
        v = jax.tree_util.tree_map(lambda v, g: 0.9 * v + 0.1 * g, v, g)
        s = jax.tree_util.tree_map(lambda s, g: 0.999 * s + 0.001 * g * g, s, g)
        ps = jax.tree_util.tree_map(
            lambda p, v, s: p - lr * (v / (1 - 0.9 ** t)) / (jnp.sqrt(s / (1 - 0.999 ** t))
                                                             + 1e-8), ps, v, s)
        return (ps, v, s, t, lr), None

    _JAX_EPOCHS[key] = jax.jit(lambda carry, xb, yb: jax.lax.scan(step, carry, (xb, yb))[0])
    return _JAX_EPOCHS[key]


def _forward(jax, ps, x):
    A = x
    for W, b in ps[:-1]:
        A = jax.nn.relu(A @ W + b)
    return A @ ps[-1][0] + ps[-1][1]


class JaxAdam:
    """JAX: a jitted Adam step scanned over an epoch's shuffled batches (a last partial
    batch is dropped, as a scan needs equal batches)."""

    def __init__(self, data, layers, lr, batch):
        import jax
        if data[0].dtype == np.float64:
            jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        X, Y, Xt, Yt = data
        dt = X.dtype
        p0 = fastdnn.initialize_parameters_deep(layers)
        ps = [(jnp.asarray(p0[f"W{l}"].T, dt), jnp.asarray(p0[f"b{l}"].ravel(), dt))
              for l in range(1, len(layers))]
        zeros = jax.tree_util.tree_map(jnp.zeros_like, ps)
        self.carry = (ps, zeros, zeros, jnp.asarray(0, dt), jnp.asarray(lr, dt))
        self.epoch = _jax_epoch(jax, layers, dt)
        self.X, self.Y = np.ascontiguousarray(X.T), np.ascontiguousarray(Y.T, dt)
        self.Xt, self.Yt = jnp.asarray(np.ascontiguousarray(Xt.T)), np.asarray(Yt).ravel()
        self.batch, self.rng, self.jnp, self.jax = batch, np.random.default_rng(0), jnp, jax

    def chunk(self):
        m, b = self.X.shape[0], self.batch
        order = self.rng.permutation(m)[: m // b * b]
        xb = self.jnp.asarray(self.X[order].reshape(m // b, b, -1))
        yb = self.jnp.asarray(self.Y[order].reshape(m // b, b, 1))
        self.carry = self.jax.block_until_ready(self.epoch(self.carry, xb, yb))

    def accuracy(self):
        z = np.asarray(_forward(self.jax, self.carry[0], self.Xt)).ravel()
        return float(np.mean((z > 0).astype(float) == self.Yt))


class SklearnAdam:
    """scikit-learn's MLPClassifier (Adam), one epoch per chunk (warm_start, max_iter=1)."""

    def __init__(self, data, layers, lr, batch):
        from sklearn.neural_network import MLPClassifier
        X, Y, Xt, Yt = data
        self.model = MLPClassifier(tuple(layers[1:-1]), solver="adam", learning_rate_init=lr,
                                   batch_size=batch, max_iter=1, warm_start=True,
                                   random_state=0, tol=0.0)
        self.X, self.y = np.ascontiguousarray(X.T), np.asarray(Y).ravel()
        self.Xt, self.yt = np.ascontiguousarray(Xt.T), np.asarray(Yt).ravel()

    def chunk(self):
        self.model.fit(self.X, self.y)

    def accuracy(self):
        return float(self.model.score(self.Xt, self.yt))


ADAM_RATES = (1e-3, 3e-3)
# peer -> its Adam run on mini-batches: make(data, layers, lr, batch)
ADAM_PEERS = {"torch": lambda data, layers, lr, mb: TorchRun(data, layers, lr, mb, 1),
              "jax": JaxAdam, "sklearn": SklearnAdam}
LABELS = {"torch": "pytorch", "jax": "jax", "sklearn": "sklearn"}


def peers(data, layers, batches, every):
    """(label, learning rates, make(lr)) for each installed peer: Adam on each batch size,
    and PyTorch's full-batch SGD."""
    from importlib.util import find_spec
    for name, make in ADAM_PEERS.items():
        if find_spec(name) is None:
            continue
        for mb in batches:
            yield f"{LABELS[name]} adam (batch {mb})", ADAM_RATES, \
                lambda lr, mb=mb, make=make: make(data, layers, lr, mb)
        if name == "torch":
            yield "pytorch sgd (full batch)", (0.05, 0.5), \
                lambda lr: TorchRun(data, layers, lr, None, every)

"""The engine next to the user's numpy, as a script runs them: a numpy product between training
calls, a fit callback doing numpy work, and numpy right after a training call; and PyTorch in
the same probe, where it is installed.

Each figure is a ratio to the same work alone (the numpy product's own time taken out),
measured in alternating rounds in one process (timing.py), the median of the rounds. 1.00
means the thread pools (Numba's OpenMP, numpy's OpenBLAS, PyTorch's) do not get in each
other's way. The product is large enough that OpenBLAS runs it on several threads, which
then wait for more work, spinning, on the cores the next training call needs.
"""
import numpy as np

import fastdnn
from .timing import clock

LAYERS, M, CHUNK = [64, 32, 16, 1], 1437, 50      # the digits network, 50 iterations a call
PRODUCT = 192                                     # a PRODUCT² x PRODUCT² numpy product
AFTER = 400                                       # an AFTER x AFTER product after training


def _data(seed=0):
    rng = np.random.default_rng(seed)
    X = np.asfortranarray(rng.random((LAYERS[0], M)))
    a = rng.random((PRODUCT, PRODUCT))
    return X, (X[:1] > 0.5).astype(float), (lambda: np.dot(a, a))


def _ratio(train, product, calls, rounds):
    """Median over ``rounds`` of: (``calls`` x (train, product), the products' own time taken
    out) / (``calls`` x train)."""
    train()
    product()

    def mixed():
        for _ in range(calls):
            train()
            product()

    def alone():
        for _ in range(calls):
            train()

    ratios = []
    for _ in range(rounds):
        t_alone = clock(alone)
        t_mixed = clock(mixed) - calls * clock(product, 50)
        ratios.append(t_mixed / t_alone)
    return float(np.median(ratios))


def engine_with_numpy(calls=20, rounds=7):
    """fastdnn.fit for CHUNK iterations, then a numpy product, repeated: over the fits alone."""
    X, Y, product = _data()
    return _ratio(lambda: fastdnn.fit(X, Y, LAYERS, 0.01, CHUNK), product, calls, rounds)


def fit_with_callback(iterations=2000, rounds=5):
    """One fit whose callback does the numpy product every CHUNK iterations, over the same
    fit without the callback."""
    X, Y, product = _data()
    run = lambda cb: fastdnn.fit(X, Y, LAYERS, 0.01, iterations, chunk=CHUNK, callback=cb)
    run(None)
    product()
    ratios = []
    for _ in range(rounds):
        t_alone = clock(lambda: run(None))
        t_cb = clock(lambda: run(lambda start, costs: product())) - \
            iterations // CHUNK * clock(product, 50)
        ratios.append(t_cb / t_alone)
    return float(np.median(ratios))


def torch_with_numpy(calls=20, rounds=7):
    """PyTorch's loop of CHUNK full-batch steps on the same network, then the numpy product,
    repeated: over its loops alone. None without PyTorch."""
    try:
        from .peers import torch_model
        W, b, step = torch_model(*_data()[:2], LAYERS, np.float64, lr=0.01)
    except ImportError:
        return None
    product = _data()[2]

    def loop():
        for _ in range(CHUNK):
            step()
    return _ratio(loop, product, calls, rounds)


def numpy_after_engine(samples=40):
    """A numpy product's time right after a short training call, over its time right after
    another numpy product: the ratio of the medians."""
    X, Y, _ = _data()
    trainer = fastdnn.Trainer(X, Y, fastdnn.initialize_parameters_deep(LAYERS), 0.01)
    c = np.random.default_rng(1).random((AFTER, AFTER))
    costs = np.empty(5)
    after_numpy, after_engine = [], []
    for _ in range(samples):
        np.dot(c, c)
        after_numpy.append(clock(lambda: np.dot(c, c)))
        trainer.run(costs)
        after_engine.append(clock(lambda: np.dot(c, c)))
    return float(np.median(after_engine) / np.median(after_numpy))


def fresh_rows():
    """rows() measured in a fresh interpreter: as a fastdnn user's process is, with no peer
    library loaded before fastdnn's first kernel (PyTorch loads GNU OpenMP itself, with its
    own settings; its row is measured last)."""
    import json

    from .start import fresh_python
    return json.loads(fresh_python("import json; from fastdnn.bench.interleave import rows; "
                                   "print(json.dumps(rows()))"))


def rows():
    """The rows of the engine next to numpy (``fastdnn bench --scale``, asv)."""
    product = f"a numpy {PRODUCT}x{PRODUCT} product"
    out = [{"case": f"fastdnn: fit of {CHUNK} iterations, then {product}, repeated",
            "ratio": engine_with_numpy()},
           {"case": f"fastdnn: fit with a callback doing {product} every {CHUNK} iterations",
            "ratio": fit_with_callback()},
           {"case": f"{product} right after a fastdnn training call",
            "ratio": numpy_after_engine()}]
    torch_ratio = torch_with_numpy()
    if torch_ratio is not None:
        out.append({"case": f"PyTorch: {CHUNK} steps of its loop, then {product}, repeated",
                    "ratio": torch_ratio})
    return out

"""The engine next to the user's numpy, as a script runs them: numpy work between training
chunks (an accuracy check, a fit callback), and numpy right after a training call.

Each figure is a ratio to the same work alone, measured in alternating rounds in one
process (timing.py). 1.00 means the two thread pools (Numba's OpenMP and numpy's OpenBLAS)
do not get in each other's way.
"""
import numpy as np

import fastdnn
from .timing import clock

LAYERS, M, CHUNK = [64, 32, 16, 1], 1437, 50      # the digits network, as in the issue
PRODUCT = ((32, 64), (64, 360))                   # the numpy work between chunks
AFTER = 400                                       # an AFTER x AFTER product after training


def _data(seed=0):
    rng = np.random.default_rng(seed)
    X = np.asfortranarray(rng.random((LAYERS[0], M)))
    a, b = (rng.random(s) for s in PRODUCT)
    return X, (X[:1] > 0.5).astype(float), (lambda: np.dot(a, b))


def _setup():
    X, Y, product = _data()
    return fastdnn.Trainer(X, Y, fastdnn.initialize_parameters_deep(LAYERS), 0.01), product


def engine_with_numpy(chunks=20, rounds=7):
    """Per-iteration time of training with a numpy product after each chunk, over training
    alone (the products' own time taken out): the median of ``rounds`` paired ratios."""
    trainer, product = _setup()
    costs = np.empty(CHUNK)
    trainer.run(costs)
    product()

    def alone():
        for _ in range(chunks):
            trainer.run(costs)

    def mixed():
        for _ in range(chunks):
            trainer.run(costs)
            product()

    ratios = []
    for _ in range(rounds):
        t_alone = clock(alone)
        t_mixed = clock(mixed) - chunks * clock(product, 50)
        ratios.append(t_mixed / t_alone)
    return float(np.median(ratios))


def fit_with_callback(iterations=2000, rounds=5):
    """fastdnn.fit's time with a callback doing the numpy product every CHUNK iterations,
    over fit alone: the median of ``rounds`` paired ratios."""
    X, Y, product = _data()
    run = lambda cb: fastdnn.fit(X, Y, LAYERS, 0.01, iterations, chunk=CHUNK, callback=cb)
    run(None)
    ratios = []
    for _ in range(rounds):
        t_alone = clock(lambda: run(None))
        t_cb = clock(lambda: run(lambda start, costs: product())) - \
            iterations // CHUNK * clock(product, 50)
        ratios.append(t_cb / t_alone)
    return float(np.median(ratios))


def numpy_after_engine(samples=40):
    """A numpy product's time right after a short training call, over its time right after
    another numpy product: the ratio of the medians."""
    trainer, _ = _setup()
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
    library loaded (PyTorch loads GNU OpenMP itself, with its own settings, first)."""
    import json

    from .start import fresh_python
    return json.loads(fresh_python("import json; from fastdnn.bench.interleave import rows; "
                                   "print(json.dumps(rows()))"))


def rows():
    """The interleaved rows of ``fastdnn bench --scale``."""
    return [{"case": f"engine, numpy {PRODUCT[0]}x{PRODUCT[1]} after each {CHUNK} its",
             "ratio": engine_with_numpy()},
            {"case": f"fit, callback doing that product every {CHUNK} its",
             "ratio": fit_with_callback()},
            {"case": f"numpy {AFTER}x{AFTER} product right after training",
             "ratio": numpy_after_engine()}]

"""Data as it comes: X in C or F order, as a samples-in-rows view, or as the bytes of images
with a divisor, trains and predicts with the same bits, and without a full-size copy;
nothing is allocated per iteration; cat-sized training stays close to its data."""
import tracemalloc

import numpy as np
import pytest

import fastdnn
from fastdnn.engine.inference import probabilities
from fastdnn.io.fingerprint import data_fingerprint, legacy_fingerprint
from helpers import run_python


def images(m=3000, n=40, seed=0):
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (m, n), dtype=np.uint8)         # samples in rows
    Y = (img[:, :1].T / 255. + 0.1 * rng.standard_normal((1, m)) > 0.5).astype(int)
    return img, Y


FORMS = {
    "float64, F order (the course's flatten)": lambda img: (np.asfortranarray(img.T / 255.), None),
    "float64, C order": lambda img: (np.ascontiguousarray(img.T / 255.), None),
    "float64, samples in rows (a view)": lambda img: ((img / 255.).T, None),
    "uint8 bytes / 255, F order": lambda img: (img.T, 255.0),
    "uint8 bytes / 255, C order": lambda img: (np.ascontiguousarray(img.T), 255.0),
    "float16 / 255": lambda img: (img.T.astype(np.float16), 255.0),
}


@pytest.mark.parametrize("opts, dtype", [
    (dict(), np.float64),
    (dict(optimizer="adam", mini_batch_size=1024, keep_prob=0.9), np.float64),
    (dict(), np.float32),
])
def test_every_form_of_X_gives_the_same_bits(opts, dtype):
    img, Y = images()
    runs = {}
    for name in FORMS:
        form = FORMS[name]
        X, divisor = form(img)
        r = fastdnn.fit(X, Y, [40, 16, 1], 0.01, 4, x_divisor=divisor, gram=False, dtype=dtype,
                        **opts)
        p = probabilities(X, r.parameters, divisor)
        runs[name] = r.costs.tobytes() + r.parameters["W1"].tobytes() + p.tobytes()
    first = next(iter(runs.values()))
    assert all(b == first for b in runs.values()), [k for k, b in runs.items() if b != first]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n0", [37, 300, 1100])
def test_a_c_ordered_x_trains_to_the_bits_of_an_f_ordered_one(dtype, n0):
    # A C-ordered X's tiles are copied (by register blocks in order and in X's dtype; else
    # feature by feature, or by blocks of values where a tile's row spans a page: 1,100
    # features); an F-ordered X's are views: the same values.
    rng = np.random.default_rng(n0)
    X = rng.standard_normal((n0, 1001)).astype(dtype)
    Y = (rng.random((1, 1001)) > 0.5).astype(int)
    for opts in (dict(), dict(optimizer="adam", mini_batch_size=256)):
        runs = [fastdnn.fit(x, Y, [n0, 24, 1], 0.01, 3, gram=False, dtype=d, **opts)
                for x in (np.ascontiguousarray(X), np.asfortranarray(X))
                for d in (dtype, np.float32 if dtype == np.float64 else np.float64)]
        for a, b in ((runs[0], runs[2]), (runs[1], runs[3])):
            assert a.costs.tobytes() == b.costs.tobytes()
            assert all(np.array_equal(a.parameters[k], b.parameters[k]) for k in a.parameters)


def test_the_gram_path_takes_bytes_too():
    img, Y = images(m=120, n=400)
    a = fastdnn.fit(img.T / 255., Y, [400, 8, 1], 0.05, 20, gram=True)
    b = fastdnn.fit(img.T, Y, [400, 8, 1], 0.05, 20, gram=True, x_divisor=255.0)
    assert a.costs.tobytes() == b.costs.tobytes()


def test_forms_of_x_share_two_compiled_kernels():
    # One kernel where tiles are views of X^T (C-contiguous in the dtype: X F-ordered), one
    # for every form whose tiles are copied: layout, strides, source dtype, byte order or a
    # read-only flag (a memory map, scikit-learn's read-only checks) compile nothing more.
    from fastdnn import kernels as K
    img, Y = images(m=200, n=12)
    X = np.asfortranarray(img.T / 255.)
    def compiled():
        from fastdnn.kernels import tiled                 # and the chunk loops they call
        return [len(k.signatures) for k in (K.tiled_train_steps, K.tiled_train_steps_serial,
                                             K.tiled_probabilities,
                                             K.tiled_probabilities_serial, tiled._chunk,
                                             tiled._probability_chunk)]
    def trained(X, divisor=None):
        r = fastdnn.fit(X, Y, [12, 4, 1], 0.01, 3, gram=False, x_divisor=divisor)
        p = probabilities(X, r.parameters, divisor)
        return r.costs.tobytes() + r.parameters["W1"].tobytes() + p.tobytes()
    first = trained(X)
    assert trained(np.ascontiguousarray(X)) == first
    before = compiled()
    read_only = X.copy(order="F")
    read_only.flags.writeable = False
    backwards = np.ascontiguousarray(X[::-1, ::-1])[::-1, ::-1]      # negative strides
    forms = {"read-only": (read_only, None), "big-endian": (X.astype(">f8"), None),
             "negative strides": (backwards, None),
             "every other column": (np.repeat(X, 2, axis=1)[:, ::2], None),
             "uint8 bytes": (img.T, 255.0), "uint8 bytes, C order": (img.T.copy(), 255.0),
             "float32": (X.astype(np.float32), None)}
    for name, (form, divisor) in forms.items():
        expected = first if name != "float32" else trained(X.astype(np.float32).astype(float))
        assert trained(form, divisor) == expected, name
    assert compiled() == before
    assert X.flags.writeable                  # the caller's array is left as it was


def test_fit_adds_little_beside_a_c_ordered_x():
    X = np.ascontiguousarray(np.random.default_rng(0).random((50, 200_000)))   # 76 MiB
    Y = (X[:1] > 0.5).astype(int)
    fastdnn.fit(X[:, :1000], Y[:, :1000], [50, 8, 1], 0.01, 1)     # compile outside
    tracemalloc.start()
    try:
        fastdnn.fit(X, Y, [50, 8, 1], 0.01, 2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.1 * X.nbytes, f"fit allocated {peak / 2**20:.1f} MiB beside X"


def test_fingerprints_hash_the_data_by_blocks_in_any_layout():
    img, Y = images(m=500)
    X = img.T / 255.
    assert data_fingerprint(img.T, Y, 255.0) == data_fingerprint(
        np.ascontiguousarray(img.T), Y, 255.0, block=1000)
    assert data_fingerprint(X, Y) == data_fingerprint(np.ascontiguousarray(X), Y, block=1000)
    # bytes and divisor are one representation, their quotient another
    assert data_fingerprint(img.T, Y, 255.0) != data_fingerprint(X, Y)
    assert data_fingerprint(img.T, Y, 255.0) != data_fingerprint(img.T, Y, 256.0)
    assert legacy_fingerprint(img.T, Y, 255.0) == legacy_fingerprint(X, Y)


def test_a_bad_divisor_is_refused():
    img, Y = images(m=50)
    with pytest.raises(ValueError, match="x_divisor must be > 0"):
        fastdnn.fit(img.T, Y, [40, 4, 1], 0.1, 1, x_divisor=0.0)


@pytest.mark.slow
def test_training_loop_allocates_nothing_per_iteration(tmp_path):
    # Numba's allocation statistics: a run of 990 steps allocates nothing, nor does a run of
    # 10, on both engine paths: the kernels run without reference counts (kernels/_jit.py),
    # so not even the arguments get wrappers at the call.
    out = run_python("""
        import numpy as np
        from numba.core.runtime import rtsys
        from fastdnn import initialize_parameters_deep
        from fastdnn import Trainer
        rng = np.random.default_rng(0)
        X = np.asfortranarray(rng.random((300, 50))); Y = (rng.random((1, 50)) > 0.5) * 1.0
        for gram in (False, True):
            t = Trainer(X, Y, initialize_parameters_deep([300, 6, 4, 1]), 0.01, gram=gram)
            c = np.empty(1000); t.run(c[:5])
            s0 = rtsys.get_allocation_stats(); t.run(c[:10])
            s1 = rtsys.get_allocation_stats(); t.run(c[:990])
            s2 = rtsys.get_allocation_stats()
            print(s1.alloc - s0.alloc, s2.alloc - s1.alloc, s2.alloc - s2.free - (s0.alloc - s0.free))
    """, {"NUMBA_NRT_STATS": "1"}, tmp_path)
    for line in out.splitlines():
        short, long_, leaked = map(int, line.split())
        assert short == long_ == 0, line     # nothing, whatever the number of iterations
        assert leaked == 0, line


def test_cat_training_peak_memory_is_close_to_the_data():
    rng = np.random.default_rng(0)
    X = np.asfortranarray(rng.random((12288, 209)))          # the cat data's size and layout
    Y = (rng.random((1, 209)) > 0.5).astype(np.int64)
    # Compile outside the measurement, on the same (Gram) path as the measured run: "auto"
    # would pick the direct path for 2 iterations, leaving the Gram kernels to compile (and
    # the compiler's allocations to be counted) inside the measurement on a cold cache.
    fastdnn.fit(X, Y, [12288, 20, 7, 5, 1], 0.0075, 2, gram=True)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    fastdnn.fit(X, Y, [12288, 20, 7, 5, 1], 0.0075, 300, gram=True)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    # X itself is 20.5 MB and is used in place; everything else (G, workspace, parameters,
    # costs) must stay well under it.
    assert peak < 0.5 * X.nbytes, (peak, X.nbytes)     # measured: 8.7 MB (0.42 x X)

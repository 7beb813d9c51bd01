"""Streaming X from an HDF5 file: the same bits as the run in memory, the file never loaded.

The in-memory run is the reference here (test_fit/test_optimizers check it against plain
numpy); a streamed run must give exactly its costs and parameters, through every window
split, optimizer, output layer and data type.
"""
import os
import subprocess
import sys
import textwrap

import h5py
import numpy as np
import pytest

import fastdnn
from fastdnn.engine.settings import epoch_order
from fastdnn.engine.sources import streamed
from fastdnn.engine.inference import predictions, probabilities
from fastdnn.io.fingerprint import data_fingerprint, legacy_fingerprint


def _data(tmp_path, m=2600, n0=24, K=1, seed=0):
    """uint8 samples (m, n0) in a file (datasets 'x', chunked: read; 'xc', the same bytes
    contiguous: mapped; 'xf' = x / 255 in float64, contiguous), labels for K outputs, and the
    in-memory X (n0, m), a view of the bytes."""
    rng = np.random.default_rng(seed)
    raw = rng.integers(0, 256, (m, n0), dtype=np.uint8)
    Y = rng.integers(0, 3, m) if K > 1 else (rng.random((1, m)) > 0.5).astype(float)
    path = str(tmp_path / "data.h5")
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=raw.reshape(m, n0 // 3, 3), chunks=(64, n0 // 3, 3))
        f.create_dataset("xc", data=raw.reshape(m, n0 // 3, 3))
        f.create_dataset("xf", data=raw / 255.)
    return path, raw.T, Y


def _same(a, b):
    assert np.array_equal(a.costs, b.costs), (a.costs, b.costs)
    for k in a.parameters:
        assert np.array_equal(a.parameters[k], b.parameters[k]), k


@pytest.mark.parametrize("window_bytes", [streamed.WINDOW_BYTES, 1])
@pytest.mark.parametrize("opts", [
    {},
    {"optimizer": "adam", "mini_batch_size": 300, "shuffle_block": 512, "keep_prob": 0.8,
     "lambd": 0.3},
    {"optimizer": "momentum", "mini_batch_size": 1500, "shuffle_block": 100},
])
def test_streamed_bytes_train_to_the_same_bits_as_in_memory(tmp_path, monkeypatch, opts,
                                                            window_bytes):
    # window_bytes 1: one tile a job, so every chunk arrives in many windows.
    monkeypatch.setattr(streamed, "WINDOW_BYTES", window_bytes)
    path, X, Y = _data(tmp_path)
    dims = [24, 9, 5, 1]
    p = fastdnn.initialize_parameters_deep(dims)
    mem = fastdnn.fit(X, Y, dims, 0.05, 3, parameters=p, x_divisor=255.0, gram=False, **opts)
    for name in ("x", "xc"):                        # read into buffers; mapped
        _same(mem, fastdnn.fit((path, name), Y, dims, 0.05, 3, parameters=p, x_divisor=255.0,
                               **opts))
    with h5py.File(path, "r") as f:                  # an open dataset, same bits
        _same(mem, fastdnn.fit(f["x"], Y, dims, 0.05, 3, parameters=p, x_divisor=255.0,
                               **opts))


def test_streamed_floats_and_softmax_give_the_in_memory_bits(tmp_path, monkeypatch):
    monkeypatch.setattr(streamed, "WINDOW_BYTES", 1)
    path, X, Y = _data(tmp_path, K=3)
    Xf = np.asfortranarray(X / 255.)    # "xf" is contiguous: mapped, tiles views of the file
    dims = [24, 8, 3]
    p = fastdnn.initialize_parameters_deep(dims)
    _same(fastdnn.fit(Xf, Y, dims, 0.1, 3, parameters=p, gram=False),
          fastdnn.fit((path, "xf"), Y, dims, 0.1, 3, parameters=p))


def test_the_gram_path_streamed_builds_g_p0_and_w1_by_blocks_to_the_same_bits(tmp_path):
    # m small against n0: "auto" takes the Gram path, in memory and streamed alike
    path, X, Y = _data(tmp_path, m=200, n0=1500)
    dims = [1500, 7, 1]
    p = fastdnn.initialize_parameters_deep(dims)
    mem = fastdnn.fit(X, Y, dims, 0.05, 5, parameters=p, x_divisor=255.0)
    run = fastdnn.Trainer((path, "x"), Y, p, 0.05, x_divisor=255.0)
    G = run.gram_path.gw.G
    assert run.gram and np.array_equal(G, G.T)
    _same(mem, fastdnn.fit((path, "x"), Y, dims, 0.05, 5, parameters=p, x_divisor=255.0))
    _same(mem, fastdnn.fit((path, "xf"), Y, dims, 0.05, 5, parameters=p))


def test_predictions_and_fingerprints_are_the_same_from_a_file(tmp_path, monkeypatch):
    monkeypatch.setattr(streamed, "WINDOW_BYTES", 24 * 100)      # blocks of 100 rows
    path, X, Y = _data(tmp_path, K=3)
    dims = [24, 8, 3]
    p = fastdnn.initialize_parameters_deep(dims)
    assert np.array_equal(probabilities(X, p, 255.0), probabilities((path, "x"), p, 255.0))
    assert np.array_equal(predictions(X, p, 255.0), predictions((path, "x"), p, 255.0))
    assert data_fingerprint(X, Y, 255.0) == data_fingerprint((path, "x"), Y, 255.0)
    assert data_fingerprint(X / 255., Y) == data_fingerprint((path, "xf"), Y)
    assert data_fingerprint(X, Y) != data_fingerprint(X[:, ::-1], Y)


def test_a_run_checkpointed_in_memory_resumes_streamed_bit_for_bit(tmp_path):
    path, X, Y = _data(tmp_path)
    dims = [24, 9, 5, 1]
    whole = fastdnn.fit(X, Y, dims, 0.05, 6, x_divisor=255.0, gram=False)
    part = str(tmp_path / "part.h5")
    fastdnn.fit(X, Y, dims, 0.05, 3, x_divisor=255.0, gram=False, out=part)
    _same(whole, fastdnn.fit((path, "x"), Y, dims, 0.05, 6, x_divisor=255.0, resume=part))


def test_files_fingerprinted_before_streaming_still_resume(tmp_path):
    path, X, Y = _data(tmp_path)
    dims = [24, 9, 5, 1]
    part = str(tmp_path / "part.h5")
    fastdnn.fit(X / 255., Y, dims, 0.05, 2, gram=False, out=part)
    with h5py.File(part, "a") as f:     # as an earlier version wrote it (data divided first)
        f.attrs["data_fingerprint"] = legacy_fingerprint(X / 255., Y)
    whole = fastdnn.fit(X, Y, dims, 0.05, 4, x_divisor=255.0, gram=False)
    _same(whole, fastdnn.fit(X, Y, dims, 0.05, 4, x_divisor=255.0, gram=False, resume=part))
    with pytest.raises(ValueError, match="other training data"):
        fastdnn.fit(X[:, ::-1], Y, dims, 0.05, 4, x_divisor=255.0, gram=False, resume=part)


def _reference_block_order(seed, epoch, m, block):
    # The documented definition, written independently of epoch_order.
    rng = np.random.default_rng([seed, epoch])
    starts = np.arange(0, m, block)[rng.permutation(len(range(0, m, block)))]
    parts = []
    for s in starts:
        size = min(block, m - s)
        parts.append(s + rng.permutation(size))
    return np.concatenate(parts)


@pytest.mark.parametrize("m,block", [(1000, 64), (1000, 1000), (1000, 3000), (7, 1)])
def test_block_shuffles_follow_their_definition(m, block):
    order = epoch_order(3, 5, m, block)
    assert np.array_equal(order, _reference_block_order(3, 5, m, block))
    assert np.array_equal(np.sort(order), np.arange(m))
    runs = order // block                           # each block's samples come together
    assert (np.diff(runs) != 0).sum() == -(-m // block) - 1


def test_streaming_errors_name_what_is_wrong(tmp_path):
    path, X, Y = _data(tmp_path)
    with pytest.raises(ValueError, match="24 values .* layers_dims\\[0\\] is 10"):
        fastdnn.fit((path, "x"), Y, [10, 4, 1], 0.1, 1)
    with pytest.raises(ValueError, match="shuffle_block"):
        fastdnn.fit((path, "x"), Y, [24, 4, 1], 0.1, 1, mini_batch_size=100)
    with pytest.raises(ValueError, match="'nope'"):
        fastdnn.fit((path, "nope"), Y, [24, 4, 1], 0.1, 1)
    with pytest.raises(ValueError, match="Y has shape"):
        fastdnn.fit((path, "x"), Y[:, :10], [24, 4, 1], 0.1, 1)
    with h5py.File(path, "a") as f:
        f["xf"][1234, 5] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity .*sample 1234, value 5"):
        fastdnn.fit((path, "xf"), Y, [24, 4, 1], 0.1, 1)


LIMITED = textwrap.dedent("""
    import resource, sys
    import numpy as np
    import fastdnn
    path, m, n0, limit_mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    Y = (np.arange(m) % 2).reshape(1, -1)
    fastdnn.fit((path, "x"), Y[:, :], [n0, 8, 1], 0.01, 1)        # compile, threads, buffers
    vm = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
    limit = vm + limit_mib * 2 ** 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        np.ones((m, n0))                   # the data in memory: more than the limit allows
        print("limit not binding")
        sys.exit(1)
    except MemoryError:
        pass
    costs = fastdnn.fit((path, "x"), Y, [n0, 8, 1], 0.01, 2).costs
    print("trained", costs[-1])
""")


@pytest.mark.slow
def test_a_file_larger_than_the_memory_limit_trains_under_it(tmp_path):
    # 96 MiB of float64 samples; the process may take 48 MiB more address space than it has
    # once warmed up: loading the data fails under that limit, streaming it trains.
    m, n0 = 24_576, 512
    path = str(tmp_path / "big.h5")
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as f:
        x = f.create_dataset("x", (m, n0), np.float64)
        for s in range(0, m, 4096):
            x[s:s + 4096] = rng.random((4096, n0))
    assert os.path.getsize(path) > 96 * 2 ** 20
    env = dict(os.environ, MALLOC_ARENA_MAX="2")     # no 64 MiB arena reserved per thread
    r = subprocess.run([sys.executable, "-c", LIMITED, path, str(m), str(n0), "48"],
                       capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("trained") and np.isfinite(float(r.stdout.split()[1]))


def test_contiguous_datasets_are_mapped_and_others_read(tmp_path):
    from fastdnn.io.hdf5 import H5Source
    path, X, Y = _data(tmp_path)
    contiguous, chunked = H5Source((path, "xf")), H5Source((path, "x"))
    mapping = contiguous.mapped()
    assert mapping is not None and chunked.mapped() is None
    assert np.array_equal(mapping.rows, X.T / 255.)
    mapping.fetch(10, 2000)
    mapping.release(10, 2000)                        # pages handed back, values still there
    assert np.array_equal(mapping.rows[10:2000], X.T[10:2000] / 255.)


@pytest.mark.parametrize("jobs", [1, 3])
def test_streamed_bits_do_not_depend_on_how_many_chunks_run_at_once(tmp_path, monkeypatch,
                                                                    jobs):
    # J follows Numba's thread count; the windows' grouping of chunks must not show in bits
    path, X, Y = _data(tmp_path)
    dims = [24, 9, 5, 1]
    p = fastdnn.initialize_parameters_deep(dims)
    mem = fastdnn.fit(X, Y, dims, 0.05, 2, parameters=p, x_divisor=255.0, gram=False)
    monkeypatch.setattr(streamed, "WINDOW_BYTES", 1)
    monkeypatch.setattr(streamed, "jobs_per_window", lambda T, samples: jobs)
    _same(mem, fastdnn.fit((path, "x"), Y, dims, 0.05, 2, parameters=p, x_divisor=255.0))


@pytest.mark.parametrize("opts", [{}, {"optimizer": "adam", "mini_batch_size": 900,
                                          "shuffle_block": 512}])
def test_a_float32_first_layer_summed_transposed_streams_to_the_in_memory_bits(
        tmp_path, monkeypatch, opts):
    # 80 units on 24 inputs take the BLAS; in float32 each chunk sums dW1 transposed
    # (kernels/codes.transposed_w1_sums), over windows of one tile as over the whole batch
    from fastdnn.kernels.codes import BLAS_OPENBLAS, transposed_w1_sums
    path, X, Y = _data(tmp_path)
    dims = [24, 80, 1]
    p = fastdnn.initialize_parameters_deep(dims)
    mem = fastdnn.fit(X, Y, dims, 0.05, 3, parameters=p, x_divisor=255.0, gram=False,
                      dtype=np.float32, **opts)
    assert transposed_w1_sums(80, 24, 256, 4, 1, BLAS_OPENBLAS)     # (the default BLAS)
    monkeypatch.setattr(streamed, "WINDOW_BYTES", 1)
    _same(mem, fastdnn.fit((path, "x"), Y, dims, 0.05, 3, parameters=p, x_divisor=255.0,
                           dtype=np.float32, **opts))


def test_a_rows_form_first_layer_summed_transposed_streams_to_the_in_memory_bits(
        tmp_path, monkeypatch):
    # 64 units on 24 inputs in the vector code, tiles of 128, sixteen chunks: each chunk
    # sums dW1^T from the transposed tile (kernels/codes.transposed_dw1), over windows of
    # one tile as over the whole batch
    from fastdnn.kernels.codes import CHUNKS, transposed_dw1
    path, X, Y = _data(tmp_path, m=2600)
    dims = [24, 64, 1]
    p = fastdnn.initialize_parameters_deep(dims)
    mem = fastdnn.fit(X, Y, dims, 0.05, 3, parameters=p, x_divisor=255.0, gram=False,
                      dtype=np.float32)
    assert transposed_dw1(64, 24, 128, 4, CHUNKS)
    monkeypatch.setattr(streamed, "WINDOW_BYTES", 1)
    _same(mem, fastdnn.fit((path, "x"), Y, dims, 0.05, 3, parameters=p, x_divisor=255.0,
                           dtype=np.float32))


@pytest.mark.parametrize("units", [32, 96])
def test_a_float32_first_layer_of_few_units_streams_to_the_in_memory_bits(tmp_path,
                                                                           monkeypatch, units):
    # few units on 402 inputs: dW1 in the rows form over blocks of samples
    # (kernels/codes.blocked_dw1), and with 32 units Z1 by rows from W1^T, which each chunk
    # transposes again for every window's segment: the bits of the whole batch in memory
    from fastdnn.kernels.codes import BLAS_OPENBLAS as OB, blocked_dw1, rows_z1
    path, X, Y = _data(tmp_path, m=1200, n0=402)
    dims = [402, units, 1]
    assert blocked_dw1(units, 402, 256, 4, OB) and rows_z1(units, 402, 256, 4, OB) == (units == 32)
    p = fastdnn.initialize_parameters_deep(dims)
    mem = fastdnn.fit(X, Y, dims, 0.05, 3, parameters=p, x_divisor=255.0, gram=False,
                      dtype=np.float32)
    monkeypatch.setattr(streamed, "WINDOW_BYTES", 1)
    _same(mem, fastdnn.fit((path, "x"), Y, dims, 0.05, 3, parameters=p, x_divisor=255.0,
                           dtype=np.float32))

"""fit on a Dask cluster (sources/cluster.py): the same bits as on one machine, for 1, 2 and 3
workers, full batch and mini-batches, arrays and files, and after a worker is killed."""
import os
import signal

import numpy as np
import pytest

import fastdnn

distributed = pytest.importorskip("distributed", reason="dask.distributed not installed "
                                  "(pip install 'fastdnn[dask]')")
pytestmark = pytest.mark.slow           # local clusters start processes

DIMS = [20, 16, 8, 1]
RUNS = {
    "full batch": dict(),
    "adam on batches": dict(optimizer="adam", mini_batch_size=700),
    "momentum, L2, dropout": dict(optimizer="momentum", mini_batch_size=1500, lambd=0.1,
                                  keep_prob=0.8),
}


def data(m=5000, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((20, m))
    noise = rng.standard_normal((1, m))
    return X, (X[:1] + 0.3 * X[1:2] + noise > 0).astype(np.int64)


def assert_same_run(a, b):
    np.testing.assert_array_equal(a.costs, b.costs)
    assert a.parameters.keys() == b.parameters.keys()
    for k in a.parameters:
        np.testing.assert_array_equal(a.parameters[k], b.parameters[k])


@pytest.fixture(scope="module", params=[1, 2, 3], ids=lambda n: f"{n} workers")
def client(request):
    cluster = distributed.LocalCluster(n_workers=request.param, threads_per_worker=1,
                                       processes=True, host="127.0.0.1",
                                       dashboard_address="127.0.0.1:0")
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.mark.parametrize("run", RUNS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_same_bits_as_one_machine(client, run, dtype):
    X, Y = data()
    kw = dict(RUNS[run], dtype=dtype)
    one = fastdnn.fit(X, Y, DIMS, 0.05, 5, gram=False, **kw)
    many = fastdnn.fit(X, Y, DIMS, 0.05, 5, cluster=client, **kw)
    assert_same_run(one, many)
    assert np.all(np.diff(many.costs) < 0) or run != "full batch"


def test_a_rows_form_first_layer_summed_transposed(client):
    # 64 units on 20 inputs in the vector code, tiles of 128, sixteen chunks: each chunk
    # sums dW1^T from the transposed tile (kernels/codes.transposed_dw1), on each worker as
    # on one machine
    from fastdnn.kernels.codes import CHUNKS, transposed_dw1
    assert transposed_dw1(64, 20, 128, 4, CHUNKS)
    X, Y = data()
    one = fastdnn.fit(X, Y, [20, 64, 1], 0.05, 4, gram=False, dtype=np.float32)
    many = fastdnn.fit(X, Y, [20, 64, 1], 0.05, 4, cluster=client, gram=False,
                       dtype=np.float32)
    assert_same_run(one, many)


@pytest.mark.parametrize("run", ["full batch", "adam on batches"])
def test_a_float32_first_layer_summed_transposed(client, run):
    # 80 units on 20 inputs take the BLAS: in float32 every chunk sums dW1 transposed
    # (kernels/codes.transposed_w1_sums, set by the shapes), on each worker as on one machine
    from fastdnn.kernels.codes import BLAS_OPENBLAS, transposed_w1_sums
    assert transposed_w1_sums(80, 20, 256, 4, 1, BLAS_OPENBLAS)     # (the default BLAS)
    X, Y = data()
    kw = dict(RUNS[run], dtype=np.float32)
    one = fastdnn.fit(X, Y, [20, 80, 1], 0.05, 4, gram=False, **kw)
    many = fastdnn.fit(X, Y, [20, 80, 1], 0.05, 4, cluster=client, **kw)
    assert_same_run(one, many)


@pytest.mark.parametrize("run", ["full batch", "adam on batches"])
def test_a_file_every_worker_reads(client, run, tmp_path):
    h5py = pytest.importorskip("h5py")
    X, Y = data()
    Xb = np.round((X - X.min()) / (X.max() - X.min()) * 255).astype(np.uint8)
    path = tmp_path / "x.h5"
    with h5py.File(path, "w") as f:
        f["x"] = Xb.T                                   # samples first
    kw = dict(RUNS[run], x_divisor=255.0)
    if run != "full batch":
        kw["shuffle_block"] = 64
    one = fastdnn.fit(Xb, Y, DIMS, 0.05, 4, gram=False, **kw)
    many = fastdnn.fit((str(path), "x"), Y, DIMS, 0.05, 4, cluster=client, **kw)
    assert_same_run(one, many)


@pytest.mark.parametrize("run", ["full batch", "adam on batches"])
def test_a_killed_worker_changes_nothing(client, run, tmp_path):
    X, Y = data()
    one = fastdnn.fit(X, Y, DIMS, 0.05, 12, gram=False, **RUNS[run])
    pids = client.run(os.getpid)
    killed = []

    def kill_a_worker(first, costs):
        if first == 4 and not killed:          # mid-run: the nanny starts a new worker
            pid = pids[sorted(pids)[-1]]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    many = fastdnn.fit(X, Y, DIMS, 0.05, 12, cluster=client, chunk=4, callback=kill_a_worker,
                       checkpoint=tmp_path / "c.h5", checkpoint_every=4, **RUNS[run])
    assert killed
    assert_same_run(one, many)
    client.wait_for_workers(len(pids), timeout=60)       # leave the cluster as it was


def test_resume_on_a_cluster_equals_one_run(client, tmp_path):
    X, Y = data()
    kw = RUNS["adam on batches"]
    one = fastdnn.fit(X, Y, DIMS, 0.05, 8, gram=False, **kw)
    fastdnn.fit(X, Y, DIMS, 0.05, 3, cluster=client, checkpoint=tmp_path / "c.h5", **kw)
    resumed = fastdnn.fit(X, Y, DIMS, 0.05, 8, cluster=client, resume=tmp_path / "c.h5", **kw)
    assert_same_run(one, resumed)


def test_the_workers_drop_the_run_when_it_ends(client):
    X, Y = data(m=600)
    fastdnn.fit(X, Y, DIMS, 0.05, 2, cluster=client)

    from fastdnn.engine.sources.shard import runs_held
    assert set(client.run(runs_held).values()) == {0}


# ---- clear errors -------------------------------------------------------------------------
def test_a_worker_that_cannot_open_the_file(client, tmp_path):
    h5py = pytest.importorskip("h5py")
    X, Y = data(m=600)
    path = tmp_path / "gone.h5"
    with h5py.File(path, "w") as f:
        f["x"] = X.T
    with h5py.File(path, "r") as f:          # the client has it open; the workers will not
        os.remove(path)
        with pytest.raises(ValueError, match="on a Dask worker: X: cannot read dataset "
                                             "'/x' of .*gone.h5"):
            fastdnn.fit(f["x"], Y, DIMS, 0.05, 2, cluster=client)


def test_unreachable_scheduler_and_wrong_types(monkeypatch):
    from fastdnn.engine.sources import cluster as cluster_source
    monkeypatch.setattr(cluster_source, "CONNECT_S", 1)     # the CLI's test waits the 10 s
    X, Y = data(m=600)
    with pytest.raises(ConnectionError, match="cannot reach the Dask scheduler at "
                                              "tcp://127.0.0.1:9"):
        fastdnn.fit(X, Y, DIMS, 0.05, 2, cluster="tcp://127.0.0.1:9")
    with pytest.raises(TypeError, match="cluster must be a dask.distributed.Client or a "
                                        "scheduler address"):
        fastdnn.fit(X, Y, DIMS, 0.05, 2, cluster=42)


def test_gram_is_refused_on_a_cluster(client):
    X, Y = data(m=600)
    with pytest.raises(ValueError, match="gram=True is not available with a cluster"):
        fastdnn.fit(X, Y, DIMS, 0.05, 2, cluster=client, gram=True)


def test_a_cluster_that_goes_away(monkeypatch):
    from fastdnn.engine.sources import cluster as cluster_source
    monkeypatch.setattr(cluster_source, "WAIT_S", 2)
    X, Y = data()
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address="127.0.0.1:0")
    client = distributed.Client(cluster)

    def stop_the_workers(first, costs):
        if first == 2:
            cluster.scale(0)

    try:
        with pytest.raises(ConnectionError, match="no Dask worker for this run for 2 s"):
            fastdnn.fit(X, Y, DIMS, 0.05, 6, cluster=client, chunk=2, callback=stop_the_workers)
    finally:
        client.close()
        cluster.close()


# ---- the command line and the benchmark ---------------------------------------------------
def test_cli_refuses_gram_on_with_a_scheduler():
    import subprocess
    r = subprocess.run(["fastdnn", "train", "--scheduler", "tcp://127.0.0.1:9", "--gram", "on"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert "--gram on runs on one machine; with --scheduler leave --gram auto" in r.stderr


def test_the_overhead_benchmark_reports_its_parts():
    from fastdnn.bench import cluster as bench_cluster
    from fastdnn.engine.tiles import tile_width
    r = bench_cluster.overhead(m=4 * tile_width(bench_cluster.LAYERS), workers=1, rounds=1)
    P = sum(a * b + b for a, b in zip(bench_cluster.LAYERS, bench_cluster.LAYERS[1:]))
    assert r["sent_bytes"] == P * 8 and r["received_bytes"] == r["chunks"] * (P + 1) * 8
    assert r["chunks"] == 4 and r["ratio"] == r["cluster_s"] / r["one_process_s"] > 0
    assert r["exchange_s"] > 0
    # the model's bounds: the same at the measured worker count, ordered beyond it
    assert bench_cluster.model(r, 1, False) == bench_cluster.model(r, 1, True)
    assert bench_cluster.model(r, 8, False) <= bench_cluster.model(r, 8, True)
    text = bench_cluster.table(r)
    assert "1 single-threaded Dask workers" in text and "N = 32" in text

"""Sweeps: local pool and Dask cluster, bit-identical to single runs, nothing lost on kills."""
import csv
import os
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest

import fastdnn
from fastdnn.io.model_file import load_model
from conftest import kill_once_written
from fastdnn.sweeps import expand_grid, run_name, sweep
from helpers import diverging, write_images


def digits():
    from fastdnn.io.datasets import embedded, load_flat
    X, Y, _, _ = load_flat(embedded("train_digits.h5"))
    Xt, Yt, _, _ = load_flat(embedded("test_digits.h5"))
    return X, Y, Xt, Yt


GRID = {"layers_dims": [[64, 8, 1], [64, 6, 4, 1]], "learning_rate": [0.05, 0.1],
        "num_iterations": [300]}


def assert_same_as_fit(record, X, Y):
    s = record["settings"]
    alone = fastdnn.fit(X, Y, s["layers_dims"], s["learning_rate"], s["num_iterations"],
                        dtype=s["dtype"])
    saved = load_model(record["model"])
    np.testing.assert_array_equal(saved["costs"], alone.costs)
    for k, w in alone.parameters.items():
        np.testing.assert_array_equal(saved["parameters"][k], w)
    assert record["final_cost"] == alone.costs[-1]


def test_the_sweeps_module_is_reachable_beside_the_function():
    import fastdnn.sweeps
    assert fastdnn.sweep is fastdnn.sweeps.sweep and fastdnn.sweeps.RETRIES >= 1
    r = fastdnn.sweeps.Record("run", {}, "ok", final_cost=0.5)
    assert r["final_cost"] == r.final_cost == 0.5 and r.as_dict()["status"] == "ok"


def test_grid_expansion_and_bad_grids():
    runs = expand_grid(GRID, 64)
    assert len(runs) == 4 and runs[0] == {"layers_dims": [64, 8, 1], "learning_rate": 0.05,
                                          "num_iterations": 300, "dtype": "float64"}
    assert len({run_name(r) for r in runs}) == 4
    for grid, words in [({"layers_dims": []}, "grid['layers_dims'] is empty"),
                        ({"layers_dims": [[64, 1]], "momentum": [0.9]}, "unknown keys"),
                        ({"layers_dims": [[64, 1]], "dtype": ["float16"]}, "float16"),
                        ({"layers_dims": [[32, 1]]}, "the data has 64 features"),
                        ({"layers_dims": [[64, 2]]}, "must end with 1"),
                        ({"layers_dims": [[64, 1]], "learning_rate": [-1.0]}, "> 0"),
                        ({"learning_rate": [0.1]}, "needs 'layers_dims'")]:
        with pytest.raises(ValueError, match="grid") as err:
            expand_grid(grid, 64)
        assert words in str(err.value)


@pytest.mark.slow
def test_local_sweep_is_bit_identical_to_single_fits(tmp_path):
    X, Y, Xt, Yt = digits()
    seen = []
    records = sweep(X, Y, GRID, X_test=Xt, Y_test=Yt, out=tmp_path, workers=2,
                    progress=seen.append)
    assert len(records) == len(seen) == 4
    assert all(r["status"] == "ok" for r in records)
    keys = [(-r["test_accuracy"], r["final_cost"]) for r in records]
    assert keys == sorted(keys)                                   # best first
    for r in records:
        assert_same_as_fit(r, X, Y)
        assert len(r["costs"]) == 3                              # every 100 iterations
    with open(tmp_path / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert sorted(row["run"] for row in rows) == sorted(r["run"] for r in records)
    best = load_model(str(tmp_path / "best.h5"))
    np.testing.assert_array_equal(best["parameters"]["W1"],
                                  load_model(records[0]["model"])["parameters"]["W1"])
    # Run again: everything is recorded, nothing runs.
    again = []
    sweep(X, Y, GRID, X_test=Xt, Y_test=Yt, out=tmp_path, progress=again.append)
    assert again == []


@pytest.mark.slow
def test_local_worker_killed_mid_sweep_is_retried(tmp_path):
    import multiprocessing
    X, Y, Xt, Yt = digits()
    grid = {"layers_dims": [[64, 8, 1]], "learning_rate": [0.01, 0.02, 0.03, 0.04],
            "num_iterations": [3000]}
    killed = []

    def kill_a_worker(record):
        if not killed:
            workers = multiprocessing.active_children()
            assert workers
            os.kill(workers[0].pid, signal.SIGKILL)
            killed.append(workers[0].pid)

    records = sweep(X, Y, grid, out=tmp_path, workers=2, progress=kill_a_worker)
    assert killed and len(records) == 4 and all(r["status"] == "ok" for r in records)
    with open(tmp_path / "results.csv") as f:
        assert sorted(row["run"] for row in csv.DictReader(f)) == sorted(r["run"] for r in records)
    for r in records:
        assert_same_as_fit(r, X, Y)


@pytest.mark.slow
def test_diverging_run_is_recorded_not_a_crash(tmp_path):
    X, Y = diverging()                                   # lr 10: inf at iteration 199
    records = sweep(X, Y, {"layers_dims": [[3, 4, 1]], "learning_rate": [0.05, 10.0],
                           "num_iterations": [300]}, out=tmp_path, workers=1)
    status = {r["settings"]["learning_rate"]: r["status"] for r in records}
    assert status == {0.05: "ok", 10.0: "diverged"}
    assert records[0]["status"] == "ok"                       # a diverged run ranks last
    with open(tmp_path / "results.csv") as f:
        assert {row["status"] for row in csv.DictReader(f)} == {"ok", "diverged"}


@pytest.mark.slow
def test_any_executor(tmp_path):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
    X, Y, _, _ = digits()
    grid = {"layers_dims": [[64, 5, 1]], "learning_rate": [0.05, 0.1], "num_iterations": [200]}
    # spawn: this process has run parallel kernels (GNU OpenMP), which a forked child can't.
    spawn = multiprocessing.get_context("spawn")
    for ex in (ThreadPoolExecutor(2), ProcessPoolExecutor(2, mp_context=spawn)):
        with ex:
            records = sweep(X, Y, grid, executor=ex, out=tmp_path / type(ex).__name__)
        for r in records:
            assert_same_as_fit(r, X, Y)


# ---- Dask ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed", reason="dask.distributed not installed "
                                      "(pip install 'fastdnn[dask]')")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address="127.0.0.1:0")
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.mark.slow
def test_dask_sweep_is_bit_identical_to_single_fits(tmp_path, dask_client):
    X, Y, Xt, Yt = digits()
    records = sweep(X, Y, GRID, X_test=Xt, Y_test=Yt, executor=dask_client, out=tmp_path)
    assert len(records) == 4 and all(r["status"] == "ok" for r in records)
    for r in records:
        assert_same_as_fit(r, X, Y)


@pytest.mark.slow
def test_dask_worker_killed_mid_sweep_is_retried(tmp_path, dask_client):
    X, Y, _, _ = digits()
    grid = {"layers_dims": [[64, 8, 1]], "learning_rate": [0.01, 0.02, 0.03, 0.04],
            "num_iterations": [3000]}
    pids = list(dask_client.run(os.getpid).values())
    killed = []

    def kill_a_worker(record):
        if not killed:
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    records = sweep(X, Y, grid, executor=dask_client, out=tmp_path, progress=kill_a_worker)
    assert killed and len(records) == 4 and all(r["status"] == "ok" for r in records)
    for r in records:
        assert_same_as_fit(r, X, Y)


# ---- command line -------------------------------------------------------------------------
SWEEP = ["fastdnn", "sweep", "--layers", "64,8,1", "--layers", "64,6,4,1",
         "--learning-rate", "0.01,0.02", "--iterations", "3000", "--workers", "1", "--quiet"]


@pytest.mark.slow
def test_cli_sweep_writes_results_best_model_and_plot(tmp_path):
    out = tmp_path / "s"
    r = subprocess.run(["fastdnn", "sweep", "--layers", "64,8,1", "--learning-rate",
                        "0.05,0.1", "--iterations", "200", "--out", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    with open(out / "results.csv") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == ["run", "layers", "learning_rate", "iterations", "dtype",
                                     "optimizer", "mini_batch_size", "beta", "beta1",
                                     "beta2", "epsilon", "lambd", "keep_prob", "seed",
                                     "shuffle_block", "final_cost", "train_accuracy", "test_accuracy",
                                     "seconds", "status", "model"]
        assert len(list(reader)) == 2
    assert (out / "sweep.png").stat().st_size > 1000
    p = subprocess.run(["fastdnn", "predict", "--model", str(out / "best.h5")],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0 and p.stdout.startswith("Accuracy: ")


@pytest.mark.slow
def test_cli_sweep_killed_and_rerun_runs_each_run_once(tmp_path):
    out = tmp_path / "s"
    cmd = SWEEP + ["--out", str(out)]
    proc = subprocess.Popen(cmd, start_new_session=True)
    results = out / "results.csv"
    kill_once_written(proc, results, group=True)             # the sweep and its workers
    with open(results) as f:
        first = {row["run"]: row for row in csv.DictReader(f)}
    assert 1 <= len(first) < 4
    stamps = {run: os.stat(out / row["model"]).st_mtime_ns for run, row in first.items()}
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    with open(results) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 and len({row["run"] for row in rows}) == 4
    for run, stamp in stamps.items():                         # finished runs were not redone
        assert os.stat(out / first[run]["model"]).st_mtime_ns == stamp


@pytest.mark.slow
@pytest.mark.parametrize("args, code, words", [
    (["--learning-rate", ""], 2, "--learning-rate"),
    (["--learning-rate", "0.1,x"], 2, "--learning-rate"),
    (["--dtype", "float16"], 2, "--dtype"),
    (["--iterations", "0"], 2, "--iterations"),
    (["--layers", "32,8,1"], 2, "--layers"),
    (["--layers", "64,8,2"], 2, "--layers"),
])
def test_cli_sweep_bad_options_fail_before_any_run(tmp_path, args, code, words):
    base = {"--layers": "64,8,1", "--learning-rate": "0.05", "--iterations": "100"}
    for i in range(0, len(args), 2):
        base[args[i]] = args[i + 1]
    cmd = ["fastdnn", "sweep", "--out", str(tmp_path / "s")]
    for k, val in base.items():
        cmd += [k, val]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == code and words in r.stderr, r.stderr
    assert not (tmp_path / "s" / "results.csv").exists()


@pytest.mark.slow
def test_cli_unreachable_scheduler_is_one_line_within_30_s(tmp_path):
    pytest.importorskip("distributed", reason="dask.distributed not installed")
    t0 = time.time()
    r = subprocess.run(["fastdnn", "sweep", "--layers", "64,8,1", "--learning-rate", "0.05",
                        "--iterations", "100", "--out", str(tmp_path / "s"),
                        "--scheduler", "tcp://127.0.0.1:9"], capture_output=True, text=True,
                       timeout=60)
    assert time.time() - t0 < 30
    assert r.returncode == 1 and r.stderr.strip().count("\n") == 0, r.stderr
    assert "tcp://127.0.0.1:9" in r.stderr


@pytest.mark.slow
def test_sweep_over_optimizer_options_matches_single_fits(tmp_path):
    X, Y, Xt, Yt = digits()
    grid = {"layers_dims": [[64, 8, 1]], "learning_rate": [0.01], "num_iterations": [3],
            "optimizer": ["gd", "adam"], "mini_batch_size": [None, 128], "keep_prob": [0.9]}
    records = sweep(X, Y, grid, X_test=Xt, Y_test=Yt, out=tmp_path / "s", workers=1)
    assert len(records) == 4 and all(r.status == "ok" for r in records)
    for r in records:
        opts = {k: r.settings[k] for k in ("optimizer", "mini_batch_size") if k in r.settings}
        alone = fastdnn.fit(X, Y, [64, 8, 1], 0.01, 3, keep_prob=0.9, **opts)
        np.testing.assert_array_equal(load_model(r.model)["costs"], alone.costs)
    with open(tmp_path / "s" / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert {(row["optimizer"], row["mini_batch_size"]) for row in rows} == {
        ("'gd'", "None"), ("'gd'", "128"), ("'adam'", "None"), ("'adam'", "128")}
    again = sweep(X, Y, grid, out=tmp_path / "s", workers=1)     # all recorded: none rerun
    assert sorted(r.run for r in again) == sorted(r.run for r in records)


@pytest.mark.slow
def test_cli_sweep_takes_lists_of_optimizer_options(tmp_path):
    out = tmp_path / "s"
    r = subprocess.run(["fastdnn", "sweep", "--layers", "64,8,1", "--learning-rate", "0.01",
                        "--iterations", "2", "--optimizer", "gd,adam", "--mini-batch-size",
                        "64,full", "--workers", "1", "--out", str(out), "--quiet"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    with open(out / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 and {row["status"] for row in rows} == {"ok"}


@pytest.mark.slow
def test_a_sweep_streams_each_run_from_the_file_with_the_in_memory_results(tmp_path):
    path = tmp_path / "train.h5"
    write_images(path, "train", 2600, image=(2, 4, 3))
    with h5py.File(path, "r") as f:
        X = f["train_set_x"][()].reshape(2600, -1).T              # (24, m) bytes
        Y = f["train_set_y"][()].reshape(1, -1)
    grid = {"layers_dims": [[24, 6, 1]], "learning_rate": [0.05, 0.1], "num_iterations": [3]}
    mem = fastdnn.sweep(X, Y, grid, workers=1, x_divisor=255.0)
    with h5py.File(path, "r") as f:        # an open dataset goes to the workers as a path
        streamed = fastdnn.sweep(f["train_set_x"], Y, grid, workers=1, x_divisor=255.0)
    assert [(r.run, r.final_cost, r.train_accuracy) for r in mem] == \
        [(r.run, r.final_cost, r.train_accuracy) for r in streamed]

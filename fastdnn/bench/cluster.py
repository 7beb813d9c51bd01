"""``fastdnn bench --cluster``: a full-batch step on a local Dask cluster against one process.

What it measures (best of ``rounds`` steps, after a warm-up step that compiles and places the
data): the step of [50, 64, 32, 1] on m samples in one process on every core, and on a local
cluster of ``workers`` single-threaded workers (NUMBA_NUM_THREADS=1 each); the exchange
alone (the same network on 16 tiles: every chunk's sums still cross, the compute is
negligible); the bytes a step sends and receives. From them, a model of N workers:
step(N) = compute on one thread / busy(N) + exchange, busy(N) = min(N, chunks).
"""
import os

import numpy as np

from . import timing

LAYERS = [50, 64, 32, 1]


def _data(m, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((LAYERS[0], m))
    return X, (X[:1] + 0.3 * X[1:2] > 0).astype(np.int64)


def _step_time(trainer, rounds):
    costs = np.empty(1)
    trainer.run(costs)                            # compile, place the data
    return min(timing.clock(lambda: trainer.run(costs)) for _ in range(rounds))


def _trainer(X, Y, cluster=None):
    import fastdnn
    return fastdnn.Trainer(X, Y, fastdnn.initialize_parameters_deep(LAYERS), 0.01,
                           gram=False, cluster=cluster)


def overhead(m=1_000_000, workers=2, rounds=3):
    """The measurements of the module's docstring, as a dict (seconds, bytes)."""
    from distributed import Client, LocalCluster

    from ..engine.tiles import chunks_for, tile_width
    X, Y = _data(m)
    one = _trainer(X, Y)
    one_s = _step_time(one, rounds)
    T = tile_width(LAYERS)
    chunks = chunks_for(T, m)
    P = one.net.theta.size
    del one
    Xs, Ys = _data(16 * T)
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address="127.0.0.1:0",
                      env={"NUMBA_NUM_THREADS": "1"}) as cluster, Client(cluster) as client:
        many = _trainer(X, Y, client)
        cluster_s = _step_time(many, rounds)
        many.close()
        del many
        small = _trainer(Xs, Ys, client)
        exchange_s = _step_time(small, max(rounds, 10))
        small.close()
    return {"m": m, "layers": LAYERS, "workers": workers, "threads": os.cpu_count(),
            "one_process_s": one_s, "cluster_s": cluster_s, "exchange_s": exchange_s,
            "chunks": chunks, "sent_bytes": workers * P * 8,
            "received_bytes": chunks * (P + 1) * 8,
            "ratio": cluster_s / one_s}


def model(result, n, growing):
    """Modelled step time on n single-threaded workers (each as fast as this run's): the
    compute on one thread over the busy workers, plus the exchange, either constant (a round
    trip's latency, the same for any n) or growing with n (every worker's task and sums
    handled one after another by the client): the two bounds of what a cluster would give."""
    compute_one_thread = (result["cluster_s"] - result["exchange_s"]) * result["workers"]
    busy = min(n, result["chunks"])
    scale = max(1.0, n / result["workers"]) if growing else 1.0
    return compute_one_thread / busy + result["exchange_s"] * scale


def table(result):
    r = result
    lines = [f"full-batch step, {r['layers']}, m = {r['m']:,}, float64",
             f"one process, {r['threads']} threads:           {r['one_process_s'] * 1e3:8.1f} ms",
             f"{r['workers']} single-threaded Dask workers: {r['cluster_s'] * 1e3:8.1f} ms "
             f"({r['ratio']:.2f}x)",
             f"exchange alone (16 tiles):        {r['exchange_s'] * 1e3:8.1f} ms; per step "
             f"{r['sent_bytes'] / 1e3:.0f} kB out, {r['received_bytes'] / 1e3:.0f} kB back",
             f"modelled step on N single-threaded workers (compute / min(N, {r['chunks']} "
             "chunks) + exchange constant | growing with N):"]
    for n in (1, 2, 8, 16, 32):
        fixed, grow = model(r, n, False), model(r, n, True)
        lines.append(f"  N = {n:2}: {fixed * 1e3:7.1f} | {grow * 1e3:7.1f} ms, "
                     f"{model(r, 1, False) / fixed:5.2f}x | {model(r, 1, True) / grow:5.2f}x "
                     "one worker")
    return "\n".join(lines)

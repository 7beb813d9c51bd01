"""Memory: what a training run adds to the process, beside its data (``fastdnn bench
--memory``, asv ``bench_memory``).

Three measures, each in a fresh interpreter so that nothing else shares the process:
``cli_peak``: the peak resident memory of ``fastdnn train`` on a generated course-layout image
file (``write_images``: fixed seed, written by blocks, never stored in the repository), its
images in memory or streamed from the file; ``stream_speed``: an iteration's time streamed
from a file in the page cache against the same run in memory;
``fit_added``: the peak resident memory of ``fastdnn.fit`` (or of the same two full-batch
steps in PyTorch or JAX) minus the resident memory before the call, the libraries loaded and
warmed up, X in memory.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

from .start import fresh_python

IMAGE = (64, 64, 3)                  # the course's cat images


def write_images(path, kind, m, seed=0, block=1000, image=IMAGE):
    """A course-layout HDF5 file of m random uint8 images (``{kind}_set_x``, contiguous as
    the course's files are) and 0/1 labels, written a block of images at a time."""
    from ..io.datasets import write_dataset
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, m)
    blocks = (rng.integers(0, 256, (min(block, m - i), *image), dtype=np.uint8)
              for i in range(0, m, block))
    write_dataset(path, kind, blocks, labels, [b"non-cat", b"cat"])


def _train_peak(folder, m, m_test, iterations, layers, stream):
    write_images(os.path.join(folder, "train_images.h5"), "train", m, seed=0)
    write_images(os.path.join(folder, "test_images.h5"), "test", m_test, seed=1)
    code = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = fresh_python(code, sys.executable, "-m", "fastdnn.cli", "train", "--data", folder,
                       "--layers", layers, "--iterations", str(iterations),
                       "--stream" if stream else "--no-stream", "--quiet", "--out",
                       os.path.join(folder, "m.h5"))
    return int(out.split()[-1]) / 1024


def cli_peak(m=20_000, m_test=2_000, iterations=3, layers="12288,20,7,5,1", stream=False):
    """Peak resident MiB of ``fastdnn train`` on m generated images (and the file's MiB);
    ``stream``: with --stream (the images read from the file as it trains). A first run on
    600 images fills Numba's cache, so that compiling is not counted."""
    with tempfile.TemporaryDirectory() as folder:
        _train_peak(folder, 600, 100, 1, layers, stream)
        peak = _train_peak(folder, m, m_test, iterations, layers, stream)
    return {"images": m, "data_mib": m * np.prod(IMAGE) / 2 ** 20, "stream": stream,
            "peak_mib": peak}


STREAM_SPEED = """
import json, sys
import numpy as np
import fastdnn
from fastdnn.bench.timing import paired_times
from fastdnn.io.datasets import image_source, load_images
path, rounds = sys.argv[1], int(sys.argv[2])
layers = [12288, 20, 7, 5, 1]
p = fastdnn.initialize_parameters_deep(layers)
trainers = []
for load in (load_images, image_source):
    X, Y, _, divisor = load(path)
    trainers.append(fastdnn.Trainer(X, Y, p, 0.0075, gram=False, x_divisor=divisor))
memory, file = paired_times(lambda: trainers[0].run(np.empty(1)),
                            lambda: trainers[1].run(np.empty(1)), rounds=rounds)
print(json.dumps({"memory": memory, "file": file}))
"""


def stream_speed(m=20_000, iterations=5):
    """Best seconds an iteration of [12288,20,7,5,1] on m generated images in memory and
    streamed from their file (in the page cache after the warm-up), in ``iterations`` paired
    rounds, and their ratio."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "train_images.h5")
        write_images(path, "train", m, seed=0)
        r = json.loads(fresh_python(STREAM_SPEED, path, str(iterations)))
    return {"images": m, "memory_s": r["memory"], "file_s": r["file"],
            "speed_ratio": r["memory"] / r["file"]}


FIT_ADDED = """
import json, resource, sys
import numpy as np
engine, m = sys.argv[1], int(sys.argv[2])
layers = [50, 64, 32, 1]
rng = np.random.default_rng(0)
X = rng.random((50, m))
Y = (X[:1] > 0.5).astype(np.float64)
from fastdnn.bench.memory import trainer
train = trainer(engine, layers)
train(np.ascontiguousarray(X[:, :2000]), Y[:, :2000])    # load, compile (same types), warm up
rss = lambda: int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize()
before = rss()
train(X, Y)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"engine": engine, "x_mib": X.nbytes / 2**20,
                  "added_mib": max(0, peak - before) / 2**20}))
"""


def trainer(engine, layers):
    """A function training ``layers`` for two full-batch steps of ``engine`` on (X, Y): the
    same network and algorithm in fastdnn, PyTorch or JAX (peers.py)."""
    import fastdnn
    from .peers import jax_model, torch_model
    if engine == "fastdnn":
        return lambda X, Y: fastdnn.fit(X, Y, layers, 0.01, 2)
    if engine == "torch":
        def torch_train(X, Y):
            step = torch_model(X, Y, layers)[2]
            step()
            step()
        return torch_train
    return lambda X, Y: jax_model(X, Y, layers)(2)


def fit_added(engine="fastdnn", m=1_000_000):
    """{engine, x_mib, added_mib}, or None when the engine is not installed."""
    try:
        return json.loads(fresh_python(FIT_ADDED, engine, str(m)))
    except subprocess.CalledProcessError as exc:
        if "No module named" in (exc.stderr or ""):
            return None
        raise


def rows(streamed_images=200_000):
    case = "fastdnn train, 12288,20,7,5,1, 3 iterations"
    out = [dict(cli_peak(), case=case + ", in memory"),
           dict(cli_peak(streamed_images, stream=True), case=case + ", streamed"),
           dict(stream_speed(), case="streamed from the page cache / in memory, per iteration")]
    for engine in ("fastdnn", "torch", "jax"):
        r = fit_added(engine)
        if r is not None:
            out.append(dict(r, case=f"{engine}: 2 full-batch steps, [50,64,32,1], m=1,000,000"))
    return out


def table(result):
    lines = []
    for r in result:
        if "speed_ratio" in r:
            lines.append(f"{r['case']}: {r['images']:,} images: {r['memory_s']:.3f} s in "
                         f"memory, {r['file_s']:.3f} s streamed: {100 * r['speed_ratio']:.0f}% "
                         "of the in-memory speed")
        elif "peak_mib" in r:
            lines.append(f"{r['case']}: {r['images']:,} images ({r['data_mib']:.0f} MiB of "
                         f"bytes): peak {r['peak_mib']:.0f} MiB")
        else:
            lines.append(f"{r['case']}: X {r['x_mib']:.0f} MiB, the run adds "
                         f"{r['added_mib']:.0f} MiB ({100 * r['added_mib'] / r['x_mib']:.1f}% "
                         "of X)")
    return "\n".join(lines)

"""Speed-ups over the course's numpy code, measured on this machine.

Shared by ``fastdnn bench`` and the asv suites (asv_benchmarks/), so both measure the same
cases the same way: inputs from ``case()``, best-of-N timing by ``best_time()`` (or, for a
ratio, ``paired_rounds()``: alternating rounds in one process, read by ``verdict()``) after a
warm-up call (JIT compilation is never timed), the numpy baseline from fastdnn.baseline.
``fastdnn bench`` runs each case in a fresh interpreter; start-up is in bench_start.py.
"""
import json
import os
import time

import numpy as np

import fastdnn
from . import baseline
from .data import flatten
from .bench_start import fresh_python, start_samples, start_summary
from .engine import gram_is_cheaper

SIZES = ("notebook", "cat", "wide")
FUNCTIONS = ("sigmoid", "relu", "sigmoid_backward", "relu_backward", "linear_forward",
             "linear_activation_forward", "L_model_forward", "compute_cost", "linear_backward",
             "linear_activation_backward", "L_model_backward", "update_parameters")
ELEMENTWISE = ("sigmoid", "relu", "sigmoid_backward", "relu_backward", "compute_cost")

# (n_prev, n, m) of one layer, and the network of L_model_* at each size.
LAYER = {"notebook": (3, 1, 2), "cat": (12288, 20, 209), "wide": (1024, 512, 2048)}
NETWORK = {"notebook": ([4, 3, 1], 2), "cat": ([12288, 20, 7, 5, 1], 209),
           "wide": ([1024, 512, 1], 2048)}
COST_M = {"notebook": 3, "cat": 209, "wide": 1 << 20}
CAT_LAYERS = [12288, 20, 7, 5, 1]


def _params(rng, dims, dtype):
    p = {}
    for l in range(1, len(dims)):
        p[f"W{l}"] = (rng.standard_normal((dims[l], dims[l - 1])) / np.sqrt(dims[l - 1])).astype(dtype)
        p[f"b{l}"] = (0.1 * rng.standard_normal((dims[l], 1))).astype(dtype)
    return p


def case(name, size, dtype=np.float64, seed=0):
    """The positional arguments of ``name`` at ``size`` (same for fastdnn and the baseline)."""
    rng = np.random.default_rng(seed)
    n_prev, n, m = LAYER[size]
    r = lambda *shape: rng.standard_normal(shape).astype(dtype)
    if name in ("sigmoid", "relu"):
        return (r(n, m),)
    if name in ("sigmoid_backward", "relu_backward"):
        return r(n, m), r(n, m)
    if name == "linear_forward":
        return r(n_prev, m), r(n, n_prev) / np.sqrt(n_prev).astype(dtype), r(n, 1)
    if name == "linear_activation_forward":
        return case("linear_forward", size, dtype, seed) + ("relu",)
    if name == "linear_backward":
        A, W, b = case("linear_forward", size, dtype, seed)
        return r(n, m), (A, W, b)
    if name == "linear_activation_backward":
        A, W, b = case("linear_forward", size, dtype, seed)
        return r(n, m), ((A, W, b), r(n, m)), "relu"
    if name == "compute_cost":
        mc = COST_M[size]
        return rng.uniform(0.01, 0.99, (1, mc)).astype(dtype), (rng.random((1, mc)) > 0.5).astype(dtype)
    dims, m = NETWORK[size]
    X = r(dims[0], m)
    params = _params(rng, dims, dtype)
    if name == "L_model_forward":
        return X, params
    AL, caches = baseline.L_model_forward(X, params)
    Y = (rng.random((1, m)) > 0.5).astype(dtype)
    if name == "L_model_backward":
        return AL, Y, caches
    if name == "update_parameters":
        grads = {"d" + k: r(*v.shape) for k, v in params.items()}
        return params, grads, 0.0075
    raise KeyError(name)


def best_time(fn, args=(), min_sample=0.02, repeat=5):
    """Best seconds per call of fn(*args) over ``repeat`` samples of >= min_sample seconds."""
    fn(*args)                                   # warm-up: compiles, fills caches
    number, t = 1, 0.0
    while True:
        t0 = time.perf_counter()
        for _ in range(number):
            fn(*args)
        t = time.perf_counter() - t0
        if t >= min_sample or number >= 1 << 20:
            break
        number *= max(2, int(min_sample / max(t, 1e-9)))
    best = t / number
    for _ in range(repeat - 1):
        t0 = time.perf_counter()
        for _ in range(number):
            fn(*args)
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def _first(x):
    return x[0] if isinstance(x, tuple) else x


def max_rel_diff(name, size, dtype=np.float64):
    """Largest |fastdnn - numpy| / max|numpy| over the function's main output."""
    args = case(name, size, dtype)
    ours = getattr(fastdnn, name)(*args)
    ref = getattr(baseline, name)(*case(name, size, dtype))
    if isinstance(ours, dict):
        return max(float(np.max(np.abs(ours[k] - ref[k])) / max(np.max(np.abs(ref[k])), 1e-300))
                   for k in ref)
    a, b = np.asarray(_first(ours), np.float64), np.asarray(_first(ref), np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def paired_rounds(f_a, f_b, args=(), min_sample=0.01, rounds=7):
    """Seconds per call of f_a(*args) and f_b(*args) in each of ``rounds`` alternating rounds:
    two arrays of length ``rounds``.

    Paired: each round times a batch of one, then a batch of the other, so a load that comes
    and goes on a shared machine hits both alike.
    """
    f_a(*args)                                  # warm-up: compiles, fills caches
    f_b(*args)
    number = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(number):
            f_a(*args)
        if time.perf_counter() - t0 >= min_sample or number >= 1 << 20:
            break
        number *= 2
    t_a, t_b = np.empty(rounds), np.empty(rounds)
    for r in range(rounds):
        t0 = time.perf_counter()
        for _ in range(number):
            f_a(*args)
        t1 = time.perf_counter()
        for _ in range(number):
            f_b(*args)
        t2 = time.perf_counter()
        t_a[r], t_b[r] = (t1 - t0) / number, (t2 - t1) / number
    return t_a, t_b


def paired_times(f_a, f_b, args=(), min_sample=0.01, rounds=7):
    """Best seconds per call of f_a(*args) and f_b(*args) over paired rounds (paired_rounds)."""
    t_a, t_b = paired_rounds(f_a, f_b, args, min_sample, rounds)
    return float(t_a.min()), float(t_b.min())


def verdict(t_a, t_b):
    """(low, high, word) for per-round times of a baseline (t_a) and fastdnn (t_b).

    low, high: the 10th and 90th percentiles of the per-round ratios t_a/t_b. word: "faster"
    when low > 1 (fastdnn ahead in nine rounds in ten), "slower" when high < 1, else
    "parity": the two are within this machine's round-to-round noise, as when both spend
    their time in the same BLAS call.
    """
    low, high = np.percentile(t_a / t_b, [10, 90])
    word = "faster" if low > 1 else "slower" if high < 1 else "parity"
    return float(low), float(high), word


def function_speedup(name, size, dtype=np.float64, min_sample=0.01, rounds=7):
    """(numpy seconds, fastdnn seconds) per call, paired (see paired_times)."""
    args = case(name, size, dtype)
    return paired_times(getattr(baseline, name), getattr(fastdnn, name), args,
                        min_sample=min_sample, rounds=rounds)


def function_row(name, size, dtype=np.float64, min_sample=0.01, rounds=15):
    """One row of the speed table: best times, their ratio, and the round-by-round verdict."""
    args = case(name, size, dtype)
    t_np, t_fd = paired_rounds(getattr(baseline, name), getattr(fastdnn, name), args,
                               min_sample, rounds)
    low, high, word = verdict(t_np, t_fd)
    return {"case": name, "size": size, "dtype": np.dtype(dtype).name,
            "numpy_s": float(t_np.min()), "fastdnn_s": float(t_fd.min()),
            "speedup": float(t_np.min() / t_fd.min()), "round_low": low, "round_high": high,
            "verdict": word}


def cat_shaped(real_dir=None):
    """(X, Y) for the cat model: the real data when ``real_dir`` has it, else synthetic."""
    if real_dir and os.path.exists(os.path.join(real_dir, "train_catvnoncat.h5")):
        tx, ty, _, _, _ = fastdnn.load_data(real_dir)
        return flatten(tx), ty
    rng = np.random.default_rng(0)
    X = rng.random((12288, 209))
    return X, (X[:1] > 0.5).astype(np.int64)


def _timed_fit(X, Y, layers, iterations, gram):
    """(seconds, FitResult) of fastdnn.fit, after a warm-up on the same path.

    "auto" is resolved first: for the 2-iteration warm-up it would pick the direct path and
    leave the timed run's kernels to compile inside the timing.
    """
    if gram == "auto":
        gram = gram_is_cheaper(layers, X.shape[1], iterations)
    fastdnn.fit(X, Y, layers, 0.0075, 2, gram=gram)
    t0 = time.perf_counter()
    result = fastdnn.fit(X, Y, layers, 0.0075, iterations, gram=gram)
    return time.perf_counter() - t0, result


def training_speedup(X, Y, layers=CAT_LAYERS, iterations=2500, numpy_iterations=20,
                     gram="auto"):
    """(numpy seconds, fastdnn seconds) for ``iterations`` of the course loop.

    The numpy loop is timed over ``numpy_iterations`` and scaled (its cost per iteration is
    constant); fastdnn runs all iterations, after a short warm-up run.
    """
    p0 = fastdnn.initialize_parameters_deep(layers)
    baseline.train(X, Y, p0, 0.0075, 1)
    t0 = time.perf_counter()
    baseline.train(X, Y, p0, 0.0075, numpy_iterations)
    t_np = (time.perf_counter() - t0) / numpy_iterations * iterations
    return t_np, _timed_fit(X, Y, layers, iterations, gram)[0]


def torch_training(X, Y, layers=CAT_LAYERS, iterations=2500, torch_iterations=50):
    """(PyTorch seconds, fastdnn seconds, max relative loss difference) for ``iterations`` of
    the same network on the CPU: same initial weights, full-batch plain SGD, float64, the
    course's cost (binary cross-entropy on the sigmoid output). None without torch.

    PyTorch is timed over ``torch_iterations`` and scaled (constant cost per iteration);
    the losses of those iterations are compared with fastdnn's.
    """
    from .bench_scale import torch_model
    try:
        import torch
        W, b, step = torch_model(X, Y, layers, np.float64, lr=0.0075)
    except ImportError:
        return None
    p0 = fastdnn.initialize_parameters_deep(layers)
    L = len(layers) - 1
    step()                                   # warm-up (then restart from the same weights)
    with torch.no_grad():
        for l in range(L):
            W[l].copy_(torch.from_numpy(p0[f"W{l + 1}"]))
            b[l].copy_(torch.from_numpy(p0[f"b{l + 1}"]))
    t0 = time.perf_counter()
    losses = np.array([step() for _ in range(torch_iterations)])
    t_torch = (time.perf_counter() - t0) / torch_iterations * iterations
    t_fd, result = _timed_fit(X, Y, layers, iterations, "auto")
    ours = result.costs[:torch_iterations]
    return t_torch, t_fd, float(np.max(np.abs(losses - ours) / np.abs(ours)))


# A local sweep on the embedded digits data: 2 layer sets x 4 learning rates.
SWEEP_GRID = {"layers_dims": [[64, 20, 7, 5, 1], [64, 8, 1]],
              "learning_rate": [0.0075, 0.01, 0.03, 0.1], "num_iterations": [4000]}


def sweep_speedup(workers=None, iterations=None):
    """(seconds one run at a time, seconds with ``workers`` processes, workers) for a local
    ``fastdnn.sweep`` of SWEEP_GRID on the embedded digits data (``iterations`` overrides the
    grid's). Both start their worker processes afresh: their start-up is part of the time,
    as it is for a user. One at a time, each run uses every core; with k workers, each run
    gets cores // k threads.
    """
    from .data import embedded, load_flat
    from .sweep import sweep
    X, Y, _, _ = load_flat(embedded("train_digits.h5"))
    grid = dict(SWEEP_GRID, num_iterations=[iterations or SWEEP_GRID["num_iterations"][0]])
    workers = workers or os.cpu_count() or 1
    seconds = []
    for k in (1, workers):
        t0 = time.perf_counter()
        sweep(X, Y, grid, workers=k)
        seconds.append(time.perf_counter() - t0)
    return seconds[0], seconds[1], workers


# One row of the speed table, measured by a fresh interpreter; it prints the row as JSON.
FRESH_ROW = ("import json, sys; from fastdnn import bench; "
             "print(json.dumps(bench.function_row(sys.argv[1], sys.argv[2], sys.argv[3])))")


def fresh_function_row(name, size, dtype="float64"):
    """function_row() measured in a fresh interpreter (the current Numba cache is shared).

    Why: both sides allocate the same large arrays, and where the allocator puts them (on
    huge pages or not: numpy asks for them above 4 MB) lasts for the life of a process and
    moves a BLAS-bound case by up to 4% either way. A long process drifts into such states;
    a fresh one per case starts every case from the same state, as asv does.
    """
    return json.loads(fresh_python(FRESH_ROW, name, size, str(dtype)))


def run_all(data_dir=None, sizes=SIZES, functions=FUNCTIONS, dtypes=("float64", "float32")):
    rows = [fresh_function_row(name, size, dtype)
            for dtype in dtypes for size in sizes for name in functions]
    X, Y = cat_shaped(data_dir)
    for label, fn in (("L_layer_model", CAT_LAYERS), ("two_layer_model", [12288, 7, 1])):
        t_np, t_fd = training_speedup(X, Y, fn)
        rows.append({"case": label, "size": "cat x2500", "dtype": "float64", "numpy_s": t_np,
                     "fastdnn_s": t_fd, "speedup": t_np / t_fd})
    torch_rows = []
    for label, layers in (("L_layer_model", CAT_LAYERS), ("two_layer_model", [12288, 7, 1])):
        got = torch_training(X, Y, layers)
        if got is not None:
            torch_rows.append({"case": label, "size": "cat x2500", "torch_s": got[0],
                               "fastdnn_s": got[1], "speedup": got[0] / got[1],
                               "max_rel_loss_diff": got[2]})
    cold = start_summary(start_samples(3, warm=False))
    warm = start_summary(start_samples(5, warm=True))
    return {"machine": {"cpus": os.cpu_count(), "fastdnn": fastdnn.__version__,
                        "numpy": np.__version__},
            "rows": rows, "torch_rows": torch_rows,
            "cold_start_s": cold["median_s"], "warm_start_s": warm["median_s"],
            "start": {"empty_cache": cold, "warm_cache": warm}}


def _table(result):
    lines = [f"{'case':28} {'size':10} {'dtype':8} {'numpy':>11} {'fastdnn':>11} {'speed-up':>9}"
             f"  {'rounds (10-90%)':>15}  verdict"]
    for r in result["rows"]:
        line = (f"{r['case']:28} {r['size']:10} {r['dtype']:8} {_fmt(r['numpy_s']):>11} "
                f"{_fmt(r['fastdnn_s']):>11} {r['speedup']:8.2f}x")
        if "verdict" in r:
            line += f"  {r['round_low']:6.2f}-{r['round_high']:<6.2f}x  {r['verdict']}"
        lines.append(line)
    for r in result.get("torch_rows", []):
        lines.append(f"{r['case'] + ' vs PyTorch CPU':28} {r['size']:10} {_fmt(r['torch_s']):>11} "
                     f"{_fmt(r['fastdnn_s']):>11} {r['speedup']:8.1f}x  (losses agree to "
                     f"{r['max_rel_loss_diff']:.1e})")
    for label, key in (("empty", "empty_cache"), ("warm", "warm_cache")):
        p = result["start"][key]
        spread = p["samples_s"]
        lines.append(f"start, {label} Numba cache: import + first L_model_forward "
                     f"{p['median_s']:.2f} s, median of {len(spread)} processes "
                     f"({spread[0]:.2f}-{spread[-1]:.2f} s; median's import {p['import_s']:.2f} s, "
                     f"first call {p['first_call_s']:.2f} s, whole process {p['process_s']:.2f} s)")
    return "\n".join(lines)


def _fmt(seconds):
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def main(args):
    """``fastdnn bench``: print the table (or JSON); optionally save a bar chart."""
    if getattr(args, "scale", False):
        from . import bench_scale
        rows = [bench_scale.scale_row(name, np.dtype(dt))
                for dt in ("float64", "float32") for name in bench_scale.SHAPES]
        print(json.dumps(rows, indent=2) if args.json else bench_scale.table(rows))
        return 0
    if getattr(args, "sweep", False):
        one, k, workers = sweep_speedup(args.workers)
        result = {"sweep_grid": SWEEP_GRID, "one_at_a_time_s": one, "workers": workers,
                  "parallel_s": k, "speedup": one / k}
        print(json.dumps(result, indent=2) if args.json else
              f"local sweep, {len(SWEEP_GRID['layers_dims']) * len(SWEEP_GRID['learning_rate'])}"
              f" runs of {SWEEP_GRID['num_iterations'][0]} iterations on the digits data: "
              f"{one:.2f} s one at a time, {k:.2f} s with {workers} workers: {one / k:.2f}x")
        return 0
    result = run_all(getattr(args, "data", None))
    print(json.dumps(result, indent=2) if args.json else _table(result))
    if args.plot:
        from .plot import _pyplot
        plt = _pyplot(required=True)
        rows = result["rows"]
        fig = plt.figure(figsize=(10, 0.28 * len(rows) + 1))
        plt.barh([f"{r['case']} ({r['size']})" for r in rows], [r["speedup"] for r in rows])
        plt.xscale("log")
        plt.axvline(1, color="k", lw=0.8)
        plt.xlabel("speed-up over the course's numpy code (x, log scale)")
        fig.tight_layout()
        fig.savefig(args.plot)
    return 0

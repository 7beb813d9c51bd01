"""``fastdnn bench``: the speed table against the course's numpy code (each case in a fresh
interpreter), whole training runs, start-up; or, with --scale, the engine against numpy,
PyTorch and JAX; with --tta, the time until a model is good; with --sweep, a local sweep's
speed-up."""
import json
import os

import numpy as np

import fastdnn
from .cases import CAT_LAYERS, FUNCTIONS, SIZES, cat_shaped
from .functions import fresh_function_row
from .start import start_samples, start_summary
from .sweep import SWEEP_GRID, sweep_speedup
from .training import torch_training, training_speedup


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


def table(result):
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


def _scale(args):
    from . import interleave, scale
    from ..runtime.blas import RATE_NOTE
    result = {"rates": {}, "rows": []}
    for dt in ("float64", "float32"):
        rates = result["rates"][dt] = scale.product_rates(np.dtype(dt))
        best = max(r["gflops"] for r in rates) * 1e9 / 2          # multiply-adds per second
        result["rows"] += [scale.scale_row(name, np.dtype(dt), rate=best)
                           for name in scale.SHAPES]
    result["interleaved"] = interleave.fresh_rows()
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for dt, rates in result["rates"].items():
        print(f"GEMM rates, {dt} ({RATE_NOTE}; the floor below uses the best):")
        print(scale.rates_table(rates))
    print(scale.table(result["rows"]))
    for r in result["interleaved"]:
        print(f"{r['case']:56} {r['ratio']:5.2f}x the same work alone")


def _sweep(args):
    one, k, workers = sweep_speedup(args.workers)
    result = {"sweep_grid": SWEEP_GRID, "one_at_a_time_s": one, "workers": workers,
              "parallel_s": k, "speedup": one / k}
    runs = len(SWEEP_GRID["layers_dims"]) * len(SWEEP_GRID["learning_rate"])
    print(json.dumps(result, indent=2) if args.json else
          f"local sweep, {runs} runs of {SWEEP_GRID['num_iterations'][0]} iterations on the "
          f"digits data: {one:.2f} s one at a time, {k:.2f} s with {workers} workers: "
          f"{one / k:.2f}x")


def _cluster(args):
    from . import cluster
    result = cluster.overhead(args.samples, args.workers or 2)
    print(json.dumps(result, indent=2) if args.json else cluster.table(result))


def _tta(args):
    from . import tta
    result = []
    for name in tta.DATASETS:
        data = tta.dataset(name, getattr(args, "data", None))
        if data is not None:
            result += tta.rows(name, data)
    if args.json:
        print(json.dumps({"rows": result, "fastdnn_over_best_peer": tta.summary(result)},
                         indent=2))
        return
    print(tta.table(result))
    for name, ratio in tta.summary(result).items():
        print(f"{name}: fastdnn's best time / the best peer's = "
              + ("-" if ratio is None else f"{ratio:.2f}"))


def _mlp(args):
    from . import mlp, scale
    from ..runtime.blas import RATE_NOTE
    result = mlp.rows()
    result["rates"] = {dt: scale.product_rates(np.dtype(dt)) for dt in ("float64", "float32")}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"CPU: {_cpu()}, {os.cpu_count()} cores")
    for dt, rates in result["rates"].items():
        print(f"GEMM rates, {dt} ({RATE_NOTE}):")
        print(scale.rates_table(rates))
    print(mlp.table(result))


def _cpu():
    """The CPU's model name (Linux), or the platform's processor string."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform
    return platform.processor() or "unknown CPU"


def _memory(args):
    from . import memory
    result = memory.rows()
    print(json.dumps(result, indent=2) if args.json else memory.table(result))


def _chart(rows, path):
    from ..plot import _pyplot
    plt = _pyplot(required=True)
    fig = plt.figure(figsize=(10, 0.28 * len(rows) + 1))
    plt.barh([f"{r['case']} ({r['size']})" for r in rows], [r["speedup"] for r in rows])
    plt.xscale("log")
    plt.axvline(1, color="k", lw=0.8)
    plt.xlabel("speed-up over the course's numpy code (x, log scale)")
    fig.tight_layout()
    fig.savefig(path)


def main(args):
    """``fastdnn bench``: print the table (or JSON); optionally save a bar chart."""
    from ..runtime.blas import kernel_blas
    if kernel_blas() == "mkl":
        from .peers import import_first
        import_first()                  # before the kernels' MKL: see import_first
    if getattr(args, "scale", False):
        _scale(args)
    elif getattr(args, "tta", False):
        _tta(args)
    elif getattr(args, "mlp", False):
        _mlp(args)
    elif getattr(args, "memory", False):
        _memory(args)
    elif getattr(args, "sweep", False):
        _sweep(args)
    elif getattr(args, "cluster", False):
        _cluster(args)
    else:
        if args.plot:
            from ..plot import _pyplot
            _pyplot(required=True)              # fail before measuring, not after
        result = run_all(getattr(args, "data", None))
        print(json.dumps(result, indent=2) if args.json else table(result))
        if args.plot:
            _chart(result["rows"], args.plot)
    return 0

"""What each ``fastdnn`` command does: train, sweep, predict, info (bench: fastdnn/bench/).

Each handler takes the parsed options (cli.py checked their form) and returns the exit code;
it raises UsageError for an option that does not fit the data (exit 2) and any other error
for a failure (exit 1, one line). Heavy imports happen inside the handler that needs them.
"""
import glob
import os
import sys

import numpy as np

from . import _validate as v
from ._version import __version__


class UsageError(ValueError):
    """An option's value does not fit the data (the command line exits 2 with its usage)."""


# ---- data ---------------------------------------------------------------------------------
def _pick(directory, prefix):
    found = sorted(glob.glob(os.path.join(directory, f"{prefix}*.h5")))
    if len(found) != 1:
        raise FileNotFoundError(f"{directory}: expected one {prefix}*.h5 file, found "
                                f"{[os.path.basename(p) for p in found]}")
    return found[0]


def _data_files(args, need_train=True):
    """(train_file, test_file) from --data/--train/--test, else the embedded dataset."""
    if getattr(args, "data", None):
        return (_pick(args.data, "train") if need_train else None), _pick(args.data, "test")
    train, test = getattr(args, "train", None), getattr(args, "test", None)
    if train or test:
        if (need_train and not train) or not test:
            raise UsageError("give both --train FILE and --test FILE (or --data DIR)")
        return train, test
    from .data import embedded
    name = getattr(args, "embedded", "digits")
    return embedded(f"train_{name}.h5"), embedded(f"test_{name}.h5")


# ---- train --------------------------------------------------------------------------------
def _layers(dims, n_x, n_out=1):
    """--layers (already parsed) checked against the data; default [n_x, 20, 7, 5, n_out]."""
    if dims is None:
        return [n_x, 20, 7, 5, n_out]
    try:
        return v.network_layers(dims, n_x, "--layers", n_out)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _optimizer(args):
    """fit's optimizer keyword arguments from the parsed options (values or lists)."""
    from .optim import FIT_OPTIONS
    return {k: getattr(args, k) for k in FIT_OPTIONS}


def _images(path, stream=None):
    """data.load_images' tuple, or image_source's (the images streamed from the file) when
    ``stream``; None: when they would take over half the available memory."""
    from .data import image_source, images_bytes, load_images
    from .streaming import should_stream
    if stream is None:
        stream = should_stream(images_bytes(path))
    return (image_source if stream else load_images)(path)


def cmd_train(args):
    from tqdm.auto import tqdm

    from .samples import output_units
    from .inference import accuracy
    from .plot import learning_curve
    from .training import fit

    if args.plot:
        from .plot import _pyplot
        _pyplot(required=True)           # fail before training, not after
    from .optim import settings
    if args.gram == "on" and not settings(**_optimizer(args)).plain:
        raise UsageError("--gram on carries only full-batch gradient descent without --lambd "
                         "or --keep-prob; leave --gram auto")
    train_file, test_file = _data_files(args)
    X, Y, classes, divisor = _images(train_file, args.stream)         # images stay bytes
    X_test, Y_test, _, test_divisor = _images(test_file, args.stream)
    dims = _layers(args.layers, X.shape[0], output_units(Y, classes))
    checkpoint = args.checkpoint or (os.path.splitext(args.out)[0] + ".ckpt.h5"
                                     if args.checkpoint_every else None)
    quiet = args.quiet or not sys.stderr.isatty()
    with tqdm(total=args.iterations, disable=quiet, unit="it", desc="training") as bar:
        def progress(start, costs):
            bar.n = start + costs.size
            bar.set_postfix(cost=f"{costs[-1]:.6f}")     # also refreshes the bar

        result = fit(X, Y, dims, args.learning_rate, args.iterations, dtype=args.dtype,
                     gram={"auto": "auto", "on": True, "off": False}[args.gram],
                     callback=progress, checkpoint=checkpoint,
                     checkpoint_every=args.checkpoint_every, resume=args.resume, out=args.out,
                     x_divisor=divisor, **_optimizer(args))
    params = result.parameters
    if not args.quiet:
        print(f"Train accuracy: {accuracy(X, Y, params, divisor):.6f}")
        print(f"Test accuracy: {accuracy(X_test, Y_test, params, test_divisor):.6f}")
        print(f"Model written to {args.out}")
    if args.plot:
        learning_curve(result.costs[::100], args.learning_rate, path=args.plot)
    return 0


# ---- sweep --------------------------------------------------------------------------------
def _dask_client(address):
    import logging
    try:
        from distributed import Client
    except ImportError:
        raise RuntimeError("--scheduler needs Dask: pip install 'fastdnn[dask]'") from None
    quiet = logging.getLogger("distributed")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)         # one line from us, not Dask's connection log
    try:
        return Client(address, timeout="10s")
    except (OSError, TimeoutError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConnectionError(f"cannot reach the Dask scheduler at {address}: {reason}") \
            from None
    finally:
        quiet.setLevel(level)


def _report(records, out, quiet):
    """The sweep's picture (when matplotlib is there) and its ten best runs."""
    try:
        from .sweeps.plot import sweep_plot
        sweep_plot(records, os.path.join(out, "sweep.png"))
    except ImportError:
        pass                                  # the plot extra is not installed
    if quiet:
        return
    print(f"{'run':44} {'status':8} {'final cost':>11} {'train':>7} {'test':>7}")
    for r in records[:10]:
        print(f"{r.run:44} {r.status:8} {r.final_cost:11.6f} {r.train_accuracy:7.4f} "
              f"{r.test_accuracy:7.4f}")
    print(f"Results in {os.path.join(out, 'results.csv')}; best model "
          f"{os.path.join(out, 'best.h5')}")


def cmd_sweep(args):
    from tqdm.auto import tqdm

    from .samples import output_units
    from .sweeps import RETRIES, expand_grid, run_name, sweep
    from .sweeps.records import finished_rows

    train_file, test_file = _data_files(args)
    X, Y, classes, divisor = _images(train_file, args.stream)     # images stay bytes
    X_test, Y_test, _, _ = _images(test_file, args.stream)
    n_out = output_units(Y, classes)
    layers = [_layers(dims, X.shape[0], n_out) for dims in (args.layers or [None])]
    grid = {"layers_dims": layers, "learning_rate": args.learning_rate,
            "num_iterations": args.iterations, "dtype": args.dtype, **_optimizer(args)}
    runs = expand_grid(grid, X.shape[0])
    recorded = finished_rows(os.path.join(args.out, "results.csv"))
    already = sum(run_name(s) in recorded for s in runs)
    if not args.quiet:
        print(f"{len(runs)} runs, {already} already recorded in {args.out}")
    client = _dask_client(args.scheduler) if args.scheduler else None
    quiet = args.quiet or not sys.stderr.isatty()
    try:
        with tqdm(total=len(runs), initial=already, disable=quiet, unit="run",
                  desc="sweep") as bar:
            records = sweep(X, Y, grid, X_test=X_test, Y_test=Y_test, executor=client,
                            out=args.out, workers=args.workers, x_divisor=divisor,
                            progress=lambda record: bar.update(1))
    finally:
        if client is not None:
            client.close()
    _report(records, args.out, args.quiet)
    failed = [r.run for r in records if r.status == "failed"]
    if failed:
        raise RuntimeError(f"{len(failed)} runs failed (their workers died {RETRIES} times): "
                           f"{', '.join(failed)}; run the command again to retry them")
    return 0


# ---- predict ------------------------------------------------------------------------------
def cmd_predict(args):
    from .inference import predictions
    from .model_file import load_parameters
    from .plot import print_mislabeled_images

    params = load_parameters(args.model)
    _, test_file = _data_files(args, need_train=False)
    # streamed when large (the mislabeled images' picture needs them in memory)
    X, Y, classes, divisor = _images(test_file, False if args.mislabeled else None)
    if X.shape[0] != params["W1"].shape[1]:
        raise ValueError(f"{test_file}: images have {X.shape[0]} features, the model expects "
                         f"{params['W1'].shape[1]}")
    p = predictions(X, params, divisor)
    print("Accuracy: " + str(np.sum((p == Y) / p.shape[1])))      # the course's predict line
    K = max(params[f"W{len(params) // 2}"].shape[0], 2)
    names = classes if classes is not None else np.array([str(k).encode() for k in range(K)])
    if args.predictions:
        lines = [names[int(k)].decode() if args.class_names else str(int(k)) for k in p.ravel()]
        with open(args.predictions, "w") as f:
            f.write("\n".join(lines) + "\n")
    if args.mislabeled:
        print_mislabeled_images(names, X, Y, p, path=args.mislabeled)
    return 0


# ---- info ---------------------------------------------------------------------------------
def _blas_lines():
    from .bench.rates import libraries_with_rates
    from .blas import held_back
    libs = libraries_with_rates()
    for lib in libs:
        rates = ", ".join(f"{lib[k]:.0f} GFLOP/s {k[:7]}" for k in ("float64_gflops",
                                                                    "float32_gflops") if lib[k])
        yield (f"BLAS ({lib['owner']}): {lib['internal_api']} {lib['version'] or ''}, "
               f"{lib['architecture'] or '?'} kernels, {lib['threads']} threads"
               f"{', ' + rates if rates else ''} ({lib['filepath']})")
    for line in held_back(libs):
        yield f"note: {line}"
    numpy_pools = [lib for lib in libs if lib["owner"] == "numpy" and lib["threads"] > 1]
    if numpy_pools and numpy_pools[0]["internal_api"] == "openblas" \
            and "OPENBLAS_THREAD_TIMEOUT" not in os.environ:
        yield ("note: after each multi-threaded numpy product, OpenBLAS's idle threads spin "
               "for up to ~0.1 s and slow a training run started at once; only you can end "
               "that: OPENBLAS_THREAD_TIMEOUT=4 set before numpy loads")


def cmd_info(args):
    import h5py
    import numba
    import scipy

    from . import kernels
    from ._threads import start_threads
    print(f"fastdnn {__version__}")
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, numba {numba.__version__}, "
          f"scipy {scipy.__version__}, h5py {h5py.__version__}")
    spin = start_threads()
    print(f"numba threads: {numba.get_num_threads()} (layer: {numba.threading_layer()}; "
          f"idle OpenMP threads spin for {spin})")
    for line in _blas_lines():
        print(line)
    print(f"numba cache: {kernels.CACHE_DIR or 'disabled (no writable cache directory)'}")
    return 0

"""The ``fastdnn`` command: train, sweep, predict, info, bench.

Exit codes: 0 success, 2 bad usage (argparse), 1 failure with a one-line error
(``--debug`` shows the traceback).
"""
import argparse
import glob
import os
import sys
import warnings

import numpy as np

from . import __version__


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
            raise ValueError("give both --train FILE and --test FILE (or --data DIR)")
        return train, test
    from .data import embedded
    return embedded("train_digits.h5"), embedded("test_digits.h5")


# ---- train --------------------------------------------------------------------------------
def _layers(text, n_x):
    if text is None:
        return [n_x, 20, 7, 5, 1]
    try:
        dims = [int(t) for t in text.split(",")]
    except ValueError:
        raise ValueError(f"--layers must be comma-separated integers, got {text!r}") from None
    if dims[0] != n_x:
        raise ValueError(f"--layers starts with {dims[0]} but the data has {n_x} features "
                         f"per image")
    if dims[-1] != 1:
        raise ValueError(f"--layers must end with 1 (one output unit), got {text!r}")
    return dims


def cmd_train(args):
    from tqdm.auto import tqdm

    from .app import accuracy
    from .data import load_flat
    from .plot import learning_curve
    from .training import fit

    if args.plot:
        from .plot import _pyplot
        _pyplot(required=True)           # fail before training, not after
    train_file, test_file = _data_files(args)
    X, Y, _, _ = load_flat(train_file)
    X_test, Y_test, _, _ = load_flat(test_file)
    dims = _layers(args.layers, X.shape[0])
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
                     checkpoint_every=args.checkpoint_every, resume=args.resume, out=args.out)
    params = result.parameters
    if not args.quiet:
        print(f"Train accuracy: {accuracy(X, Y, params):.6f}")
        print(f"Test accuracy: {accuracy(X_test, Y_test, params):.6f}")
        print(f"Model written to {args.out}")
    if args.plot:
        learning_curve(result.costs[::100], args.learning_rate, path=args.plot)
    return 0


# ---- sweep --------------------------------------------------------------------------------
def _list_of(kind, minimum=None):
    """An argparse type: comma-separated values of ``kind`` (errors name the option: exit 2)."""
    def parse(text):
        try:
            values = [kind(t) for t in text.split(",")]
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected comma-separated {kind.__name__} values, got {text!r}") from None
        if minimum is not None and any(x < minimum for x in values):
            raise argparse.ArgumentTypeError(f"values must be >= {minimum}, got {text!r}")
        return values
    return parse


def _dtypes(text):
    values = text.split(",")
    bad = [x for x in values if x not in ("float64", "float32")]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown dtype {bad[0]!r} (float64 or float32)")
    return values


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


def cmd_sweep(args):
    from tqdm.auto import tqdm

    from .data import load_flat
    from .sweep import RETRIES, expand_grid, read_results, run_name, sweep

    train_file, test_file = _data_files(args)
    X, Y, _, _ = load_flat(train_file)
    X_test, Y_test, _, _ = load_flat(test_file)
    layers = [_layers(text, X.shape[0]) for text in (args.layers or [None])]
    grid = {"layers_dims": layers, "learning_rate": args.learning_rate,
            "num_iterations": args.iterations, "dtype": args.dtype}
    runs = expand_grid(grid, X.shape[0])
    recorded = {row["run"] for row in read_results(os.path.join(args.out, "results.csv"))
                if row["status"] in ("ok", "diverged")}
    already = sum(run_name(s) in recorded for s in runs)
    if not args.quiet:
        print(f"{len(runs)} runs, {already} already recorded in {args.out}")
    client = _dask_client(args.scheduler) if args.scheduler else None
    quiet = args.quiet or not sys.stderr.isatty()
    try:
        with tqdm(total=len(runs), initial=already, disable=quiet, unit="run",
                  desc="sweep") as bar:
            records = sweep(X, Y, grid, X_test=X_test, Y_test=Y_test, executor=client,
                            out=args.out, workers=args.workers,
                            progress=lambda record: bar.update(1))
    finally:
        if client is not None:
            client.close()
    try:
        from .plot import sweep_plot
        sweep_plot(records, os.path.join(args.out, "sweep.png"))
    except ImportError:
        pass                                  # the plot extra is not installed
    if not args.quiet:
        print(f"{'run':44} {'status':8} {'final cost':>11} {'train':>7} {'test':>7}")
        for r in records[:10]:
            print(f"{r['run']:44} {r['status']:8} {r['final_cost']:11.6f} "
                  f"{r['train_accuracy']:7.4f} {r['test_accuracy']:7.4f}")
        print(f"Results in {os.path.join(args.out, 'results.csv')}; best model "
              f"{os.path.join(args.out, 'best.h5')}")
    failed = [r["run"] for r in records if r["status"] == "failed"]
    if failed:
        raise RuntimeError(f"{len(failed)} runs failed (their workers died {RETRIES} times): "
                           f"{', '.join(failed)}; run the command again to retry them")
    return 0


# ---- predict ------------------------------------------------------------------------------
def cmd_predict(args):
    from .app import predict
    from .data import load_flat
    from .model_file import load_parameters
    from .plot import print_mislabeled_images

    params = load_parameters(args.model)
    _, test_file = _data_files(args, need_train=False)
    X, Y, classes, _ = load_flat(test_file)
    if X.shape[0] != params["W1"].shape[1]:
        raise ValueError(f"{test_file}: images have {X.shape[0]} features, the model expects "
                         f"{params['W1'].shape[1]}")
    p = predict(X, Y, params)
    if args.predictions:
        np.savetxt(args.predictions, p.reshape(-1, 1).astype(int), fmt="%d")
    if args.mislabeled:
        names = classes if classes is not None else np.array([b"0", b"1"])
        print_mislabeled_images(names, X, Y, p, path=args.mislabeled)
    return 0


# ---- info ---------------------------------------------------------------------------------
def cmd_info(args):
    import h5py
    import numba
    import scipy

    from . import kernels
    print(f"fastdnn {__version__}")
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, numba {numba.__version__}, "
          f"scipy {scipy.__version__}, h5py {h5py.__version__}")
    print(f"numba threads: {numba.get_num_threads()} (layer: {numba.config.THREADING_LAYER})")
    try:
        from threadpoolctl import threadpool_info
        for pool in threadpool_info():
            print(f"{pool.get('user_api').upper()}: {pool.get('internal_api')} "
                  f"{pool.get('version') or ''} ({pool.get('num_threads')} threads) "
                  f"{pool.get('filepath')}")
    except ImportError:
        print("BLAS: install threadpoolctl to list the BLAS libraries in use")
    print(f"numba cache: {kernels.CACHE_DIR or 'disabled (no writable cache directory)'}")
    return 0


# ---- parser -------------------------------------------------------------------------------
def _parser():
    parser = argparse.ArgumentParser(prog="fastdnn", description="Train and use fastdnn models.")
    parser.add_argument("--version", action="version", version=f"fastdnn {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True)

    def data_options(p, need_train=True):
        p.add_argument("--data", metavar="DIR", help="folder with train*.h5 and test*.h5")
        if need_train:
            p.add_argument("--train", metavar="FILE", help="training file (course HDF5 layout)")
        p.add_argument("--test", metavar="FILE", help="test file (course HDF5 layout)")

    t = sub.add_parser("train", help="train a model (default: the embedded digits dataset)")
    data_options(t)
    t.add_argument("--layers", metavar="N0,N1,...,1", help="layer sizes (default N0,20,7,5,1)")
    t.add_argument("--iterations", type=int, default=2500, help="total iterations (default 2500)")
    t.add_argument("--learning-rate", type=float, default=0.0075, help="default 0.0075")
    t.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    t.add_argument("--gram", choices=["auto", "on", "off"], default="auto",
                   help="first-layer Gram path (default auto)")
    t.add_argument("--out", default="model.h5", help="model file to write (default model.h5)")
    t.add_argument("--checkpoint-every", type=int, default=0, metavar="N",
                   help="write a checkpoint every N iterations")
    t.add_argument("--checkpoint", metavar="FILE", help="checkpoint path (default OUT.ckpt.h5)")
    t.add_argument("--resume", metavar="FILE",
                   help="continue a run up to --iterations from its checkpoint or model file")
    t.add_argument("--plot", metavar="PNG", help="save the learning curve (needs matplotlib)")
    t.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    t.set_defaults(func=cmd_train)

    w = sub.add_parser("sweep", help="train every combination of settings, in parallel "
                       "(local processes or a Dask cluster)")
    data_options(w)
    w.add_argument("--layers", action="append", metavar="N0,N1,...,1",
                   help="a layer set (repeat for several; default N0,20,7,5,1)")
    w.add_argument("--learning-rate", type=_list_of(float, 1e-300), default=[0.0075],
                   metavar="LR[,LR...]", help="learning rates (default 0.0075)")
    w.add_argument("--iterations", type=_list_of(int, 1), default=[2500], metavar="N[,N...]",
                   help="iteration counts (default 2500)")
    w.add_argument("--dtype", type=_dtypes, default=["float64"], metavar="float64[,float32]")
    w.add_argument("--out", default="sweep", help="results folder (default ./sweep)")
    where = w.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="K",
                       help="local worker processes (default: one per core)")
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                       help="run on a Dask cluster (needs fastdnn[dask])")
    w.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    w.set_defaults(func=cmd_sweep)

    p = sub.add_parser("predict", help="predict with a saved model and print the accuracy")
    p.add_argument("--model", required=True, help="model file from 'fastdnn train'")
    data_options(p, need_train=False)
    p.add_argument("--predictions", metavar="FILE", help="write one 0/1 prediction per line")
    p.add_argument("--mislabeled", metavar="PNG", help="draw the misclassified images")
    p.set_defaults(func=cmd_predict)

    i = sub.add_parser("info", help="versions, threads, BLAS and the Numba cache location")
    i.set_defaults(func=cmd_info)

    b = sub.add_parser("bench", help="measure fastdnn's speed-ups over numpy on this machine")
    b.add_argument("--json", action="store_true", help="print JSON instead of a table")
    b.add_argument("--plot", metavar="PNG", help="bar chart of the speed-ups (needs matplotlib)")
    b.add_argument("--data", metavar="DIR", help="cat data folder for the training benchmark")
    b.add_argument("--scale", action="store_true",
                   help="instead: the training engine at scale against numpy, PyTorch and JAX")
    b.add_argument("--sweep", action="store_true",
                   help="instead: a local sweep with K workers against one run at a time")
    b.add_argument("--workers", type=int, metavar="K", help="with --sweep (default: cores)")
    b.set_defaults(func=lambda a: __import__("fastdnn.bench", fromlist=["main"]).main(a))
    return parser


def _one_line_warning(message, category, *args, **kwargs):
    print(f"fastdnn: warning: {message}", file=sys.stderr)


def main(argv=None):
    warnings.showwarning = _one_line_warning      # library warnings as one line, no source
    parser = _parser()
    args = parser.parse_args(argv)
    if getattr(args, "workers", None) is not None and args.workers < 1:
        parser.error("--workers must be >= 1")
    for name in ("iterations", "checkpoint_every"):
        value = getattr(args, name, 0)
        if isinstance(value, int) and value < 0:
            parser.error(f"--{name.replace('_', '-')} must be >= 0")
    try:
        code = args.func(args)
        sys.stdout.flush()           # a closed pipe shows up here, not at interpreter exit
        return code
    except KeyboardInterrupt:
        print("fastdnn: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:          # the reader went away (e.g. `fastdnn info | head -1`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:          # one line for users; --debug for developers
        if args.debug:
            raise
        print(f"fastdnn: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

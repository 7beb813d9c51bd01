"""What ``fastdnn train``, ``sweep`` and ``predict`` do (info: info.py; bench: fastdnn/bench/).

Each handler takes the parsed options (parser.py checked their form) and returns the exit
code; it raises UsageError for an option that does not fit the data (exit 2) and any other
error for a failure (exit 1, one line). Heavy imports happen inside the handler that needs
them.
"""
import os
import sys

import numpy as np

from .. import _validate as v
from .data import UsageError, data_files, images


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
    from ..engine.settings import FIT_OPTIONS
    return {k: getattr(args, k) for k in FIT_OPTIONS}


def cmd_train(args):
    from tqdm.auto import tqdm

    from ..engine.inference import accuracy
    from ..engine.sources.checks import output_units
    from ..engine.training import fit
    from ..plot import learning_curve

    if args.plot:
        from ..plot import _pyplot
        _pyplot(required=True)           # fail before training, not after
    from ..engine.settings import checked
    if args.gram == "on" and not checked(**_optimizer(args)).plain:
        raise UsageError("--gram on carries only full-batch gradient descent without --lambd "
                         "or --keep-prob; leave --gram auto")
    if args.gram == "on" and args.scheduler:
        raise UsageError("--gram on runs on one machine; with --scheduler leave --gram auto")
    train_file, test_file = data_files(args)
    X, Y, classes, divisor = images(train_file, args.stream)         # images stay bytes
    X_test, Y_test, _, test_divisor = images(test_file, args.stream)
    dims = _layers(args.layers, X.shape[0], output_units(Y, classes))
    checkpoint = args.checkpoint or (os.path.splitext(args.out)[0] + ".ckpt.h5"
                                     if args.checkpoint_every else None)
    quiet = args.quiet or not sys.stderr.isatty()
    with tqdm(total=args.iterations, disable=quiet, unit="it", desc="training") as bar:
        def progress(start, costs):
            bar.n = start + costs.size
            bar.set_postfix(cost=f"{costs[-1]:.6f}")     # also refreshes the bar

        client = _dask_client(args.scheduler) if args.scheduler else None
        try:
            result = fit(X, Y, dims, args.learning_rate, args.iterations, dtype=args.dtype,
                         gram={"auto": "auto", "on": True, "off": False}[args.gram],
                         callback=progress, checkpoint=checkpoint,
                         checkpoint_every=args.checkpoint_every, resume=args.resume,
                         out=args.out, x_divisor=divisor, cluster=client, **_optimizer(args))
        finally:
            if client is not None:
                client.close()
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
    from ..engine.sources.cluster import scheduler_client
    return scheduler_client(address, "--scheduler")


def _report(records, out, quiet):
    """The sweep's picture (when matplotlib is there) and its ten best runs."""
    try:
        from ..sweeps.plot import sweep_plot
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

    from ..engine.sources.checks import output_units
    from ..sweeps import RETRIES, expand_grid, run_name, sweep
    from ..sweeps.records import finished_rows

    train_file, test_file = data_files(args)
    X, Y, classes, divisor = images(train_file, args.stream)     # images stay bytes
    X_test, Y_test, _, _ = images(test_file, args.stream)
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
    from ..engine.inference import predictions
    from ..io.model_file import load_parameters
    from ..plot import print_mislabeled_images

    params = load_parameters(args.model)
    _, test_file = data_files(args, need_train=False)
    # streamed when large (the mislabeled images' picture needs them in memory)
    X, Y, classes, divisor = images(test_file, False if args.mislabeled else None)
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

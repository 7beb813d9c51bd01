"""The ``fastdnn`` command line's parser: every command and option (their values' rules:
options.py; what each command does: commands.py, info.py, fastdnn/bench/command.py)."""
import argparse

from .._version import __version__
from .commands import cmd_predict, cmd_sweep, cmd_train
from .info import cmd_info
from .options import (DTYPES, dtype, integer, learning_rate, list_of, option,
                      optimizer_options, parse_layers, path, scheduler)

# ---- the parser -----------------------------------------------------------------------------
def _data_options(p, need_train=True):
    p.add_argument("--data", metavar="DIR", type=option(path),
                   help="folder with train*.h5 and test*.h5")
    p.add_argument("--embedded", choices=["digits", "digits10"], default="digits",
                   help="without --data: the embedded digits as even vs odd (default) or as "
                   "the ten digits")
    if need_train:
        p.add_argument("--train", metavar="FILE", type=option(path),
                       help="training file (course HDF5 layout)")
    p.add_argument("--test", metavar="FILE", type=option(path),
                   help="test file (course HDF5 layout)")


def _stream_option(p):
    p.add_argument("--stream", action=argparse.BooleanOptionalAction, default=None,
                   help="read the images from their file while training instead of loading "
                   "them (the same results; default: when they would take over half of the "
                   "available memory)")


def _train_parser(sub):
    t = sub.add_parser("train", help="train a model (default: the embedded digits dataset)")
    _data_options(t)
    t.add_argument("--layers", metavar="N0,N1,...,1", type=option(parse_layers),
                   help="layer sizes (default N0,20,7,5,1)")
    t.add_argument("--iterations", type=option(integer(0)), default=2500,
                   help="total iterations (default 2500)")
    t.add_argument("--learning-rate", type=option(learning_rate), default=0.0075,
                   help="default 0.0075")
    t.add_argument("--dtype", choices=DTYPES, default="float64")
    t.add_argument("--gram", choices=["auto", "on", "off"], default="auto",
                   help="first-layer Gram path (default auto)")
    t.add_argument("--out", default="model.h5", type=option(path),
                   help="model file to write (default model.h5)")
    t.add_argument("--checkpoint-every", type=option(integer(0)), default=0, metavar="N",
                   help="write a checkpoint every N iterations")
    t.add_argument("--checkpoint", metavar="FILE", type=option(path),
                   help="checkpoint path (default OUT.ckpt.h5)")
    t.add_argument("--resume", metavar="FILE", type=option(path),
                   help="continue a run up to --iterations from its checkpoint or model file")
    t.add_argument("--plot", metavar="PNG", type=option(path),
                   help="save the learning curve (needs matplotlib)")
    _stream_option(t)
    t.add_argument("--scheduler", metavar="tcp://HOST:PORT", type=option(scheduler),
                   help="compute each step on a Dask cluster's workers, the same results "
                   "(needs fastdnn[dask]; a streamed file is read by every worker at its path)")
    t.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    optimizer_options(t)
    t.set_defaults(func=cmd_train, command_parser=t)


def _sweep_parser(sub):
    w = sub.add_parser("sweep", help="train every combination of settings, in parallel "
                       "(local processes or a Dask cluster)")
    _data_options(w)
    w.add_argument("--layers", action="append", metavar="N0,N1,...,1",
                   type=option(parse_layers),
                   help="a layer set (repeat for several; default N0,20,7,5,1)")
    w.add_argument("--learning-rate", type=option(list_of(learning_rate)), default=[0.0075],
                   metavar="LR[,LR...]", help="learning rates (default 0.0075)")
    w.add_argument("--iterations", type=option(list_of(integer(1))), default=[2500],
                   metavar="N[,N...]", help="iteration counts (default 2500)")
    w.add_argument("--dtype", type=option(list_of(dtype)), default=["float64"],
                   metavar="float64[,float32]")
    w.add_argument("--out", default="sweep", type=option(path),
                   help="results folder (default ./sweep)")
    where = w.add_mutually_exclusive_group()
    where.add_argument("--workers", type=option(integer(1)), metavar="K",
                       help="local worker processes (default: one per core)")
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT", type=option(scheduler),
                       help="run on a Dask cluster (needs fastdnn[dask])")
    _stream_option(w)
    w.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    optimizer_options(w, lists=True)
    w.set_defaults(func=cmd_sweep, command_parser=w)


def _predict_parser(sub):
    p = sub.add_parser("predict", help="predict with a saved model and print the accuracy")
    p.add_argument("--model", required=True, type=option(path),
                   help="model file from 'fastdnn train'")
    _data_options(p, need_train=False)
    p.add_argument("--predictions", metavar="FILE", type=option(path),
                   help="write one prediction (the class index) per line")
    p.add_argument("--class-names", action="store_true",
                   help="with --predictions: write the class names (list_classes) instead")
    p.add_argument("--mislabeled", metavar="PNG", type=option(path),
                   help="draw the misclassified images")
    p.set_defaults(func=cmd_predict, command_parser=p)


def _bench(args):
    from ..bench.command import main as bench_main    # the benchmarks load only when asked
    return bench_main(args)


def _bench_parser(sub):
    b = sub.add_parser("bench", help="measure fastdnn's speed-ups over numpy on this machine")
    b.add_argument("--json", action="store_true", help="print JSON instead of a table")
    b.add_argument("--plot", metavar="PNG", type=option(path),
                   help="bar chart of the speed-ups (needs matplotlib)")
    b.add_argument("--data", metavar="DIR", type=option(path),
                   help="cat data folder for the training benchmark")
    b.add_argument("--scale", action="store_true",
                   help="instead: the training engine at scale against numpy, PyTorch and JAX")
    b.add_argument("--tta", action="store_true",
                   help="instead: time to a target test accuracy, each optimizer against "
                   "PyTorch, JAX and scikit-learn (with --data: the cat data too)")
    b.add_argument("--mlp", action="store_true",
                   help="instead: per iteration against scikit-learn's MLPClassifier "
                   "(needs fastdnn[sklearn])")
    b.add_argument("--memory", action="store_true",
                   help="instead: peak memory of training on 20,000 generated images, and "
                   "what fit adds beside its data (against PyTorch and JAX)")
    b.add_argument("--sweep", action="store_true",
                   help="instead: a local sweep with K workers against one run at a time")
    b.add_argument("--cluster", action="store_true",
                   help="instead: a full-batch step on a local Dask cluster of K "
                   "single-threaded workers against one process (needs fastdnn[dask])")
    b.add_argument("--samples", type=option(integer(4096)), metavar="M", default=1_000_000,
                   help="with --cluster: samples (default 1,000,000)")
    b.add_argument("--workers", type=option(integer(1)), metavar="K",
                   help="with --sweep (default: cores) or --cluster (default 2)")
    b.set_defaults(func=_bench, command_parser=b)


def parser():
    """The ``fastdnn`` argument parser."""
    top = argparse.ArgumentParser(prog="fastdnn", description="Train and use fastdnn models.")
    top.add_argument("--version", action="version", version=f"fastdnn {__version__}")
    top.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = top.add_subparsers(dest="command", required=True)
    for add in (_train_parser, _sweep_parser, _predict_parser):
        add(sub)
    i = sub.add_parser("info", help="versions, threads, BLAS and the Numba cache location")
    i.set_defaults(func=cmd_info, command_parser=i)
    _bench_parser(sub)
    return top

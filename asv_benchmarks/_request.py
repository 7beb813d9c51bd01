"""Suites that run only on request: the peers (PyTorch, JAX, scikit-learn), time to accuracy
and the heavy memory runs take minutes each, too long for a dashboard over every commit.

    FASTDNN_ASV_ON_REQUEST=1 asv run --python=same --bench "peers_|bench_memory|TorchComparison"

Without the variable, their setup raises NotImplementedError: asv marks them skipped.
"""
import os

VARIABLE = "FASTDNN_ASV_ON_REQUEST"


def on_request(what):
    """Skip ``what`` (asv's NotImplementedError) unless FASTDNN_ASV_ON_REQUEST is set."""
    if not os.environ.get(VARIABLE):
        raise NotImplementedError(f"{what} runs on request: set {VARIABLE}=1")


def import_or_skip(name):
    """The module ``name``, or asv's skip when it is not installed."""
    try:
        return __import__(name)
    except ImportError:
        raise NotImplementedError(f"{name} is not installed") from None


class OneSample:
    """asv's settings for a benchmark whose value is already a measurement (a ratio, a rate,
    a time to accuracy): one round, one sample; minutes allowed."""
    timeout = 300
    rounds = 1
    repeat = 1

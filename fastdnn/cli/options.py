"""The command line's option values: each converter returns the value or raises naming the
value seen and what was expected, which argparse reports as a usage error (exit 2). Values
that fit's rules cover are checked by them (one rule in one place)."""
import argparse
import re

from .. import _validate as v
from ..engine import settings as run_settings

DTYPES = ("float64", "float32")


def option(convert):
    """An argparse type from ``convert(text)``; its ValueError/TypeError is a usage error."""
    def parse(text):
        try:
            return convert(text)
        except (ValueError, TypeError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    parse.__name__ = convert.__name__
    return parse


def integer(minimum):
    def integer(text):
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"expected an integer >= {minimum}, got {text!r}") from None
        return v.count(value, "the value", minimum)
    return integer


def learning_rate(text):
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"expected a number > 0, got {text!r}") from None
    return v.learning_rate(value, "the learning rate")


def parse_layers(text):
    """'N0,N1,...,1' as a list of positive integers (the CLI's and the sweep's one parser);
    how it must fit the data is _validate.network_layers."""
    try:
        dims = [int(t) for t in text.split(",")]
    except ValueError:
        raise ValueError(f"expected comma-separated integers like 64,20,1, got {text!r}") \
            from None
    return v.layer_dims(dims, "the layer sizes")


def path(text):
    if not text.strip():
        raise ValueError("expected a path, got an empty string")
    return text


def dtype(text):
    if text not in DTYPES:
        raise ValueError(f"expected one of {', '.join(DTYPES)}, got {text!r}")
    return text


def scheduler(text):
    if not re.fullmatch(r"([a-z][a-z0-9+]*://)?[^\s:/]+:\d+", text):
        raise ValueError(f"expected a scheduler address like tcp://HOST:PORT, got {text!r}")
    return text


def optimizer(text):
    return run_settings.checked(optimizer=text).optimizer


def _count_or(none_word, what):
    """A converter: an integer >= 1, or ``none_word`` (or 'none') for None."""
    def convert(text):
        if text.strip().lower() in (none_word, "none"):
            return None
        try:
            return v.count(int(text), what, 1)
        except ValueError:
            raise ValueError(f"expected an integer >= 1 or '{none_word}', got {text!r}") \
                from None
    convert.__name__ = what.replace(" ", "_")
    return convert


mini_batch_size = _count_or("full", "the mini-batch size")
shuffle_block = _count_or("none", "the shuffle block")


def _setting(name):
    """A converter for optimizer setting ``name`` (a float or an integer), checked as fit
    checks it."""
    def convert(text):
        try:
            value = int(text) if name == "seed" else float(text)
        except ValueError:
            raise ValueError(f"expected a number, got {text!r}") from None
        return getattr(run_settings.checked(**{name: value}), name)
    convert.__name__ = name
    return convert


# fit's optimizer options on the command line: (name, converter, help); defaults are fit's.
OPTIMIZER_OPTIONS = (
    ("optimizer", optimizer, "gd, momentum or adam"),
    ("mini_batch_size", mini_batch_size, "samples per mini-batch; 'full' (None): full batch"),
    ("beta", _setting("beta"), "momentum's beta"),
    ("beta1", _setting("beta1"), "Adam's beta1"),
    ("beta2", _setting("beta2"), "Adam's beta2"),
    ("epsilon", _setting("epsilon"), "Adam's epsilon"),
    ("lambd", _setting("lambd"), "L2 regularisation"),
    ("keep_prob", _setting("keep_prob"), "dropout's keep probability (1: none)"),
    ("seed", _setting("seed"), "seed of the shuffles and dropout masks"),
    ("shuffle_block", shuffle_block, "shuffle blocks of this many rows, then rows within "
     "them ('none': all rows; streamed mini-batches need it)"),
)


def optimizer_options(p, lists=False):
    """Add fit's optimizer options to ``p``; ``lists``: comma-separated lists (sweep)."""
    for name, convert, what in OPTIMIZER_OPTIONS:
        flag, default = "--" + name.replace("_", "-"), run_settings.FIT_DEFAULTS[name]
        text = f"{what} (default {default})"
        if lists:
            p.add_argument(flag, type=option(list_of(convert)), default=[default],
                           help=f"comma-separated values: {text}")
        else:
            p.add_argument(flag, type=option(convert), default=default, help=text)


def list_of(convert):
    def values(text):
        return [convert(t) for t in text.split(",")]
    values.__name__ = f"list of {convert.__name__}"
    return values

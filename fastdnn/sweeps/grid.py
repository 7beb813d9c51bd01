"""A sweep's grid: every combination of settings, checked once, in a fixed order, and named.

Guarantees: the same grid gives the same runs in the same order, each once; every run's
settings pass the same rules as ``fit`` (_validate.py); a run's name is a function of its
settings alone, so an interrupted sweep finds its finished runs again by name.
"""
import itertools

import numpy as np

from .. import _validate as v
from ..engine import settings as run_settings

BASE_KEYS = ("layers_dims", "learning_rate", "num_iterations", "dtype")
OPTION_KEYS = run_settings.FIT_OPTIONS                     # optimizer, mini_batch_size, ..., seed
GRID_KEYS = BASE_KEYS + OPTION_KEYS
DTYPES = ("float64", "float32")
DEFAULTS = {"learning_rate": [0.0075], "num_iterations": [3000], "dtype": ["float64"]}
OPTION_DEFAULTS = run_settings.FIT_DEFAULTS


def _values(grid, key):
    values = grid[key]
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        values = [values]
    values = list(values)
    if not values:
        raise ValueError(f"grid[{key!r}] is empty: give at least one value")
    return values


def _dtype_name(dt):
    name = str(np.dtype(dt)) if not isinstance(dt, str) else dt
    if name not in DTYPES:
        raise ValueError(f"grid['dtype'] entry {dt!r} is not one of {list(DTYPES)}")
    return name


def _checked(grid, n_x, n_out):
    """grid's lists, each value checked, missing keys filled with fit's defaults."""
    if not isinstance(grid, dict):
        raise TypeError(f"grid must be a dict of lists, got {type(grid).__name__}")
    unknown = sorted(set(grid) - set(GRID_KEYS))
    if unknown:
        raise ValueError(f"grid has unknown keys {unknown}; expected some of {list(GRID_KEYS)}")
    if "layers_dims" not in grid:
        raise ValueError("grid needs 'layers_dims': a list of layer lists like [n_x, 20, 1]")
    full = dict(DEFAULTS, **{k: _values(grid, k) for k in grid})
    options = {k: [getattr(run_settings.checked(**{k: x}), k) for x in full[k]]
               for k in OPTION_KEYS if k in full}         # each value checked as fit checks it
    return {
        "layers_dims": [v.network_layers(d, n_x, "grid['layers_dims'] entry", n_out)
                        for d in full["layers_dims"]],
        "learning_rate": [v.learning_rate(lr, "grid['learning_rate'] entry")
                          for lr in full["learning_rate"]],
        "num_iterations": [v.count(n, "grid['num_iterations'] entry", 1)
                           for n in full["num_iterations"]],
        "dtype": [_dtype_name(dt) for dt in full["dtype"]],
        **options,
    }


def expand_grid(grid, n_x, n_out=1):
    """The runs of ``grid``: a list of settings dicts, in a fixed order, checked.

    grid maps layers_dims (a list of layer lists), learning_rate, num_iterations, dtype and
    any of fit's optimizer options (optimizer, mini_batch_size, beta, beta1, beta2, epsilon,
    lambd, keep_prob, seed) to lists of values; missing keys take fit's defaults. Every
    layer list starts with n_x and ends with n_out (1, or K classes). A run's
    settings name its optimizer options only where they differ from the defaults.
    """
    checked = _checked(grid, n_x, n_out)
    keys = [k for k in GRID_KEYS if k in checked]
    runs = []
    for combo in itertools.product(*(checked[k] for k in keys)):
        settings = {k: x for k, x in zip(keys, combo)
                    if k in BASE_KEYS or x != OPTION_DEFAULTS[k]}
        if settings not in runs:
            runs.append(settings)
    return runs


def options_of(settings):
    """fit's optimizer keyword arguments of a run's settings."""
    return {k: settings[k] for k in OPTION_KEYS if k in settings}


def run_name(settings):
    """A stable, readable name for a run: its settings (also its model file's name); optimizer
    options appear only where they differ from the defaults."""
    extra = "".join(f"_{k}{settings[k]!r}".replace("'", "") for k in OPTION_KEYS
                    if k in settings)
    return (f"{'-'.join(map(str, settings['layers_dims']))}_lr{settings['learning_rate']!r}"
            f"_it{settings['num_iterations']}_{settings['dtype']}{extra}")

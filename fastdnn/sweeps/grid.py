"""A sweep's grid: every combination of settings, checked once, in a fixed order, and named.

Guarantees: the same grid gives the same runs in the same order, each once; every run's
settings pass the same rules as ``fit`` (_validate.py); a run's name is a function of its
settings alone, so an interrupted sweep finds its finished runs again by name.
"""
import itertools

import numpy as np

from .. import _validate as v

GRID_KEYS = ("layers_dims", "learning_rate", "num_iterations", "dtype")
DTYPES = ("float64", "float32")
DEFAULTS = {"learning_rate": [0.0075], "num_iterations": [3000], "dtype": ["float64"]}


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


def _checked(grid, n_x):
    """grid's lists, each value checked, missing keys filled with fit's defaults."""
    if not isinstance(grid, dict):
        raise TypeError(f"grid must be a dict of lists, got {type(grid).__name__}")
    unknown = sorted(set(grid) - set(GRID_KEYS))
    if unknown:
        raise ValueError(f"grid has unknown keys {unknown}; expected some of {list(GRID_KEYS)}")
    if "layers_dims" not in grid:
        raise ValueError("grid needs 'layers_dims': a list of layer lists like [n_x, 20, 1]")
    full = dict(DEFAULTS, **{k: _values(grid, k) for k in grid})
    return {
        "layers_dims": [v.network_layers(d, n_x, "grid['layers_dims'] entry")
                        for d in full["layers_dims"]],
        "learning_rate": [v.learning_rate(lr, "grid['learning_rate'] entry")
                          for lr in full["learning_rate"]],
        "num_iterations": [v.count(n, "grid['num_iterations'] entry", 1)
                           for n in full["num_iterations"]],
        "dtype": [_dtype_name(dt) for dt in full["dtype"]],
    }


def expand_grid(grid, n_x):
    """The runs of ``grid``: a list of settings dicts, in a fixed order, checked.

    grid maps layers_dims (a list of layer lists), learning_rate, num_iterations and dtype to
    lists of values; missing keys take fit's defaults (0.0075, 3000 and float64).
    """
    checked = _checked(grid, n_x)
    runs = []
    for combo in itertools.product(*(checked[k] for k in GRID_KEYS)):
        settings = dict(zip(GRID_KEYS, combo))
        if settings not in runs:
            runs.append(settings)
    return runs


def run_name(settings):
    """A stable, readable name for a run: its settings (also its model file's name)."""
    return (f"{'-'.join(map(str, settings['layers_dims']))}_lr{settings['learning_rate']!r}"
            f"_it{settings['num_iterations']}_{settings['dtype']}")

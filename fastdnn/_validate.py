"""Input checks at the API boundary: cheap, done once per call, with messages that name the
argument, the shape or type seen and the one expected."""
import math
import numbers

import numpy as np

_ACCEPTED_KINDS = "biuf"          # bool, signed, unsigned, float


def array(x, name, ndim=2):
    """``x`` as an ndarray of a real numeric dtype with ``ndim`` dimensions (no copy if possible)."""
    if type(x) is not np.ndarray:
        if isinstance(x, (str, bytes, dict)) or x is None:
            raise TypeError(f"{name} must be a numeric array, got {type(x).__name__}")
        try:
            x = np.asarray(x)
        except (ValueError, TypeError) as exc:
            raise TypeError(f"{name} must be a numeric array: {exc}") from None
    if x.dtype.kind not in _ACCEPTED_KINDS:
        raise TypeError(f"{name} must hold real numbers (bool, int or float), got dtype {x.dtype}")
    if x.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {x.shape}")
    return x


def compute_dtype(*arrays):
    """float32 when numpy would compute in float32 (or float16), else float64."""
    dt = np.result_type(*arrays)
    return np.dtype(np.float32) if dt in (np.float32, np.float16) else np.dtype(np.float64)


def c_array(x, dtype):
    """C-contiguous in ``dtype``; the same object when it already is."""
    if x.dtype == dtype and x.flags.c_contiguous:
        return x
    return np.ascontiguousarray(x, dtype=dtype)


def blas_array(x, dtype):
    """C- or F-contiguous in ``dtype`` (what a BLAS product takes without a copy)."""
    if x.dtype == dtype and (x.flags.c_contiguous or x.flags.f_contiguous):
        return x
    return np.ascontiguousarray(x, dtype=dtype)


def same_shape(a, a_name, b, b_name):
    if a.shape != b.shape:
        raise ValueError(f"{a_name} has shape {a.shape} but {b_name} has shape {b.shape}; "
                         "they must be equal")


def shape(x, name, expected, why):
    if x.shape != expected:
        raise ValueError(f"{name} has shape {x.shape}, expected {expected} ({why})")


def choice(value, name, table):
    """``table[value]``, or a ValueError listing the valid names."""
    try:
        return table[value]
    except (KeyError, TypeError):
        valid = ", ".join(repr(k) for k in table)
        raise ValueError(f"{name} must be one of {valid}, got {value!r}") from None


def real(x, name):
    """``x`` as a finite Python float (a step's learning rate in update_parameters)."""
    if type(x) is float and x - x == 0.0:      # fast path: a finite Python float
        return x
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__}")
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {x}")
    return float(x)


def learning_rate(lr, name="learning_rate"):
    """The one rule for a training run's learning rate (fit, fastdnn train, sweeps): a finite
    real number > 0."""
    if isinstance(lr, (bool, np.bool_)) or not isinstance(lr, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(lr).__name__}")
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {lr!r}")
    return float(lr)


def network_layers(dims, n_x, name="layers_dims", n_out=1):
    """``dims`` checked for a network on data with ``n_x`` features and ``n_out`` output
    units (1: a sigmoid for two classes; K: a softmax over K classes): >= 2 positive
    integers, starting with n_x and ending with n_out."""
    dims = layer_dims(dims, name)
    if dims[0] != n_x:
        raise ValueError(f"{name} {dims} starts with {dims[0]} but the data has {n_x} "
                         "features (rows of X)")
    if dims[-1] != n_out:
        what = "one output unit" if n_out == 1 else f"one output unit per class: {n_out}"
        raise ValueError(f"{name} {dims} must end with {n_out} ({what})")
    return dims


def count(value, name, minimum):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def layer_dims(dims, name="layer_dims"):
    """A list of >= 2 positive integers."""
    try:
        dims = list(dims)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of positive integers, got "
                        f"{type(dims).__name__}") from None
    if len(dims) < 2:
        raise ValueError(f"{name} needs at least 2 sizes (input and output), got {dims}")
    return [count(d, f"{name}[{i}]", 1) for i, d in enumerate(dims)]


_KEYS = {}     # L -> (("W1", "dW1"), ("b1", "db1"), ..., ("bL", "dbL")), built once per depth


def parameter_keys(L):
    """((parameter key, gradient key), ...) for an L-layer model, in W1, b1, W2, ... order."""
    keys = _KEYS.get(L)
    if keys is None:
        keys = _KEYS[L] = tuple((f"{p}{l}", f"d{p}{l}") for l in range(1, L + 1) for p in "Wb")
    return keys


def layer_count(parameters, name="parameters"):
    """L for a dict holding exactly W1, b1, ..., WL, bL; ValueError naming what is off."""
    if type(parameters) is dict and not len(parameters) % 2:      # fast path
        L = len(parameters) // 2
        for key, _ in parameter_keys(L):
            if key not in parameters:
                break
        else:
            return L
    if not isinstance(parameters, dict):
        raise TypeError(f"{name} must be a dict of W1, b1, ..., WL, bL, got "
                        f"{type(parameters).__name__}")
    n = len(parameters)
    if n == 0 or n % 2:
        raise ValueError(f"{name} must hold pairs W1, b1, ..., WL, bL; got {n} entries: "
                         f"{sorted(parameters)}")
    L = n // 2
    expected = {f"{p}{l}" for l in range(1, L + 1) for p in "Wb"}
    if set(parameters) != expected:
        missing = sorted(expected - set(parameters))
        extra = sorted(set(parameters) - expected)
        raise ValueError(f"{name} must hold W1, b1, ..., W{L}, b{L}; missing {missing}, "
                         f"unexpected {extra}")
    return L

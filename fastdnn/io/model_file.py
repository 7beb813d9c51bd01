"""Model files and checkpoints (HDF5): a documented layout, checksummed, written atomically.

Layout (format "fastdnn-model", version 2; version 1 files, without optimizer, still load)::

    /                       attrs: format, format_version, fastdnn_version, layer_dims,
                                   learning_rate, iterations_done, dtype, kind ("model" or
                                   "checkpoint"), data_fingerprint (runs from fit)
    /parameters/W1 .. WL    (n_l, n_{l-1})   attrs: sha256
    /parameters/b1 .. bL    (n_l, 1)         attrs: sha256
    /costs                  (iterations_done,) float64, the cost at every iteration
    /state/theta, /state/S  the engine's exact state (Trainer.state()): in checkpoints and in
                            model files written by fit/fastdnn train (absent from files saved
                            from plain parameters)
    /state/v, /state/s      the optimizer's moments (empty for gradient descent); attrs t
    /  attrs optimizer      (version 2) the run's optimizer settings, JSON (optim.Settings)

Guarantees: a file is either the previous good one or the complete new one (files.py); every
dataset's SHA-256 is checked on load, so corruption is reported rather than read. The data
fingerprint that a run records is fingerprint.py's.
"""
import hashlib
import json
import os

import h5py
import numpy as np

from .._version import __version__
from .files import replace_atomically

FORMAT, FORMAT_VERSION = "fastdnn-model", 2
READABLE_VERSIONS = (1, 2)


class ModelFileError(ValueError):
    """A model or checkpoint file is missing, truncated, corrupted or of another layout."""


def _sha256(array):
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def _put(group, name, array):
    ds = group.create_dataset(name, data=array)
    ds.attrs["sha256"] = _sha256(array)


def _get(path, group, name):
    if name not in group:
        raise ModelFileError(f"{path}: missing dataset {group.name.rstrip('/')}/{name}")
    ds = group[name]
    data = ds[()]
    if ds.attrs.get("sha256") != _sha256(data):
        raise ModelFileError(f"{path}: checksum mismatch in {ds.name}: the file is corrupted")
    return data


def write_atomic(path, fill):
    """Create the HDF5 file ``path`` by calling ``fill(h5file)``, atomically (files.py)."""
    def write(tmp):
        with h5py.File(tmp, "w") as f:
            fill(f)
            f.flush()
    replace_atomically(path, write)


def save_parameters(path, parameters, *, layer_dims=None, learning_rate=float("nan"),
                    costs=(), state=None, data_fingerprint="", kind="model", optimizer=None):
    """Write a model or checkpoint file atomically.

    parameters: dict W1, b1, ..., WL, bL. costs: the cost of every iteration done.
    state: Trainer.state() for an exact resume (model files from ``fit`` carry it too).
    kind: "model" (a finished run) or "checkpoint" (a run in progress).
    optimizer: the run's optimizer settings (a dict, optim.Settings.as_dict()), or None.
    """
    L = len(parameters) // 2
    if layer_dims is None:
        layer_dims = [parameters["W1"].shape[1]] + [parameters[f"W{l}"].shape[0]
                                                    for l in range(1, L + 1)]
    costs = np.asarray(costs, np.float64)

    def fill(f):
        f.attrs.update(format=FORMAT, format_version=FORMAT_VERSION, fastdnn_version=__version__,
                       layer_dims=np.asarray(layer_dims, np.int64), learning_rate=learning_rate,
                       iterations_done=costs.size, dtype=str(parameters["W1"].dtype),
                       kind=kind, data_fingerprint=data_fingerprint,
                       optimizer=json.dumps(optimizer) if optimizer is not None else "")
        g = f.create_group("parameters")
        for key in sorted(parameters):
            _put(g, key, parameters[key])
        _put(f, "costs", costs)
        if state is not None:
            s = f.create_group("state")
            _put(s, "theta", state["theta"])
            _put(s, "S", state["S"])
            _put(s, "v", state.get("v", np.zeros(0)))
            _put(s, "s", state.get("s", np.zeros(0)))
            s.attrs.update(gram=bool(state["gram"]), iteration=int(state["iteration"]),
                           t=int(state.get("t", state["iteration"])))

    write_atomic(path, fill)


def load_model(path):
    """Read and verify a model or checkpoint. Returns a dict: parameters, costs, layer_dims,
    learning_rate, dtype, kind, data_fingerprint, fastdnn_version, and state (or None)."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such model file")
    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("format") != FORMAT:
                raise ModelFileError(f"{path}: not a fastdnn model file (no '{FORMAT}' format tag)")
            if int(f.attrs.get("format_version", -1)) not in READABLE_VERSIONS:
                raise ModelFileError(f"{path}: model format version {f.attrs.get('format_version')}"
                                     f" is not supported (expected one of {READABLE_VERSIONS})")
            dims = [int(d) for d in f.attrs["layer_dims"]]
            if "parameters" not in f:
                raise ModelFileError(f"{path}: missing group /parameters")
            g = f["parameters"]
            params = {}
            for l in range(1, len(dims)):
                for p, shape in (("W", (dims[l], dims[l - 1])), ("b", (dims[l], 1))):
                    params[f"{p}{l}"] = _get(path, g, f"{p}{l}")
                    if params[f"{p}{l}"].shape != shape:
                        raise ModelFileError(f"{path}: /parameters/{p}{l} has shape "
                                             f"{params[f'{p}{l}'].shape}, expected {shape}")
            out = {"parameters": params, "costs": _get(path, f, "costs"), "layer_dims": dims,
                   "learning_rate": float(f.attrs["learning_rate"]), "dtype": str(f.attrs["dtype"]),
                   "kind": str(f.attrs["kind"]), "fastdnn_version": str(f.attrs["fastdnn_version"]),
                   "data_fingerprint": str(f.attrs.get("data_fingerprint", "")), "state": None,
                   "optimizer": json.loads(f.attrs.get("optimizer", "") or "null")}
            if "state" in f:
                s = f["state"]
                out["state"] = {"theta": _get(path, s, "theta"), "S": _get(path, s, "S"),
                                "gram": bool(s.attrs["gram"]), "iteration": int(s.attrs["iteration"])}
                if "v" in s:                                  # version 2: the optimizer's state
                    out["state"].update(v=_get(path, s, "v"), s=_get(path, s, "s"),
                                        t=int(s.attrs["t"]))
            return out
    except ModelFileError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise ModelFileError(f"{path}: unreadable model file ({exc.__class__.__name__}: {exc})") \
            from None


def load_parameters(path):
    """The parameters dict of a model or checkpoint file (verified)."""
    return load_model(path)["parameters"]

"""Datasets in the course's HDF5 layout: ``*_set_x`` (m, h, w, c) images, ``*_set_y`` (m,)
labels, optional ``list_classes``; read, written, and the embedded dataset. Errors name the
file and what is wrong with it."""
import os

import numpy as np


class DataFileError(ValueError):
    """A dataset file is missing, unreadable or not in the course's layout."""


def _key(f, path, suffix):
    keys = [k for k in f.keys() if k.endswith(suffix)]
    if len(keys) != 1:
        raise DataFileError(f"{path}: expected one dataset named '*{suffix}', found "
                            f"{sorted(f.keys())}")
    return keys[0]


def _read(path, images):
    """(x, name, y (1, m), classes or None) of a course-layout file: x the images (m, ...)
    when ``images``, else None (not read); name: the images' dataset."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such dataset file")
    import h5py          # here, not at import: `import fastdnn` stays light
    try:
        with h5py.File(path, "r") as f:
            name = _key(f, path, "_set_x")
            shape = f[name].shape
            x = f[name][()] if images else None          # read once: no second copy
            y = np.asarray(f[_key(f, path, "_set_y")][()])
            classes = np.array(f["list_classes"][:]) if "list_classes" in f else None
    except DataFileError:
        raise
    except (OSError, KeyError, TypeError) as exc:
        raise DataFileError(f"{path}: not a readable HDF5 dataset ({exc})") from None
    if len(shape) < 2 or y.ndim != 1 or shape[0] != y.shape[0]:
        raise DataFileError(f"{path}: images {shape} and labels {y.shape} do not match "
                            "(expected (m, ...) and (m,))")
    return x, name, y.reshape(1, -1), classes


def read_dataset(path):
    """Read one course-layout file. Returns ``(x (m, ...), y (1, m), classes or None)``."""
    x, _, y, classes = _read(path, images=True)
    return x, y, classes


def load_data(path="datasets"):
    """The course's loader: ``train_catvnoncat.h5`` and ``test_catvnoncat.h5`` under ``path``.

    Returns ``train_x_orig (m, 64, 64, 3), train_y (1, m), test_x_orig, test_y (1, m_test),
    classes`` (classes from the test file).
    """
    train_x, train_y, _ = read_dataset(os.path.join(path, "train_catvnoncat.h5"))
    test_x, test_y, classes = read_dataset(os.path.join(path, "test_catvnoncat.h5"))
    return train_x, train_y, test_x, test_y, classes


def embedded(name):
    """Path of a file of the embedded dataset: ``train_digits.h5``, ``test_digits.h5``,
    ``train_digits10.h5`` or ``test_digits10.h5`` (in fastdnn/io/embedded/)."""
    from importlib import resources
    return str(resources.files("fastdnn.io") / "embedded" / name)


def load_flat(path):
    """``(X (n_x, m) flattened and scaled, y (1, m), classes or None, images (m, ...))``."""
    x, y, classes = read_dataset(path)
    return flatten(x), y, classes, x


def load_images(path):
    """``(X (n_x, m), y (1, m), classes or None, 255.0)`` for training without a float copy:
    the images as stored (bytes stay bytes), X a view of them (flattened as the notebook
    does), and the divisor 255.0 (fit's and predict's x_divisor: the notebook's / 255 inside
    each tile, in float64: the same bits as dividing first)."""
    x, y, classes = read_dataset(path)
    return x.reshape(x.shape[0], -1).T, y, classes, 255.0


def image_source(path):
    """load_images' tuple with X an H5Source (hdf5.py): the images stay in the file."""
    from .hdf5 import H5Source
    _, name, y, classes = _read(path, images=False)
    return H5Source((path, name)), y, classes, 255.0


def images_bytes(path):
    """The bytes of a course-layout file's images (its ``*_set_x`` dataset)."""
    import h5py
    with h5py.File(path, "r") as f:
        x = f[_key(f, path, "_set_x")]
        return x.size * x.dtype.itemsize


def flatten(x_orig):
    """Images (m, ...) -> (n_x, m) scaled to [0, 1], as the notebook: reshape(m, -1).T / 255."""
    return x_orig.reshape(x_orig.shape[0], -1).T / 255.


def write_dataset(path, prefix, images, labels, classes=None):
    """Write a course-layout file atomically: ``{prefix}_set_x`` (m, ...) contiguous, as the
    course's files are (so ``fastdnn train --stream`` maps it), ``{prefix}_set_y`` (m,) and,
    when given, ``list_classes``.

    images: an array (m, ...), or an iterable of arrays (blocks of images, in order: a file
    larger than memory is written a block at a time); labels: (m,) or (1, m).
    """
    import h5py
    from .files import replace_atomically
    labels = np.asarray(labels).reshape(-1)
    blocks = [np.asarray(images)] if hasattr(images, "shape") else images

    def write(tmp):
        with h5py.File(tmp, "w") as f:
            x, i = None, 0
            for block in blocks:
                block = np.asarray(block)
                if x is None:
                    x = f.create_dataset(f"{prefix}_set_x", (labels.size, *block.shape[1:]),
                                         block.dtype)
                if i + len(block) > labels.size:
                    raise ValueError(f"images: more than the {labels.size} labels")
                x[i:i + len(block)] = block
                i += len(block)
            if i != labels.size:
                raise ValueError(f"images: {i} of them for {labels.size} labels")
            f.create_dataset(f"{prefix}_set_y", data=labels)
            if classes is not None:
                f.create_dataset("list_classes", data=np.asarray(classes))
    replace_atomically(path, write)

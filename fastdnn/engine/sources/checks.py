"""Training samples as the engine takes them: X checked (shape, finite values, by blocks of
columns), labels Y as the (K, m) targets of a K-output network, and the output units data
needs. Errors name the argument, the value seen and what was expected."""
import numpy as np

from ... import _validate as v


def output_units(Y, classes=None):
    """The output units a network needs: 1 for two classes (the course's sigmoid), K for
    K >= 3 (a softmax). K: len(classes) when given (a data file's list_classes), else from
    the labels Y: (K, m) one-hot, or integer labels 0..K-1."""
    Y = np.asarray(Y)
    if classes is not None:
        K = len(classes)
    elif Y.ndim == 2 and Y.shape[0] > 1:
        K = Y.shape[0]
    else:
        K = int(Y.max()) + 1 if Y.size and np.issubdtype(Y.dtype, np.number) else 2
    return K if K > 2 else 1


def labels(Y, K, m, name="Y"):
    """Y as the (K, m) targets of a K-output network: (1, m) 0/1 labels for K = 1; for K >= 2
    a (K, m) one-hot array, or integer class labels 0..K-1 of shape (m,) or (1, m)."""
    Y = v.array(Y, name, np.ndim(Y))
    if K >= 2 and (Y.ndim == 1 or Y.shape == (1, m)):
        flat = Y.reshape(-1)
        if flat.size != m or not np.isin(flat, np.arange(K)).all():
            raise ValueError(f"{name} must hold class labels 0..{K - 1} (one per sample, "
                             f"{m} of them) or be ({K}, {m}) one-hot; got shape {Y.shape} "
                             f"with values {np.unique(flat)[:10]}")
        onehot = np.zeros((K, m))
        onehot[flat.astype(np.int64), np.arange(m)] = 1.0
        return onehot
    if Y.ndim == 1:
        Y = Y.reshape(1, -1)
    if Y.ndim != 2:
        raise ValueError(f"{name} must be a ({K}, m) array of labels, got shape {Y.shape}")
    if Y.shape != (K, m):
        raise ValueError(f"{name} has shape {Y.shape}, expected {(K, m)} "
                         f"(one label per column of X, which has {m})")
    if not np.isin(Y, (0, 1)).all():
        raise ValueError(f"{name} must hold labels 0 or 1 only, found {np.unique(Y)[:10]}")
    if K >= 2 and not (Y.sum(axis=0) == 1).all():
        raise ValueError(f"{name} ({K}, m) must be one-hot: one 1 in each column")
    return Y


def all_finite(X, block=1 << 16):
    """Whether X (n0, m) holds no NaN or infinity, checked by blocks of columns (no X-sized
    temporary); returns the first bad (row, column) or None."""
    if X.dtype.kind in "biu":
        return None
    for j0 in range(0, X.shape[1], block):
        part = X[:, j0:j0 + block]
        ok = np.isfinite(part)
        if not ok.all():
            i, j = np.argwhere(~ok)[0]
            return int(i), int(j0 + j)
    return None


def check_training_data(X, Y, dims):
    """Validated (X, Y) for training: 2-D, same sample count, finite X, labels as ``labels``
    takes them (Y comes back (dims[-1], m))."""
    X = v.array(X, "X")
    if X.shape[0] != dims[0]:
        raise ValueError(f"X has {X.shape[0]} rows (features) but layers_dims[0] is {dims[0]}")
    Y = labels(Y, dims[-1], X.shape[1])
    bad = all_finite(X)
    if bad is not None:
        raise ValueError(f"X contains NaN or infinity (first at index {bad}); "
                         "clean the data before training")
    return X, Y


def check_streamed(source, Y, dims, settings):
    """Validated labels (dims[-1], m) for X streamed from ``source`` (io.hdf5.H5Source),
    whose rows are checked for NaN and infinity by blocks before any work."""
    if source.n0 != dims[0]:
        raise ValueError(f"X: the dataset's samples have {source.n0} values (shape "
                         f"{source.data.shape}) but layers_dims[0] is {dims[0]}")
    if settings is not None and settings.mini_batch_size is not None and \
            settings.shuffle_block is None:
        raise ValueError("mini-batches of a streamed X shuffle blocks of rows: pass "
                         "shuffle_block (e.g. 4096; the same in memory gives the same bits)")
    Y = labels(Y, dims[-1], source.m)
    bad = source.first_bad()
    if bad is not None:
        raise ValueError(f"X contains NaN or infinity (first at sample {bad[0]}, value "
                         f"{bad[1]}); clean the data before training")
    return Y

"""Optional plots (matplotlib, the ``fastdnn[plot]`` extra). Without matplotlib they do nothing
(learning_curve) or raise ImportError with the install hint (explicit plotting calls)."""
import os
import sys

import numpy as np


def _pyplot(required=False):
    try:
        import matplotlib
        if "matplotlib.pyplot" not in sys.modules and not os.environ.get("DISPLAY") \
                and not os.environ.get("MPLBACKEND") and sys.platform.startswith("linux"):
            matplotlib.use("Agg")        # headless: never try (and fail) to open a window
        import matplotlib.pyplot as plt
    except ImportError:
        if required:
            raise ImportError("plotting needs matplotlib: pip install 'fastdnn[plot]'") from None
        return None
    return plt


# Backends that only write files: plt.show() on them does nothing but warn.
_FILE_BACKENDS = {"agg", "cairo", "pdf", "pgf", "ps", "svg", "template"}


def _show(plt):
    # On a GUI backend plt.show() behaves as in the course; in a notebook it displays.
    if plt.get_backend().lower() not in _FILE_BACKENDS:
        plt.show()


def learning_curve(costs, learning_rate, path=None):
    """The course's plot: costs per hundred iterations. Saved to ``path`` if given."""
    plt = _pyplot(required=path is not None)
    if plt is None:
        return
    fig = plt.figure()
    plt.plot(np.squeeze(costs))
    plt.ylabel("cost")
    plt.xlabel("iterations (per hundreds)")
    plt.title("Learning rate =" + str(learning_rate))
    if path is not None:
        fig.savefig(path)
        plt.close(fig)
    else:
        _show(plt)


def _image_shape(n):
    """(side, side, 3) for square RGB images, (side, side) for square grey ones."""
    for channels in (3, 1):
        side = int(round((n / channels) ** 0.5))
        if side * side * channels == n:
            return (side, side, 3) if channels == 3 else (side, side)
    raise ValueError(f"X has {n} rows: not a flattened square RGB or grey image")


def print_mislabeled_images(classes, X, y, p, path=None):
    """Plot the images where prediction p and label y differ, titled with both class names.

    X: (n_x, m) flattened RGB images (square). y, p: (1, m). Saved to ``path`` if given.
    """
    plt = _pyplot(required=True)
    mislabeled = np.asarray(np.where(p != y))           # the course's p + y == 1, any K
    shape = _image_shape(X.shape[0])
    num = len(mislabeled[0])
    fig = plt.figure(figsize=(max(4.0, 2.0 * num), 4.0))
    for i in range(num):
        index = mislabeled[1][i]
        plt.subplot(2, num, i + 1)
        plt.imshow(X[:, index].reshape(shape), interpolation="nearest",
                   cmap="gray" if len(shape) == 2 else None)
        plt.axis("off")
        name = lambda k: classes[int(k)].decode("utf-8") if isinstance(classes[int(k)], bytes) \
            else str(classes[int(k)])
        plt.title("Prediction: " + name(p[0, index]) + " \n Class: " + name(y[0, index]))
    if path is not None:
        fig.savefig(path, bbox_inches="tight")
        plt.close(fig)
    else:
        _show(plt)

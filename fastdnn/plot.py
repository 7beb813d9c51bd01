"""Optional plots (matplotlib, the ``fastdnn[plot]`` extra). Without matplotlib they do nothing
(learning_curve) or raise ImportError with the install hint (explicit plotting calls)."""
import numpy as np


def _pyplot(required=False):
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        if required:
            raise ImportError("plotting needs matplotlib: pip install 'fastdnn[plot]'") from None
        return None
    return plt


def _show(plt):
    # plt.show() blocks only on interactive backends; on Agg & co it would just warn.
    import matplotlib
    from matplotlib import rcsetup
    if matplotlib.get_backend().lower() in {b.lower() for b in rcsetup.interactive_bk}:
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


def print_mislabeled_images(classes, X, y, p, path=None):
    """Plot the images where prediction p and label y differ, titled with both class names.

    X: (n_x, m) flattened RGB images (square). y, p: (1, m). Saved to ``path`` if given.
    """
    plt = _pyplot(required=True)
    a = p + y
    mislabeled = np.asarray(np.where(a == 1))
    side = int(round((X.shape[0] / 3) ** 0.5))
    num = len(mislabeled[0])
    fig = plt.figure(figsize=(max(4.0, 2.0 * num), 4.0))
    for i in range(num):
        index = mislabeled[1][i]
        plt.subplot(2, num, i + 1)
        plt.imshow(X[:, index].reshape(side, side, 3), interpolation="nearest")
        plt.axis("off")
        name = lambda k: classes[int(k)].decode("utf-8") if isinstance(classes[int(k)], bytes) \
            else str(classes[int(k)])
        plt.title("Prediction: " + name(p[0, index]) + " \n Class: " + name(y[0, index]))
    if path is not None:
        fig.savefig(path)
        plt.close(fig)
    else:
        _show(plt)

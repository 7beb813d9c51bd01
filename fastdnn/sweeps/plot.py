"""A sweep at a glance (matplotlib, the ``fastdnn[plot]`` extra): learning curves, and
accuracy against learning rate for each layer set."""
import numpy as np

from ..plot import _pyplot
from .records import COST_EVERY, headline_accuracy


def sweep_plot(records, path):
    """Save to ``path``: each run's learning curve, and test accuracy against learning rate
    for each layer set (train accuracy when there is no test set)."""
    plt = _pyplot(required=True)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    by_layers = {}
    for r in records:
        s = r.settings
        label = f"{'-'.join(map(str, s['layers_dims'][1:]))} lr={s['learning_rate']:g}"
        if r.costs:
            left.plot(np.arange(len(r.costs)) * COST_EVERY, r.costs, label=label)
        by_layers.setdefault(",".join(map(str, s["layers_dims"])), []).append(
            (s["learning_rate"], headline_accuracy(r)))
    left.set_xlabel("iteration")
    left.set_ylabel("cost")
    left.set_title("learning curves")
    if len(records) <= 12:
        left.legend(fontsize="small")
    for layers, points in sorted(by_layers.items()):
        points.sort()
        right.plot([p[0] for p in points], [p[1] for p in points], "o-", label=layers)
    right.set_xscale("log")
    right.set_xlabel("learning rate")
    right.set_ylabel("accuracy (test set when given)")
    right.set_title("accuracy by layer set")
    right.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)

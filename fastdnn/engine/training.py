"""Training runs: ``fit`` with checkpoints, resume from any model file, divergence handling.

Guarantees: a run resumed from a checkpoint or from a model file written by ``fit`` (both
carry the engine's exact state) ends bit-identical to the same run made in one go; a resume
with other data, layers, learning rate, dtype or first-layer path is refused before any work,
with a message naming each difference. Files are written atomically (io/model_file.py), so a
kill at any moment leaves the last good checkpoint in place. The command line
(``fastdnn train``) and sweeps are thin layers over this module.
"""
import math
import os
import warnings

import numpy as np

from .. import _validate as v
from ..core import initialize_parameters_deep_app
from .settings import Settings, checked, describe_differences
from .trainer import DivergenceError, FitResult, Trainer


class InexactResumeWarning(UserWarning):
    """A resume from plain parameters (a file without engine state): exact algebra, but the
    rounding differs from an uninterrupted run's, so the bits may differ."""


def _next_stop(start, every, total):
    """The first multiple of ``every`` after ``start``, capped at ``total`` (every 0: total)."""
    return total if not every else min(total, (start // every + 1) * every)


def _differences(path, saved, dims, trainer, fingerprint, data):
    """Human-readable list of what differs between a saved run and this one."""
    diffs = []
    if saved["layer_dims"] != dims:
        diffs.append(f"layers {saved['layer_dims']} (this run: {dims})")
    if saved["dtype"] != str(trainer.dtype):
        diffs.append(f"dtype {saved['dtype']} (this run: {trainer.dtype})")
    lr = saved["learning_rate"]
    if not math.isnan(lr) and lr != trainer.learning_rate:
        diffs.append(f"learning rate {lr!r} (this run: {trainer.learning_rate!r})")
    from ..io.fingerprint import same_data
    if not same_data(saved["data_fingerprint"], fingerprint, *data, trainer.x_divisor):
        diffs.append(f"other training data (fingerprint {saved['data_fingerprint']}, "
                     f"this run's: {fingerprint})")
    # Files from before the optimizer options (format 1) were the course's algorithm.
    diffs += describe_differences(saved["optimizer"] or Settings().as_dict(),
                                  trainer.settings)
    return diffs


def _load_resume(path, dims, gram):
    """The saved run at ``path`` and the first-layer path a resume of it must take."""
    from ..io.model_file import load_model
    saved = load_model(path)
    state = saved["state"]
    if state is not None and gram != "auto" and bool(gram) != state["gram"]:
        raise ValueError(f"{path}: cannot resume: the run used gram={state['gram']}, this one "
                         f"asks for gram={gram} (leave gram='auto' to continue as it was)")
    if saved["layer_dims"] != dims:          # before building a trainer of the wrong shape
        raise ValueError(f"{path}: cannot resume: the file was made with layers "
                         f"{saved['layer_dims']} (this run: {dims})")
    return saved, (state["gram"] if state is not None else gram)


def _restore(trainer, path, saved, num_iterations):
    """Put the saved run into ``trainer``; returns the costs already computed."""
    state, done_costs = saved["state"], saved["costs"]
    if state is not None:
        trainer.load_state(state)
    else:
        trainer.iteration = done_costs.size       # parameters were the trainer's start
        warnings.warn(f"{path} holds parameters but no engine state: continuing from them is "
                      "exact algebra, but not bit-identical to an uninterrupted run",
                      InexactResumeWarning, stacklevel=3)
    if trainer.iteration != done_costs.size:
        raise ValueError(f"{path}: {done_costs.size} costs stored for {trainer.iteration} "
                         "iterations: the file is inconsistent")
    if trainer.iteration > num_iterations:
        raise ValueError(f"{path}: cannot resume: the run already has {trainer.iteration} "
                         f"iterations, more than num_iterations={num_iterations}")
    return done_costs


def save_run(path, trainer, costs, fingerprint, kind="model"):
    """Write ``trainer``'s parameters, costs so far and exact state to ``path`` (atomically)."""
    from ..io.model_file import save_parameters
    save_parameters(path, trainer.parameters(), layer_dims=trainer.dims,
                    learning_rate=trainer.learning_rate, costs=costs[:trainer.iteration],
                    state=trainer.state(), data_fingerprint=fingerprint, kind=kind,
                    optimizer=trainer.settings.as_dict())


class _Checkpoints:
    """Where and when a run writes its checkpoints, and the last good one written."""

    def __init__(self, path, every, fingerprint):
        self.path, self.every, self.fingerprint = path, every, fingerprint
        self.saved_at = None           # iterations in the last good checkpoint at path

    def stop(self, start, total):
        """Where the piece of the run starting at ``start`` must end to write a checkpoint."""
        return _next_stop(start, self.every, total)

    def after_piece(self, trainer, costs, total):
        if self.every and trainer.iteration % self.every == 0 and trainer.iteration < total:
            self.write(trainer, costs)

    def write(self, trainer, costs):
        if self.path is not None:
            save_run(self.path, trainer, costs, self.fingerprint, "checkpoint")
            self.saved_at = trainer.iteration

    def diverged(self, exc):
        """The DivergenceError to raise, naming the checkpoint that is kept."""
        kept = ("" if self.path is None else
                f"; the last good checkpoint ({self.saved_at} iterations) is kept in {self.path}"
                if self.saved_at is not None else "; no checkpoint was written")
        return DivergenceError(f"{exc}: lower the learning rate or check the data{kept}")


def _run_args(layers_dims, num_iterations, chunk, checkpoint, checkpoint_every):
    """fit's arguments that shape the run, checked."""
    dims = v.layer_dims(layers_dims)
    num_iterations = v.count(num_iterations, "num_iterations", 0)
    chunk = v.count(chunk, "chunk", 1)
    checkpoint_every = v.count(checkpoint_every, "checkpoint_every", 0)
    if checkpoint_every and checkpoint is None:
        raise ValueError("checkpoint_every needs checkpoint=PATH (where to write them)")
    return dims, num_iterations, chunk, checkpoint_every


def _origin(resume, dims, gram, parameters):
    """(saved run or None, first-layer path, initial parameters) of a run."""
    saved = None
    if resume is not None:
        saved, gram = _load_resume(resume, dims, gram)
        if saved["state"] is None:
            parameters = saved["parameters"]
    if parameters is None:
        parameters = initialize_parameters_deep_app(dims)
    return saved, gram, parameters


def _start(trainer, costs, resume, saved, fingerprint, checkpoints, data):
    """Continue ``trainer`` from the saved run (refused if it differs from this one);
    ``data``: (X, Y) of this run."""
    diffs = _differences(resume, saved, trainer.dims, trainer, fingerprint, data)
    if diffs:
        raise ValueError(f"{resume}: cannot resume: the file was made with " + "; ".join(diffs))
    done = _restore(trainer, resume, saved, costs.size)
    costs[:done.size] = done
    if checkpoints.path is not None and os.path.abspath(resume) == \
            os.path.abspath(checkpoints.path):
        checkpoints.saved_at = trainer.iteration       # the resumed checkpoint is a good one


def _train(trainer, costs, chunk, checkpoints, callback):
    """Run ``trainer`` to ``costs.size`` iterations in pieces of at most ``chunk``."""
    total = costs.size
    while trainer.iteration < total:
        start = trainer.iteration
        stop = min(_next_stop(start, chunk, total), checkpoints.stop(start, total))
        try:
            part = trainer.run(costs[start:stop])
        except DivergenceError as exc:
            raise checkpoints.diverged(exc) from None
        checkpoints.after_piece(trainer, costs, total)
        if callback is not None:
            callback(start, part)


def fit(X, Y, layers_dims, learning_rate=0.0075, num_iterations=3000, *, parameters=None,
        dtype=None, gram="auto", callback=None, chunk=100, checkpoint=None, checkpoint_every=0,
        resume=None, out=None, optimizer="gd", mini_batch_size=None, beta=0.9, beta1=0.9,
        beta2=0.999, epsilon=1e-8, lambd=0.0, keep_prob=1.0, seed=0, shuffle_block=None,
        x_divisor=None, cluster=None):
    """Train [LINEAR->RELU] x (L-1) -> LINEAR->SIGMOID; by default the course's full-batch
    gradient descent, with the optimizer options below its sequel's tools.

    Parameters
    ----------
    X : (n_x, m) array; or streamed from a file: an ``h5py.Dataset`` of the samples
        (m, ...) in the course's layout, or ``(path, dataset name)`` (the same bits as X in
        memory; read once an epoch, a window at a time; see sources/streamed.py).
    Y : (1, m) labels in {0, 1}.
    layers_dims : [n_x, n_1, ..., 1].
    learning_rate : a finite number > 0.
    num_iterations : the run's total length in epochs (a resumed run continues up to it);
        with a full batch an epoch is one step.
    parameters : initial dict; default: the application's ``initialize_parameters_deep``.
    dtype : float64 (default) or float32.  gram : "auto", True, False (see trainer.py).
    callback : called as ``callback(first_iteration, costs)`` after each piece of at most
        ``chunk`` iterations (printing, progress bars).
    checkpoint : path; the run's complete state is written there atomically every
        ``checkpoint_every`` iterations (0: only at the end) and when the run ends.
    resume : path of a checkpoint or of a model file written by ``fit``/``fastdnn train``;
        the run continues from it and ends bit-identical to an uninterrupted run. A model
        file without engine state (``save_parameters``) continues from its parameters with an
        ``InexactResumeWarning``. Other data, layers, learning rate or dtype: ValueError.
    out : path; the finished model (parameters, costs, engine state) is written there.
    optimizer : "gd" (default), "momentum" or "adam" (the course's formulas, kernels/optim.py).
    mini_batch_size : None (default: full batch) or the batch size; each epoch walks the
        samples in the order ``epoch_order(seed, epoch, m, shuffle_block)``
        (fastdnn.engine.settings), the last batch smaller.
    beta : momentum's (0.9).  beta1, beta2, epsilon : Adam's (0.9, 0.999, 1e-8).
    lambd : L2 regularisation (0.0).  keep_prob : dropout on the hidden layers (1.0: none).
    seed : the shuffles' and dropout masks' seed (0).
    shuffle_block : None (each epoch a permutation of the samples) or k: blocks of k
        consecutive samples shuffled, and the samples within each (``epoch_order``);
        mini-batches of a streamed X need it (a file is read by blocks).
    x_divisor : None, or X is used as X / x_divisor: images may stay bytes (uint8 X with
        x_divisor=255.0 gives the same bits as X / 255. in float64, without that copy). X is
        never copied whole on the tiled path, in C or F order or as a samples-in-rows view.
    cluster : None, or a ``dask.distributed.Client`` or a scheduler address
        ("tcp://HOST:8786"): each step's chunks are computed on the cluster's workers, the
        same bits as on one machine (docs/cluster.md). A file X is read by every worker at the
        same path; an array is scattered once. The tiled path only (gram "auto" means False).

    Returns
    -------
    FitResult(parameters, costs): costs is (num_iterations,), the cost of each epoch: the
    sample-weighted mean of its mini-batches' costs, each before its update (including the
    epochs of the resumed run).

    Raises
    ------
    DivergenceError : the cost became NaN or infinite; names the iteration and, when
        checkpointing, the last good checkpoint, which is kept.
    """
    dims, num_iterations, chunk, checkpoint_every = _run_args(
        layers_dims, num_iterations, chunk, checkpoint, checkpoint_every)
    settings = checked(optimizer, mini_batch_size, beta, beta1, beta2, epsilon,
                       lambd, keep_prob, seed, shuffle_block)
    saved, gram, parameters = _origin(resume, dims, gram, parameters)
    trainer = Trainer(X, Y, parameters, learning_rate, dtype=dtype, gram=gram,
                      settings=settings, x_divisor=x_divisor, cluster=cluster)
    try:
        if trainer.dims != dims:
            raise ValueError(f"parameters describe layers {trainer.dims}, layers_dims is {dims}")
        fingerprint = ""
        if saved is not None or checkpoint is not None or out is not None:
            from ..io.fingerprint import data_fingerprint
            fingerprint = data_fingerprint(X, Y, x_divisor)
        checkpoints = _Checkpoints(checkpoint, checkpoint_every, fingerprint)
        costs = np.empty(num_iterations)
        if saved is not None:
            _start(trainer, costs, resume, saved, fingerprint, checkpoints, (X, Y))
        _train(trainer, costs, chunk, checkpoints, callback)
        checkpoints.write(trainer, costs)
        if out is not None:
            save_run(out, trainer, costs, fingerprint)
        return FitResult(trainer.parameters(), costs)
    finally:
        trainer.close()       # a cluster's workers drop the run's state

"""The training engine: ``fit`` and ``Trainer``, and what they are made of.

trainer.py: one run's structs and epochs; training.py: fit (chunks, callbacks, checkpoints,
resume, divergence); inference.py: probabilities, predictions, accuracy; network.py: the
parameters as the kernels hold them; settings.py: optimizer settings and the epochs' order;
tiles.py: the tiled kernels' workspace; gram.py: the first-layer Gram path; sources/:
where the samples come from (memory, a streamed file).
"""
from .trainer import DivergenceError, FitResult, Trainer
from .training import InexactResumeWarning, fit

__all__ = ["fit", "Trainer", "FitResult", "DivergenceError", "InexactResumeWarning"]

"""fastdnn's benchmarks (``fastdnn bench`` and the asv suites in asv_benchmarks/).

cases.py: inputs; timing.py: the one timing loop; functions.py: each function against the
course's numpy code (baseline.py); training.py: whole runs; scale.py and peers.py: the
engine against numpy, PyTorch and JAX; start.py: start-up; sweep.py: local sweeps;
command.py: the ``fastdnn bench`` command. Names most used are handed on here.
"""
from .cases import CAT_LAYERS, ELEMENTWISE, FUNCTIONS, SIZES, case, cat_shaped  # noqa: F401
from .functions import (fresh_function_row, function_row, function_speedup,  # noqa: F401
                        max_rel_diff)
from .sweep import SWEEP_GRID, sweep_speedup  # noqa: F401
from .timing import paired_rounds, paired_times, per_iteration, verdict  # noqa: F401
from .training import torch_training, training_speedup  # noqa: F401

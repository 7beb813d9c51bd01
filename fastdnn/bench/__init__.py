"""fastdnn's benchmarks (``fastdnn bench`` and the asv suites in asv_benchmarks/).

cases.py: inputs; timing.py: the one timing loop; functions.py: each function against the
course's numpy code (baseline.py); training.py: whole runs; scale.py and peers.py: the
engine against numpy, PyTorch and JAX; start.py: start-up; sweep.py: local sweeps;
command.py: the ``fastdnn bench`` command. Import the module you need: this package imports
nothing, so using one benchmark never loads the others.
"""

"""Local sweeps: k worker processes (one per core) against one run at a time.

track_speedup: seconds one at a time / seconds with one worker per core, for the same grid
(fastdnn.bench.sweep.SWEEP_GRID on the embedded digits data), worker start-up included.
"""
from fastdnn.bench.sweep import sweep_speedup


class LocalSweep:
    params = [[300]]
    param_names = ["iterations"]
    timeout = 600
    rounds = 1
    repeat = 1

    def track_speedup(self, iterations):
        one, parallel, _ = sweep_speedup(iterations=iterations)
        return one / parallel

    track_speedup.unit = "x"

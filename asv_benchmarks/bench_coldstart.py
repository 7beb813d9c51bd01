"""Cold start: a fresh interpreter imports fastdnn and makes a first call (measured alone).

empty: an empty Numba cache, so every kernel the call needs compiles; warm: a cache filled by
a previous process. Seconds, one subprocess per sample.
"""
from fastdnn import bench


class ColdStart:
    timeout = 300
    rounds = 1
    repeat = 1        # each sample is a fresh interpreter (and, empty, a full compile)

    def track_empty_cache(self):
        return bench.cold_start()

    track_empty_cache.unit = "s"

    def track_warm_cache(self):
        return bench.warm_cold_start()

    track_warm_cache.unit = "s"

"""Cold start: a fresh interpreter imports fastdnn and makes a first call (measured alone).

empty: an empty Numba cache, so every kernel the call needs compiles; warm: a cache filled by
a previous process. Seconds: the median of 3 fresh interpreters (empty) or 5 (warm), since a
single process start varies by 0.1-0.2 s on a shared machine.
"""
from fastdnn.bench import start as bench_start


class ColdStart:
    timeout = 300
    rounds = 1
    repeat = 1        # each value is already a median of fresh interpreters

    def track_empty_cache(self):
        return bench_start.cold_start()

    track_empty_cache.unit = "s"

    def track_warm_cache(self):
        return bench_start.warm_cold_start()

    track_warm_cache.unit = "s"

"""Each step-by-step function against the course's numpy code: paired speed-ups, verdicts, and
the largest difference (a benchmarked case must also be right)."""
import json

import numpy as np

import fastdnn
from . import baseline
from .cases import case
from .start import fresh_python
from .timing import paired_rounds, paired_times, verdict


def _first(x):
    return x[0] if isinstance(x, tuple) else x


def max_rel_diff(name, size, dtype=np.float64):
    """Largest |fastdnn - numpy| / max|numpy| over the function's main output."""
    ours = getattr(fastdnn, name)(*case(name, size, dtype))
    ref = getattr(baseline, name)(*case(name, size, dtype))
    if isinstance(ours, dict):
        return max(float(np.max(np.abs(ours[k] - ref[k])) / max(np.max(np.abs(ref[k])), 1e-300))
                   for k in ref)
    a, b = np.asarray(_first(ours), np.float64), np.asarray(_first(ref), np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def function_speedup(name, size, dtype=np.float64, min_sample=0.01, rounds=7):
    """(numpy seconds, fastdnn seconds) per call, paired (see timing.paired_times)."""
    return paired_times(getattr(baseline, name), getattr(fastdnn, name),
                        case(name, size, dtype), min_sample=min_sample, rounds=rounds)


def function_row(name, size, dtype=np.float64, min_sample=0.01, rounds=15):
    """One row of the speed table: best times, their ratio, and the round-by-round verdict."""
    t_np, t_fd = paired_rounds(getattr(baseline, name), getattr(fastdnn, name),
                               case(name, size, dtype), min_sample, rounds)
    low, high, word = verdict(t_np, t_fd)
    return {"case": name, "size": size, "dtype": np.dtype(dtype).name,
            "numpy_s": float(t_np.min()), "fastdnn_s": float(t_fd.min()),
            "speedup": float(t_np.min() / t_fd.min()), "round_low": low, "round_high": high,
            "verdict": word}


# One row of the speed table, measured by a fresh interpreter; it prints the row as JSON.
FRESH_ROW = ("import json, sys; from fastdnn.bench.functions import function_row; "
             "print(json.dumps(function_row(sys.argv[1], sys.argv[2], sys.argv[3])))")


def fresh_function_row(name, size, dtype="float64"):
    """function_row() measured in a fresh interpreter (the current Numba cache is shared).

    Why: both sides allocate the same large arrays, and where the allocator puts them (on
    huge pages or not: numpy asks for them above 4 MB) lasts for the life of a process and
    moves a BLAS-bound case by a few percent either way. A fresh process per case starts
    every case from the same state, as asv does.
    """
    return json.loads(fresh_python(FRESH_ROW, name, size, str(dtype)))

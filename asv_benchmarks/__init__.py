"""fastdnn's asv suites: time, peak memory, and speed-up over the numpy reference.

Each benchmark process gets a Numba cache directory of its own commit (ASV_COMMIT), so a
cached kernel is never served across commits; the kernels' own cache key (a hash of their
sources) guards the same thing inside one commit. Compilation happens in setup(), never in
a timed region; cold start has its own suite (bench_coldstart.py).
"""
import os
import tempfile

_commit = os.environ.get("ASV_COMMIT")
if _commit and "NUMBA_CACHE_DIR" not in os.environ:
    os.environ["NUMBA_CACHE_DIR"] = os.path.join(
        os.environ.get("ASV_ENV_DIR", tempfile.gettempdir()), "numba-cache", _commit)

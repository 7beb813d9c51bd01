"""Every asv benchmark runs once at its smallest parameters, so a broken benchmark fails CI.

Also runs ``asv check`` when asv is installed. Timing values are not asserted here (speed is
measured by the benchmarks, never by tests); that the benchmark runs and returns is.
"""
import importlib
import importlib.util
import inspect
import itertools
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

PREFIXES = ("time_", "peakmem_", "track_", "mem_")
SMALLEST = {"size": "notebook", "m": 3, "n": 6, "path": "gram", "data": "synthetic",
            "dtype": "float64", "threads": "serial", "iterations": 300}

# The suites train, sweep and time fresh interpreters: the module starts processes.
pytestmark = pytest.mark.slow

MODULES = sorted(p.stem for p in (ROOT / "asv_benchmarks").glob("*.py")
                 if not p.stem.startswith("_"))


def _load_suite_package():
    """Import asv_benchmarks from its folder without putting the repository root on sys.path
    (which would let the source tree shadow the installed fastdnn)."""
    if "asv_benchmarks" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            "asv_benchmarks", ROOT / "asv_benchmarks" / "__init__.py",
            submodule_search_locations=[str(ROOT / "asv_benchmarks")])
        module = importlib.util.module_from_spec(spec)
        sys.modules["asv_benchmarks"] = module
        spec.loader.exec_module(module)


_load_suite_package()


def _param_sets(cls):
    """The smallest parameter combination (per name) and, for asv_benchmarks.bench_api, every
    function at it, since each function is a separate code path."""
    params = getattr(cls, "params", None)
    if not params:
        return [()]
    if not isinstance(params[0], list):
        params = [params]
    names = getattr(cls, "param_names", [f"p{i}" for i in range(len(params))])
    choices = []
    for name, values in zip(names, params):
        if name in ("function", "op", "model"):
            choices.append(values)                       # every code path
        elif name in SMALLEST and SMALLEST[name] in values:
            choices.append([SMALLEST[name]])
        else:
            choices.append([values[0]])
    return list(itertools.product(*choices))


def _cases():
    for mod_name in MODULES:
        module = importlib.import_module(f"asv_benchmarks.{mod_name}")
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__:
                continue
            for meth in sorted(m for m in dir(cls) if m.startswith(PREFIXES)):
                if mod_name == "bench_coldstart":
                    continue     # exercised by test_cold_start_benchmark below (slow)
                for params in _param_sets(cls):
                    yield pytest.param(cls, meth, params, id=f"{mod_name}.{cls_name}.{meth}{params}")


@pytest.fixture
def on_request(monkeypatch):
    """The suites that asv runs only on request run here too (_request.py)."""
    monkeypatch.setenv("FASTDNN_ASV_ON_REQUEST", "1")


@pytest.mark.parametrize("cls, method, params", list(_cases()))
def test_benchmark_runs_once(cls, method, params, on_request):
    bench = cls()
    try:
        if hasattr(bench, "setup"):
            bench.setup(*params)
    except NotImplementedError as skip:          # asv's way to skip (e.g. no cat data)
        pytest.skip(str(skip))
    value = getattr(bench, method)(*params)
    if method.startswith("track_"):
        assert isinstance(value, float) and value == value and value >= 0


def test_cold_start_benchmark():
    from asv_benchmarks.bench_coldstart import ColdStart
    assert 0 < ColdStart().track_warm_cache() < 120


@pytest.mark.skipif(shutil.which("asv") is None, reason="asv is not installed")
def test_asv_check():
    r = subprocess.run(["asv", "check", "-E", "existing"], cwd=ROOT, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0 and "No problems found" in r.stdout, r.stdout + r.stderr


def test_verdict_reads_the_rounds():
    from fastdnn.bench.timing import verdict
    base = np.array([2.0, 2.1, 1.9, 2.0, 2.05])
    low, high, word = verdict(base, base / 2)          # fastdnn twice as fast every round
    assert word == "faster" and 1.9 < low <= high < 2.1
    assert verdict(base, base * 2)[2] == "slower"
    low, high, word = verdict(base, base[::-1])        # same times, shuffled: noise only
    assert word == "parity" and low < 1 < high


def test_function_row_pairs_rounds():
    from fastdnn.bench import functions, timing
    t_a, t_b = timing.paired_rounds(lambda: None, lambda: None, rounds=3, min_sample=1e-4)
    assert t_a.shape == t_b.shape == (3,) and (t_a > 0).all() and (t_b > 0).all()
    row = functions.function_row("relu", "notebook", rounds=5, min_sample=1e-3)
    assert row["verdict"] in ("faster", "parity", "slower")
    assert row["round_low"] <= row["round_high"]
    assert row["speedup"] == pytest.approx(row["numpy_s"] / row["fastdnn_s"])


def test_fresh_function_row_measures_in_a_new_interpreter():
    from fastdnn.bench.functions import fresh_function_row
    row = fresh_function_row("sigmoid", "notebook", "float32")
    assert (row["case"], row["size"], row["dtype"]) == ("sigmoid", "notebook", "float32")
    assert row["numpy_s"] > 0 and row["fastdnn_s"] > 0 and row["verdict"] in (
        "faster", "parity", "slower")


def test_table_and_start_summary_format_a_result():
    from fastdnn.bench.command import table as bench_table
    from fastdnn.bench.start import start_summary
    start = start_summary(sorted([(0.9, 0.1, 0.4), (0.8, 0.1, 0.3), (1.0, 0.1, 0.5)],
                                 key=lambda p: p[1] + p[2]))
    assert start["median_s"] == pytest.approx(0.5) and start["samples_s"] == pytest.approx(
        [0.4, 0.5, 0.6])
    rows = [{"case": "relu", "size": "cat", "dtype": "float64", "numpy_s": 2e-6,
             "fastdnn_s": 1e-6, "speedup": 2.0, "round_low": 1.9, "round_high": 2.1,
             "verdict": "faster"},
            {"case": "L_layer_model", "size": "cat x2500", "dtype": "float64", "numpy_s": 30.0,
             "fastdnn_s": 0.15, "speedup": 200.0}]
    text = bench_table({"rows": rows, "start": {"empty_cache": start, "warm_cache": start}})
    assert "faster" in text and "200.00x" in text and "median of 3 processes" in text

"""The command line streams images from their file when told to, or on its own when they
would not fit in memory, with the same results as in memory."""
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest

from fastdnn.cli import data as cli_data
from fastdnn.io.hdf5 import H5Source
from helpers import write_images


@pytest.mark.slow
def test_cli_streams_with_the_same_results_as_in_memory(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    write_images(data / "train_x.h5", "train", 300, seed=0)
    write_images(data / "test_x.h5", "test", 50, seed=1)
    outs = []
    for flag in ("--stream", "--no-stream"):
        out = tmp_path / f"m{flag}.h5"
        r = subprocess.run([sys.executable, "-m", "fastdnn.cli", "train", "--data", str(data),
                            "--layers", "192,6,1", "--iterations", "4", "--quiet", flag,
                            "--out", str(out)], capture_output=True, text=True, timeout=300,
                           cwd=tmp_path)             # not the source folder: the installed one
        assert r.returncode == 0, r.stderr
        with h5py.File(out, "r") as f:
            outs.append((f["costs"][()], f["parameters/W1"][()], f.attrs["data_fingerprint"]))
    assert np.array_equal(outs[0][0], outs[1][0]) and np.array_equal(outs[0][1], outs[1][1])
    assert outs[0][2] == outs[1][2]


def test_the_command_line_streams_on_its_own_when_memory_is_short(tmp_path, monkeypatch):
    path = str(tmp_path / "train_x.h5")
    write_images(path, "train", 100, image=(4, 4, 3))             # 4,800 bytes of images
    monkeypatch.setattr(cli_data, "available_memory", lambda: 9_000)
    assert isinstance(cli_data.images(path)[0], H5Source)
    assert isinstance(cli_data.images(path, stream=False)[0], np.ndarray)
    monkeypatch.setattr(cli_data, "available_memory", lambda: 1 << 40)
    assert isinstance(cli_data.images(path)[0], np.ndarray)
    assert isinstance(cli_data.images(path, stream=True)[0], H5Source)


@pytest.mark.skipif(not os.path.exists("/proc/meminfo"), reason="Linux's /proc/meminfo")
def test_available_memory_is_what_the_machine_reports():
    with open("/proc/meminfo") as f:
        available = int(next(line for line in f if line.startswith("MemAvailable")).split()[1])
    assert 0 < cli_data.available_memory() <= 2 * available * 1024

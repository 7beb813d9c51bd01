"""Model files: round trip, checksums, truncation, wrong layouts, atomic writes under SIGKILL."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import h5py
import numpy as np
import pytest

from fastdnn.io.model_file import ModelFileError, load_model, load_parameters, save_parameters


def params(seed=0, dims=(5, 3, 1)):
    rng = np.random.default_rng(seed)
    p = {}
    for l in range(1, len(dims)):
        p[f"W{l}"] = rng.standard_normal((dims[l], dims[l - 1]))
        p[f"b{l}"] = rng.standard_normal((dims[l], 1))
    return p


def test_round_trip(tmp_path):
    path = tmp_path / "m.h5"
    p = params()
    save_parameters(path, p, learning_rate=0.1, costs=[0.7, 0.6])
    m = load_model(path)
    assert m["layer_dims"] == [5, 3, 1] and m["kind"] == "model" and m["learning_rate"] == 0.1
    np.testing.assert_array_equal(m["costs"], [0.7, 0.6])
    for k in p:
        np.testing.assert_array_equal(load_parameters(path)[k], p[k])


def test_written_files_get_normal_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        path = tmp_path / "m.h5"
        save_parameters(path, params(), costs=[])
        assert path.stat().st_mode & 0o777 == 0o644          # new file: umask, not 0600
        path.chmod(0o640)
        save_parameters(path, params(), costs=[])
        assert path.stat().st_mode & 0o777 == 0o640          # rewrite keeps the file's mode
    finally:
        os.umask(old)


def test_corruption_is_detected_by_checksum(tmp_path):
    path = tmp_path / "m.h5"
    save_parameters(path, params(), costs=[0.5])
    with h5py.File(path, "r") as f:
        offset = f["parameters/W1"].id.get_offset()
    with open(path, "r+b") as raw:                  # flip bytes inside W1's data
        raw.seek(offset + 3)
        raw.write(b"\xff\x00\xff")
    with pytest.raises(ModelFileError, match="checksum mismatch in /parameters/W1"):
        load_model(path)


def test_truncated_file_is_rejected(tmp_path):
    path = tmp_path / "m.h5"
    save_parameters(path, params(dims=(200, 50, 1)), costs=[0.5])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="m.h5"):
        load_model(path)


def test_other_files_are_rejected(tmp_path):
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5 at all")
    with pytest.raises(ModelFileError, match="junk.h5: unreadable"):
        load_model(junk)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = 1
    with pytest.raises(ModelFileError, match="not a fastdnn model file"):
        load_model(other)
    with pytest.raises(FileNotFoundError, match="nope.h5"):
        load_model(tmp_path / "nope.h5")


def test_missing_parameter_is_named(tmp_path):
    path = tmp_path / "m.h5"
    save_parameters(path, params(), costs=[])
    with h5py.File(path, "r+") as f:
        del f["parameters/b2"]
    with pytest.raises(ModelFileError, match="missing dataset /parameters/b2"):
        load_model(path)


WRITER = textwrap.dedent("""
    import sys, numpy as np
    from fastdnn.io.model_file import save_parameters
    path = sys.argv[1]
    rng = np.random.default_rng(0)
    i = 0
    while True:
        i += 1
        W = np.full((400, 2000), float(i))
        save_parameters(path, {"W1": W, "b1": np.zeros((400, 1))}, costs=[float(i)])
        print(i, flush=True)
""")


@pytest.mark.slow
def test_sigkill_during_writes_never_leaves_a_broken_file(tmp_path):
    path = tmp_path / "m.h5"
    save_parameters(path, {"W1": np.zeros((400, 2000)), "b1": np.zeros((400, 1))}, costs=[0.0])
    rng = np.random.default_rng(1)
    kills = 0
    for _ in range(8):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], cwd=tmp_path,
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline(), "the writer failed to start"   # one write completed
        time.sleep(float(rng.uniform(0, 0.15)))    # then kill somewhere in a later write
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += proc.returncode == -signal.SIGKILL
        m = load_model(path)                       # always the old or the new file, verified
        assert np.all(m["parameters"]["W1"] == m["costs"][0])
    assert kills == 8
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "m.h5"]
    assert all(n.startswith(".tmp-") for n in leftovers)   # only orphaned temporaries

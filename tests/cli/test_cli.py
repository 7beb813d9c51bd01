"""The fastdnn command through its real entry point, in subprocesses."""
import re
import subprocess

import numpy as np
import pytest

from conftest import DATA, kill_once_written
from fastdnn.io.model_file import load_model


def run(*args, timeout=300, **kw):
    return subprocess.run(["fastdnn", *args], capture_output=True, text=True, timeout=timeout,
                          **kw)


@pytest.mark.parametrize("sub", [[], ["train"], ["sweep"], ["predict"], ["info"], ["bench"]])
def test_help(sub):
    r = run(*sub, "--help")
    assert r.returncode == 0 and "usage: fastdnn" in r.stdout


@pytest.mark.parametrize("args", [["train", "--bogus"], ["train", "--iterations", "x"],
                                  ["predict"], ["nothing"], ["train", "--iterations", "-5"]])
def test_bad_usage_exits_2(args):
    r = run(*args)
    assert r.returncode == 2 and "usage" in r.stderr


@pytest.mark.slow
def test_failure_is_one_line_exit_1(tmp_path):
    r = run("predict", "--model", str(tmp_path / "missing.h5"))
    assert r.returncode == 1
    assert r.stderr.strip().count("\n") == 0 and "missing.h5" in r.stderr
    assert "Traceback" not in r.stderr
    r = run("--debug", "predict", "--model", str(tmp_path / "missing.h5"))
    assert r.returncode == 1 and "Traceback" in r.stderr


@pytest.mark.slow
def test_train_on_embedded_data_and_predict(tmp_path):
    out = tmp_path / "m.h5"
    r = run("train", "--iterations", "300", "--out", str(out), "--plot", str(tmp_path / "c.png"))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("Train accuracy: ") and lines[1].startswith("Test accuracy: ")
    assert float(lines[1].split(": ")[1]) > 0.75
    assert (tmp_path / "c.png").stat().st_size > 1000
    model = load_model(str(out))
    assert model["layer_dims"] == [64, 20, 7, 5, 1] and model["costs"].shape == (300,)
    r = run("predict", "--model", str(out), "--predictions", str(tmp_path / "p.txt"))
    assert r.returncode == 0 and r.stdout.startswith("Accuracy: ")
    p = np.loadtxt(tmp_path / "p.txt")
    assert set(np.unique(p)) <= {0, 1} and p.size == 360


@pytest.mark.slow
def test_cat_round_trip_gives_notebook_test_accuracy(tmp_path):
    if not (DATA / "train_catvnoncat.h5").exists():
        pytest.skip(f"cat data not found under {DATA}")
    out = tmp_path / "cat.h5"
    r = run("train", "--data", str(DATA), "--layers", "12288,20,7,5,1", "--iterations", "2500",
            "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "Train accuracy: 0.985646" in r.stdout and "Test accuracy: 0.800000" in r.stdout
    r = run("predict", "--model", str(out), "--data", str(DATA),
            "--mislabeled", str(tmp_path / "mis.png"))
    if r.returncode != 0 and "matplotlib" in r.stderr:
        r = run("predict", "--model", str(out), "--data", str(DATA))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "Accuracy: 0.8"


@pytest.mark.slow
def test_killed_run_resumes_to_the_uninterrupted_result(tmp_path):
    iters = "4000"
    ref = tmp_path / "ref.h5"
    assert run("train", "--iterations", iters, "--out", str(ref), "--quiet").returncode == 0

    out, ck = tmp_path / "run.h5", tmp_path / "run.ckpt.h5"
    proc = subprocess.Popen(["fastdnn", "train", "--iterations", iters, "--out", str(out),
                             "--checkpoint-every", "50", "--quiet"])
    kill_once_written(proc, ck, grace=0.2)
    done = load_model(str(ck))["state"]["iteration"]      # the checkpoint survived the kill
    assert 0 < done < int(iters)
    r = run("train", "--iterations", iters, "--out", str(out), "--resume", str(ck), "--quiet")
    assert r.returncode == 0, r.stderr
    a, b = load_model(str(out)), load_model(str(ref))
    np.testing.assert_array_equal(a["costs"], b["costs"])
    for k in b["parameters"]:
        np.testing.assert_array_equal(a["parameters"][k], b["parameters"][k])


@pytest.mark.slow
def test_resume_refuses_other_settings(tmp_path):
    out = tmp_path / "m.h5"
    assert run("train", "--iterations", "200", "--checkpoint-every", "100", "--out", str(out),
               "--quiet").returncode == 0
    r = run("train", "--iterations", "400", "--learning-rate", "0.01", "--resume",
            str(tmp_path / "m.ckpt.h5"), "--out", str(out))
    assert r.returncode == 1 and "cannot resume" in r.stderr
    assert "learning rate 0.0075 (this run: 0.01)" in r.stderr


@pytest.mark.slow
def test_closed_pipe_is_quiet():
    proc = subprocess.Popen(["fastdnn", "info"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()                          # the reader goes away before any output
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Broken pipe" not in err and "Traceback" not in err and "Exception" not in err, err


@pytest.mark.slow
def test_ten_digit_classes_train_predict_and_name_the_classes(tmp_path):
    out = tmp_path / "d10.h5"
    r = run("train", "--embedded", "digits10", "--optimizer", "adam", "--mini-batch-size", "64",
            "--learning-rate", "0.003", "--iterations", "60", "--layers", "64,64,32,10",
            "--out", str(out))
    assert r.returncode == 0, r.stderr
    test_acc = float(r.stdout.splitlines()[1].split(": ")[1])
    assert test_acc > 0.95, r.stdout                     # the ten digits, 360 test images
    assert load_model(str(out))["layer_dims"] == [64, 64, 32, 10]
    r = run("predict", "--embedded", "digits10", "--model", str(out), "--predictions",
            str(tmp_path / "p.txt"), "--class-names")
    assert r.returncode == 0 and round(float(r.stdout.split(": ")[1]), 6) == test_acc
    names = (tmp_path / "p.txt").read_text().split()
    assert len(names) == 360 and set(names) <= {str(d) for d in range(10)}


@pytest.mark.slow
def test_the_last_layer_defaults_to_the_number_of_classes(tmp_path):
    r = run("train", "--embedded", "digits10", "--iterations", "20", "--quiet",
            "--out", str(tmp_path / "m.h5"))
    assert r.returncode == 0, r.stderr
    assert load_model(str(tmp_path / "m.h5"))["layer_dims"] == [64, 20, 7, 5, 10]


@pytest.mark.slow
def test_cli_divergence_names_iteration_and_keeps_last_good_checkpoint(tmp_path):
    # Random labels, values 3 x N(0, 1) (stored x 255, as images are divided by 255),
    # learning rate 10: the weights grow until the output's logit overflows (about
    # iteration 200; the exact step depends on the summation order).
    from fastdnn.io.datasets import write_dataset
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 20)) * 3
    Y = rng.random((1, 20)) > 0.5
    data = tmp_path / "d"
    data.mkdir()
    for kind in ("train", "test"):
        write_dataset(str(data / f"{kind}.h5"), kind, X.T * 255, Y.astype(int))
    out = tmp_path / "m.h5"
    r = subprocess.run(["fastdnn", "train", "--data", str(data), "--layers", "3,4,1",
                        "--iterations", "3000", "--learning-rate", "10",
                        "--checkpoint-every", "10", "--out", str(out), "--quiet"],
                       capture_output=True, text=True, timeout=300)
    found = re.search(r"at iteration (\d+).*last good checkpoint \((\d+) iterations\) is kept",
                      r.stderr)
    assert r.returncode == 1 and found, r.stderr
    bad, kept = int(found[1]), int(found[2])
    assert 0 < kept <= bad < kept + 10                  # the checkpoint before the divergence
    assert not out.exists()                                  # no model from a failed run
    ck = load_model(str(tmp_path / "m.ckpt.h5"))               # the last good one, intact
    assert np.isfinite(ck["costs"]).all() and ck["state"]["iteration"] == ck["costs"].size == kept

"""fit() checkpoints and resumes from Python and the command line: bit-identical to one run."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastdnn
from fastdnn.io.model_file import load_model, save_parameters

import naive
from conftest import kill_once_written
from helpers import diverging


def data(n=30, m=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, m))
    noise = rng.standard_normal((1, m))       # not separable: the cost never saturates
    return X, (X[:1] + 0.3 * X[1:2] + noise > 0).astype(np.int64)


def assert_same_run(a, b):
    """Two FitResults (or model-file dicts) hold the same costs and parameters, bit for bit."""
    a = a._asdict() if hasattr(a, "_asdict") else a
    b = b._asdict() if hasattr(b, "_asdict") else b
    np.testing.assert_array_equal(a["costs"], b["costs"])
    assert a["parameters"].keys() == b["parameters"].keys()
    for k in b["parameters"]:
        np.testing.assert_array_equal(a["parameters"][k], b["parameters"][k])


@pytest.mark.parametrize("gram", [False, True, "auto"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_resume_from_a_finished_model_equals_one_run(tmp_path, gram, dtype):
    X, Y = data(n=300, m=120)         # n_x > m: "auto" takes the Gram path
    dims = [300, 8, 4, 1]
    whole = fastdnn.fit(X, Y, dims, 0.05, 250, gram=gram, dtype=dtype)
    first = fastdnn.fit(X, Y, dims, 0.05, 100, gram=gram, dtype=dtype, out=tmp_path / "a.h5")
    np.testing.assert_array_equal(first.costs, whole.costs[:100])
    assert load_model(str(tmp_path / "a.h5"))["state"] is not None   # model files carry state
    more = fastdnn.fit(X, Y, dims, 0.05, 250, gram=gram, dtype=dtype, resume=tmp_path / "a.h5")
    assert_same_run(more, whole)


def test_resume_follows_the_files_own_start_on_the_gram_path(tmp_path):
    # The first run starts from custom weights; the resume is given none: the state's W1_0
    # (not the default initialiser's) must define W1_0·X.
    X, Y = data(n=200, m=60)
    dims = [200, 5, 1]
    start = {k: 0.5 * w for k, w in naive.init_deep_app(dims).items()}
    whole = fastdnn.fit(X, Y, dims, 0.1, 60, parameters=start, gram=True)
    fastdnn.fit(X, Y, dims, 0.1, 20, parameters=start, gram=True, out=tmp_path / "a.h5")
    assert_same_run(fastdnn.fit(X, Y, dims, 0.1, 60, resume=tmp_path / "a.h5"), whole)


def test_checkpoints_every_n_and_at_the_end(tmp_path):
    X, Y = data()
    ck = tmp_path / "ck.h5"
    seen = []
    r = fastdnn.fit(X, Y, [30, 6, 1], 0.05, 130, checkpoint=ck, checkpoint_every=40,
                    callback=lambda start, c: seen.append((start, c.size)))
    # pieces end at every multiple of chunk (100) and of checkpoint_every (40)
    assert seen == [(0, 40), (40, 40), (80, 20), (100, 20), (120, 10)]
    saved = load_model(str(ck))
    assert saved["kind"] == "checkpoint" and saved["state"]["iteration"] == 130
    assert_same_run(saved, r)


ADAM = dict(optimizer="adam", mini_batch_size=128, keep_prob=0.8, lambd=0.05, seed=4)


@pytest.mark.slow
@pytest.mark.parametrize("lr, total, every, options", [
    (0.02, 8000, 200, {}),                        # full batch: resumed to the very end
    (0.001, 3000, 20, ADAM),                      # Adam on batches with dropout and L2
], ids=["full batch", "adam"])
def test_python_fit_killed_and_resumed_is_bit_identical(tmp_path, lr, total, every, options):
    X, Y = data(n=40, m=3000)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "Y.npy", Y)
    code = textwrap.dedent(f"""
        import numpy as np, fastdnn
        X, Y = np.load("X.npy"), np.load("Y.npy")
        fastdnn.fit(X, Y, [40, 16, 8, 1], {lr}, {total}, checkpoint="ck.h5",
                    checkpoint_every={every}, **{options!r})
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path)
    ck = tmp_path / "ck.h5"
    kill_once_written(proc, ck, grace=0.3)
    saved = load_model(str(ck))
    done = saved["state"]["iteration"]                       # the checkpoint survived the kill
    assert 0 < done < total and done % every == 0
    if options:
        assert saved["optimizer"]["optimizer"] == "adam" and saved["state"]["s"].size > 0
    end = done + 30 if options else total     # epochs of batches are slow: 30 more suffice
    resumed = fastdnn.fit(X, Y, [40, 16, 8, 1], lr, end, resume=ck, **options)
    whole = fastdnn.fit(X, Y, [40, 16, 8, 1], lr, end, **options)
    assert_same_run(resumed, whole)


def test_resume_with_other_optimizer_settings_is_refused_naming_each(tmp_path):
    X, Y = data()
    fastdnn.fit(X, Y, [30, 6, 1], 0.05, 10, out=tmp_path / "a.h5", **ADAM)
    with pytest.raises(ValueError, match="cannot resume") as err:
        fastdnn.fit(X, Y, [30, 6, 1], 0.05, 20, resume=tmp_path / "a.h5",
                    **dict(ADAM, optimizer="momentum", keep_prob=0.9))
    assert "optimizer 'adam' (this run: 'momentum')" in str(err.value)
    assert "keep_prob 0.8 (this run: 0.9)" in str(err.value)


def test_version_1_model_files_still_load_and_resume(tmp_path):
    import h5py
    X, Y = data()
    whole = fastdnn.fit(X, Y, [30, 6, 1], 0.05, 60)
    fastdnn.fit(X, Y, [30, 6, 1], 0.05, 20, out=tmp_path / "a.h5")
    with h5py.File(tmp_path / "a.h5", "r+") as f:      # as fastdnn 0.1.0 wrote it
        f.attrs["format_version"] = 1
        del f.attrs["optimizer"]
        del f["state/v"], f["state/s"]
        del f["state"].attrs["t"]
    assert load_model(str(tmp_path / "a.h5"))["optimizer"] is None
    assert_same_run(fastdnn.fit(X, Y, [30, 6, 1], 0.05, 60, resume=tmp_path / "a.h5"), whole)


def test_resume_from_plain_parameters_warns_and_continues(tmp_path):
    X, Y = data()
    dims = [30, 6, 1]
    whole = fastdnn.fit(X, Y, dims, 0.05, 200)
    first = fastdnn.fit(X, Y, dims, 0.05, 80)
    save_parameters(str(tmp_path / "p.h5"), first.parameters, costs=first.costs)   # no state
    with pytest.warns(fastdnn.InexactResumeWarning, match="not bit-identical"):
        more = fastdnn.fit(X, Y, dims, 0.05, 200, resume=tmp_path / "p.h5")
    np.testing.assert_array_equal(more.costs[:80], whole.costs[:80])
    np.testing.assert_allclose(more.costs, whole.costs, rtol=1e-12)
    for k, w in whole.parameters.items():
        np.testing.assert_allclose(more.parameters[k], w, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("change, words", [
    (dict(learning_rate=0.01), "learning rate 0.05 (this run: 0.01)"),
    (dict(dtype=np.float32), "dtype float64 (this run: float32)"),
    (dict(layers_dims=[30, 7, 1]), "layers [30, 6, 1] (this run: [30, 7, 1])"),
    (dict(Y=None), "other training data"),
    (dict(num_iterations=50), "already has 100 iterations, more than num_iterations=50"),
    (dict(gram=True), "the run used gram=False, this one asks for gram=True"),
])
def test_refused_resumes_name_the_difference(tmp_path, change, words):
    X, Y = data()
    fastdnn.fit(X, Y, [30, 6, 1], 0.05, 100, gram=False, out=tmp_path / "a.h5")
    args = dict(X=X, Y=Y, layers_dims=[30, 6, 1], learning_rate=0.05, num_iterations=200)
    args.update(change)
    if args["Y"] is None:
        args["Y"] = 1 - Y
    with pytest.raises(ValueError, match="cannot resume") as err:
        fastdnn.fit(**args, resume=tmp_path / "a.h5")
    assert words in str(err.value) and "a.h5" in str(err.value)


def test_checkpoint_every_needs_a_path():
    X, Y = data()
    with pytest.raises(ValueError, match="checkpoint=PATH"):
        fastdnn.fit(X, Y, [30, 6, 1], 0.05, 100, checkpoint_every=10)


def test_python_divergence_keeps_the_last_good_checkpoint(tmp_path):
    X, Y = diverging()
    ck = tmp_path / "ck.h5"
    with pytest.raises(fastdnn.DivergenceError, match="inf at iteration 199") as err:
        fastdnn.fit(X, Y, [3, 4, 1], 10.0, 2000, checkpoint=ck, checkpoint_every=10)
    kept = load_model(str(ck))
    assert kept["state"]["iteration"] == 190
    assert f"last good checkpoint (190 iterations) is kept in {ck}" in str(err.value)
    assert np.isfinite(kept["costs"]).all()


def cli(*args):
    return subprocess.run(["fastdnn", "train", "--quiet", *args], capture_output=True,
                          text=True, timeout=300)


@pytest.mark.slow
def test_cli_trains_a_finished_model_further(tmp_path):
    a, b, ref = (str(tmp_path / n) for n in ("a.h5", "b.h5", "ref.h5"))
    assert cli("--iterations", "300", "--out", a).returncode == 0
    r = cli("--iterations", "700", "--resume", a, "--out", b)
    assert r.returncode == 0, r.stderr
    assert cli("--iterations", "700", "--out", ref).returncode == 0
    assert_same_run(load_model(b), load_model(ref))


@pytest.mark.slow
def test_cli_resume_from_plain_parameters_prints_one_notice(tmp_path):
    a, b = str(tmp_path / "a.h5"), str(tmp_path / "b.h5")
    assert cli("--iterations", "100", "--out", a).returncode == 0
    m = load_model(a)
    save_parameters(a, m["parameters"], costs=m["costs"])         # strip the state
    r = cli("--iterations", "200", "--resume", a, "--out", b)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip().count("\n") == 0 and "not bit-identical" in r.stderr
    assert load_model(b)["costs"].size == 200


def test_divergence_after_a_resume_names_the_resumed_checkpoint(tmp_path):
    X, Y = diverging()                                               # inf at iteration 199
    ck = tmp_path / "ck.h5"
    fastdnn.fit(X, Y, [3, 4, 1], 10.0, 150, checkpoint=ck)
    with pytest.raises(fastdnn.DivergenceError,
                       match=r"last good checkpoint \(150 iterations\) is kept"):
        fastdnn.fit(X, Y, [3, 4, 1], 10.0, 2000, checkpoint=ck, checkpoint_every=100, resume=ck)
    assert load_model(str(ck))["state"]["iteration"] == 150

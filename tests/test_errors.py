"""Bad input gets a TypeError/ValueError naming the argument, what was seen and expected."""
import numpy as np
import pytest

import fastdnn
from fastdnn import pt

A = np.ones((3, 2))
W = np.ones((1, 3))
b = np.ones((1, 1))


@pytest.mark.parametrize("call, exc, words", [
    (lambda: fastdnn.linear_forward(A, np.ones((1, 4)), b), ValueError, ["W", "(1, 4)", "(3, 2)"]),
    (lambda: fastdnn.linear_forward(A, W, np.ones((2, 1))), ValueError, ["b", "(2, 1)", "(1, 1)"]),
    (lambda: fastdnn.linear_forward(np.ones(3), W, b), ValueError, ["A", "2-D", "(3,)"]),
    (lambda: fastdnn.linear_forward(np.ones((3, 2, 1)), W, b), ValueError, ["A", "(3, 2, 1)"]),
    (lambda: fastdnn.linear_forward(A.astype(complex), W, b), TypeError, ["A", "complex"]),
    (lambda: fastdnn.linear_forward("abc", W, b), TypeError, ["A", "str"]),
    (lambda: fastdnn.linear_forward(np.array([["a"]]), W, b), TypeError, ["A", "<U1"]),
    (lambda: fastdnn.linear_activation_forward(A, W, b, "tanh"), ValueError,
     ["activation", "'sigmoid'", "'relu'", "'tanh'"]),
    (lambda: pt.para_frente_linear_ativacao(A, W, b, ativacao="softmax"), ValueError, ["softmax"]),
    (lambda: fastdnn.relu_backward(np.ones((2, 2)), np.ones((2, 3))), ValueError,
     ["dA", "(2, 2)", "(2, 3)"]),
    (lambda: fastdnn.compute_cost(np.ones((1, 3)) / 2, np.ones((1, 4))), ValueError,
     ["AL", "(1, 3)", "Y", "(1, 4)"]),
    (lambda: fastdnn.linear_backward(np.ones((1, 5)), (A, W, b)), ValueError, ["dZ", "(1, 5)", "(1, 2)"]),
    (lambda: fastdnn.linear_backward(np.ones((1, 2)), (A, W)), TypeError, ["cache"]),
    (lambda: fastdnn.L_model_forward(A, {"W1": W}), ValueError, ["parameters", "1 entries"]),
    (lambda: fastdnn.L_model_forward(A, {"W1": W, "c1": b}), ValueError, ["b1", "c1"]),
    (lambda: fastdnn.update_parameters({"W1": W, "b1": b}, {"dW1": W}, 0.1), ValueError, ["db1"]),
    (lambda: fastdnn.update_parameters({"W1": W, "b1": b}, {"dW1": A, "db1": b}, 0.1), ValueError,
     ["dW1", "(3, 2)", "(1, 3)"]),
    (lambda: fastdnn.update_parameters({"W1": W, "b1": b}, {"dW1": W, "db1": b}, "0.1"),
     TypeError, ["learning_rate", "str"]),
    (lambda: fastdnn.update_parameters({"W1": W, "b1": b}, {"dW1": W, "db1": b}, float("nan")),
     ValueError, ["learning_rate", "nan"]),
    (lambda: fastdnn.initialize_parameters_deep([5, 0, 1]), ValueError, ["layer_dims[1]", "0"]),
    (lambda: fastdnn.initialize_parameters_deep([5]), ValueError, ["layer_dims"]),
    (lambda: fastdnn.initialize_parameters(2.5, 3, 1), TypeError, ["n_x", "float"]),
    (lambda: fastdnn.fit(A, np.array([[0, 1]]), [3, 1], num_iterations=-1), ValueError,
     ["num_iterations", "-1"]),
    (lambda: fastdnn.fit(A, np.array([[0, 2]]), [3, 1]), ValueError, ["Y", "0 or 1"]),
    (lambda: fastdnn.fit(A, np.array([[0, 1, 1]]), [3, 1]), ValueError, ["Y", "(1, 3)", "(1, 2)"]),
    (lambda: fastdnn.fit(np.array([[np.nan, 1.0]] * 3), np.array([[0, 1]]), [3, 1]), ValueError,
     ["X", "NaN"]),
    (lambda: fastdnn.fit(A, np.array([[0, 1]]), [4, 1]), ValueError, ["X", "layers_dims[0]"]),
])
def test_bad_input_message(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_failed_update_leaves_dict_unchanged():
    params = {"W1": W, "b1": b, "W2": W[:, :1], "b2": b}
    grads = {"dW1": W, "db1": b, "dW2": np.ones((5, 5)), "db2": b}
    with pytest.raises(ValueError):
        fastdnn.update_parameters(params, grads, 0.1)
    assert params["W1"] is W


def test_divergence_stops_with_iteration():
    X = np.random.default_rng(0).standard_normal((3, 20)) * 1e3
    Y = (X[:1] > 0).astype(int)
    with pytest.raises(fastdnn.DivergenceError, match="iteration"):
        fastdnn.fit(X, Y, [3, 4, 1], learning_rate=1e6, num_iterations=200, chunk=10)


def test_cache_Z_shape_mismatch_is_named():
    with pytest.raises(ValueError, match=r"cache\[1\] \(Z\).*\(1, 3\).*\(1, 2\)"):
        fastdnn.linear_activation_backward(np.ones((1, 2)), ((A, W, b), np.ones((1, 3))), "relu")


def test_L_model_backward_label_count_mismatch():
    with pytest.raises(ValueError, match=r"Y has shape \(1, 3\).*AL has shape \(1, 2\)"):
        fastdnn.L_model_backward(np.full((1, 2), 0.5), np.ones((1, 3)), [((A, W, b), np.ones((1, 2)))])


def test_grads_not_a_dict():
    with pytest.raises(TypeError, match="grads must be a dict"):
        fastdnn.update_parameters({"W1": W, "b1": b}, [W, b], 0.1)


# ---- data files ---------------------------------------------------------------------------
import h5py  # noqa: E402

from fastdnn.data import DataFileError, load_data, read_dataset  # noqa: E402


def test_missing_data_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="train_catvnoncat.h5"):
        load_data(str(tmp_path))


def test_truncated_and_non_hdf5_data_files(tmp_path):
    bad = tmp_path / "train_x.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 100)
    with pytest.raises(DataFileError, match="train_x.h5: not a readable HDF5"):
        read_dataset(str(bad))


def test_wrong_layout_data_files(tmp_path):
    path = tmp_path / "d.h5"
    with h5py.File(path, "w") as f:
        f["images"] = np.zeros((3, 2, 2, 3), np.uint8)
    with pytest.raises(DataFileError, match=r"d.h5: expected one dataset named '\*_set_x'"):
        read_dataset(str(path))
    with h5py.File(path, "w") as f:
        f["a_set_x"] = np.zeros((3, 2, 2, 3), np.uint8)
        f["a_set_y"] = np.zeros(4, np.int64)
    with pytest.raises(DataFileError, match=r"d.h5: images \(3, 2, 2, 3\) and labels \(4,\)"):
        read_dataset(str(path))


def test_cli_divergence_names_iteration_and_keeps_last_good_checkpoint(tmp_path):
    import subprocess

    from fastdnn.model_file import load_model
    out = tmp_path / "m.h5"
    # lr 1 on the embedded data: the output saturates and the cost becomes NaN (at iteration
    # 358 on the tiled engine; the exact step depends on the summation order).
    import re
    r = subprocess.run(["fastdnn", "train", "--iterations", "3000", "--learning-rate", "1",
                        "--checkpoint-every", "10", "--out", str(out), "--quiet"],
                       capture_output=True, text=True, timeout=300)
    found = re.search(r"at iteration (\d+).*last good checkpoint \((\d+) iterations\) is kept",
                      r.stderr)
    assert r.returncode == 1 and found, r.stderr
    bad, kept = int(found[1]), int(found[2])
    assert 0 < kept <= bad < kept + 10                       # the checkpoint before the NaN
    assert not out.exists()                                  # no model from a failed run
    ck = load_model(str(tmp_path / "m.ckpt.h5"))               # the last good one, intact
    assert np.isfinite(ck["costs"]).all() and ck["state"]["iteration"] == ck["costs"].size == kept

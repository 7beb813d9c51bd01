"""Every usage error of the command line exits 2 with argparse's usage line; the walk covers
every option of every command, so a new option without a checked value fails here."""
import argparse

import pytest

from fastdnn import cli

# (command, option) -> a bad value. Paths: an empty string (a path that exists nowhere is a
# failure, exit 1, reported when the file is used; an empty one is malformed).
BAD = {
    ("train", "--data"): "", ("train", "--train"): "", ("train", "--test"): "",
    ("train", "--layers"): "abc", ("train", "--iterations"): "-1",
    ("train", "--learning-rate"): "-1", ("train", "--dtype"): "float16",
    ("train", "--gram"): "maybe", ("train", "--out"): "", ("train", "--checkpoint-every"): "x",
    ("train", "--checkpoint"): "", ("train", "--resume"): "", ("train", "--plot"): " ",
    ("sweep", "--data"): "", ("sweep", "--train"): "", ("sweep", "--test"): "",
    ("sweep", "--layers"): "abc", ("sweep", "--learning-rate"): "0.1,nan",
    ("sweep", "--iterations"): "0", ("sweep", "--dtype"): "float16", ("sweep", "--out"): "",
    ("sweep", "--workers"): "0", ("sweep", "--scheduler"): "abc", ("train", "--scheduler"): "abc",
    ("bench", "--samples"): "100",
    ("predict", "--model"): "", ("predict", "--data"): "", ("predict", "--test"): "",
    ("predict", "--predictions"): "", ("predict", "--mislabeled"): "",
    ("bench", "--plot"): "", ("bench", "--data"): "", ("bench", "--workers"): "-2",
    ("train", "--embedded"): "mnist", ("sweep", "--embedded"): "mnist",
    ("predict", "--embedded"): "mnist",
}
OPTIMIZER_BAD = {"--optimizer": "sgd", "--mini-batch-size": "0", "--beta": "1",
                 "--beta1": "x", "--beta2": "-0.5", "--epsilon": "0", "--lambd": "-1",
                 "--keep-prob": "0", "--seed": "-3", "--shuffle-block": "-1"}
for _command in ("train", "sweep"):
    BAD.update({(_command, flag): value for flag, value in OPTIMIZER_BAD.items()})


def _options():
    """(command, option) of every option that takes a value, read from the parser itself."""
    top = cli.parser()
    sub = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    for command, p in sub.choices.items():
        for action in p._actions:
            if action.option_strings and action.nargs != 0:
                yield command, action.option_strings[-1]


def _exit_code(argv, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    return info.value.code, capsys.readouterr().err


def test_every_option_has_a_bad_value():
    assert set(_options()) == set(BAD)


@pytest.mark.parametrize("command, option", sorted(BAD))
def test_bad_value_exits_2_with_usage(command, option, capsys):
    argv = [command, option, BAD[command, option]]
    if command == "predict" and option != "--model":
        argv += ["--model", "m.h5"]
    code, err = _exit_code(argv, capsys)
    assert code == 2 and err.startswith("usage: fastdnn") and option in err, err


@pytest.mark.parametrize("argv, words", [
    (["train", "--layers", "abc"], "comma-separated integers"),
    (["train", "--learning-rate", "-1"], "> 0"),
    (["train", "--learning-rate", "nan"], "> 0"),
    (["train", "--learning-rate", "0"], "> 0"),
    (["sweep", "--layers", "abc"], "comma-separated integers"),
    (["sweep", "--learning-rate", "1e-400"], "> 0"),
    # Values that do not fit the data (the embedded digits: 64 features) are usage errors too.
    (["train", "--layers", "32,8,1", "--iterations", "1"], "the data has 64 features"),
    (["train", "--layers", "64,8,2", "--iterations", "1"], "must end with 1"),
    (["sweep", "--layers", "32,8,1", "--iterations", "1"], "the data has 64 features"),
    (["train", "--train", "x.h5", "--iterations", "1"], "give both --train FILE and --test FILE"),
    (["train", "--optimizer", "adam", "--gram", "on"], "--gram on"),
    (["sweep", "--mini-batch-size", "64,x"], "integer >= 1 or 'full'"),
])
def test_named_usage_errors_exit_2(argv, words, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, err = _exit_code(argv, capsys)
    assert code == 2 and err.startswith("usage: fastdnn") and words in err, err
    assert not list(tmp_path.iterdir())          # nothing trained, nothing written


def test_the_learning_rate_rule_is_one_rule(capsys):
    import numpy as np

    import fastdnn
    from fastdnn.sweeps import expand_grid
    X, Y = np.ones((2, 4)), np.array([[0, 1, 0, 1]])
    messages = []
    for call in (lambda: fastdnn.fit(X, Y, [2, 1], -1.0, 1),
                 lambda: expand_grid({"layers_dims": [[2, 1]], "learning_rate": [-1.0]}, 2)):
        with pytest.raises(ValueError) as info:
            call()
        messages.append(str(info.value))
    _, err = _exit_code(["train", "--learning-rate", "-1"], capsys)
    assert all("must be a finite number > 0, got -1.0" in m for m in messages + [err]), messages

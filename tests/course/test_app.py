"""The cat application on the course's real data (skips when ../shared is absent):
L_layer_model and two_layer_model print the course's lines and reach its accuracies."""
import numpy as np
import pytest

import fastdnn
import naive
from conftest import assert_close
from fastdnn import fit


COURSE_COSTS_L = ["0.771749", "0.672053", "0.648263", "0.611507", "0.567047", "0.540138",
                  "0.527930", "0.465477", "0.369126", "0.391747", "0.315187", "0.272700",
                  "0.237419", "0.199601", "0.189263", "0.161189", "0.148214", "0.137775",
                  "0.129740", "0.121225", "0.113821", "0.107839", "0.102855", "0.100897",
                  "0.092878"]


# The direct path runs 13 ms an iteration on cat with one thread (the Gram path 0.2 ms), and
# the course loop as long: the direct path is checked over fewer iterations, the Gram path
# over the course's 2,500 (both paths' per-iteration arithmetic is also checked on every
# scaling shape: tests/engine/test_fit.py).
DIRECT_ITERATIONS = 300


@pytest.fixture(scope="module")
def course_L_run(cat_data):
    """The course loop's parameters after DIRECT_ITERATIONS and after 2,500 iterations, and
    its 2,500 costs: one run, continued from its snapshot (the loop reads only the
    parameters, so the continued loop is the same loop)."""
    X, Y = cat_data[0], cat_data[1]
    early, early_costs = naive.train(X, Y, naive.init_deep_app([12288, 20, 7, 5, 1]), 0.0075,
                                     DIRECT_ITERATIONS)
    final, late_costs = naive.train(X, Y, early, 0.0075, 2500 - DIRECT_ITERATIONS)
    return {DIRECT_ITERATIONS: early, 2500: final}, np.concatenate([early_costs, late_costs])


@pytest.mark.parametrize("gram, iterations", [(True, 2500), (False, DIRECT_ITERATIONS)])
def test_cat_L_layer_parity(cat_data, course_L_run, gram, iterations):
    X, Y = cat_data[0], cat_data[1]
    ref_params, ref_costs = course_L_run[0][iterations], course_L_run[1][:iterations]
    result = fit(X, Y, [12288, 20, 7, 5, 1], 0.0075, iterations, gram=gram)
    assert_close(result.costs, ref_costs, rtol=1e-9)
    for k, v in ref_params.items():
        assert_close(result.parameters[k], v, rtol=1e-9)
    assert ["%f" % c for c in result.costs[::100]] == ["%f" % c for c in ref_costs[::100]]


def test_cat_L_layer_model_prints_course_lines_and_accuracies(cat_data, capsys):
    X, Y, X_test, Y_test, _ = cat_data
    params = fastdnn.L_layer_model(X, Y, [12288, 20, 7, 5, 1], num_iterations=2500,
                                   print_cost=True)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"Cost after iteration {i * 100}: {c}" for i, c in enumerate(COURSE_COSTS_L)]
    p_train = fastdnn.predict(X, Y, params)
    p_test = fastdnn.predict(X_test, Y_test, params)
    out = capsys.readouterr().out.splitlines()
    assert out == ["Accuracy: 0.9856459330143539", "Accuracy: 0.8"]
    assert p_train.shape == (1, 209) and p_test.dtype == np.float64


def test_cat_two_layer_model_matches_course_loop(cat_data, capsys):
    # The course's loop runs 9 ms an iteration here (X is read twice): the numbers are checked
    # against its first 500 iterations; the course's 2,500 give its lines and accuracies.
    X, Y, X_test, Y_test, _ = cat_data
    ref_params, ref_costs = naive.train(X, Y, naive.init_two_layer(12288, 7, 1), 0.0075, 500)
    early = fastdnn.two_layer_model(X, Y, (12288, 7, 1), num_iterations=500)
    for k, v in ref_params.items():
        assert_close(early[k], v, rtol=1e-9)
    params = fastdnn.two_layer_model(X, Y, (12288, 7, 1), num_iterations=2500, print_cost=True)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 25
    printed = [float(line.split(": ")[1]) for line in lines]
    assert_close(np.array(printed[:5]), ref_costs[::100], rtol=1e-9)
    fastdnn.predict(X, Y, params)
    fastdnn.predict(X_test, Y_test, params)
    assert capsys.readouterr().out.splitlines() == ["Accuracy: 0.9999999999999998",
                                                    "Accuracy: 0.72"]

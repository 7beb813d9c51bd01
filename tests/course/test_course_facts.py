"""Every expected output the step-by-step notebook prints for its test cases, in all three
namespaces, from its published seeds.

Inputs are regenerated here from the notebook's seeds and draw orders; expected values are
the notebook's printed 8-decimal numbers (so compared to within 5e-9).
"""
import types

import numpy as np
import pytest

import fastdnn
from fastdnn import pt, step_by_step

randn = np.random.randn
PRINTED = dict(rtol=0, atol=5.000001e-9)   # |value - value printed to 8 decimals| <= 5e-9


def _pt_adapter():
    return types.SimpleNamespace(
        initialize_parameters=pt.inicializar_parametros,
        initialize_parameters_deep=pt.inicializar_parametros_deep,
        linear_forward=pt.para_frente_linear,
        linear_activation_forward=lambda A, W, b, act: pt.para_frente_linear_ativacao(
            A, W, b, ativacao=act),
        L_model_forward=pt.modelo_para_frente_L,
        compute_cost=pt.compute_custo,
        linear_backward=pt.para_tras_linear,
        linear_activation_backward=lambda dA, c, act: pt.para_tras_linear_ativacao(
            dA, c, activation=act),
        L_model_backward=pt.modelo_para_tras_L,
        update_parameters=pt.atualizacao_parametros)


# (namespace, key of the gradient w.r.t. layer 1's activation, has the notebook's deep init)
NAMESPACES = {"fastdnn": (fastdnn, "dA1", False),
              "step_by_step": (step_by_step, "dA1", True),
              "pt": (_pt_adapter(), "dA2", True)}


@pytest.fixture(params=sorted(NAMESPACES))
def ns(request):
    return NAMESPACES[request.param]


# ---- the notebook's test cases (its seeds and draw orders) ------------------------------
def linear_forward_case():
    np.random.seed(1)
    return randn(3, 2), randn(1, 3), randn(1, 1)


def linear_activation_forward_case():
    np.random.seed(2)
    return randn(3, 2), randn(1, 3), randn(1, 1)


def L_model_forward_case_1hidden():
    np.random.seed(1)
    X = randn(4, 2)
    return X, {"W1": randn(3, 4), "b1": randn(3, 1), "W2": randn(1, 3), "b2": randn(1, 1)}


def L_model_forward_case_2hidden():
    np.random.seed(6)
    X = randn(5, 4)
    return X, {"W1": randn(4, 5), "b1": randn(4, 1), "W2": randn(3, 4), "b2": randn(3, 1),
               "W3": randn(1, 3), "b3": randn(1, 1)}


def linear_backward_case():
    np.random.seed(1)
    dZ = randn(1, 2)
    return dZ, (randn(3, 2), randn(1, 3), randn(1, 1))


def linear_activation_backward_case():
    np.random.seed(2)
    dA = randn(1, 2)
    A, W, b, Z = randn(3, 2), randn(1, 3), randn(1, 1), randn(1, 2)
    return dA, ((A, W, b), Z)


def L_model_backward_case():
    np.random.seed(3)
    AL = randn(1, 2)
    Y = np.array([[1, 0]])
    A1, W1, b1, Z1 = randn(4, 2), randn(3, 4), randn(3, 1), randn(3, 2)
    A2, W2, b2, Z2 = randn(3, 2), randn(1, 3), randn(1, 1), randn(1, 2)
    return AL, Y, (((A1, W1, b1), Z1), ((A2, W2, b2), Z2))


def update_parameters_case():
    np.random.seed(2)
    params = {"W1": randn(3, 4), "b1": randn(3, 1), "W2": randn(1, 3), "b2": randn(1, 1)}
    np.random.seed(3)
    grads = {"dW1": randn(3, 4), "db1": randn(3, 1), "dW2": randn(1, 3), "db2": randn(1, 1)}
    return params, grads


# ---- the expected outputs -----------------------------------------------------------------
def test_initialize_parameters(ns):
    p = ns[0].initialize_parameters(3, 2, 1)
    np.testing.assert_allclose(p["W1"], [[0.01624345, -0.00611756, -0.00528172],
                                         [-0.01072969, 0.00865408, -0.02301539]], **PRINTED)
    np.testing.assert_allclose(p["W2"], [[0.01744812, -0.00761207]], **PRINTED)
    assert p["b1"].shape == (2, 1) and p["b2"].shape == (1, 1)
    assert not p["b1"].any() and not p["b2"].any()


def test_initialize_parameters_deep(ns):
    mod, _, notebook_init = ns
    p = mod.initialize_parameters_deep([5, 4, 3])
    if notebook_init:
        np.testing.assert_allclose(p["W1"], [
            [0.01788628, 0.0043651, 0.00096497, -0.01863493, -0.00277388],
            [-0.00354759, -0.00082741, -0.00627001, -0.00043818, -0.00477218],
            [-0.01313865, 0.00884622, 0.00881318, 0.01709573, 0.00050034],
            [-0.00404677, -0.0054536, -0.01546477, 0.00982367, -0.01101068]], **PRINTED)
        np.testing.assert_allclose(p["W2"], [
            [-0.01185047, -0.0020565, 0.01486148, 0.00236716],
            [-0.01023785, -0.00712993, 0.00625245, -0.00160513],
            [-0.00768836, -0.00230031, 0.00745056, 0.01976111]], **PRINTED)
    else:   # the application's initialiser: seed 1, / sqrt(n_prev)
        np.random.seed(1)
        W1 = np.random.randn(4, 5) / np.sqrt(5)
        W2 = np.random.randn(3, 4) / np.sqrt(4)
        np.testing.assert_array_equal(p["W1"], W1)
        np.testing.assert_array_equal(p["W2"], W2)
    assert p["b1"].shape == (4, 1) and p["b2"].shape == (3, 1)
    assert sorted(p) == ["W1", "W2", "b1", "b2"]


def test_linear_forward(ns):
    A, W, b = linear_forward_case()
    Z, cache = ns[0].linear_forward(A, W, b)
    np.testing.assert_allclose(Z, [[3.26295337, -1.23429987]], **PRINTED)
    assert cache[0] is A and cache[1] is W and cache[2] is b


@pytest.mark.parametrize("activation, expected", [("sigmoid", [[0.96890023, 0.11013289]]),
                                                  ("relu", [[3.43896131, 0.]])])
def test_linear_activation_forward(ns, activation, expected):
    A_prev, W, b = linear_activation_forward_case()
    A, ((a, w, bb), Z) = ns[0].linear_activation_forward(A_prev, W, b, activation)
    np.testing.assert_allclose(A, expected, **PRINTED)
    assert a is A_prev and w is W and bb is b
    np.testing.assert_allclose(Z, np.dot(W, A_prev) + b, rtol=1e-14)


def test_L_model_forward(ns):
    X, params = L_model_forward_case_2hidden()
    AL, caches = ns[0].L_model_forward(X, params)
    np.testing.assert_allclose(AL, [[0.03921668, 0.70498921, 0.19734387, 0.04728177]],
                               **PRINTED)
    assert isinstance(caches, list) and len(caches) == 3
    X1, params1 = L_model_forward_case_1hidden()
    AL1, caches1 = ns[0].L_model_forward(X1, params1)
    np.testing.assert_allclose(AL1, [[0.17007265, 0.2524272]], **PRINTED)
    assert len(caches1) == 2


def test_compute_cost(ns):
    Y, AL = np.array([[1, 1, 1]]), np.array([[.8, .9, .4]])
    cost = ns[0].compute_cost(AL, Y)
    assert isinstance(cost, np.float64) and np.ndim(cost) == 0
    assert abs(cost - 0.41493159961539694) <= 1e-15


def test_linear_backward(ns):
    dZ, cache = linear_backward_case()
    dA_prev, dW, db = ns[0].linear_backward(dZ, cache)
    np.testing.assert_allclose(dA_prev, [[0.51822968, -0.19517421], [-0.40506361, 0.15255393],
                                         [2.37496825, -0.89445391]], **PRINTED)
    np.testing.assert_allclose(dW, [[-0.10076895, 1.40685096, 1.64992505]], **PRINTED)
    np.testing.assert_allclose(db, [[0.50629448]], **PRINTED)


@pytest.mark.parametrize("activation, dA_prev, dW, db", [
    ("sigmoid", [[0.11017994, 0.01105339], [0.09466817, 0.00949723], [-0.05743092, -0.00576154]],
     [[0.10266786, 0.09778551, -0.01968084]], [[-0.05729622]]),
    ("relu", [[0.44090989, 0.], [0.37883606, 0.], [-0.2298228, 0.]],
     [[0.44513824, 0.37371418, -0.10478989]], [[-0.20837892]])])
def test_linear_activation_backward(ns, activation, dA_prev, dW, db):
    dA, cache = linear_activation_backward_case()
    got = ns[0].linear_activation_backward(dA, cache, activation)
    for g, e in zip(got, (dA_prev, dW, db)):
        np.testing.assert_allclose(g, e, **PRINTED)


def test_L_model_backward(ns):
    mod, key, _ = ns
    AL, Y, caches = L_model_backward_case()
    grads = mod.L_model_backward(AL, Y, caches)
    np.testing.assert_allclose(grads["dW1"], [[0.41010002, 0.07807203, 0.13798444, 0.10502167],
                                              [0, 0, 0, 0],
                                              [0.05283652, 0.01005865, 0.01777766, 0.0135308]],
                               **PRINTED)
    np.testing.assert_allclose(grads["db1"], [[-0.22007063], [0.], [-0.02835349]], **PRINTED)
    np.testing.assert_allclose(grads[key], [[0.12913162, -0.44014127], [-0.14175655, 0.48317296],
                                            [0.01663708, -0.05670698]], **PRINTED)
    shift = 1 if key == "dA2" else 0
    assert sorted(grads) == sorted([f"dA{l + shift}" for l in range(2)] +
                                   ["dW1", "dW2", "db1", "db2"])
    assert grads[f"dA{shift}"].shape == caches[0][0][0].shape     # first dA key has X's shape


def test_update_parameters(ns):
    params, grads = update_parameters_case()
    same = params
    out = ns[0].update_parameters(params, grads, 0.1)
    assert out is same
    np.testing.assert_allclose(out["W1"], [[-0.59562069, -0.09991781, -2.14584584, 1.82662008],
                                           [-1.76569676, -0.80627147, 0.51115557, -1.18258802],
                                           [-1.0535704, -0.86128581, 0.68284052, 2.20374577]],
                               **PRINTED)
    np.testing.assert_allclose(out["b1"], [[-0.04659241], [-1.28888275], [0.53405496]], **PRINTED)
    np.testing.assert_allclose(out["W2"], [[-0.55569196, 0.0354055, 1.32964895]], **PRINTED)
    np.testing.assert_allclose(out["b2"], [[-0.84610769]], **PRINTED)

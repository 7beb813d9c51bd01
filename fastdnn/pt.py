"""Os nomes em português do notebook de origem (Portuguese names of our source notebook).

Same semantics as ``fastdnn.step_by_step``, with the notebook's keyword names
(``ativacao=`` forward, ``activation=`` backward) and its gradient keys ``dA1..dAL``
(``dA1`` has X's shape).
"""
from . import core
from .dnn_utils import relu, relu_backward, sigmoid, sigmoid_backward  # noqa: F401

inicializar_parametros = core.initialize_parameters
inicializar_parametros_deep = core.initialize_parameters_deep_notebook
para_frente_linear = core.linear_forward
modelo_para_frente_L = core.L_model_forward
compute_custo = core.compute_cost
para_tras_linear = core.linear_backward
atualizacao_parametros = core.update_parameters


def para_frente_linear_ativacao(A_prev, W, b, ativacao):
    """LINEAR -> ATIVAÇÃO; ativacao: "sigmoid" ou "relu". Retorna (A, cache)."""
    return core.linear_activation_forward(A_prev, W, b, ativacao)


def para_tras_linear_ativacao(dA, cache, activation):
    """Propagação para trás LINEAR -> ATIVAÇÃO. Retorna (dA_prev, dW, db)."""
    return core.linear_activation_backward(dA, cache, activation)


def modelo_para_tras_L(AL, Y, caches):
    """Gradientes com as chaves do notebook: dA1..dAL, dW1..dWL, db1..dbL."""
    return core.model_backward(AL, Y, caches, 1)


__all__ = ["sigmoid", "relu", "sigmoid_backward", "relu_backward", "inicializar_parametros",
           "inicializar_parametros_deep", "para_frente_linear", "para_frente_linear_ativacao",
           "modelo_para_frente_L", "compute_custo", "para_tras_linear",
           "para_tras_linear_ativacao", "modelo_para_tras_L", "atualizacao_parametros"]

"""The cat vs non-cat application's functions, drop-in for the course's helper module.

Guarantees: the course's signatures, defaults, seeds, initialisers, printed lines and
return values; training runs in fastdnn.engine (same numbers, ~100x faster).
"""
import numpy as np

from .core import initialize_parameters, initialize_parameters_deep_app
from .engine.inference import predictions
from .engine.training import fit
from .plot import learning_curve


def _print_every_100(fmt):
    def callback(start, costs):
        for i in range(start, start + costs.size):
            if i % 100 == 0:
                print(fmt(i, costs[i - start]))
    return callback


def _train(X, Y, layers_dims, parameters, learning_rate, num_iterations, print_cost, fmt):
    result = fit(X, Y, layers_dims, learning_rate, num_iterations, parameters=parameters,
                 callback=_print_every_100(fmt) if print_cost else None)
    recorded = result.costs[::100] if print_cost else result.costs[:0]
    learning_curve(recorded, learning_rate)
    return result.parameters


def two_layer_model(X, Y, layers_dims, learning_rate=0.0075, num_iterations=3000,
                    print_cost=False):
    """LINEAR->RELU->LINEAR->SIGMOID. layers_dims: (n_x, n_h, n_y). Returns parameters."""
    n_x, n_h, n_y = layers_dims
    parameters = initialize_parameters(n_x, n_h, n_y)      # seeds numpy with 1, as the course
    return _train(X, Y, [n_x, n_h, n_y], parameters, learning_rate, num_iterations, print_cost,
                  lambda i, c: "Cost after iteration {}: {}".format(i, np.squeeze(c)))


def L_layer_model(X, Y, layers_dims, learning_rate=0.0075, num_iterations=3000,
                  print_cost=False):
    """[LINEAR->RELU] x (L-1) -> LINEAR->SIGMOID. Returns parameters."""
    parameters = initialize_parameters_deep_app(layers_dims)   # seed 1, / sqrt(n_prev)
    return _train(X, Y, layers_dims, parameters, learning_rate, num_iterations, print_cost,
                  lambda i, c: "Cost after iteration %i: %f" % (i, c))


def predict(X, y, parameters):
    """Predict 1 where the model's probability is > 0.5. Prints the accuracy on ``y``.

    X: (n_x, m). y: (1, m). Returns p: (1, m) float array of 0/1.
    """
    p = predictions(X, parameters)
    print("Accuracy: " + str(np.sum((p == y) / p.shape[1])))
    return p

"""``fastdnn.DNNClassifier``: the engine as a scikit-learn classifier (the ``fastdnn[sklearn]``
extra; ``import fastdnn`` never imports scikit-learn, this module does).

Guarantees: scikit-learn's conventions (``fit`` returns self, fitted attributes end in ``_``,
parameters validated at ``fit``, samples in rows, labels of any type); every check of
``sklearn.utils.estimator_checks`` passes (tests/test_estimator.py). Samples in rows are the
columns of the engine's (n_x, m) view: X is never copied when it is C-ordered in the
estimator's dtype. Two classes end in the course's sigmoid unit, more in a softmax. With
``init="app"``, a binary target and default options, ``fit`` gives exactly
``fastdnn.fit``'s costs and parameters; ``warm_start`` continues bit for bit.
"""
import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, check_random_state, validate_data

from ..core import initialize_parameters_deep_app
from ..engine import settings as run_settings
from ..engine.inference import probabilities
from ..engine.sources.checks import output_units
from ..engine.trainer import Trainer

_PROB = Interval(numbers.Real, 0, 1, closed="left")


def _init(dims, init, random_state):
    """The initial parameters: the application's initialiser, or He-scaled normal weights from
    ``random_state`` (W_l = randn / sqrt(n_{l-1}), b = 0)."""
    if init == "app":
        return initialize_parameters_deep_app(dims)
    rng = check_random_state(random_state)
    return {k: x for l in range(1, len(dims)) for k, x in
            ((f"W{l}", rng.standard_normal((dims[l], dims[l - 1])) / np.sqrt(dims[l - 1])),
             (f"b{l}", np.zeros((dims[l], 1))))}


class DNNClassifier(ClassifierMixin, BaseEstimator):
    """A deep ReLU network classifier trained by fastdnn's compiled engine.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default (100,).
    learning_rate : float > 0, default 0.001.
    max_iter : int >= 1, epochs of each ``fit`` (all run: there is no early stop).
    optimizer : "adam" (default), "momentum" or "gd".
    mini_batch_size : int or None (full batch), default 200 (the whole set if smaller).
    beta, beta1, beta2, epsilon : momentum's and Adam's constants.
    lambd : L2 strength, default 0.  keep_prob : dropout on hidden layers, default 1 (none).
    dtype : "float64" (default) or "float32".
    init : "he" (normal weights / sqrt(fan-in) from ``random_state``, default) or "app" (the
        course application's initialiser: seed 1, whatever ``random_state``).
    random_state : None, int or RandomState: initial weights, shuffles and dropout masks.
    warm_start : bool; a later ``fit`` continues the run (same data: bit-identical to one
        longer run).
    verbose : bool; print each epoch's loss.

    Attributes
    ----------
    classes_, n_features_in_, feature_names_in_ (when X has column names), n_iter_,
    loss_curve_ (one loss per epoch), coefs_ / intercepts_ (scikit-learn's layout: (n_in,
    n_out) and (n_out,) per layer), parameters_ (the course's W1, b1, ... dict),
    out_activation_ ("logistic" or "softmax").
    """

    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like", Interval(numbers.Integral, 1, None, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "optimizer": [StrOptions({"adam", "momentum", "gd"})],
        "mini_batch_size": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "beta": [_PROB], "beta1": [_PROB], "beta2": [_PROB],
        "epsilon": [Interval(numbers.Real, 0, None, closed="neither")],
        "lambd": [Interval(numbers.Real, 0, None, closed="left")],
        "keep_prob": [Interval(numbers.Real, 0, 1, closed="right")],
        "dtype": [StrOptions({"float64", "float32"})],
        "init": [StrOptions({"he", "app"})],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }

    def __init__(self, hidden_layer_sizes=(100,), learning_rate=0.001, max_iter=200,
                 optimizer="adam", mini_batch_size=200, beta=0.9, beta1=0.9, beta2=0.999,
                 epsilon=1e-8, lambd=0.0, keep_prob=1.0, dtype="float64", init="he",
                 random_state=None, warm_start=False, verbose=False):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.optimizer = optimizer
        self.mini_batch_size = mini_batch_size
        self.beta = beta
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.lambd = lambd
        self.keep_prob = keep_prob
        self.dtype = dtype
        self.init = init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose

    # ---- fit ------------------------------------------------------------------------------
    def _targets(self, y):
        """(Y for the engine, its output units) from y: 0/1 for two classes, else indices."""
        check_classification_targets(y)
        classes, index = np.unique(y, return_inverse=True)
        if self.warm_start and hasattr(self, "classes_"):
            if not np.array_equal(classes, self.classes_):
                raise ValueError(f"warm_start: y has classes {classes}, the fitted model "
                                 f"{self.classes_}")
        elif classes.size < 2:
            raise ValueError(f"DNNClassifier needs at least 2 classes in y; got 1 class "
                             f"({classes[0]!r})")
        self.classes_ = classes
        n_out = output_units(index, classes)
        return (index.reshape(1, -1).astype(np.float64) if n_out == 1 else index), n_out

    def _settings(self, m):
        seed = int(check_random_state(self.random_state).randint(2 ** 31 - 1))
        batch = self.mini_batch_size if self.mini_batch_size is None or \
            self.mini_batch_size < m else None
        return run_settings.checked(self.optimizer, batch, self.beta, self.beta1, self.beta2,
                                    self.epsilon, self.lambd, self.keep_prob, seed)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train on X (n_samples, n_features) and labels y (n_samples,); returns self."""
        first = not (self.warm_start and hasattr(self, "_state"))
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], order="C",
                             reset=first)
        Y, n_out = self._targets(y)
        dims = [X.shape[1], *np.atleast_1d(self.hidden_layer_sizes).tolist(), n_out]
        settings = self._settings(X.shape[0])
        start = _init(dims, self.init, self.random_state) if first else self.parameters_
        trainer = Trainer(X.T, Y, start, self.learning_rate, dtype=np.dtype(self.dtype),
                          settings=settings)
        if not first:
            trainer.load_state(self._state)
        losses = np.empty(self.max_iter)
        if self.verbose:
            for e in range(self.max_iter):
                trainer.run(losses[e:e + 1])
                print(f"Iteration {trainer.iteration}, loss = {losses[e]:.8f}")
        else:
            trainer.run(losses)                 # one call: no Python between epochs
        self._state = trainer.state()
        self.loss_curve_ = (list(self.loss_curve_) if not first else []) + losses.tolist()
        self.n_iter_ = trainer.iteration
        self._set_parameters(trainer.parameters())
        return self

    def _set_parameters(self, params):
        L = len(params) // 2
        self.parameters_ = params
        self.coefs_ = [params[f"W{l}"].T.copy() for l in range(1, L + 1)]
        self.intercepts_ = [params[f"b{l}"].ravel().copy() for l in range(1, L + 1)]
        self.n_layers_ = L + 1
        self.n_outputs_ = params[f"W{L}"].shape[0]
        self.out_activation_ = "logistic" if self.n_outputs_ == 1 else "softmax"

    # ---- predict --------------------------------------------------------------------------
    def predict_proba(self, X):
        """(n_samples, n_classes) class probabilities."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        p = probabilities(X.T, self.parameters_)
        if p.ndim == 1:
            return np.column_stack([1 - p, p])
        return np.ascontiguousarray(p.T)

    def predict_log_proba(self, X):
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """(n_samples,) the most probable class (ties: the first of classes_)."""
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

"""``MLPClassifier`` and ``MLPRegressor``: scikit-learn's, compiled (the ``fastdnn[sklearn]``
extra; ``from fastdnn.neural_network import MLPClassifier`` is the one line a script changes).

Guarantees: the installed scikit-learn's estimators in every respect but where the time goes.
They are its classes, subclassed: the same parameters, defaults and validation, the same
random draws (initial weights, each epoch's shuffle, the early-stopping split, all from
its ``random_state`` in its order), the same epoch loop decisions (tol, n_iter_no_change,
"adaptive" and "invscaling" learning rates, early stopping, warm_start, partial_fit,
ConvergenceWarning) and the same fitted attributes. What changes: each epoch of "sgd" or
"adam" runs in the engine's kernels (engine/mlp.py), batch after batch, without returning
to Python; "lbfgs" drives SciPy's L-BFGS-B with the loss and gradient from the same kernels.
Losses agree with scikit-learn's to summation order (about 1e-12 relative in float64 per
step); the same bits for any thread count. A sparse X is densified a tile of rows at a time,
never whole. Inputs the kernels do not take (other dtypes, activations) go through
scikit-learn's own code, so every input gives its answer.
"""
import warnings

import numpy as np
import scipy.optimize
import scipy.sparse
from sklearn import neural_network as _sk
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils.optimize import _check_optimize_result

from .. import kernels as K
from ..engine.mlp import HIDDEN, OUTPUT, MLPEngine, optimizer
from ..runtime.threads import one_blas_thread


def _compiled(est, X):
    """Whether the kernels take this fit (else scikit-learn's own code runs it)."""
    return (X.dtype in (np.float32, np.float64) and est.activation in HIDDEN
            and est.out_activation_ in OUTPUT)


def _kernel_inputs(X, y, sample_weight):
    """(rows, Y, sw) as the kernels read them: _rows(X), y (m, n_L) C in X's dtype, the
    weights as float64 or (0,) for none."""
    sw = np.zeros(0) if sample_weight is None else \
        np.ascontiguousarray(sample_weight, np.float64)
    return _rows(X), np.ascontiguousarray(y, dtype=X.dtype), sw


def _rows(X):
    """X as the kernels read it: the array, or a sparse X's CSR arrays (kernels.CSR; a CSC
    or other sparse X converted to CSR, still sparse)."""
    if not scipy.sparse.issparse(X):
        return X
    X = X.tocsr()
    return K.CSR(X.data, X.indices, X.indptr, X.shape)


def _split(est, X, y, sample_weight):
    """(X_train, y_train, sw_train, X_val, y_val, sw_val): scikit-learn's early-stopping
    split (its train_test_split, its random_state, stratified for one-output classifiers)."""
    if not est.early_stopping:
        return X, y, sample_weight, None, None, None
    stratify = y if is_classifier(est) and est.n_outputs_ == 1 else None
    arrays = (X, y) if sample_weight is None else (X, y, sample_weight)
    parts = train_test_split(*arrays, random_state=est._random_state,
                             test_size=est.validation_fraction, stratify=stratify)
    X_tr, X_val, y_tr, y_val = parts[:4]
    sw_tr, sw_val = parts[4:6] if sample_weight is not None else (None, None)
    if X_val.shape[0] < 2:
        raise ValueError("The validation set is too small. Increase 'validation_fraction' "
                         "or the size of your dataset.")
    if is_classifier(est):
        y_val = est._label_binarizer.inverse_transform(y_val)
    return X_tr, y_tr, sw_tr, X_val, y_val, sw_val


def reshuffle(sample_idx, random_state):
    """``sklearn.utils.shuffle(sample_idx, random_state=random_state)`` without its input
    checks (they cost a sixth of a digits fit): the same draw, a RandomState.shuffle of
    arange(n), applied to sample_idx (tests check it against scikit-learn's)."""
    perm = np.arange(sample_idx.shape[0])
    random_state.shuffle(perm)
    return sample_idx[perm]


def _batch_size(est, n):
    if est.batch_size == "auto":
        return min(200, n)
    if est.batch_size > n:
        warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is going "
                      "to be clipped")
    return int(np.clip(est.batch_size, 1, n))


def _make_optimizer(est, params):
    """scikit-learn's optimizer object: it keeps the schedule (learning_rate,
    iteration_ends, trigger_stopping) and, between calls, the state the kernels update."""
    from sklearn.neural_network._stochastic_optimizers import AdamOptimizer, SGDOptimizer
    if est.solver == "sgd":
        return SGDOptimizer(params, est.learning_rate_init, est.learning_rate, est.momentum,
                            est.nesterovs_momentum, est.power_t)
    return AdamOptimizer(params, est.learning_rate_init, est.beta_1, est.beta_2, est.epsilon)


class _State:
    """The optimizer's state in theta's layout for one call, read from and written back to
    scikit-learn's optimizer object (its lists, in coefs + intercepts order)."""

    def __init__(self, est, eng):
        self.est, self.eng, self.o = est, eng, est._optimizer
        L = len(eng.dims) - 1
        if est.solver == "sgd":
            self.v = eng.flat(self.o.velocities[:L], self.o.velocities[L:])
            self.s = np.zeros(0, eng.dtype)
            self.t = np.zeros(1, np.int64)
        else:
            self.v = eng.flat(self.o.ms[:L], self.o.ms[L:])
            self.s = eng.flat(self.o.vs[:L], self.o.vs[L:])
            self.t = np.array([self.o.t], np.int64)

    def kernel_optimizer(self):
        est, o = self.est, self.o
        if est.solver == "sgd":
            code = K.SK_NESTEROV if o.nesterov else K.SK_SGD
            return optimizer(code, o.learning_rate, o.momentum, 0, 0, 0, est.alpha,
                             self.v, self.s, self.t)
        return optimizer(K.SK_ADAM, o.learning_rate_init, 0, o.beta_1, o.beta_2, o.epsilon,
                         est.alpha, self.v, self.s, self.t)

    def write_back(self):
        eng, o = self.eng, self.o
        c, i = eng.lists(self.v)
        if self.est.solver == "sgd":
            o.velocities = c + i
            return
        c2, i2 = eng.lists(self.s)
        o.ms, o.vs, o.t = c + i, c2 + i2, int(self.t[0])
        o.learning_rate = (o.learning_rate_init * np.sqrt(1 - o.beta_2 ** o.t)
                           / (1 - o.beta_1 ** o.t)) if o.t else o.learning_rate_init


class _CompiledMLP:
    """The solvers of scikit-learn's BaseMultilayerPerceptron, on the engine."""

    def _engine(self, layer_units, dtype, m, batch):
        eng = MLPEngine(layer_units, self.activation, self.out_activation_, dtype, m, batch)
        eng.flat(self.coefs_, self.intercepts_, out=eng.net.theta)
        self.coefs_, self.intercepts_ = eng.coefs(), eng.intercepts()
        return eng

    def _fit_stochastic(self, X, y, sample_weight, activations, deltas, coef_grads,
                        intercept_grads, layer_units, incremental):
        if not _compiled(self, X):
            return super()._fit_stochastic(X, y, sample_weight, activations, deltas,
                                           coef_grads, intercept_grads, layer_units,
                                           incremental)
        if not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = _make_optimizer(self, self.coefs_ + self.intercepts_)
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        X_tr, y_tr, sw_tr, X_val, y_val, sw_val = _split(self, X, y, sample_weight)
        n = X_tr.shape[0]
        eng = self._engine(layer_units, X.dtype, n, _batch_size(self, n))
        rows, Y, sw = _kernel_inputs(X_tr, y_tr, sw_tr)
        state = _State(self, eng)
        sample_idx = np.arange(n, dtype=int)
        in_order = np.zeros(0, np.int64)
        try:
            self.n_iter_ = 0
            with one_blas_thread():
                for _ in range(self.max_iter):
                    if self.shuffle:
                        sample_idx = reshuffle(sample_idx, self._random_state)
                        order = sample_idx.astype(np.int64, copy=False)
                    else:
                        order = in_order
                    self.loss_ = eng.epoch(rows, Y, sw, order, state.kernel_optimizer())
                    if self._epoch_ends(n, X_val, y_val, sw_val, incremental):
                        break
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.")
        finally:
            state.write_back()
        if self.early_stopping:
            self.coefs_, self.intercepts_ = self._best_coefs, self._best_intercepts

    def _epoch_ends(self, n, X_val, y_val, sw_val, incremental):
        """scikit-learn's bookkeeping after an epoch; True when the loop stops."""
        self.n_iter_ += 1
        self.t_ += n
        self.loss_curve_.append(self.loss_)
        if self.verbose:
            print("Iteration %d, loss = %.8f" % (self.n_iter_, self.loss_))
        self._update_no_improvement_count(self.early_stopping, X_val, y_val, sw_val)
        self._optimizer.iteration_ends(self.t_)
        if self._no_improvement_count > self.n_iter_no_change:
            what = ("Validation score" if self.early_stopping else "Training loss")
            msg = ("%s did not improve more than tol=%f for %d consecutive epochs."
                   % (what, self.tol, self.n_iter_no_change))
            if self._optimizer.trigger_stopping(msg, self.verbose):
                return True
            self._no_improvement_count = 0
        if incremental:
            return True
        if self.n_iter_ == self.max_iter:
            warnings.warn("Stochastic Optimizer: Maximum iterations (%d) reached and the "
                          "optimization hasn't converged yet." % self.max_iter,
                          ConvergenceWarning)
        return False

    def _fit_lbfgs(self, X, y, sample_weight, activations, deltas, coef_grads,
                   intercept_grads, layer_units):
        if not _compiled(self, X):
            return super()._fit_lbfgs(X, y, sample_weight, activations, deltas, coef_grads,
                                      intercept_grads, layer_units)
        m = X.shape[0]
        self._packed_layout(layer_units)
        eng = self._engine(layer_units, X.dtype, m, m)
        iprint = 1 if (self.verbose is True or self.verbose >= 1) else -1
        with one_blas_thread():
            res = scipy.optimize.minimize(
                eng.loss_grad, eng.net.theta.astype(np.float64), method="L-BFGS-B",
                jac=True, args=(*_kernel_inputs(X, y, sample_weight), self.alpha),
                options={"maxfun": self.max_fun, "maxiter": self.max_iter,
                         "gtol": self.tol, **_iprint(iprint)})
        self.n_iter_ = _check_optimize_result("lbfgs", res, self.max_iter)
        self.loss_ = res.fun
        eng.net.theta[...] = res.x
        self.coefs_, self.intercepts_ = eng.lists(eng.net.theta)

    def _packed_layout(self, layer_units):
        """scikit-learn's packed vector of parameters (every coef (fan_in, fan_out) flat,
        then every intercept): its _coef_indptr and _intercept_indptr."""
        self._coef_indptr, self._intercept_indptr = [], []
        start = 0
        for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
            self._coef_indptr.append((start, start + fan_in * fan_out, (fan_in, fan_out)))
            start += fan_in * fan_out
        for fan_out in layer_units[1:]:
            self._intercept_indptr.append((start, start + fan_out))
            start += fan_out

    def _loss_grad_lbfgs(self, packed_coef_inter, X, y, sample_weight, activations, deltas,
                         coef_grads, intercept_grads):
        """(loss, gradient) at scikit-learn's packed parameters, from the kernels (its
        signature; the lists it passes are scratch for its own code)."""
        if not _compiled(self, X):
            return super()._loss_grad_lbfgs(packed_coef_inter, X, y, sample_weight,
                                            activations, deltas, coef_grads, intercept_grads)
        self._unpack(packed_coef_inter)
        units = [self.coefs_[0].shape[0]] + [c.shape[1] for c in self.coefs_]
        eng = MLPEngine(units, self.activation, self.out_activation_, X.dtype, X.shape[0],
                        X.shape[0])
        theta = eng.flat(self.coefs_, self.intercepts_)
        with one_blas_thread():
            loss, grad = eng.loss_grad(theta, *_kernel_inputs(X, y, sample_weight),
                                       self.alpha)
        c, i = eng.lists(grad)
        return loss, np.hstack([a.ravel() for a in c + i])


def _iprint(iprint):
    """L-BFGS-B's verbosity option as the installed SciPy takes it (as scikit-learn does)."""
    try:
        from sklearn.utils.fixes import _get_additional_lbfgs_options_dict
    except ImportError:
        return {"iprint": iprint}
    return _get_additional_lbfgs_options_dict("iprint", iprint)


class MLPClassifier(_CompiledMLP, _sk.MLPClassifier):
    """scikit-learn's ``MLPClassifier`` (same parameters, attributes and numbers) whose
    solvers run in fastdnn's compiled kernels. See ``sklearn.neural_network.MLPClassifier``
    for the parameters."""


class MLPRegressor(_CompiledMLP, _sk.MLPRegressor):
    """scikit-learn's ``MLPRegressor`` (same parameters, attributes and numbers) whose
    solvers run in fastdnn's compiled kernels. See ``sklearn.neural_network.MLPRegressor``
    for the parameters."""

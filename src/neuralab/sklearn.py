"""scikit-learn estimators on neuralab's networks: :class:`NeuralClassifier` and
:class:`NeuralRegressor`.

They follow scikit-learn's estimator contract (``fit/predict/score``, ``get_params/set_params``,
``classes_``, ``n_features_in_``, ``random_state``), so a neuralab network goes into a
``Pipeline``, ``GridSearchCV`` or ``cross_val_score`` like any scikit-learn model, with
``n_jobs`` for parallel folds.  Underneath are the library's own pieces: ``nn.Dense`` layers in
an ``nn.Sequential``, a :class:`~neuralab.train.Trainer`, Adam or AdamW, and
``EarlyStopping`` on a validation fraction.  The defaults are those of ``neuralab train``,
chosen by cross-validation on eight tables (docs/training.md).

>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import StandardScaler
>>> from sklearn.model_selection import cross_val_score
>>> from neuralab.sklearn import NeuralClassifier
>>> model = make_pipeline(StandardScaler(), NeuralClassifier(random_state=0))
>>> cross_val_score(model, X, y, cv=5, n_jobs=2)

Inputs are not scaled here (scale them in the pipeline, as for scikit-learn's MLP); a
regressor learns standardized targets and answers in the original units.  Needs the ``[lab]``
extra (scikit-learn).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from . import nn, optim
from .autograd import no_grad
from .train import EarlyStopping, Trainer

__all__ = ["NeuralClassifier", "NeuralRegressor"]


def _generator(random_state: Any) -> np.random.Generator:
    """A fresh Generator for one fit: an int (or None, fresh entropy) seeds it, a Generator or
    a legacy RandomState is drawn from (so two fits from one RandomState differ, as in
    scikit-learn)."""
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return np.random.default_rng(random_state.integers(2**63 - 1))
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(2**31 - 1))
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool) \
            and random_state >= 0:
        return np.random.default_rng(int(random_state))
    raise ValueError(f"random_state expected None, a non-negative integer, a "
                     f"numpy.random.Generator or RandomState, got {random_state!r}")


class _NeuralEstimator(BaseEstimator):
    """The shared parameters, checks and training loop of the two estimators."""

    def __init__(self, hidden_layer_sizes: tuple[int, ...] = (256,), activation: str = "relu",
                 learning_rate: float = 1e-3, weight_decay: float = 0.1, batch_size: int = 32,
                 epochs: int = 500, early_stopping: bool = True,
                 validation_fraction: float = 0.2, patience: int = 30,
                 random_state: Any = None, verbose: int = 0) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.epochs = epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state
        self.verbose = verbose

    # -- parameters, checked at fit as scikit-learn does (never in __init__)
    def _check_params(self) -> tuple[int, ...]:
        name = type(self).__name__
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool):
            sizes = (sizes,)
        try:
            sizes = tuple(sizes)
        except TypeError:
            sizes = None
        if sizes is None or not all(isinstance(h, numbers.Integral) and not isinstance(h, bool)
                                    and h > 0 for h in sizes):
            raise ValueError(f"{name}: hidden_layer_sizes expected positive integers such as "
                             f"(64, 32) (or () for no hidden layer), got "
                             f"{self.hidden_layer_sizes!r}")
        for key, low in (("learning_rate", 0.0), ("weight_decay", None)):
            value = getattr(self, key)
            if not isinstance(value, numbers.Real) or isinstance(value, bool) \
                    or not np.isfinite(value) or (value <= low if low is not None else value < 0):
                what = "a positive number" if low is not None else "a number >= 0"
                raise ValueError(f"{name}: {key} expected {what}, got {value!r}")
        for key in ("batch_size", "epochs", "patience"):
            value = getattr(self, key)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name}: {key} expected a positive integer, got {value!r}")
        fraction = self.validation_fraction
        if self.early_stopping and not (isinstance(fraction, numbers.Real)
                                        and 0.0 < fraction < 1.0):
            raise ValueError(f"{name}: validation_fraction expected a fraction in (0, 1) for "
                             f"early_stopping, got {fraction!r}")
        if nn.activations.get(self.activation) is None and self.activation is not None:
            raise ValueError(f"{name}: activation {self.activation!r} is not an activation")
        return tuple(int(h) for h in sizes)

    def _network(self, n_in: int, n_out: int, rng: np.random.Generator) -> nn.Sequential:
        layers: list[Any] = []
        width = n_in
        for h in self._check_params():
            layers.append(nn.Dense(h, activation=self.activation, input_dim=width, rng=rng))
            width = h
        layers.append(nn.Dense(n_out, input_dim=width, rng=rng))
        return nn.Sequential(layers)

    def _train(self, X: np.ndarray, y: np.ndarray, n_out: int, loss: Any,
               stratify: np.ndarray | None) -> None:
        rng = _generator(self.random_state)
        model = self._network(X.shape[1], n_out, rng)
        params = model.parameters()
        opt = (optim.AdamW(params, lr=float(self.learning_rate),
                           weight_decay=float(self.weight_decay))
               if self.weight_decay else optim.Adam(params, lr=float(self.learning_rate)))
        trainer = Trainer(model, loss, opt, metrics=[], rng=rng)
        callbacks, validation = [], None
        if self.early_stopping:
            fit_idx, val_idx = self._validation_rows(len(X), stratify, rng)
            if len(val_idx):
                validation = (X[val_idx], y[val_idx])
                X, y = X[fit_idx], y[fit_idx]
                callbacks.append(EarlyStopping(patience=int(self.patience),
                                               restore_best_weights=True))
        with np.errstate(over="ignore", invalid="ignore"):
            history = trainer.fit(X, y, validation_data=validation, epochs=int(self.epochs),
                                  batch_size=int(self.batch_size), callbacks=callbacks,
                                  verbose=2 if self.verbose else 0)
        losses = np.asarray(history.history.get("loss", []), dtype=np.float64)
        if not np.isfinite(losses).all() or \
                not all(np.isfinite(p.data).all() for p in model.parameters()):
            raise ValueError(f"{type(self).__name__}: training diverged (the loss or the "
                             f"weights stopped being finite); lower learning_rate (now {self.learning_rate}) "
                             f"or scale the inputs (StandardScaler in a Pipeline)")
        self.model_ = model
        self.history_ = {k: list(v) for k, v in history.history.items()}
        self.n_iter_ = len(self.history_.get("loss", []))
        self.loss_curve_ = list(self.history_.get("loss", []))

    def _validation_rows(self, n: int, stratify: np.ndarray | None,
                         rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """A seeded split of the rows for early stopping; stratified by class where every class
        can give a row; no validation rows when the data is too small to spare any (training
        then runs all the epochs)."""
        n_val = int(np.floor(n * float(self.validation_fraction)))
        if n_val < 1 or n - n_val < 1:
            return np.arange(n), np.arange(0)
        order = rng.permutation(n)
        if stratify is not None:
            counts = np.bincount(stratify)
            if counts[counts > 0].min() >= 2 and n_val >= np.count_nonzero(counts):
                val = []
                for c in np.flatnonzero(counts):
                    rows = order[stratify[order] == c]
                    take = max(1, int(round(len(rows) * n_val / n)))
                    val.extend(rows[:min(take, len(rows) - 1)])
                val_idx = np.sort(np.asarray(val))
                return np.setdiff1d(np.arange(n), val_idx), val_idx
        return np.sort(order[n_val:]), np.sort(order[:n_val])

    def _outputs(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=np.float32)
        self.model_.eval()
        with no_grad(), np.errstate(over="ignore", invalid="ignore"):
            return self.model_(X).data.astype(np.float64)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


class NeuralClassifier(ClassifierMixin, _NeuralEstimator):
    """A neural-network classifier (ReLU hidden layers, softmax cross-entropy, AdamW), as a
    scikit-learn estimator.

    Args:
        hidden_layer_sizes: units per hidden layer (default ``(256,)``; ``()`` is a
            multinomial logistic regression).
        activation: of the hidden layers, any name of ``nn.activations`` (default ``"relu"``).
        learning_rate: Adam's step size (default ``1e-3``).
        weight_decay: AdamW's decoupled weight decay (default ``0.1``; ``0`` is plain Adam).
        batch_size: samples per step (default 32).
        epochs: at most (default 500).
        early_stopping: hold out ``validation_fraction`` of the training rows (stratified) and
            stop when their loss has not improved for ``patience`` epochs, keeping the best
            weights (default on).
        validation_fraction, patience: of the early stopping (defaults 0.2 and 30).
        random_state: an int for the same network, split and shuffles at every fit; None
            for fresh randomness.
        verbose: one line per epoch.

    Fitted: ``classes_``, ``n_features_in_`` (``feature_names_in_`` for a DataFrame),
    ``model_`` (the trained ``nn.Sequential``: trace it, draw its graph), ``history_`` (loss and
    val_loss per epoch), ``n_iter_`` (epochs run), ``loss_curve_``.
    """

    def fit(self, X: Any, y: Any) -> NeuralClassifier:
        X, y = validate_data(self, X, y, dtype=np.float32)
        check_classification_targets(y)
        self.classes_, encoded = np.unique(y, return_inverse=True)
        encoded = encoded.astype(np.int64)
        self._train(X, encoded, max(len(self.classes_), 1), nn.CrossEntropyLoss(),
                    stratify=encoded)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        logits = self._outputs(X)
        z = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        logits = self._outputs(X)
        z = logits - logits.max(axis=1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=1, keepdims=True))

    def predict(self, X: Any) -> np.ndarray:
        outputs = self._outputs(X)  # checks that the estimator is fitted
        return self.classes_[np.argmax(outputs, axis=1)]


class NeuralRegressor(RegressorMixin, _NeuralEstimator):
    """A neural-network regressor (ReLU hidden layers, one linear output, mean squared error,
    AdamW), as a scikit-learn estimator.  The targets are learned standardized (mean 0,
    standard deviation 1 over the training rows) and predictions are returned in the original
    units.  Parameters and fitted attributes as :class:`NeuralClassifier` (without
    ``classes_``); early stopping holds out a random ``validation_fraction``.
    """

    def fit(self, X: Any, y: Any) -> NeuralRegressor:
        X, y = validate_data(self, X, y, dtype=np.float32, y_numeric=True)
        y = np.asarray(y, dtype=np.float64)
        self._y_shift = float(y.mean())
        self._y_scale = float(y.std()) or 1.0
        target = ((y - self._y_shift) / self._y_scale).astype(np.float32)[:, None]
        self._train(X, target, 1, nn.MSELoss(), stratify=None)
        return self

    def predict(self, X: Any) -> np.ndarray:
        return self._outputs(X)[:, 0] * self._y_scale + self._y_shift

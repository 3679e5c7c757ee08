"""Keras' metric names, computed by ``neuralab.train.metrics``; the history key is the name
given (``metrics=['mae']`` gives ``history['mae']`` and ``history['val_mae']``, as Keras).

``'accuracy'`` (``'acc'``, ``'sparse_categorical_accuracy'``, ``'categorical_accuracy'``,
``'binary_accuracy'``) is neuralab's accuracy on class labels: the argmax of the outputs, or for
one output column a threshold at probability 0.5 (at logit 0 when the loss takes logits, where
Keras' ``binary_accuracy`` would still threshold the logits at 0.5).  ``'mae'``, ``'mse'``,
``'rmse'`` (``RootMeanSquaredError``) compare the raw outputs.
"""

from __future__ import annotations

from typing import Any, Callable

from ..train.metrics import get_metric
from ._util import missing_name, unsupported

_NAMES = {
    "accuracy": "accuracy", "acc": "accuracy", "sparse_categorical_accuracy": "accuracy",
    "categorical_accuracy": "accuracy", "binary_accuracy": "accuracy",
    "mae": "mae", "mean_absolute_error": "mae", "mse": "mse", "mean_squared_error": "mse",
    "rmse": "rmse", "root_mean_squared_error": "rmse",
}


class Metric:
    """A named neuralab metric: ``fn(y_true, y_pred) -> float`` reported under ``name``."""

    def __init__(self, name: str, neuralab_name: str) -> None:
        self.name = name
        self.neuralab_name = neuralab_name
        self._fn: Callable[..., float] = get_metric(neuralab_name)

    def __call__(self, y_true: Any, y_pred: Any) -> float:
        return self._fn(y_true, y_pred)

    def __repr__(self) -> str:
        return f"Metric({self.name!r}: neuralab.train.metrics.{self.neuralab_name})"


def _factory(cls_name: str, default: str) -> Callable[..., Metric]:
    def make(name: str | None = None, **kwargs: Any) -> Metric:
        if kwargs.get("threshold", 0.5) != 0.5:
            raise unsupported(f"{cls_name}(threshold=...)", "threshold the outputs yourself")
        return Metric(name or default, _NAMES[default])

    make.__name__ = make.__qualname__ = cls_name
    make.__doc__ = f"``{default}`` (neuralab's ``{_NAMES[default]}``)."
    return make


SparseCategoricalAccuracy = _factory("SparseCategoricalAccuracy", "sparse_categorical_accuracy")
CategoricalAccuracy = _factory("CategoricalAccuracy", "categorical_accuracy")
BinaryAccuracy = _factory("BinaryAccuracy", "binary_accuracy")
MeanAbsoluteError = _factory("MeanAbsoluteError", "mean_absolute_error")
MeanSquaredError = _factory("MeanSquaredError", "mean_squared_error")
RootMeanSquaredError = _factory("RootMeanSquaredError", "root_mean_squared_error")


def get(identifier: Any) -> Any:
    """A metric for ``compile(metrics=[...])``: a Keras name, a :class:`Metric`, or a callable
    ``(y_true, y_pred) -> float`` as it is."""
    if isinstance(identifier, str):
        if identifier not in _NAMES:
            raise unsupported(
                f"the metric {identifier!r}",
                f"the Keras names mapped are {', '.join(sorted(_NAMES))}; pass a function "
                "(y_true, y_pred) -> float, or compute it after training with "
                "neuralab.train.metrics (precision, recall, f1, r2, confusion_matrix)",
            )
        return Metric(identifier, _NAMES[identifier])
    if callable(identifier):
        return identifier
    raise TypeError(f"expected a metric name or a function, got {identifier!r}")


def __getattr__(name: str) -> Any:
    raise missing_name("neuralab.keras.metrics", name,
                       ["BinaryAccuracy", "CategoricalAccuracy", "MeanAbsoluteError",
                        "MeanSquaredError", "RootMeanSquaredError", "SparseCategoricalAccuracy"],
                       "pass a function (y_true, y_pred) -> float")


__all__ = ["BinaryAccuracy", "CategoricalAccuracy", "MeanAbsoluteError", "MeanSquaredError",
           "Metric", "RootMeanSquaredError", "SparseCategoricalAccuracy", "get"]

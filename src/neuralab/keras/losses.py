"""Keras' losses by their Keras names, as neuralab losses (``neuralab.nn``).

==================================================  =============================================
Keras                                               neuralab
==================================================  =============================================
``'sparse_categorical_crossentropy'``, ``'categorical_crossentropy'``
                                                    ``nn.CrossEntropyLoss(from_logits=False)``
                                                    (probabilities, renormalized and clipped to
                                                    [1e-7, 1 - 1e-7], as Keras)
``SparseCategoricalCrossentropy(from_logits=True)`` ``nn.CrossEntropyLoss()`` (logits)
``'binary_crossentropy'``                           ``nn.BCELoss()``; ``from_logits=True``:
                                                    ``nn.BCEWithLogitsLoss()``
``'mse'``, ``'mean_squared_error'``                 ``nn.MSELoss()``
``'mae'``, ``'mean_absolute_error'``                ``nn.L1Loss()``
``'huber'``, ``Huber(delta)``                       ``nn.HuberLoss(delta)``
==================================================  =============================================

Differences: Keras clips the probabilities of ``binary_crossentropy`` to [1e-7, 1 - 1e-7];
neuralab's ``BCELoss`` clamps each log at -100 (PyTorch), which differs only for outputs within
1e-7 of 0 or 1.  Only Keras' default reduction (the mean over the batch) and ``"sum"`` exist.
"""

from __future__ import annotations

from typing import Any

from .. import nn
from ._util import missing_name, unsupported


def _reduction(reduction: str, who: str) -> str:
    if reduction in ("sum_over_batch_size", "mean", None):
        return "mean"
    if reduction == "sum":
        return "sum"
    raise unsupported(f"{who}(reduction={reduction!r})",
                      "neuralab losses reduce by 'mean' (Keras' sum_over_batch_size) or 'sum'")


def SparseCategoricalCrossentropy(from_logits: bool = False, ignore_class: Any = None,  # noqa: N802
                                  reduction: str = "sum_over_batch_size",
                                  name: str | None = None, **kwargs: Any) -> nn.Loss:
    """Class-index targets: ``nn.CrossEntropyLoss(from_logits=from_logits)``."""
    if ignore_class is not None:
        raise unsupported("SparseCategoricalCrossentropy(ignore_class=...)",
                          "drop those samples before training")
    return nn.CrossEntropyLoss(from_logits=from_logits,
                               reduction=_reduction(reduction, "SparseCategoricalCrossentropy"))


def CategoricalCrossentropy(from_logits: bool = False, label_smoothing: float = 0.0,  # noqa: N802
                            axis: int = -1, reduction: str = "sum_over_batch_size",
                            name: str | None = None, **kwargs: Any) -> nn.Loss:
    """One-hot targets: ``nn.CrossEntropyLoss(label_smoothing, from_logits)``."""
    if axis != -1:
        raise unsupported(f"CategoricalCrossentropy(axis={axis})", "put the classes last")
    return nn.CrossEntropyLoss(label_smoothing=label_smoothing, from_logits=from_logits,
                               reduction=_reduction(reduction, "CategoricalCrossentropy"))


def BinaryCrossentropy(from_logits: bool = False, label_smoothing: float = 0.0,  # noqa: N802
                       axis: int = -1, reduction: str = "sum_over_batch_size",
                       name: str | None = None, **kwargs: Any) -> nn.Loss:
    """0/1 targets: ``nn.BCELoss()`` on probabilities, ``nn.BCEWithLogitsLoss()`` on logits."""
    if label_smoothing:
        raise unsupported("BinaryCrossentropy(label_smoothing=...)",
                          "smooth the targets yourself: y * (1 - s) + s / 2")
    reduction = _reduction(reduction, "BinaryCrossentropy")
    return nn.BCEWithLogitsLoss(reduction) if from_logits else nn.BCELoss(reduction)


def MeanSquaredError(reduction: str = "sum_over_batch_size", name: str | None = None,  # noqa: N802
                     **kwargs: Any) -> nn.Loss:
    """``nn.MSELoss()``."""
    return nn.MSELoss(_reduction(reduction, "MeanSquaredError"))


def MeanAbsoluteError(reduction: str = "sum_over_batch_size", name: str | None = None,  # noqa: N802
                      **kwargs: Any) -> nn.Loss:
    """``nn.L1Loss()``."""
    return nn.L1Loss(_reduction(reduction, "MeanAbsoluteError"))


def Huber(delta: float = 1.0, reduction: str = "sum_over_batch_size",  # noqa: N802
          name: str | None = None, **kwargs: Any) -> nn.Loss:
    """``nn.HuberLoss(delta)``: 0.5 d^2 for |d| <= delta, else delta (|d| - 0.5 delta)."""
    return nn.HuberLoss(delta, _reduction(reduction, "Huber"))


_NAMES = {
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "huber": Huber, "huber_loss": Huber,
}


def get(identifier: Any) -> Any:
    """A neuralab loss for a Keras loss name, a loss object (neuralab's), or a callable
    ``(outputs, targets) -> scalar Tensor`` as it is."""
    if isinstance(identifier, str):
        factory = _NAMES.get(identifier)
        if factory is None:
            raise unsupported(
                f"the loss {identifier!r}",
                f"the Keras names mapped are {', '.join(sorted(_NAMES))}; pass a neuralab loss "
                "(neuralab.nn.*Loss) or a function (outputs, targets) -> scalar Tensor",
            )
        return factory()
    if callable(identifier):
        return identifier
    raise TypeError(f"expected a loss name, a neuralab loss or a function, got {identifier!r}")


def __getattr__(name: str) -> Any:
    raise missing_name("neuralab.keras.losses", name,
                       [f.__name__ for f in _NAMES.values()],
                       "pass a neuralab loss (neuralab.nn) or a function (outputs, targets) -> "
                       "scalar Tensor")


__all__ = ["BinaryCrossentropy", "CategoricalCrossentropy", "Huber", "MeanAbsoluteError",
           "MeanSquaredError", "SparseCategoricalCrossentropy", "get"]

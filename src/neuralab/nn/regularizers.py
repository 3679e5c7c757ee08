"""L1 and L2 weight penalties (L1/L2 규제), attached to a layer with ``kernel_regularizer=``.

A regularizer turns a weight into a scalar penalty; ``model.regularization_loss()`` sums the
penalties of all layers, and the training step adds it to the data loss:

    L = data_loss + sum over regularized layers of penalty(W)

* ``L1(l1)``:  penalty = l1 * sum |w|,   gradient l1 * sign(w)  (drives weights to exactly 0)
* ``L2(l2)``:  penalty = l2 * sum w^2,   gradient 2 * l2 * w    (shrinks all weights)
* ``L1L2(l1, l2)``: both.

Biases are not penalized (as in Keras' ``kernel_regularizer``).  The factor convention is Keras':
no 1/2 in front of the L2 sum.

L2 penalty versus weight decay: with plain SGD, adding l2 * sum w^2 to the loss is the same as
shrinking w by ``lr * 2 * l2 * w`` each step ("weight decay" with lambda = 2 * l2).  With adaptive
optimizers (Adam, RMSProp) the penalty's gradient is divided by the running gradient scale like any
other gradient, so large-gradient weights are barely regularized; *decoupled* weight decay
(AdamW's ``weight_decay``) subtracts ``lr * lambda * w`` outside the adaptive scaling instead.  The
two are different methods and their factors are not interchangeable.  (The ``weight_decay`` option
of SGD, Adam, RMSProp and AdaGrad is not decoupled: it adds ``lambda * w`` to the gradient, which
is this L2 penalty with l2 = lambda / 2.)

>>> layer = nn.Dense(64, activation="relu", kernel_regularizer=nn.regularizers.L2(1e-4))
>>> loss = criterion(model(x), y) + model.regularization_loss()
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..registry import Registry


class L1Penalty(Function):
    """z = l * sum |w|;  dz/dw = l * sign(w) (0 at w = 0, the subgradient PyTorch uses)."""

    def forward(self, w, factor=0.01):
        self.w, self.factor = w, factor
        return np.asarray(factor * np.abs(w).sum(), dtype=w.dtype)

    def backward(self, grad):
        return (np.sign(self.w) * (grad * self.factor),)


class L2Penalty(Function):
    """z = l * sum w^2;  dz/dw = 2 l w."""

    def forward(self, w, factor=0.01):
        self.w, self.factor = w, factor
        flat = w.reshape(-1)
        # a dot product reads w once and allocates nothing, unlike sum(w * w)
        return np.asarray(factor * np.dot(flat, flat), dtype=w.dtype)

    def backward(self, grad):
        return (self.w * (grad * (2 * self.factor)),)


def _factor(value: Any, who: str, arg: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{who} expected a number for `{arg}`, got {value!r}")
    if not value >= 0:
        raise ValueError(f"{who} expected a non-negative `{arg}`, got {value}")
    return float(value)


class Regularizer:
    """Base class: ``regularizer(weight) -> scalar Tensor`` (the penalty to add to the loss)."""

    def __call__(self, weight: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def get_config(self) -> dict[str, float]:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.get_config() == other.get_config()

    __hash__ = object.__hash__


class L1(Regularizer):
    """penalty = l1 * sum |w|.

    >>> nn.Dense(10, kernel_regularizer=nn.regularizers.L1(1e-3))
    """

    def __init__(self, l1: float = 0.01) -> None:
        self.l1 = _factor(l1, "L1", "l1")

    def __call__(self, weight: Tensor) -> Tensor:
        return L1Penalty.apply(weight, factor=self.l1)

    def get_config(self) -> dict[str, float]:
        return {"l1": self.l1}


class L2(Regularizer):
    """penalty = l2 * sum w^2 (Keras' convention, no 1/2).

    >>> nn.Dense(10, kernel_regularizer=nn.regularizers.L2(1e-4))
    """

    def __init__(self, l2: float = 0.01) -> None:
        self.l2 = _factor(l2, "L2", "l2")

    def __call__(self, weight: Tensor) -> Tensor:
        return L2Penalty.apply(weight, factor=self.l2)

    def get_config(self) -> dict[str, float]:
        return {"l2": self.l2}


class L1L2(Regularizer):
    """penalty = l1 * sum |w| + l2 * sum w^2 (elastic net).

    >>> nn.Dense(10, kernel_regularizer=nn.regularizers.L1L2(l1=1e-5, l2=1e-4))
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1 = _factor(l1, "L1L2", "l1")
        self.l2 = _factor(l2, "L1L2", "l2")

    def __call__(self, weight: Tensor) -> Tensor:
        if self.l1 and self.l2:
            return L1Penalty.apply(weight, factor=self.l1) + L2Penalty.apply(weight, factor=self.l2)
        if self.l1:
            return L1Penalty.apply(weight, factor=self.l1)
        return L2Penalty.apply(weight, factor=self.l2)

    def get_config(self) -> dict[str, float]:
        return {"l1": self.l1, "l2": self.l2}


_REGISTRY: Registry[type[Regularizer]] = Registry("regularizer", {"l1": L1, "l2": L2, "l1l2": L1L2})


def get(spec: Any) -> Regularizer | None:
    """A regularizer from None, an instance, a name (``"l2"``: default factor 0.01) or a
    ``{"class": "L2", "config": {"l2": 1e-4}}`` dict (the saved form)."""
    if spec is None or isinstance(spec, Regularizer):
        return spec
    if isinstance(spec, str):
        return _REGISTRY.lookup(spec)()
    if isinstance(spec, dict) and "class" in spec:
        return _REGISTRY.lookup(str(spec["class"]))(**spec.get("config", {}))
    if callable(spec):
        raise TypeError(
            "a custom regularizer must subclass neuralab.nn.regularizers.Regularizer "
            "(__call__(weight) -> scalar Tensor, and get_config() so that it can be saved)"
        )
    raise TypeError(f"expected a regularizer (L1, L2, L1L2), a name or None, got {spec!r}")


def serialize(regularizer: Regularizer | None) -> dict[str, Any] | None:
    if regularizer is None:
        return None
    return {"class": type(regularizer).__name__, "config": regularizer.get_config()}


__all__ = ["L1", "L1L2", "L2", "L1Penalty", "L2Penalty", "Regularizer", "get", "serialize"]

"""Optimizers (가중치 업데이트) and learning-rate schedules.

>>> opt = neuralab.optim.get("adam", model.parameters(), lr=1e-3)
>>> opt.zero_grad(); loss.backward(); opt.step()

Every optimizer follows PyTorch's definition of its update rule (written out in its docstring,
with how it differs from the lecture's book, *Deep Learning from Scratch*).
"""

from __future__ import annotations

from typing import Any

from ..registry import Registry
from . import lr_scheduler
from .adagrad import AdaGrad
from .adam import Adam, AdamW
from .lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LRScheduler,
    MultiStepLR,
    ReduceLROnPlateau,
    StepLR,
    lr_curve,
)
from .optimizer import (
    Optimizer,
    ParamsLike,
    clip_grad_norm,
    clip_grad_value,
)
from .rmsprop import RMSProp
from .sgd import SGD

OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "adagrad": AdaGrad,
    "rmsprop": RMSProp,
    "adam": Adam,
    "adamw": AdamW,
}

#: the book's names for SGD with momentum; they fill in a default momentum of 0.9
_MOMENTUM_ALIASES = {"momentum": False, "nesterov": True}
_NAMES: Registry[type[Optimizer]] = Registry(
    "optimizer", {**OPTIMIZERS, **{name: SGD for name in _MOMENTUM_ALIASES}})


def get(name: str | type[Optimizer], params: ParamsLike, **kwargs: Any) -> Optimizer:
    """An optimizer by name (any case): sgd, adagrad, rmsprop, adam, adamw, plus the book's
    ``momentum`` (SGD with ``momentum=0.9``) and ``nesterov`` (the same with ``nesterov=True``).

    >>> opt = get("adam", model.parameters(), lr=1e-3)
    """
    if isinstance(name, type) and issubclass(name, Optimizer):
        return name(params, **kwargs)
    if not isinstance(name, str):
        raise ValueError(f"unknown optimizer {name!r}; expected a name such as 'adam' or an "
                         f"Optimizer subclass")
    key = _NAMES.canonical(name)
    if key in _MOMENTUM_ALIASES:
        kwargs.setdefault("momentum", 0.9)
        kwargs.setdefault("nesterov", _MOMENTUM_ALIASES[key])
        return SGD(params, **kwargs)
    return OPTIMIZERS[key](params, **kwargs)


__all__ = [
    "AdaGrad", "Adam", "AdamW", "CosineAnnealingLR", "ExponentialLR", "LRScheduler", "LambdaLR",
    "MultiStepLR", "OPTIMIZERS", "Optimizer", "RMSProp", "ReduceLROnPlateau", "SGD", "StepLR",
    "clip_grad_norm", "clip_grad_value", "get", "lr_curve", "lr_scheduler",
]

"""Keras' optimizers, with Keras' argument names and defaults, as neuralab optimizers.

An object here holds the settings; ``compile`` creates the neuralab optimizer over the model's
parameters (``model.trainer.optimizer``).  Each Keras update rule is the neuralab one below,
term for term (the Keras 3 source, ``keras/src/optimizers/*.py``, read for 3.15.1):

==========================================  ==================================================
Keras (defaults)                            neuralab
==========================================  ==================================================
``SGD(0.01, momentum=0.0, nesterov=False)`` ``optim.SGD(lr, momentum, nesterov)``: Keras keeps
                                            ``m <- mu m - lr g``, PyTorch ``b <- mu b + g`` with
                                            ``-lr b``: the same steps for a constant rate
``RMSprop(0.001, rho=0.9, momentum=0.0,     ``optim.RMSProp(lr, alpha=rho, eps=epsilon,
epsilon=1e-7, centered=False)``             momentum, centered, eps_inside_sqrt=True)``:
                                            Keras divides by ``sqrt(v + eps)``
``Adagrad(0.001,                            ``optim.AdaGrad(lr, initial_accumulator_value,
initial_accumulator_value=0.1,              eps=epsilon, eps_inside_sqrt=True)``
epsilon=1e-7)``
``Adam(0.001, beta_1=0.9, beta_2=0.999,     ``optim.Adam(lr, betas, eps=epsilon, amsgrad,
epsilon=1e-7, amsgrad=False)``              eps_before_correction=True)``: Keras adds eps to
                                            the uncorrected ``sqrt(v_t)``
``AdamW(0.001, weight_decay=0.004, ...)``   ``optim.AdamW(..., weight_decay)`` (decoupled, as
                                            Keras); ``Adam(weight_decay=w)`` is AdamW too
==========================================  ==================================================

Not mapped (a clear error): ``clipnorm``/``clipvalue``/``global_clipnorm`` (clip in a callback's
``on_after_backward`` with ``neuralab.optim.clip_grad_norm``), ``use_ema``, gradient
accumulation, loss scaling, learning-rate schedule objects (use
``callbacks.LearningRateScheduler``), and ``weight_decay`` for SGD, RMSprop and Adagrad (Keras
decays decoupled; neuralab's ``weight_decay`` there is the L2 gradient term: use
``kernel_regularizer=regularizers.l2(...)`` or AdamW).
"""

from __future__ import annotations

from typing import Any

from .. import optim
from ._util import check_defaults, missing_name, unsupported

_BASE = {"clipnorm": None, "clipvalue": None, "global_clipnorm": None, "use_ema": False,
         "ema_momentum": 0.99, "ema_overwrite_frequency": None, "loss_scale_factor": None,
         "gradient_accumulation_steps": None}
_BASE_HINTS = {
    "clipnorm": "clip in a callback's on_after_backward with neuralab.optim.clip_grad_norm",
    "clipvalue": "clip in a callback's on_after_backward with neuralab.optim.clip_grad_value",
    "global_clipnorm": "clip in a callback's on_after_backward with neuralab.optim.clip_grad_norm",
}


class Optimizer:
    """A Keras optimizer's settings; :meth:`build` makes the neuralab optimizer."""

    #: whether Keras' ``weight_decay`` (decoupled) can be mapped for this optimizer
    _decay_mapped = False

    def __init__(self, learning_rate: float, weight_decay: float | None = None,
                 name: str | None = None, **kwargs: Any) -> None:
        who = type(self).__name__
        check_defaults(who, kwargs, _BASE, _BASE_HINTS)
        if callable(learning_rate) or not isinstance(learning_rate, (int, float)):
            raise unsupported(
                f"{who}(learning_rate={learning_rate!r}) (a schedule object)",
                "pass a number and a callbacks.LearningRateScheduler(fn) or a "
                "neuralab.optim.lr_scheduler schedule",
            )
        if weight_decay is not None and not self._decay_mapped:
            raise unsupported(
                f"{who}(weight_decay=...) (Keras decays decoupled, w -= lr wd w)",
                "use kernel_regularizer=regularizers.l2(...) on the layers, or AdamW",
            )
        self._learning_rate = float(learning_rate)
        self.weight_decay = weight_decay
        self.name = name or who.lower()
        self.optimizer: optim.Optimizer | None = None

    def _neuralab(self, params: list) -> optim.Optimizer:  # pragma: no cover - abstract
        raise NotImplementedError

    def build(self, params: list) -> optim.Optimizer:
        """The neuralab optimizer over ``params`` (made once; ``compile`` calls it)."""
        self.optimizer = self._neuralab(list(params))
        return self.optimizer

    @property
    def learning_rate(self) -> float:
        return float(self.optimizer.lr) if self.optimizer is not None else self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self._learning_rate = float(value)
        if self.optimizer is not None:
            self.optimizer.lr = float(value)

    def get_config(self) -> dict[str, Any]:
        return {"learning_rate": self._learning_rate}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """``keras.optimizers.SGD``: ``optim.SGD(lr, momentum, nesterov)``."""

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float | None = None, **kwargs: Any) -> None:
        super().__init__(learning_rate, weight_decay, **kwargs)
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def _neuralab(self, params: list) -> optim.Optimizer:
        # Keras ignores nesterov without momentum; PyTorch refuses it
        return optim.SGD(params, lr=self._learning_rate, momentum=self.momentum,
                         nesterov=self.nesterov and self.momentum > 0)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class RMSprop(Optimizer):
    """``keras.optimizers.RMSprop``: ``optim.RMSProp(alpha=rho, eps_inside_sqrt=True)``."""

    def __init__(self, learning_rate: float = 0.001, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-7, centered: bool = False,
                 weight_decay: float | None = None, **kwargs: Any) -> None:
        super().__init__(learning_rate, weight_decay, **kwargs)
        self.rho, self.momentum = float(rho), float(momentum)
        self.epsilon, self.centered = float(epsilon), bool(centered)

    def _neuralab(self, params: list) -> optim.Optimizer:
        return optim.RMSProp(params, lr=self._learning_rate, alpha=self.rho, eps=self.epsilon,
                             momentum=self.momentum, centered=self.centered, eps_inside_sqrt=True)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


class Adagrad(Optimizer):
    """``keras.optimizers.Adagrad``: ``optim.AdaGrad(eps_inside_sqrt=True)``."""

    def __init__(self, learning_rate: float = 0.001, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-7, weight_decay: float | None = None,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate, weight_decay, **kwargs)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon = float(epsilon)

    def _neuralab(self, params: list) -> optim.Optimizer:
        return optim.AdaGrad(params, lr=self._learning_rate,
                             initial_accumulator_value=self.initial_accumulator_value,
                             eps=self.epsilon, eps_inside_sqrt=True)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(),
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class Adam(Optimizer):
    """``keras.optimizers.Adam``: ``optim.Adam(eps_before_correction=True)``; with
    ``weight_decay`` (decoupled in Keras) ``optim.AdamW``."""

    _decay_mapped = True

    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False,
                 weight_decay: float | None = None, **kwargs: Any) -> None:
        super().__init__(learning_rate, weight_decay, **kwargs)
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
        self.epsilon, self.amsgrad = float(epsilon), bool(amsgrad)

    def _neuralab(self, params: list) -> optim.Optimizer:
        common = dict(lr=self._learning_rate, betas=(self.beta_1, self.beta_2),
                      eps=self.epsilon, amsgrad=self.amsgrad, eps_before_correction=True)
        if self.weight_decay:
            return optim.AdamW(params, weight_decay=float(self.weight_decay), **common)
        return optim.Adam(params, **common)

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                  "epsilon": self.epsilon, "amsgrad": self.amsgrad}
        if self.weight_decay is not None:
            config["weight_decay"] = self.weight_decay
        return config


class AdamW(Adam):
    """``keras.optimizers.AdamW`` (weight_decay 0.004): ``optim.AdamW``."""

    def __init__(self, learning_rate: float = 0.001, weight_decay: float = 0.004,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 amsgrad: bool = False, **kwargs: Any) -> None:
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay, **kwargs)


_CLASSES = {"sgd": SGD, "rmsprop": RMSprop, "adagrad": Adagrad, "adam": Adam, "adamw": AdamW}


def get(identifier: Any) -> Any:
    """A Keras name (``"adam"``: Keras' defaults, not neuralab's), a Keras optimizer object,
    or a neuralab optimizer as it is."""
    if isinstance(identifier, str):
        cls = _CLASSES.get(identifier.lower())
        if cls is None:
            raise unsupported(f"the optimizer {identifier!r}",
                              f"the Keras names mapped are {', '.join(_CLASSES)}")
        return cls()
    if isinstance(identifier, (Optimizer, optim.Optimizer)):
        return identifier
    raise TypeError(f"expected an optimizer name or object, got {identifier!r}")


def from_config(class_name: str, config: dict[str, Any]) -> Optimizer:
    """Rebuild an optimizer from its class name and :meth:`Optimizer.get_config`."""
    cls = _CLASSES.get(class_name.lower())
    if cls is None:
        raise ValueError(f"unknown optimizer class {class_name!r}")
    return cls(**config)


def __getattr__(name: str) -> Any:
    raise missing_name("neuralab.keras.optimizers", name, [c.__name__ for c in _CLASSES.values()],
                       "pass a neuralab optimizer (neuralab.optim) to compile instead")


__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "from_config", "get"]

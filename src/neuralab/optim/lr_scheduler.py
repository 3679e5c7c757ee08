"""Learning-rate schedules: they set the optimizer's ``lr`` once per epoch, as PyTorch's.

A schedule is created after its optimizer and stepped once per epoch, after that epoch's
training::

    opt = Adam(model.parameters(), lr=1e-3)
    sched = CosineAnnealingLR(opt, T_max=50, warmup_epochs=5)
    for epoch in range(50):
        train_one_epoch(model, opt)           # uses opt.lr == sched.lr_at(epoch)
        sched.step()

Creating a schedule sets the rate for epoch 0.  Every schedule except :class:`ReduceLROnPlateau`
is a closed-form function of the epoch and each group's initial rate (``base_lrs``), so
``sched.lr_at(epoch)`` or :func:`lr_curve` evaluates it without stepping (for plots).  PyTorch
computes the same rates by updating the previous rate ("chainable" form); the two agree to
rounding as long as nothing else changes ``lr`` meanwhile.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from typing import Any, Callable, Iterable

import numpy as np

from ..autograd import Tensor
from ..registry import Registry
from .optimizer import Optimizer, _plain


def _check_optimizer(optimizer: Any, name: str) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{name} expected a neuralab Optimizer, got {type(optimizer).__name__}")


def _check_positive_int(value: Any, what: str, name: str, allow_zero: bool = False) -> None:
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not ok or value < (0 if allow_zero else 1):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} expected a {kind} integer for `{what}`, got {value!r}")


def _check_number(value: Any, what: str, name: str, low: float = 0.0) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= low:
        raise ValueError(f"{name} expected a number >= {low} for `{what}`, got {value!r}")


class LRScheduler:
    """Base class: remembers each group's initial rate and sets ``lr = f(base_lr, epoch)``.

    Subclasses implement ``_lr(base_lr, epoch) -> float``.
    """

    def __init__(self, optimizer: Optimizer) -> None:
        _check_optimizer(optimizer, type(self).__name__)
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            # the first schedule on an optimizer records its rates; later ones share them
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs: list[float] = [float(g["initial_lr"]) for g in optimizer.param_groups]
        self.last_epoch = -1
        self._last_lr: list[float] = []
        self.step()

    def _lr(self, base_lr: float, epoch: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def lr_at(self, epoch: int, base_lr: float | None = None) -> float:
        """The rate this schedule gives in ``epoch`` (0-based) for a group starting at
        ``base_lr`` (default: the first group's initial rate)."""
        _check_positive_int(epoch, "epoch", f"{type(self).__name__}.lr_at", allow_zero=True)
        return self._lr(self.base_lrs[0] if base_lr is None else float(base_lr), int(epoch))

    def step(self) -> None:
        """Advance one epoch and set every group's ``lr``."""
        self.last_epoch += 1
        lrs = [self._lr(base, self.last_epoch) for base in self.base_lrs]
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = lrs

    def step_epoch(self, logs: Mapping[str, float] | None = None) -> None:
        """Advance one epoch from a training loop (``Trainer``, ``LearningRateScheduler``):
        ``step()``.  ``logs`` holds the epoch's figures; schedules that watch one (the plateau
        schedule) take it from there."""
        self.step()

    def get_last_lr(self) -> list[float]:
        """The rates set by the last ``step()`` (or the constructor), one per param group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Epoch counter, initial rates and hyperparameters as plain numbers and lists."""
        return {
            k: _plain(v)
            for k, v in self.__dict__.items()
            if k != "optimizer" and not callable(v) and k != "lr_lambdas"
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned.  The optimizer's ``lr`` is not touched: it is
        restored by the optimizer's own ``load_state_dict``."""
        unknown = set(state_dict) - set(self.__dict__)
        if unknown:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict got unknown keys {sorted(unknown)}; "
                "was it saved by another schedule?"
            )
        for k, v in state_dict.items():
            setattr(self, k, list(v) if isinstance(v, list) else v)

    def __repr__(self) -> str:
        hyper = ", ".join(
            f"{k}={v!r}" for k, v in self.state_dict().items() if not k.startswith("_")
        )
        return f"{type(self).__name__}({hyper})"


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs::

        lr(e) = base_lr * gamma ** floor(e / step_size)

    >>> sched = StepLR(opt, step_size=30, gamma=0.1)   # 0.1 for epochs 0-29, 0.01 for 30-59, ...
    >>> for epoch in range(90):
    ...     train_one_epoch(); sched.step()
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        _check_positive_int(step_size, "step_size", "StepLR")
        _check_number(gamma, "gamma", "StepLR")
        self.step_size, self.gamma = int(step_size), float(gamma)
        super().__init__(optimizer)

    def _lr(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)


class MultiStepLR(LRScheduler):
    """Multiply the rate by ``gamma`` at each milestone epoch::

        lr(e) = base_lr * gamma ** (number of milestones <= e)

    >>> sched = MultiStepLR(opt, milestones=[30, 80], gamma=0.1)
    >>> for epoch in range(100):
    ...     train_one_epoch(); sched.step()
    """

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1) -> None:
        milestones = list(milestones)
        for m in milestones:
            _check_positive_int(m, "milestones", "MultiStepLR")
        _check_number(gamma, "gamma", "MultiStepLR")
        self.milestones, self.gamma = sorted(int(m) for m in milestones), float(gamma)
        super().__init__(optimizer)

    def _lr(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** bisect.bisect_right(self.milestones, epoch)


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every epoch::

        lr(e) = base_lr * gamma ** e

    >>> sched = ExponentialLR(opt, gamma=0.95)
    >>> for epoch in range(100):
    ...     train_one_epoch(); sched.step()
    """

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        _check_number(gamma, "gamma", "ExponentialLR")
        self.gamma = float(gamma)
        super().__init__(optimizer)

    def _lr(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma**epoch


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from ``base_lr`` down to ``eta_min`` over ``T_max`` epochs, optionally after
    a linear warmup of ``W = warmup_epochs`` epochs (counted within ``T_max``)::

        lr(e) = base_lr * (s + (1 - s) * e / W)                                 for e < W
        lr(e) = eta_min + (base_lr - eta_min) * (1 + cos(pi * (e - W) / (T_max - W))) / 2

    with ``s = warmup_start_factor``, by default ``1 / (W + 1)`` so that the warmup rates are
    ``base_lr * (e + 1) / (W + 1)``.  The rate reaches ``eta_min`` at epoch ``T_max``; after it,
    the cosine rises again (PyTorch's behaviour), so set ``T_max`` to the number of epochs.
    Without warmup this is ``torch.optim.lr_scheduler.CosineAnnealingLR``; with it, PyTorch's
    ``SequentialLR([LinearLR(start_factor=s, total_iters=W), CosineAnnealingLR(T_max - W)],
    milestones=[W])``.

    >>> sched = CosineAnnealingLR(opt, T_max=100, eta_min=1e-5, warmup_epochs=5)
    >>> for epoch in range(100):
    ...     train_one_epoch(); sched.step()
    """

    def __init__(
        self,
        optimizer: Optimizer,
        T_max: int,
        eta_min: float = 0.0,
        warmup_epochs: int = 0,
        warmup_start_factor: float | None = None,
    ) -> None:
        name = "CosineAnnealingLR"
        _check_positive_int(T_max, "T_max", name)
        _check_number(eta_min, "eta_min", name)
        _check_positive_int(warmup_epochs, "warmup_epochs", name, allow_zero=True)
        if warmup_epochs >= T_max:
            raise ValueError(
                f"{name} expected `warmup_epochs` < T_max = {T_max}, got {warmup_epochs}"
            )
        if warmup_start_factor is None:
            warmup_start_factor = 1.0 / (warmup_epochs + 1)
        if not isinstance(warmup_start_factor, (int, float)) or not 0 < warmup_start_factor <= 1:
            raise ValueError(
                f"{name} expected `warmup_start_factor` in (0, 1], got {warmup_start_factor!r}"
            )
        self.T_max, self.eta_min = int(T_max), float(eta_min)
        self.warmup_epochs = int(warmup_epochs)
        self.warmup_start_factor = float(warmup_start_factor)
        super().__init__(optimizer)

    def _lr(self, base_lr: float, epoch: int) -> float:
        w = self.warmup_epochs
        if epoch < w:
            s = self.warmup_start_factor
            return base_lr * (s + (1.0 - s) * epoch / w)
        k = epoch - w
        return self.eta_min + (base_lr - self.eta_min) * (
            1.0 + math.cos(math.pi * k / (self.T_max - w))
        ) / 2.0


class LambdaLR(LRScheduler):
    """The rate is the initial rate times a function of the epoch::

        lr(e) = base_lr * lr_lambda(e)

    ``lr_lambda`` is one function or one per param group.  The functions are not part of the
    ``state_dict``; recreate the schedule with them before loading.

    >>> sched = LambdaLR(opt, lambda epoch: 1.0 / (1.0 + 0.1 * epoch))
    >>> for epoch in range(100):
    ...     train_one_epoch(); sched.step()
    """

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
    ) -> None:
        _check_optimizer(optimizer, "LambdaLR")
        n = len(optimizer.param_groups)
        lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * n
        if len(lambdas) != n:
            raise ValueError(
                f"LambdaLR expected {n} functions (one per param group), got {len(lambdas)}"
            )
        for f in lambdas:
            if not callable(f):
                raise TypeError(
                    f"LambdaLR expected callables for `lr_lambda`, got {type(f).__name__}"
                )
        self.lr_lambdas = lambdas
        super().__init__(optimizer)

    def step(self) -> None:
        self.last_epoch += 1
        lrs = [
            base * float(f(self.last_epoch)) for base, f in zip(self.base_lrs, self.lr_lambdas)
        ]
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = lrs

    def lr_at(self, epoch: int, base_lr: float | None = None, group: int = 0) -> float:
        """The rate in ``epoch`` for param group ``group`` (its function and initial rate)."""
        _check_positive_int(epoch, "epoch", "LambdaLR.lr_at", allow_zero=True)
        base = self.base_lrs[group] if base_lr is None else float(base_lr)
        return base * float(self.lr_lambdas[group](int(epoch)))

    def _lr(self, base_lr: float, epoch: int) -> float:
        return base_lr * float(self.lr_lambdas[0](epoch))


class ReduceLROnPlateau(LRScheduler):
    """Divide the rate when a monitored metric stops improving (PyTorch's rules).

    ``step(metric)`` is called once per epoch with, e.g., the validation loss.  The metric
    *improves* when (``mode="min"``) it is below ``best * (1 - threshold)``
    (``threshold_mode="rel"``) or ``best - threshold`` (``"abs"``); ``mode="max"`` mirrors this.
    After more than ``patience`` epochs without improvement every group's rate becomes
    ``max(lr * factor, min_lr)`` (unless that changes it by less than ``eps``), and counting
    resumes after ``cooldown`` epochs in which bad epochs are ignored.
    There is no closed form: the rates depend on the metric.

    >>> sched = ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=5)
    >>> for epoch in range(100):
    ...     train_one_epoch(); sched.step(validation_loss())
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0.0,
        eps: float = 1e-8,
    ) -> None:
        name = "ReduceLROnPlateau"
        _check_optimizer(optimizer, name)
        if mode not in ("min", "max"):
            raise ValueError(f"{name} expected `mode` 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"{name} expected `threshold_mode` 'rel' or 'abs', got {threshold_mode!r}"
            )
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0 <= factor < 1:
            raise ValueError(f"{name} expected `factor` in [0, 1), got {factor!r}")
        _check_positive_int(patience, "patience", name, allow_zero=True)
        _check_positive_int(cooldown, "cooldown", name, allow_zero=True)
        _check_number(threshold, "threshold", name)
        _check_number(eps, "eps", name)
        n = len(optimizer.param_groups)
        min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * n
        if len(min_lrs) != n:
            raise ValueError(
                f"{name} expected {n} values for `min_lr` (one per group), got {len(min_lrs)}"
            )
        for v in min_lrs:
            _check_number(v, "min_lr", name)
        self.optimizer = optimizer
        self.mode, self.factor, self.patience = mode, float(factor), int(patience)
        self.threshold, self.threshold_mode = float(threshold), threshold_mode
        self.cooldown, self.eps = int(cooldown), float(eps)
        self.min_lrs = [float(v) for v in min_lrs]
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self.base_lrs = [float(g["lr"]) for g in optimizer.param_groups]
        self._last_lr = list(self.base_lrs)

    def _is_better(self, value: float) -> bool:
        best = self.best
        if self.mode == "min":
            if self.threshold_mode == "rel":
                return value < best * (1.0 - self.threshold)
            return value < best - self.threshold
        if self.threshold_mode == "rel":
            return value > best * (1.0 + self.threshold)
        return value > best + self.threshold

    def step_epoch(self, logs: Mapping[str, float] | None = None) -> None:
        """One epoch of a training loop: ``step`` with the validation loss from ``logs``, or the
        training loss where there is no validation data."""
        logs = logs or {}
        metric = logs.get("val_loss", logs.get("loss"))
        if metric is None:
            raise ValueError("ReduceLROnPlateau needs the epoch's 'val_loss' or 'loss' in the logs")
        self.step(metric)

    def step(self, metric: float | Tensor) -> None:  # type: ignore[override]
        """Record this epoch's ``metric`` and lower the rates if it has plateaued."""
        value = float(metric.item() if isinstance(metric, Tensor) else metric)
        self.last_epoch += 1
        if self._is_better(value):
            self.best = value
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                old = float(group["lr"])
                new = max(old * self.factor, min_lr)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [float(g["lr"]) for g in self.optimizer.param_groups]

    def lr_at(self, epoch: int, base_lr: float | None = None) -> float:
        raise TypeError(
            "ReduceLROnPlateau has no closed form: its rates depend on the metric passed to step()"
        )


SCHEDULERS: dict[str, type[LRScheduler]] = {
    "step": StepLR,
    "multistep": MultiStepLR,
    "exponential": ExponentialLR,
    "cosine": CosineAnnealingLR,
    "plateau": ReduceLROnPlateau,
    "lambda": LambdaLR,
}


def get(name: str | type[LRScheduler], optimizer: Optimizer, **kwargs: Any) -> LRScheduler:
    """A schedule by name: ``get("cosine", opt, T_max=50)``.  Names: step, multistep,
    exponential, cosine, plateau, lambda (or the class names, any case)."""
    return _resolve(name)(optimizer, **kwargs)


_NAMES: Registry[type[LRScheduler]] = Registry(
    "learning-rate schedule", SCHEDULERS, aliases={cls.__name__: short
                                                   for short, cls in SCHEDULERS.items()})


def _resolve(name: str | type[LRScheduler]) -> type[LRScheduler]:
    if isinstance(name, type) and issubclass(name, LRScheduler):
        return name
    if not isinstance(name, str):
        raise ValueError(f"unknown learning-rate schedule {name!r}; expected a name such as "
                         f"'cosine' or an LRScheduler subclass")
    return _NAMES.lookup(name)


def lr_curve(
    scheduler: LRScheduler | str | type[LRScheduler],
    epochs: int,
    lr: float = 1.0,
    **kwargs: Any,
) -> np.ndarray:
    """The rates of epochs ``0 .. epochs - 1`` in closed form, for plotting.

    ``scheduler`` is a schedule (its first group's initial rate is used) or a class/name built
    on a throwaway optimizer with initial rate ``lr`` (default 1, giving the multiplier)::

        lr_curve("cosine", 100, lr=0.1, T_max=100, warmup_epochs=5)
    """
    _check_positive_int(epochs, "epochs", "lr_curve", allow_zero=True)
    if not isinstance(scheduler, LRScheduler):
        from .sgd import SGD

        cls = _resolve(scheduler)
        dummy = Tensor(np.zeros(1, dtype=np.float32), requires_grad=True)
        scheduler = cls(SGD([dummy], lr=lr), **kwargs)
    elif kwargs:
        raise TypeError(f"lr_curve got keyword arguments {sorted(kwargs)} with a built schedule")
    return np.array([scheduler.lr_at(e) for e in range(epochs)], dtype=np.float64)

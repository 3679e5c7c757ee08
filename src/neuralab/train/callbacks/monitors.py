"""Callbacks that watch a metric or the loss and act: early stopping, checkpoints, learning-rate
schedules, logging to CSV and stopping on a non-finite loss."""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable
from typing import IO, Any

import numpy as np

from ...autograd import Tensor
from ...io.checkpoint import write_checkpoint
from ...optim import SGD
from ...optim.lr_scheduler import LRScheduler
from ...optim.lr_scheduler import ReduceLROnPlateau as _Plateau
from ..metrics import better_direction
from ..protocol import Callback
from .display import _format_value


# ---------------------------------------------------------------------- monitors
def resolve_mode(mode: str, monitor: str, who: str) -> str:
    """``"min"`` or ``"max"``: ``mode`` itself, or for ``"auto"`` the direction the metric
    declares (:func:`neuralab.train.metrics.better_direction`); an unknown name is refused, as
    Keras 3 does, rather than guessed."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{who} expected mode 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    direction = better_direction(monitor)
    if direction is None:
        raise ValueError(
            f"{who} cannot tell whether a larger or a smaller {monitor!r} is better; pass "
            "mode='min' or mode='max' (or register the metric with "
            "register_metric(name, fn, greater_is_better=...))"
        )
    return direction


def _monitored(
    logs: dict[str, Any] | None, monitor: str, who: str, warned: set[str]
) -> float | None:
    value = (logs or {}).get(monitor)
    if value is None:
        if monitor not in warned:
            warned.add(monitor)
            available = ", ".join(sorted(logs or {})) or "none"
            hint = " (validation metrics need validation_data or validation_split)" \
                if monitor.startswith("val_") else ""
            warnings.warn(
                f"{who} is monitoring {monitor!r}, which is not in the logs{hint}; available: "
                f"{available}",
                RuntimeWarning,
                stacklevel=3,
            )
        return None
    return float(value)


def _copy_state(obj: Any) -> Any:
    """A deep copy of a state made of dicts, lists, tuples, arrays and numbers."""
    if isinstance(obj, np.ndarray):
        return obj.copy()
    if isinstance(obj, dict):
        return {k: _copy_state(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_copy_state(v) for v in obj)
    return obj


class MonitorCallback(Callback):
    """Base of the callbacks that watch one value of the epoch logs (``monitor``) and act when it
    improves or stops improving: it owns which direction is better (``mode``) and how much is an
    improvement (``min_delta``), for :class:`EarlyStopping`, :class:`ModelCheckpoint` and
    :class:`ReduceLROnPlateau`.

    ``value`` improves on ``reference`` when ``value < reference - min_delta`` (mode "min") or
    ``value > reference + min_delta`` (mode "max"); mode "auto" asks the metric
    (:func:`~neuralab.train.metrics.better_direction`: ``loss`` and errors down, accuracy up).
    """

    def __init__(self, monitor: str, mode: str = "auto", min_delta: float = 0.0) -> None:
        who = type(self).__name__
        if not isinstance(monitor, str) or not monitor:
            raise ValueError(f"{who} expected a history key for `monitor`, got {monitor!r}")
        if not isinstance(min_delta, (int, float)) or isinstance(min_delta, bool) \
                or not math.isfinite(min_delta):
            raise ValueError(f"{who} expected a finite number for `min_delta`, got {min_delta!r}")
        self.monitor = monitor
        self.mode = resolve_mode(mode, monitor, who)
        self.min_delta = abs(float(min_delta))
        self._warned: set[str] = set()

    @property
    def worst(self) -> float:
        """The starting "best so far": every finite value improves on it."""
        return math.inf if self.mode == "min" else -math.inf

    def improves(self, value: float, reference: float) -> bool:
        if self.mode == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta

    def monitored(self, logs: dict[str, Any] | None) -> float | None:
        """The monitored value from the logs (a warning, once, when it is missing)."""
        return _monitored(logs, self.monitor, type(self).__name__, self._warned)


class EarlyStopping(MonitorCallback):
    """Stop when a monitored quantity has stopped improving (조기 종료), as Keras' callback.

    After each epoch from ``start_from_epoch`` on, the value ``v`` of ``monitor`` is compared
    with the best so far: it improves when ``v < best - min_delta`` (mode "min") or
    ``v > best + min_delta`` (mode "max"; "auto" asks the metric, see :class:`MonitorCallback`).
    Training stops after ``patience`` epochs in a row without improvement.  With
    ``restore_best_weights=True`` the model gets back the weights (and buffers) of the best epoch
    when training ends, whether it stopped early or ran out of epochs.

    Attributes after training: ``best`` (value), ``best_epoch`` and ``stopped_epoch`` (0-based;
    ``stopped_epoch`` is 0 when training was not stopped), ``wait``.

    >>> stop = EarlyStopping(monitor="val_loss", patience=10, restore_best_weights=True)
    >>> trainer.fit(x, y, validation_split=0.2, epochs=500, callbacks=[stop])
    >>> stop.best_epoch
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        for what, value in (("patience", patience), ("start_from_epoch", start_from_epoch)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ValueError(
                    f"EarlyStopping expected a non-negative integer for `{what}`, got {value!r}"
                )
        super().__init__(monitor, mode, min_delta)
        self.patience = int(patience)
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = int(start_from_epoch)
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best: float = self.worst
        self.best_epoch = 0
        self.best_weights: dict[str, np.ndarray] | None = None
        self._warned = set()

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._reset()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        value = self.monitored(logs)
        if value is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # nothing better seen yet: the current weights are the best so far
            self.best_weights = self.model.state_dict()
            self.best_epoch = epoch
        self.wait += 1
        if self.improves(value, self.best):
            self.best = value
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.state_dict()
            if self.baseline is None or self.improves(value, float(self.baseline)):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.stop_training = True

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping (best {self.monitor} "
                  f"{_format_value(self.best)} at epoch {self.best_epoch + 1})")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print("Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}")
            self.model.load_state_dict(self.best_weights)

    def state_dict(self) -> dict[str, Any]:
        return {
            "wait": self.wait, "stopped_epoch": self.stopped_epoch, "best": self.best,
            "best_epoch": self.best_epoch, "best_weights": self.best_weights,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.wait = int(state["wait"])
        self.stopped_epoch = int(state["stopped_epoch"])
        self.best = float(state["best"])
        self.best_epoch = int(state["best_epoch"])
        weights = state.get("best_weights")
        self.best_weights = (
            None if weights is None else {k: np.array(v) for k, v in weights.items()}
        )

    def __repr__(self) -> str:
        return (f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, "
                f"min_delta={self.min_delta}, mode={self.mode!r}, "
                f"restore_best_weights={self.restore_best_weights})")


# ---------------------------------------------------------------------- checkpoints
class ModelCheckpoint(MonitorCallback):
    """Save the model after every epoch, or only when ``monitor`` improves (``save_best_only``:
    by more than ``min_delta``, in the direction of ``mode``, see :class:`MonitorCallback`).

    ``path`` may hold format fields filled from the epoch (1-based, as Keras) and the logs:
    ``"ckpt/model-{epoch:03d}-{val_loss:.3f}.safetensors"``.  The file is the format of
    :func:`neuralab.save` (weights in safetensors, architecture as JSON, loaded back with
    :func:`neuralab.load`), or with ``save_weights_only=True`` only the ``state_dict`` in
    safetensors (read back with ``model.load_state_dict(neuralab.io.read_safetensors(path)[0])``).
    Writes are atomic: a crash mid-write leaves the previous file intact.

    Attributes: ``best``, ``best_epoch`` (0-based), ``last_saved`` (path of the last file written).

    >>> ModelCheckpoint("best.safetensors", monitor="val_accuracy", save_best_only=True)
    """

    order = 50

    def __init__(
        self,
        path: str | os.PathLike[str],
        monitor: str = "val_loss",
        save_best_only: bool = False,
        mode: str = "auto",
        save_weights_only: bool = False,
        verbose: int = 0,
        min_delta: float = 0.0,
    ) -> None:
        super().__init__(monitor, mode, min_delta)
        self.path = os.fspath(path)
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        self.verbose = verbose
        self.best = self.worst
        self.best_epoch: int | None = None
        self.last_saved: str | None = None

    def _filename(self, epoch: int, logs: dict[str, Any]) -> str:
        try:
            return self.path.format(epoch=epoch + 1, **logs)
        except (KeyError, IndexError, ValueError) as err:
            raise ValueError(
                f"ModelCheckpoint could not fill the path {self.path!r} ({err}); available fields: "
                f"epoch, {', '.join(logs)}"
            ) from None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        if self.save_best_only:
            value = self.monitored(logs)
            if value is None or not self.improves(value, self.best):
                return
            self.best, self.best_epoch = value, epoch
        path = self._filename(epoch, logs)
        self.save(path)
        if self.verbose:
            print(f"Epoch {epoch + 1}: saved the model to {path}")

    def save(self, path: str) -> None:
        from ... import io

        parent = os.path.dirname(path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        if self.save_weights_only:
            io.write_safetensors(path, self.model.state_dict(), {"format": "neuralab-weights"})
        else:
            io.save(self.model, path)
        self.last_saved = path

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch, "last_saved": self.last_saved}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = float(state["best"])
        self.best_epoch = state["best_epoch"]
        self.last_saved = state["last_saved"]


class BackupAndRestore(Callback):
    """Save the full training state at the end of every epoch and resume from it when training
    starts again after an interruption (Keras' ``BackupAndRestore``).

    The file is a checkpoint of :func:`neuralab.train.save_checkpoint`: weights, optimizer state,
    schedule, random generators, history and callback states.  Re-running the same script after a
    crash or Ctrl-C continues with the epoch after the last one saved and ends with the same
    weights as a run that was never interrupted.  The file is deleted when training completes
    unless ``delete_on_end=False``.

    >>> trainer.fit(x, y, epochs=100, callbacks=[BackupAndRestore("run/backup.safetensors")])
    """

    order = 60

    def __init__(self, path: str | os.PathLike[str], delete_on_end: bool = True) -> None:
        self.path = os.fspath(path)
        self.delete_on_end = bool(delete_on_end)
        self.restored_epoch: int | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.restored_epoch = None
        if os.path.exists(self.path):
            self.restored_epoch = self.trainer.resume(self.path)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        write_checkpoint(self.path, self.trainer.state_dict(epoch))

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.delete_on_end and os.path.exists(self.path):
            os.remove(self.path)


# ---------------------------------------------------------------------- learning rate
class LearningRateScheduler(Callback):
    """Set the learning rate every epoch from a schedule.

    ``schedule`` is either a schedule of :mod:`neuralab.optim.lr_scheduler` built on the trainer's
    optimizer (stepped at the end of every epoch, as ``Trainer(scheduler=...)``), or a function
    ``fn(epoch, lr) -> new_lr`` called at the start of every epoch (0-based epoch, current rate),
    as Keras' callback.

    >>> LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch and epoch % 10 == 0 else lr)
    >>> LearningRateScheduler(optim.StepLR(opt, step_size=10, gamma=0.5))
    """

    sets_learning_rate = True

    def __init__(self, schedule: LRScheduler | Callable[[int, float], float],
                 verbose: int = 0) -> None:
        self._is_object = isinstance(schedule, LRScheduler)
        if not self._is_object and not callable(schedule):
            raise TypeError(
                "LearningRateScheduler expected a schedule object (optim.lr_scheduler) or a "
                f"function (epoch, lr) -> lr, got {schedule!r}"
            )
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._is_object:
            return
        opt = self.trainer.optimizer
        lr = self.schedule(epoch, float(opt.lr))
        if isinstance(lr, bool) or not isinstance(lr, (int, float, np.floating)) or not lr >= 0:
            raise ValueError(
                f"LearningRateScheduler: the schedule returned {lr!r} for epoch {epoch}; expected "
                "a non-negative number"
            )
        opt.lr = float(lr)
        if self.verbose:
            print(f"Epoch {epoch + 1}: learning rate set to {float(lr):.6g}")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if not self._is_object:
            return
        self.schedule.step_epoch(logs)

    def state_dict(self) -> dict[str, Any]:
        return {"schedule": self.schedule.state_dict()} if self._is_object else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self._is_object and "schedule" in state:
            self.schedule.load_state_dict(state["schedule"])


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving (Keras' callback
    over :class:`neuralab.optim.ReduceLROnPlateau`).

    An epoch improves when the value beats the best by more than ``min_delta`` (absolute).  The
    rate is lowered, to no less than ``min_lr``, once *more than* ``patience`` epochs in a row have
    not improved (PyTorch's rule; Keras lowers it after ``patience`` epochs, one epoch earlier),
    then ``cooldown`` epochs pass before counting again.

    >>> ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=5, min_lr=1e-5)
    """

    sets_learning_rate = True

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        super().__init__(monitor, mode, min_delta)
        # the schedule applies the same rule as improves(): beat the best by min_delta (absolute)
        self.kwargs = dict(
            mode=self.mode, factor=factor, patience=patience, threshold=self.min_delta,
            threshold_mode="abs", cooldown=cooldown, min_lr=min_lr,
        )
        self.verbose = verbose
        self.scheduler: _Plateau | None = None
        # bad arguments fail here, not when training starts: try them on a throwaway optimizer
        _Plateau(SGD([Tensor(np.zeros(1, np.float32), requires_grad=True)], lr=1.0), **self.kwargs)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.scheduler = _Plateau(self.trainer.optimizer, **self.kwargs)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        value = self.monitored(logs)
        if value is None:
            return
        before = float(self.trainer.optimizer.lr)
        self.scheduler.step(value)
        after = float(self.trainer.optimizer.lr)
        if self.verbose and after != before:
            print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {after:.6g}")

    def state_dict(self) -> dict[str, Any]:
        return {"scheduler": self.scheduler.state_dict()} if self.scheduler is not None else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if "scheduler" in state and self.scheduler is not None:
            self.scheduler.load_state_dict(state["scheduler"])


# ---------------------------------------------------------------------- logging and safety
class CSVLogger(Callback):
    """Write one CSV row per epoch: ``epoch`` (0-based) then the logs (loss, metrics, val_*, lr).

    With ``append=True`` rows are added to an existing file (for a resumed run) without a second
    header, under the file's own columns.  The file must be a log of the same kind of run: its
    header must start with ``epoch`` and name exactly the logged values (in any order), else a
    ``ValueError`` says which columns differ (before any row is written, at the end of the first
    epoch), instead of values landing under the wrong columns.  Rows are flushed as they are
    written, so the file can be read while training runs.

    >>> CSVLogger("run/history.csv")
    """

    def __init__(
        self, path: str | os.PathLike[str], separator: str = ",", append: bool = False
    ) -> None:
        if not isinstance(separator, str) or len(separator) != 1 or separator in "\r\n":
            raise ValueError(f"CSVLogger expected a one-character separator, got {separator!r}")
        self.path = os.fspath(path)
        self.separator = separator
        self.append = bool(append)
        self._file: IO[str] | None = None
        self._keys: list[str] | None = None
        self._checked = False

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        parent = os.path.dirname(self.path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        self._keys = None
        self._checked = True
        if self.append and os.path.exists(self.path) and os.path.getsize(self.path) > 0:
            with open(self.path, encoding="utf-8", errors="replace") as f:
                header = f.readline().rstrip("\r\n").split(self.separator)
            if header[0] != "epoch":
                raise ValueError(
                    f"CSVLogger(append=True): {self.path} is not a CSVLogger file with separator "
                    f"{self.separator!r} (its first line {self.separator.join(header)[:80]!r} "
                    "does not start with 'epoch'); append to a log of the same run or choose a "
                    "new file"
                )
            self._keys = header[1:]
            self._checked = False  # against the logs of the first epoch
            self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open
        else:
            self._file = open(self.path, "w", encoding="utf-8")  # noqa: SIM115

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        if self._file is None:
            return
        if self._keys is None:
            self._keys = list(logs)
            self._file.write(self.separator.join(["epoch", *self._keys]) + "\n")
        elif not self._checked:
            self._checked = True
            missing = [k for k in logs if k not in self._keys]
            extra = [k for k in self._keys if k not in logs]
            if missing or extra:
                self._file.close()
                self._file = None
                raise ValueError(
                    f"CSVLogger(append=True): {self.path} has the columns {self._keys}, this run "
                    f"logs {list(logs)} (not in the file: {missing}; not logged: {extra}); "
                    "append to a log of the same kind of run or choose a new file"
                )
        row = [str(epoch)] + [_csv_cell(logs[k]) if k in logs else "" for k in self._keys]
        self._file.write(self.separator.join(row) + "\n")
        self._file.flush()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _csv_cell(value: Any) -> str:
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return repr(float(value))  # shortest form that reads back to the same float
    return str(value)


class TerminateOnNaN(Callback):
    """Stop training as soon as the loss is NaN or infinite, and go back to the last good weights.

    The running training loss is checked after every batch.  When it is no longer finite,
    training stops with a message naming the epoch and batch (1-based, as displayed; also kept in
    ``message``, ``nan_epoch`` and ``nan_batch``, 0-based), and the model weights and optimizer
    state are put back to what they were at the start of that epoch (the last state known to give
    finite losses).  The epoch still ends normally: its history row holds the non-finite loss and
    the validation figures of the restored weights.

    >>> trainer.fit(x, y, epochs=100, callbacks=[TerminateOnNaN()])
    TerminateOnNaN: the training loss became nan at epoch 3, batch 17; ...
    """

    def __init__(self, restore: bool = True) -> None:
        self.restore = bool(restore)
        self.message: str | None = None
        self.nan_epoch: int | None = None
        self.nan_batch: int | None = None
        self._weights: dict[str, np.ndarray] | None = None
        self._good_epoch = 0
        self._opt_state: Any = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.message = self.nan_epoch = self.nan_batch = None

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch = epoch
        if not self.restore:
            return
        weights = self.model.state_dict()
        # the last step of an epoch can leave inf weights behind a finite loss: such weights are
        # no "last good" state, so the snapshot of an earlier epoch is kept
        if all(np.isfinite(w).all() for w in weights.values()):
            self._weights, self._good_epoch = weights, epoch
            opt = self.trainer.optimizer
            self._opt_state = _copy_state(opt.state_dict()) if hasattr(opt, "state_dict") else None

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(loss):
            return
        self.nan_epoch, self.nan_batch = self._epoch, batch
        what = "nan" if math.isnan(loss) else "infinite"
        restored = ""
        if self.restore and self._weights is not None:
            self.model.load_state_dict(self._weights)
            if self._opt_state is not None:
                self.trainer.optimizer.load_state_dict(self._opt_state)
            restored = (f"; weights and optimizer state restored to the start of epoch "
                        f"{self._good_epoch + 1}")
        self.message = (
            f"TerminateOnNaN: the training loss became {what} at epoch {self._epoch + 1}, batch "
            f"{batch + 1}; training stopped{restored}. Lower the learning rate, scale the inputs "
            "or clip the gradients."
        )
        print(self.message)
        self.stop_training = True

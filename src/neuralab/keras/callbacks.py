"""Keras' callbacks as neuralab callbacks (``neuralab.train.callbacks``).

* ``EarlyStopping``, ``LearningRateScheduler`` (a function ``fn(epoch, lr)``), ``CSVLogger``
  *are* neuralab's: same arguments, same rule as Keras 3.
* ``ModelCheckpoint(filepath, monitor, verbose, save_best_only, save_weights_only, mode)``:
  neuralab's, in Keras' argument order; the file is neuralab's safetensors format (a
  ``.keras``/``.h5`` name is refused: call it ``model.safetensors``).
* ``ReduceLROnPlateau``: neuralab's with ``patience - 1`` and ``cooldown - 1``: Keras lowers the
  rate once ``patience`` epochs have not improved, PyTorch (neuralab) once *more* than
  ``patience`` have, and Keras counts the last cooldown epoch as a bad one.
* ``TerminateOnNaN``: neuralab's with ``restore=False`` (Keras only stops).
* ``Callback``: the base for your own, with Keras' ``self.model`` (the Keras model) and hook
  names (``on_train_batch_begin``/``end``).
* ``History``: what ``fit`` returns, ``.history`` with Keras' keys.
"""

from __future__ import annotations

import os
from typing import Any

from ..train import callbacks as _cb
from ..train.callbacks import CSVLogger, EarlyStopping, LearningRateScheduler
from ._util import check_defaults, missing_name, unsupported


class Callback(_cb.Callback):
    """A Keras callback: ``self.model`` is the Keras model (``self.model.stop_training = True``
    stops), ``on_train_batch_begin``/``on_train_batch_end`` are the batch hooks."""

    keras_model: Any = None

    @property
    def model(self) -> Any:  # type: ignore[override]
        return self.keras_model if self.keras_model is not None else self.trainer.model

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self.on_train_batch_begin(batch, logs)

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self.on_train_batch_end(batch, logs)

    def _uses(self, hook: str) -> bool:
        keras_hook = {"on_batch_begin": "on_train_batch_begin",
                      "on_batch_end": "on_train_batch_end"}.get(hook)
        if keras_hook is not None:
            return getattr(type(self), keras_hook) is not getattr(Callback, keras_hook)
        return super()._uses(hook)


def LambdaCallback(on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,  # noqa: N802
                   on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                   **kwargs: Any) -> _cb.LambdaCallback:
    """Keras' ``LambdaCallback``: neuralab's, with the batch hooks under Keras' names."""
    hooks = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end,
             "on_train_begin": on_train_begin, "on_train_end": on_train_end,
             "on_batch_begin": on_train_batch_begin or kwargs.pop("on_batch_begin", None),
             "on_batch_end": on_train_batch_end or kwargs.pop("on_batch_end", None)}
    if kwargs:
        raise unsupported(f"LambdaCallback({', '.join(kwargs)})", "only training hooks exist")
    return _cb.LambdaCallback(**{k: v for k, v in hooks.items() if v is not None})


def _safetensors_path(path: Any, who: str) -> str:
    path = os.fspath(path)
    if path.endswith((".keras", ".h5")):
        raise unsupported(
            f"{who} to {path!r} (Keras' .keras/.h5 formats)",
            "neuralab writes its own safetensors format: name the file e.g. "
            "'model.safetensors' (read it back with neuralab.keras.models.load_model)",
        )
    return path


class ModelCheckpoint(_cb.ModelCheckpoint):
    """Keras' ``ModelCheckpoint`` in neuralab's file format (``neuralab.save``)."""

    def __init__(self, filepath: Any, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False,
                 mode: str = "auto", save_freq: Any = "epoch",
                 initial_value_threshold: float | None = None) -> None:
        check_defaults("ModelCheckpoint", {"save_freq": save_freq,
                                           "initial_value_threshold": initial_value_threshold},
                       {"save_freq": "epoch", "initial_value_threshold": None},
                       {"save_freq": "neuralab saves at the end of an epoch"})
        super().__init__(_safetensors_path(filepath, "ModelCheckpoint"), monitor=monitor,
                         save_best_only=save_best_only, mode=mode,
                         save_weights_only=save_weights_only, verbose=verbose)


class ReduceLROnPlateau(_cb.ReduceLROnPlateau):
    """Keras' rule on neuralab's schedule: patience and cooldown one less (see the module)."""

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 verbose: int = 0, mode: str = "auto", min_delta: float = 1e-4,
                 cooldown: int = 0, min_lr: float = 0.0, **kwargs: Any) -> None:
        check_defaults("ReduceLROnPlateau", kwargs, {})
        for what, value in (("patience", patience), ("cooldown", cooldown)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"ReduceLROnPlateau expected a non-negative integer "
                                 f"`{what}`, got {value!r}")
        super().__init__(monitor=monitor, factor=factor, patience=max(patience - 1, 0),
                         verbose=verbose, mode=mode, min_delta=min_delta,
                         cooldown=max(cooldown - 1, 0), min_lr=min_lr)
        self.keras_patience, self.keras_cooldown = patience, cooldown


def TerminateOnNaN() -> _cb.TerminateOnNaN:  # noqa: N802
    """Stop when the loss becomes NaN (neuralab's, without restoring the weights, as Keras)."""
    return _cb.TerminateOnNaN(restore=False)


def BackupAndRestore(backup_dir: Any, save_freq: Any = "epoch",  # noqa: N802
                     delete_checkpoint: bool = True, **kwargs: Any) -> _cb.BackupAndRestore:
    """Keras' ``BackupAndRestore(backup_dir)``: neuralab's, one checkpoint file in the folder."""
    check_defaults("BackupAndRestore", {"save_freq": save_freq, **kwargs}, {"save_freq": "epoch"})
    return _cb.BackupAndRestore(os.path.join(os.fspath(backup_dir), "backup.safetensors"),
                                delete_on_end=delete_checkpoint)


#: neuralab's log keys under Keras' names ('lr' is logged by Keras only with a callback that
#: sets the rate, as 'learning_rate')
class History:
    """What ``fit`` returns: ``history`` (key -> list per epoch, Keras' keys), ``epoch``,
    ``params`` and ``model`` (the Keras model)."""

    def __init__(self, history: dict[str, list[float]], epoch: list[int],
                 params: dict[str, Any], model: Any, keep_lr: bool) -> None:
        self.history = {("learning_rate" if k == "lr" else k): list(v)
                        for k, v in history.items() if k != "lr" or keep_lr}
        self.epoch = list(epoch)
        self.params = dict(params)
        self.model = model

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"


_NAMES = ["BackupAndRestore", "CSVLogger", "Callback", "EarlyStopping", "History",
          "LambdaCallback", "LearningRateScheduler", "ModelCheckpoint", "ReduceLROnPlateau",
          "TerminateOnNaN"]


def __getattr__(name: str) -> Any:
    raise missing_name("neuralab.keras.callbacks", name, _NAMES,
                       "neuralab.train.callbacks has ProgressBar, RunProgress, GradientStats and "
                       "ActivationStats; any neuralab callback can be passed to fit")


__all__ = list(_NAMES)

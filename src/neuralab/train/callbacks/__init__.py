"""Callbacks: everything optional in the training loop, as objects with hooks (the Keras protocol).

:class:`~neuralab.train.Trainer` calls, for every callback in order::

    on_train_begin(logs)
      on_epoch_begin(epoch, logs)                  # epoch is 0-based, as in Keras
        on_batch_begin(batch, logs)                # logs: {"batch", "size"}
        on_after_backward(batch, logs)             # gradients are in p.grad, before the update
        on_batch_end(batch, logs)                  # logs: {"batch", "size", "loss" (running)}
      on_epoch_end(epoch, logs)                    # logs: loss, metrics, val_*, lr
    on_train_end(logs)

A callback reaches the trainer as ``self.trainer`` (and the model as ``self.model``) and stops
training by setting ``self.stop_training = True`` (the trainer's flag): after the current batch
when set in a batch hook, after the current epoch otherwise.  Batch hooks cost nothing unless a
callback defines them.

Order: callbacks run in the order given, except that :class:`History` always records first,
checkpointing callbacks (:class:`ModelCheckpoint`, :class:`BackupAndRestore`) run after the
others (so that they save the state *after* schedules and early stopping have acted) and
:class:`ProgressBar` prints last.  Each class has an ``order`` number that says so (lower first).

The package, by theme: the protocol and ``History`` (``neuralab.train.protocol``), ``display``
(``ProgressBar``), ``monitors`` (early stopping, checkpoints, schedules, CSV log, TerminateOnNaN)
and ``stats`` (the labs' gradient and activation statistics).

>>> trainer.fit(x, y, validation_split=0.2, epochs=100,
...             callbacks=[EarlyStopping(patience=10, restore_best_weights=True)])
"""

from ..protocol import Callback, History, LambdaCallback
from .display import ProgressBar, RunProgress
from .monitors import (
    BackupAndRestore,
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    MonitorCallback,
    ReduceLROnPlateau,
    TerminateOnNaN,
)
from .stats import ActivationStats, GradientStats, collect_activations

__all__ = [
    "ActivationStats", "BackupAndRestore", "CSVLogger", "Callback", "EarlyStopping",
    "GradientStats", "History", "LambdaCallback", "LearningRateScheduler", "ModelCheckpoint",
    "MonitorCallback",
    "ProgressBar", "ReduceLROnPlateau", "RunProgress", "TerminateOnNaN", "collect_activations",
]

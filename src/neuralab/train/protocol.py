"""The training loop's protocol: the :class:`Callback` base with its hooks, :class:`LambdaCallback`
and :class:`History` (the record every ``fit`` returns).

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

>>> trainer.fit(x, y, validation_split=0.2, epochs=100,
...             callbacks=[EarlyStopping(patience=10, restore_best_weights=True)])
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from ..io.checkpoint import CheckpointError

if TYPE_CHECKING:
    from ..nn import Module
    from .trainer import Trainer


class Callback:
    """Base class: every hook does nothing.  Subclasses override the hooks they need.

    ``state_dict()``/``load_state_dict()`` let a checkpoint carry the callback's state across an
    interrupted run (return JSON-able values and NumPy arrays).

    >>> class PrintLoss(Callback):
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         print(epoch, logs["loss"])
    """

    #: position among the callbacks of a fit (stable sort, lower first)
    order: ClassVar[int] = 0
    #: whether the callback sets the learning rate (a fit takes one thing that does)
    sets_learning_rate: ClassVar[bool] = False
    #: the trainer running this callback (set by ``fit`` before the first hook)
    trainer: Trainer

    def set_trainer(self, trainer: Trainer) -> None:
        self.trainer = trainer

    @property
    def model(self) -> Module:
        return self.trainer.model

    @property
    def stop_training(self) -> bool:
        return bool(self.trainer.stop_training)

    @stop_training.setter
    def stop_training(self, value: bool) -> None:
        self.trainer.stop_training = bool(value)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_after_backward(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        pass

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass

    def _uses(self, hook: str) -> bool:
        """Whether the trainer must call ``hook`` (asked after ``on_train_begin``): true when the
        class overrides it, so that the per-batch loop skips callbacks without batch hooks."""
        return getattr(type(self), hook) is not getattr(Callback, hook)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class LambdaCallback(Callback):
    """A callback from plain functions, one per hook (Keras' ``LambdaCallback``).

    >>> LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, logs["val_loss"]))
    """

    def __init__(self, **hooks: Callable[..., Any]) -> None:
        known = {
            "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_batch_begin",
            "on_batch_end", "on_after_backward",
        }
        unknown = set(hooks) - known
        if unknown:
            raise ValueError(
                f"LambdaCallback got unknown hooks {sorted(unknown)}; expected some of "
                f"{sorted(known)}"
            )
        self._hooks = hooks
        for name, fn in hooks.items():
            setattr(self, name, fn)

    def _uses(self, hook: str) -> bool:
        return hook in self._hooks


# ---------------------------------------------------------------------- history and display
class History(Callback):
    """Records the logs of every epoch: ``history.history["val_loss"]`` is the list of validation
    losses, one per epoch (Keras' ``History``).  ``history.epoch`` lists the (0-based) epochs.
    :meth:`~neuralab.train.Trainer.fit` adds one and returns it.

    ``history.params`` holds the fit's parameters, as Keras' ``History.params``: ``epochs``,
    ``steps`` (steps per epoch, ``ceil(samples / batch_size)``), ``batch_size``,
    ``last_batch_size`` (the samples left for an epoch's last step), ``samples``, ``verbose``.

    >>> h = trainer.fit(x, y, validation_split=0.2, epochs=20)
    >>> plt.plot(h.history["loss"]); plt.plot(h.history["val_loss"])
    >>> h.params["steps"]           # 60000 samples, batch_size=128: 469 (the last of 96)
    """

    order = -100

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.params: dict[str, Any] = {}

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.params = dict(self.trainer.params)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch.append(int(epoch))
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def state_dict(self) -> dict[str, Any]:
        return {"history": {k: list(v) for k, v in self.history.items()}, "epoch": list(self.epoch)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.history = {k: list(v) for k, v in state["history"].items()}
        self.epoch = [int(e) for e in state["epoch"]]

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"


# ---------------------------------------------------------------------- states in checkpoints
def callback_keys(callbacks: Sequence[Callback]) -> list[tuple[str, Callback]]:
    """``ClassName#k`` (k-th callback of that class) for every callback except History."""
    counts: dict[str, int] = {}
    keyed = []
    for cb in callbacks:
        if isinstance(cb, History):
            continue
        name = type(cb).__name__
        k = counts.get(name, 0)
        counts[name] = k + 1
        keyed.append((f"{name}#{k}", cb))
    return keyed


def apply_callback_states(states: dict[str, Any], callbacks: Sequence[Callback],
                          source: str) -> None:
    """Give each callback the state saved for the callback of the same class and position.

    All or nothing: if one callback refuses its state, those already given theirs get their
    previous state back and :class:`~neuralab.io.checkpoint.CheckpointError` names the source
    (the checkpoint file) and the callback."""
    applied: list[tuple[Callback, dict[str, Any]]] = []
    for key, cb in callback_keys(callbacks):
        if key not in states:
            continue
        before = copy.deepcopy(cb.state_dict())
        try:
            cb.load_state_dict(states[key])
        except Exception as err:  # noqa: BLE001 - a callback's own loader, fed the file's data
            for done, state in reversed(applied + [(cb, before)]):
                try:
                    done.load_state_dict(state)
                except Exception:  # noqa: BLE001 - best effort: report the original problem
                    pass
            raise CheckpointError(
                f"{source}: the saved state of callback {key} does not fit it "
                f"({type(err).__name__}: {err})"
            ) from err
        applied.append((cb, before))

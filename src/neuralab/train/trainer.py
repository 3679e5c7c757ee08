"""The training loop (학습 과정): forward, loss, backward, update, over epochs of mini-batches.

One training step, exactly as the lecture draws it::

    model.train()
    outputs = model(x_batch)                                    # 순전파 (forward)
    loss = loss_fn(outputs, y_batch) + model.regularization_loss()   # 오차 계산 (+ L1/L2 penalty)
    optimizer.zero_grad()
    loss.backward()                                             # 오류 역전파 (backprop)
    optimizer.step()                                            # 가중치 업데이트 (update)

:class:`Trainer` repeats it over the batches of an epoch and over epochs, evaluates on validation
data under ``no_grad()`` and ``model.eval()`` after every epoch, and calls the callbacks of
:mod:`neuralab.train.callbacks` around each step (the Keras protocol).  Everything optional
(progress display, early stopping, schedules, checkpoints, statistics) is a callback.

What the numbers in the history mean:

* ``loss`` is the mean of the per-batch training losses over the epoch, weighted by batch size,
  including the model's regularization penalty: the objective the optimizer minimized.  The
  weights change during the epoch, so it is a *running* figure, as in Keras.
* ``accuracy`` (and every other metric) on the training data is computed, at the end of the
  epoch, from the outputs each batch produced during its own forward pass: a running value over
  the epoch like Keras', not a re-evaluation with the final weights.
* ``val_loss`` and ``val_<metric>`` are computed after the epoch with the final weights of that
  epoch, in evaluation mode (dropout off, batch norm on running statistics); ``val_loss`` also
  includes the regularization penalty, so it is comparable with ``loss``.
* ``lr`` is the learning rate used during the epoch.
"""

from __future__ import annotations

import copy
import math
import numbers
import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from ..autograd import Tensor, no_grad
from ..autograd.capture import CapturedStep
from ..data import ArrayDataset, DataLoader
from ..io.checkpoint import CheckpointError, check_epoch, read_checkpoint
from ..nn import Loss, Module
from ..optim import Optimizer
from ..optim.lr_scheduler import LRScheduler
from ..random import get_rng
from . import callbacks as cbks
from .metrics import labels_from_outputs
from .protocol import apply_callback_states, callback_keys

__all__ = ["LossFunction", "Trainer"]

#: a loss given as a plain function: ``(outputs, targets) -> scalar Tensor`` (the batch mean)
LossFunction = Callable[[Tensor, Any], Tensor]

# Validation and prediction batches: big enough to amortize the Python overhead per batch, small
# enough to keep activations of a wide network in cache-friendly memory.
_EVAL_BATCH = 1024

class Trainer:
    """Trains a model: the loop, validation, metrics, callbacks, prediction.

    Args:
        model: a :class:`neuralab.nn.Module` (for instance a ``Sequential``).
        loss: a loss object (``nn.CrossEntropyLoss()``), a callable ``(outputs, targets) ->
            Tensor`` returning the mean over the batch, or a name for ``nn.get_loss``
            (``"cross_entropy"``, ``"mse"``...).
        optimizer: an optimizer over ``model.parameters()`` or a name for ``optim.get``
            (``"adam"``, ``"sgd"``...) created with its default learning rate (0.01 for SGD,
            as Keras) once the model has built its weights.
        metrics: names for ``get_metric`` (``"accuracy"``, ``"f1"``, ``"mae"``...) or callables
            ``(y_true, y_pred) -> float``.  Default: ``["accuracy"]`` for classification losses,
            none for regression losses.  For classification losses, metrics receive class labels
            (argmax of the outputs, or the outputs thresholded for binary losses); otherwise
            they receive the raw outputs.
        scheduler: a learning-rate schedule from :mod:`neuralab.optim.lr_scheduler`, stepped once
            at the end of every epoch (``ReduceLROnPlateau`` with ``val_loss``, or ``loss``
            without validation data).
        rng: generator or seed for the shuffles of array data (``None``: the library generator
            of :func:`neuralab.seed`, looked up when ``fit`` starts).
        capture: replay the recorded ops of a training step instead of building the graph
            anew every step, when the model and the loss allow it (every module ``capturable``:
            Dense, the activations, Flatten, Reshape, Sequential; cross-entropy from logits or
            MSE; array inputs of the model's dtype).  The numbers are the same bit for bit and
            the step's fixed Python cost is smaller (see :mod:`neuralab.autograd.capture`);
            ``False`` always takes the normal path.

    >>> trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-2))
    >>> history = trainer.fit(x_train, y_train, validation_split=0.2, epochs=50)
    >>> trainer.evaluate(x_test, y_test)
    {'loss': 0.07..., 'accuracy': 0.97...}
    """

    def __init__(
        self,
        model: Module,
        loss: Loss | LossFunction | str,
        optimizer: Optimizer | str,
        metrics: Sequence[str | Callable[..., float]] | None = None,
        scheduler: LRScheduler | None = None,
        rng: np.random.Generator | int | None = None,
        capture: bool = True,
    ) -> None:
        if not isinstance(model, Module):
            raise TypeError(
                f"Trainer expected a model (an nn.Module such as nn.Sequential), got "
                f"{type(model).__name__}; a custom model subclasses nn.Module"
            )
        self.model = model
        self.loss_fn = _resolve_loss(loss)
        self._optimizer_name: str | None = None
        self.optimizer: Optimizer | None
        if isinstance(optimizer, str):
            self._optimizer_name = optimizer
            self.optimizer = None
        elif not isinstance(optimizer, Optimizer):
            raise TypeError(
                "Trainer expected an optimizer (an optim.Optimizer such as optim.Adam(...), or a "
                f"name such as 'adam'), got {optimizer!r}"
            )
        else:
            self.optimizer = optimizer
        if scheduler is not None and not isinstance(scheduler, LRScheduler):
            raise TypeError(
                "Trainer expected a learning-rate schedule from neuralab.optim (StepLR, "
                f"CosineAnnealingLR, ReduceLROnPlateau, LambdaLR, ...) or None, got {scheduler!r}"
            )
        self.scheduler = scheduler
        self._task, self._output_kind = _loss_task(self.loss_fn)
        if metrics is None:
            metrics = [] if self._task == "regression" else ["accuracy"]
        elif isinstance(metrics, str) or callable(metrics):
            metrics = [metrics]
        self.metrics: dict[str, Callable[..., float]] = _resolve_metrics(metrics)
        self._rng_arg = rng
        self.capture = bool(capture)
        #: (with the penalty?, the captured step) of the running fit, see _captured_step
        self._step: tuple[bool, CapturedStep] | None = None
        self._rng = None if rng is None else get_rng(rng)
        self.stop_training = False
        self.history: cbks.History | None = None
        self.epoch = 0
        self.params: dict[str, Any] = {}
        # set while fit() runs: what a checkpoint needs besides the model and optimizer
        self.train_data: _Batches | None = None
        self.callbacks: list[cbks.Callback] = []
        self._start_epoch = 0
        self._resume_state: dict[str, Any] | None = None

    # ------------------------------------------------------------------ properties
    @property
    def rng(self) -> np.random.Generator:
        """The generator that shuffles array data (the library generator unless one was given)."""
        return self._rng if self._rng is not None else get_rng(None)

    @property
    def lr(self) -> float:
        return self.optimizer.lr

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        x: Any,
        y: Any = None,
        *,
        validation_data: Any = None,
        validation_split: float = 0.0,
        epochs: int = 1,
        batch_size: int = 32,
        shuffle: bool = True,
        callbacks: Iterable[cbks.Callback] = (),
        verbose: int | str = "auto",
        initial_epoch: int = 0,
        resume_from: str | None = None,
    ) -> cbks.History:
        """Train for ``epochs`` epochs and return the :class:`~neuralab.train.callbacks.History`.

        Args:
            x, y: input and target arrays with the same first dimension, or ``x`` a
                ``DataLoader`` (or any iterable of ``(inputs, targets)`` batches) and ``y`` None.
                Floating arrays are converted to float32 once, here.
            validation_data: ``(x_val, y_val)`` or a ``DataLoader``, evaluated after every epoch.
            validation_split: fraction of the array data held out for validation, as Keras
                does it: the first ``floor(N * (1 - validation_split))`` samples train, the
                *last* ones validate, chosen before any shuffling.  Shuffle (or use
                ``train_test_split``) first when the data is sorted, e.g. by class.
            epochs: index of the last epoch + 1 (with ``initial_epoch`` or a resumed checkpoint,
                the total, not the number still to run, as in Keras).
            batch_size: samples per step for array data (ignored for a ``DataLoader``).
            shuffle: reshuffle array data at the start of every epoch (with :attr:`rng`).
            callbacks: :class:`~neuralab.train.callbacks.Callback` objects; a ``History`` and
                (unless ``verbose=0``) a ``ProgressBar`` are added when absent.
            verbose: 0 silent, 1 a progress bar on a terminal (one line per epoch otherwise),
                2 one line per epoch, "auto" = 1.
            initial_epoch: epoch to start from (0-based).
            resume_from: path of a checkpoint written by ``save_checkpoint`` (or the
                ``BackupAndRestore`` callback): model, optimizer, scheduler, random generators,
                history and callback states are restored and training continues after the saved
                epoch, giving the same weights as an uninterrupted run.
        """
        epochs = _check_count(epochs, "epochs", allow_zero=True)
        batch_size = _check_count(batch_size, "batch_size")
        initial_epoch = _check_count(initial_epoch, "initial_epoch", allow_zero=True)
        verbose = _check_verbose(verbose)
        if not (
            isinstance(validation_split, numbers.Real)
            and not isinstance(validation_split, bool)
            and 0.0 <= validation_split < 1.0
        ):
            raise ValueError(
                f"fit expected `validation_split` as a fraction in [0, 1), got {validation_split!r}"
            )

        train, val = self._prepare_data(
            x, y, validation_data, float(validation_split), batch_size, shuffle
        )
        self.train_data = train
        self._ensure_built(train.sample())
        callback_list = self._make_callbacks(callbacks, verbose)
        self.callbacks = callback_list
        # the epoch/batch/step arithmetic (에폭, 배치 크기, 반복): steps per epoch =
        # ceil(samples / batch_size) (Keras' params["steps"]), the last batch holds the rest
        size, last = train.batch_sizes(batch_size)
        self.params = {
            "epochs": epochs,
            "steps": train.num_batches(),
            "batch_size": size,
            "last_batch_size": last,
            "samples": train.num_samples(),
            "verbose": verbose,
            "do_validation": val is not None,
            "metrics": list(self.metrics),
        }
        self.stop_training = False
        self._step = None  # recorded anew in every fit: the model or the loss may have changed
        self._start_epoch = initial_epoch

        for cb in callback_list:
            cb.set_trainer(self)
        for cb in callback_list:
            cb.on_train_begin({})
        if resume_from is not None:
            self.resume(resume_from)
        if self._resume_state is not None:
            # from resume_from, a BackupAndRestore callback or an earlier load_state_dict
            apply_callback_states(self._resume_state["callbacks"], callback_list,
                                  self._resume_state["source"])
            self._start_epoch = max(initial_epoch, self._resume_state["epoch"] + 1)
            if self._resume_state["stop_training"]:
                # saved after a callback had decided to stop: the run was over
                self._start_epoch = epochs
            self._resume_state = None

        batch_begin = [cb for cb in callback_list if cb._uses("on_batch_begin")]
        batch_end = [cb for cb in callback_list if cb._uses("on_batch_end")]
        after_backward = [cb for cb in callback_list if cb._uses("on_after_backward")]
        epoch_logs: dict[str, float] = {}
        for epoch in range(self._start_epoch, epochs):
            self.epoch = epoch
            for cb in callback_list:
                cb.on_epoch_begin(epoch, {})
            lr = float(self.optimizer.lr)
            epoch_logs = self._train_epoch(train, batch_begin, batch_end, after_backward)
            if val is not None:
                for key, value in self._evaluate_batches(val, "validation_data").items():
                    epoch_logs["val_" + key] = value
            epoch_logs["lr"] = lr
            self._step_scheduler(epoch_logs)
            for cb in callback_list:
                cb.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        for cb in callback_list:
            cb.on_train_end(epoch_logs)
        self.train_data = None
        return self.history  # type: ignore[return-value]

    def _train_epoch(
        self,
        train: _Batches,
        batch_begin: list[cbks.Callback],
        batch_end: list[cbks.Callback],
        after_backward: list[cbks.Callback],
    ) -> dict[str, float]:
        model, loss_fn, optimizer = self.model, self.loss_fn, self.optimizer
        keep = bool(self.metrics)
        outputs: list[np.ndarray] = []
        targets: list[np.ndarray] = []
        use_reg = model.regularization_loss().requires_grad  # False when no layer has a penalty
        total = 0.0
        count = 0
        model.train()
        step = self._captured_step(use_reg)
        # This loop is the hot path: per step it does the five calls of the lecture's step and
        # a float conversion; everything else is behind a branch that is false by default.
        for batch, (xb, yb) in enumerate(train.epoch(self.rng)):
            if batch_begin:
                logs = {"batch": batch, "size": len(xb)}
                for cb in batch_begin:
                    cb.on_batch_begin(batch, logs)
            if step is not None:
                optimizer.zero_grad()
                out_data, loss_data = step(xb, yb)
            else:
                out = model(xb)
                loss = loss_fn(out, yb)
                if use_reg:
                    loss = loss + model.regularization_loss()
                optimizer.zero_grad()
                loss.backward()
                out_data, loss_data = out.data, loss.data
            if after_backward:
                for cb in after_backward:
                    cb.on_after_backward(batch, None)
            optimizer.step()
            n = len(xb)
            total += float(loss_data) * n
            count += n
            if keep:
                outputs.append(out_data)
                targets.append(yb)
            if batch_end:
                logs = {"batch": batch, "size": n, "loss": total / count}
                for cb in batch_end:
                    cb.on_batch_end(batch, logs)
                if self.stop_training:
                    break
        if not count:
            raise ValueError(_no_batch("the training data", self.epoch))
        logs = {"loss": total / count}
        if keep and outputs:
            logs.update(self._compute_metrics(targets, outputs))
        return logs

    def __getstate__(self) -> dict[str, Any]:
        # the captured step holds closures over this fit (not picklable, and only valid in it)
        state = dict(self.__dict__)
        state["_step"] = None
        return state

    def _captured_step(self, use_reg: bool) -> CapturedStep | None:
        """The captured forward + loss + backward of this trainer (made once; the recordings
        are per shape of the batches), or None when ``capture`` is off or the model or the
        loss does not allow it."""
        loss_fn = self.loss_fn
        if not (self.capture and isinstance(loss_fn, Loss) and loss_fn.is_capturable()
                and self.model.is_capturable()):
            return None
        if self._step is not None and self._step[0] == use_reg:
            return self._step[1]
        model = self.model

        def forward(xb: np.ndarray, yb: np.ndarray) -> tuple[Tensor, Tensor]:
            out = model(xb)
            loss = loss_fn(out, yb)
            if use_reg:
                loss = loss + model.regularization_loss()
            return out, loss

        check = None
        if hasattr(loss_fn, "check_targets"):
            def check(arrays: Any, outputs: tuple) -> None:
                loss_fn.check_targets(arrays[1], *outputs[0])

        step = CapturedStep(forward, check)
        self._step = (use_reg, step)
        return step

    def _step_scheduler(self, logs: dict[str, float]) -> None:
        sched = self.scheduler
        if sched is None:
            return
        sched.step_epoch(logs)

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, x: Any, y: Any = None, batch_size: int | None = None) -> dict[str, float]:
        """Loss and metrics on ``(x, y)`` (arrays or a ``DataLoader``) with the current weights,
        in evaluation mode and without a graph.  The loss includes the regularization penalty,
        like the training loss.

        >>> trainer.evaluate(x_test, y_test)
        {'loss': 0.071, 'accuracy': 0.967}
        """
        batches = self._as_eval_batches(x, y, batch_size)
        self._ensure_built(batches.sample())
        return self._evaluate_batches(batches)

    def _evaluate_batches(
        self, batches: _Batches, where: str = "the evaluation data"
    ) -> dict[str, float]:
        model, loss_fn = self.model, self.loss_fn
        keep = bool(self.metrics)
        outputs: list[np.ndarray] = []
        targets: list[np.ndarray] = []
        total = 0.0
        count = 0
        was_training = model.training
        model.eval()
        try:
            with no_grad():
                for xb, yb in batches.epoch(None):
                    out = model(xb)
                    n = len(xb)
                    total += float(loss_fn(out, yb).data) * n
                    count += n
                    if keep:
                        outputs.append(out.data)
                        targets.append(yb)
                penalty = float(model.regularization_loss().data)
        finally:
            if was_training:
                model.train()
        if not count:
            raise ValueError(_no_batch(where, self.epoch if where == "validation_data" else None))
        logs = {"loss": total / count + penalty}
        if keep and outputs:
            logs.update(self._compute_metrics(targets, outputs))
        return logs

    def _compute_metrics(
        self, targets: list[np.ndarray], outputs: list[np.ndarray]
    ) -> dict[str, float]:
        y_true = targets[0] if len(targets) == 1 else np.concatenate(targets)
        out = outputs[0] if len(outputs) == 1 else np.concatenate(outputs)
        if self._task in ("multiclass", "binary"):
            y_true = self._true_labels(y_true)
            y_pred = self._labels_from_outputs(out)
            if self._task == "binary":  # several sigmoid outputs: every element is a decision
                y_pred = y_pred.ravel()
        else:
            y_pred = out
        logs = {}
        for name, fn in self.metrics.items():
            value = fn(y_true, y_pred)
            if np.ndim(value) != 0:
                raise ValueError(
                    f"the metric {name!r} returned an array of shape {np.shape(value)}; the "
                    "history records one number per epoch. Compute it after training instead, "
                    "e.g. metrics.confusion_matrix(y, trainer.predict_classes(x))"
                )
            logs[name] = float(value)
        return logs

    def _true_labels(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y)
        if self._task == "multiclass":
            if y.ndim >= 2 and y.shape[-1] > 1:  # one-hot or soft labels
                return y.argmax(axis=-1)
            return y.reshape(len(y)) if y.ndim > 1 else y
        labels = (y >= 0.5) if y.dtype.kind == "f" else y
        return labels.astype(np.int64).ravel()

    def _labels_from_outputs(self, out: np.ndarray) -> np.ndarray:
        """argmax over classes, or (binary losses, one output column) a threshold at logit 0 /
        probability 0.5, shape (N,); several binary outputs keep their shape (N, k)."""
        return labels_from_outputs(out, self._kind_of_outputs(), multilabel=self._task == "binary")

    # ------------------------------------------------------------------ prediction
    def predict(self, x: Any, batch_size: int | None = None) -> np.ndarray:
        """The model's outputs for ``x`` (array or ``DataLoader``) in evaluation mode, without a
        graph, as one array."""
        batches = self._as_eval_batches(x, None, batch_size)
        model = self.model
        self._ensure_built(batches.sample())
        was_training = model.training
        model.eval()
        try:
            with no_grad():
                outs = [model(xb).data for xb, _ in batches.epoch(None)]
        finally:
            if was_training:
                model.train()
        if not outs:
            raise ValueError(_no_batch("the prediction data", None))
        return outs[0] if len(outs) == 1 else np.concatenate(outs)

    def predict_proba(self, x: Any, batch_size: int | None = None) -> np.ndarray:
        """Class probabilities: the softmax of logits, the sigmoid of each logit for binary
        losses and for one output column, or the outputs themselves when the model already ends
        in softmax/sigmoid (known from the loss: ``CrossEntropyLoss(from_logits=False)``,
        ``BCELoss``; for other losses from the last layer's activation).  One output column gives
        two columns, ``[1 - p, p]``, as scikit-learn; several binary (multi-label) outputs keep
        one probability per label."""
        out = self.predict(x, batch_size)
        kind = self._kind_of_outputs()
        if out.ndim == 1:
            out = out[:, None]
        if kind == "log_probabilities":
            p = np.exp(out)
        elif kind == "probabilities":
            p = out
        elif out.shape[-1] == 1 or self._task == "binary":
            p = _sigmoid(out)
        else:
            p = _softmax(out)
        if p.shape[-1] == 1:
            return np.concatenate([1 - p, p], axis=-1)
        return p

    def predict_classes(self, x: Any, batch_size: int | None = None) -> np.ndarray:
        """Predicted class indices: argmax of the outputs, or a threshold (logit 0, probability
        0.5) for one output column (shape (N,)) or several binary outputs (shape (N, k))."""
        return self._labels_from_outputs(self.predict(x, batch_size))

    def _kind_of_outputs(self) -> str:
        if self._output_kind is not None:
            return self._output_kind
        activation = _last_activation(self.model)
        if activation in ("softmax", "sigmoid"):
            return "probabilities"
        if activation == "log_softmax":
            return "log_probabilities"
        return "logits"

    # ------------------------------------------------------------------ state and checkpoints
    def state_dict(self, epoch: int | None = None) -> dict[str, Any]:
        """Everything a run needs to continue bit for bit after ``epoch`` (0-based, completed;
        default: the last epoch the history recorded): model weights and buffers, the
        optimizer's and scheduler's states, the random generators, the history, the callbacks'
        states (key ``ClassName#k``, the k-th callback of that class) and whether a callback
        had stopped training.  Arrays are the live ones; :func:`neuralab.io.write_checkpoint`
        writes the dict to a file (``train.save_checkpoint`` does both).

        Restoring the random generators is what makes a resumed run identical to an
        uninterrupted one: the shuffles and dropout masks of the remaining epochs are drawn
        from the same states.  Saved: the library generator (:func:`neuralab.seed`), the
        trainer's, the training ``DataLoader``'s own generator, and any generator held by a
        layer.
        """
        history = self.history.state_dict() if self.history is not None else None
        if epoch is None:
            recorded = history["epoch"] if history else []
            epoch = recorded[-1] if recorded else self.epoch
        epoch = check_epoch(epoch, history, "Trainer.state_dict")
        optimizer = self.optimizer
        return {
            "epoch": epoch,
            "model": self.model.state_dict(),
            "optimizer": optimizer.state_dict() if optimizer is not None else None,
            "optimizer_class": type(optimizer).__name__ if optimizer is not None else None,
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "rng": {role: gen.bit_generator.state
                    for role, gen in self._random_generators().items()},
            "history": history,
            "callbacks": {key: cb.state_dict() for key, cb in callback_keys(self.callbacks)},
            "stop_training": bool(self.stop_training),
        }

    def load_state_dict(self, state: dict[str, Any], *, source: str = "the state") -> int:
        """Restore a :meth:`state_dict` (or :func:`neuralab.io.read_checkpoint`'s content) and
        return its (0-based) epoch; the next ``fit`` continues with the epoch after it.

        All or nothing: the state is checked against this trainer first (optimizer class,
        schedule, generators), and if restoring still fails the trainer gets its previous state
        back before :class:`~neuralab.io.checkpoint.CheckpointError` (whose message starts with
        ``source``, the file's path for a checkpoint) is raised.  Lazy layers built from the
        state's shapes stay built.  Callback states are given to the callbacks of the next
        ``fit`` (or of the running one, from ``fit(resume_from=...)`` or
        ``BackupAndRestore``), matched by class and position.
        """
        self._check_state_fits(state, source)
        snapshot = _Snapshot(self)
        try:
            self._restore(state)
        except BaseException as err:
            snapshot.restore()
            if isinstance(err, CheckpointError) or not isinstance(err, Exception):
                raise
            raise CheckpointError(
                f"{source}: cannot be restored into this trainer ({type(err).__name__}: {err}); "
                "the trainer was left as it was"
            ) from err
        self._resume_state = {"epoch": state["epoch"], "callbacks": state["callbacks"],
                              "stop_training": bool(state["stop_training"]), "source": source}
        return int(state["epoch"])

    def resume(self, path: str | os.PathLike[str]) -> int:
        """Restore the checkpoint at ``path`` (:func:`~neuralab.train.load_checkpoint`); the
        next ``fit`` continues with the epoch after the saved one.  Returns that epoch."""
        return self.load_state_dict(read_checkpoint(path), source=os.fspath(path))

    def training_inputs(self, n: int) -> np.ndarray | None:
        """The first ``n`` inputs of the data the running ``fit`` trains on (float32), taken
        without drawing a shuffle; None outside ``fit`` or for data that cannot be indexed (an
        iterable of batches).  Callbacks use it for a probe batch."""
        return self.train_data.sample(n) if self.train_data is not None else None

    def _random_generators(self) -> dict[str, np.random.Generator]:
        """The generators a run draws from, by role.  One generator may have several roles."""
        gens: dict[str, np.random.Generator] = {"library": get_rng(None), "trainer": self.rng}
        loader = self.train_data.loader if self.train_data is not None else None
        loader_rng = getattr(loader, "rng", None)  # a DataLoader's own; any iterable may come
        if isinstance(loader_rng, np.random.Generator):
            gens["loader"] = loader_rng
        for path, module in self.model.named_modules():
            for attr, value in vars(module).items():
                if isinstance(value, np.random.Generator):
                    gens[f"model.{path}.{attr}" if path else f"model.{attr}"] = value
        return gens

    def _check_state_fits(self, state: dict[str, Any], source: str) -> None:
        """The checks that need this trainer but change nothing in it."""
        opt = self.optimizer
        saved = state.get("optimizer_class")
        if state["optimizer"] is not None and opt is not None and saved is not None \
                and saved != type(opt).__name__:
            raise CheckpointError(
                f"{source}: the checkpoint was saved with a {saved} optimizer, the trainer has a "
                f"{type(opt).__name__}"
            )
        if state["scheduler"] is not None and self.scheduler is not None:
            current = self.scheduler.state_dict()
            wrong = [k for k, v in state["scheduler"].items()
                     if k not in current or not _same_kind(v, current[k])]
            if wrong:
                raise CheckpointError(
                    f"{source}: the checkpoint's {', '.join(map(repr, wrong))} do not fit the "
                    f"trainer's {type(self.scheduler).__name__} schedule (another schedule, or "
                    "damaged metadata)"
                )
        current_gens = self._random_generators()
        for role, gen_state in state["rng"].items():
            gen = current_gens.get(role)
            if gen is not None and type(gen.bit_generator).__name__ != gen_state["bit_generator"]:
                raise CheckpointError(
                    f"{source}: cannot restore the {role!r} random generator: the checkpoint "
                    f"holds a {gen_state['bit_generator']} state, the generator is a "
                    f"{type(gen.bit_generator).__name__}"
                )

    def _restore(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self._ensure_built(None)  # creates an optimizer given by name, now that weights exist
        saved = state.get("optimizer_class")
        if state["optimizer"] is not None:
            if saved is not None and saved != type(self.optimizer).__name__:
                raise ValueError(f"the checkpoint was saved with a {saved} optimizer, the trainer "
                                 f"has a {type(self.optimizer).__name__}")
            self.optimizer.load_state_dict(state["optimizer"])
        if state["scheduler"] is not None and self.scheduler is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        elif (state["scheduler"] is None) != (self.scheduler is None):
            warnings.warn(
                "the checkpoint was saved " + ("with" if self.scheduler is None else "without")
                + " a learning-rate scheduler and the trainer has "
                + ("none" if self.scheduler is None else "one") + "; the resumed run will differ",
                RuntimeWarning,
                stacklevel=4,
            )
        current = self._random_generators()
        for role, gen_state in state["rng"].items():
            gen = current.get(role)
            if gen is not None:
                gen.bit_generator.state = gen_state
        if state["history"] is not None:
            if self.history is None:
                self.history = cbks.History()
            self.history.load_state_dict(state["history"])

    # ------------------------------------------------------------------ set-up helpers
    def _prepare_data(
        self,
        x: Any,
        y: Any,
        validation_data: Any,
        validation_split: float,
        batch_size: int,
        shuffle: bool,
    ) -> tuple[_Batches, _Batches | None]:
        if _is_batch_source(x):
            if y is not None:
                raise ValueError(
                    "fit got a DataLoader (or iterable of batches) for `x` and also `y`; the "
                    "loader already yields (inputs, targets): leave y=None"
                )
            if validation_split:
                raise ValueError(
                    "fit can only take a validation_split from arrays; with a DataLoader pass "
                    "validation_data=<another DataLoader>"
                )
            train: _Batches = _Batches(x)
        else:
            xa, ya = _as_arrays(x, y, "fit")
            if validation_split:
                n = len(xa)
                # Keras' rule, float rounding included: the last samples, before shuffling
                split_at = int(math.floor(n * (1.0 - validation_split)))
                if split_at <= 0 or split_at >= n:
                    raise ValueError(
                        f"fit: validation_split={validation_split} of {n} samples leaves an empty "
                        "training or validation part"
                    )
                if validation_data is not None:
                    raise ValueError("fit got both validation_data and validation_split; pass one")
                validation_data = (xa[split_at:], ya[split_at:])
                xa, ya = xa[:split_at], ya[:split_at]
            # the library's DataLoader; shuffles from the trainer's generator (or, without
            # one, the library generator at each epoch); unshuffled batches are views
            loader = DataLoader(ArrayDataset(xa, ya), batch_size, shuffle=shuffle,
                                rng=self._rng, copy=False)
            train = _Batches(loader)
        val = None
        if validation_data is not None:
            val = self._as_eval_batches_from(validation_data, max(batch_size, _EVAL_BATCH))
        return train, val

    def _as_eval_batches_from(self, data: Any, batch_size: int) -> _Batches:
        if _is_batch_source(data):
            return _Batches(data)
        if isinstance(data, (tuple, list)) and len(data) == 2:
            xa, ya = _as_arrays(data[0], data[1], "validation_data")
            return _array_batches(batch_size, xa, ya)
        raise TypeError(
            "fit expected validation_data as a pair (x_val, y_val) or a DataLoader, got "
            f"{type(data).__name__}"
        )

    def _as_eval_batches(self, x: Any, y: Any, batch_size: int | None) -> _Batches:
        if batch_size is not None:
            batch_size = _check_count(batch_size, "batch_size")
        if _is_batch_source(x):
            return _Batches(x)
        if y is None:
            xa = _as_inputs(x, "predict")
            return _array_batches(batch_size or _EVAL_BATCH, xa)
        xa, ya = _as_arrays(x, y, "evaluate")
        return _array_batches(batch_size or _EVAL_BATCH, xa, ya)

    def _ensure_built(self, sample: np.ndarray | None) -> None:
        """Build lazily-created weights with one forward pass (no graph, evaluation mode), then
        create the optimizer if it was given by name."""
        model = self.model
        has_params = next(iter(model.parameters()), None) is not None
        unbuilt = any(getattr(m, "built", True) is False for m in model.modules())
        if (unbuilt or not has_params) and sample is not None:
            was_training = model.training
            model.eval()
            try:
                with no_grad():
                    model(sample)
            finally:
                if was_training:
                    model.train()
        if self.optimizer is None:
            from .. import optim

            params = list(model.parameters())
            try:
                self.optimizer = optim.get(self._optimizer_name, params)
            except TypeError:
                # SGD has no default rate (as in PyTorch): use Keras' 0.01
                self.optimizer = optim.get(self._optimizer_name, params, lr=0.01)
        else:
            owned = {id(p) for p in self.optimizer.params}
            named = list(model.named_parameters())
            left_out = [n for n, p in named if p.requires_grad and id(p) not in owned]
            hint = ("it was probably created before the model built its weights (a Dense layer "
                    "without input_dim builds on its first call); build the model first "
                    "(model.summary(), model(x[:1]) or input_dim on every layer) or pass the "
                    "optimizer by name ('adam')")
            if named and len(left_out) == len(named):
                raise ValueError(f"the optimizer holds none of the model's parameters: {hint}")
            if left_out:
                warnings.warn(
                    f"the optimizer does not update {len(left_out)} trainable parameters of the "
                    f"model ({', '.join(left_out[:6])}{', ...' if len(left_out) > 6 else ''}); "
                    f"if that is not intended, {hint}",
                    RuntimeWarning,
                    stacklevel=3,
                )

    def _make_callbacks(self, callbacks: Iterable[cbks.Callback], verbose: int) -> list:
        user = list(callbacks) if callbacks is not None else []
        for i, cb in enumerate(user):
            if not isinstance(cb, cbks.Callback):
                raise TypeError(
                    f"fit expected Callback objects in `callbacks`, got {type(cb).__name__} at "
                    f"position {i}"
                )
        history = next((cb for cb in user if isinstance(cb, cbks.History)), None)
        if history is None and self._resume_state is not None and self.history is not None:
            history = self.history  # restored by load_checkpoint before this fit
            user.append(history)
        elif history is None:
            history = cbks.History()
            user.append(history)
        self.history = history
        setters = ([f"Trainer(scheduler={type(self.scheduler).__name__}(...))"]
                   if self.scheduler is not None else [])
        setters += [f"{type(cb).__name__} callback" for cb in user if cb.sets_learning_rate]
        if len(setters) > 1:
            # each would overwrite the other's rate every epoch: the run follows neither
            raise ValueError(
                f"fit got {len(setters)} things that set the learning rate ({', '.join(setters)}); "
                "pass one: a schedule object (Trainer(scheduler=...) or LearningRateScheduler), "
                "a function (LearningRateScheduler(fn)) or the ReduceLROnPlateau callback"
            )
        if verbose and not any(isinstance(cb, cbks.ProgressBar) for cb in user):
            user.append(cbks.ProgressBar(verbose=verbose))
        # stable: same-order callbacks keep the user's order; History records first, checkpoints
        # save after the callbacks that change state, the progress display prints last
        return sorted(user, key=lambda cb: cb.order)

    def __repr__(self) -> str:
        opt = type(self.optimizer).__name__ if self.optimizer else self._optimizer_name
        return (f"Trainer(model={type(self.model).__name__}, loss={self.loss_fn!r}, "
                f"optimizer={opt}, metrics={list(self.metrics)})")


# ---------------------------------------------------------------------- state
class _Snapshot:
    """What :meth:`Trainer.load_state_dict` may change, copied before it changes anything, so
    that a failure part-way can put everything back."""

    def __init__(self, trainer: Trainer) -> None:
        self.trainer = trainer
        self.model = trainer.model.state_dict()
        self.optimizer_object = trainer.optimizer
        opt = trainer.optimizer
        self.optimizer = copy.deepcopy(opt.state_dict()) if opt is not None else None
        sched = trainer.scheduler
        self.scheduler = copy.deepcopy(sched.state_dict()) if sched is not None else None
        self.rng = {role: copy.deepcopy(gen.bit_generator.state)
                    for role, gen in trainer._random_generators().items()}
        self.history_object = trainer.history
        self.history = self.history_object.state_dict() if self.history_object else None

    def restore(self) -> None:
        trainer = self.trainer
        trainer.model.load_state_dict(self.model, strict=False)
        trainer.optimizer = self.optimizer_object
        if self.optimizer is not None:
            trainer.optimizer.load_state_dict(self.optimizer)
        if self.scheduler is not None:
            trainer.scheduler.load_state_dict(self.scheduler)
        for role, gen in trainer._random_generators().items():
            if role in self.rng:
                gen.bit_generator.state = self.rng[role]
        trainer.history = self.history_object
        if self.history_object is not None:
            self.history_object.load_state_dict(self.history)


def _same_kind(saved: Any, current: Any) -> bool:
    """Whether a saved scheduler value can stand for the current one (numbers for numbers,
    lists of the same length, None for anything)."""
    if saved is None or current is None:
        return True
    if isinstance(current, bool) or isinstance(saved, bool):
        return isinstance(current, bool) and isinstance(saved, bool)
    if isinstance(current, (int, float, np.number)):
        return isinstance(saved, (int, float, np.number)) and (
            not isinstance(current, (int, np.integer)) or isinstance(saved, (int, np.integer))
        )
    if isinstance(current, (list, tuple)):
        return isinstance(saved, (list, tuple)) and len(saved) == len(current) and all(
            _same_kind(s, c) for s, c in zip(saved, current)
        )
    return type(saved) is type(current)


# ---------------------------------------------------------------------- batch sources
def _array_batches(batch_size: int, *arrays: np.ndarray) -> _Batches:
    """Evaluation and prediction batches of arrays: a DataLoader of contiguous views, in order."""
    return _Batches(DataLoader(ArrayDataset(*arrays), batch_size, copy=False))


class _Batches:
    """The batches of a fit, evaluation or prediction: a DataLoader (arrays are wrapped in one)
    or any re-iterable of ``(inputs, targets)`` batches."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def epoch(self, rng: np.random.Generator | None) -> Iterable[tuple[Any, Any]]:
        for batch in self.loader:
            if isinstance(batch, (tuple, list)):
                if len(batch) >= 2:
                    yield _float32(batch[0]), batch[1]
                else:
                    yield _float32(batch[0]), None
            else:
                yield _float32(batch), None

    def num_batches(self) -> int | None:
        try:
            return len(self.loader)
        except TypeError:
            return None

    def batch_sizes(self, batch_size: int) -> tuple[int | None, int | None]:
        """(samples per step, samples in the last step of an epoch): the loader's batch size
        (``batch_size`` for arrays, which are wrapped in a DataLoader of that size), and what is
        left for the last step, ``N - (steps - 1) * batch_size`` (all of a batch with
        ``drop_last``); for an iterable of batches, which does not say, ``batch_size`` as given
        and None."""
        size = getattr(self.loader, "batch_size", None)
        if not isinstance(size, int):
            return batch_size, None
        steps, n = self.num_batches(), self.num_samples()
        if not steps or n is None:
            return size, None
        if getattr(self.loader, "drop_last", False):
            return size, size
        return size, n - (steps - 1) * size

    def num_samples(self) -> int | None:
        n = getattr(self.loader, "num_samples", None)
        if n is None and hasattr(self.loader, "dataset"):
            try:
                n = len(self.loader.dataset)
            except TypeError:
                n = None
        return n

    def sample(self, n: int = 8) -> np.ndarray | None:
        # Arrays behind a DataLoader are reachable without iterating it (iterating would draw a
        # shuffle from its generator and change the run).
        dataset = getattr(self.loader, "dataset", None)
        arrays = getattr(dataset, "arrays", None)
        if arrays:
            return _float32(np.asarray(arrays[0][:n]))
        if dataset is not None:
            try:
                return _float32(np.stack([np.asarray(dataset[0][0])]))
            except Exception:  # noqa: BLE001 - a best effort to build lazy weights
                return None
        return None


def _no_batch(what: str, epoch: int | None) -> str:
    when = f" in epoch {epoch + 1}" if epoch is not None else ""
    return (f"{what} yielded no batch{when}; pass a DataLoader or a list of (inputs, targets) "
            "batches, which can be iterated again every epoch (a generator is used up after "
            "one pass)")


def _is_batch_source(x: Any) -> bool:
    if isinstance(x, (np.ndarray, Tensor, list, tuple)):
        return False
    return hasattr(x, "__iter__") and not hasattr(x, "shape")


def _float32(a: Any) -> Any:
    if isinstance(a, Tensor):
        a = a.data
    if isinstance(a, np.ndarray) and a.dtype.kind == "f" and a.dtype != np.float32:
        return a.astype(np.float32)
    return a


def _check_finite(a: np.ndarray, what: str, where: str) -> None:
    """Refuse nan/inf in array data at the door: one of them turns the loss and then every
    weight into nan, and where it lands depends on the shuffle (the seed)."""
    if a.dtype.kind not in "fc":
        return
    # one sum in the data's own dtype is the cheap test (no temporary as large as the data; a
    # float64 sum of float32 data takes three times as long, at every fit): a finite sum means
    # every value is finite, and a sum that overflows only sends finite data through the exact
    # search below
    with np.errstate(over="ignore", invalid="ignore"):
        if math.isfinite(np.sum(a)):
            return
    bad = np.argwhere(~np.isfinite(a))
    if len(bad):
        index = tuple(int(i) for i in bad[0])
        raise ValueError(
            f"{where} got {len(bad)} non-finite value(s) in {what}, the first "
            f"{a[index]} at index {index[0] if a.ndim == 1 else index}; remove or fill in "
            "those samples before training"
        )


def _as_inputs(x: Any, where: str) -> np.ndarray:
    if isinstance(x, Tensor):
        x = x.data
    arr = np.asarray(x)
    if arr.dtype.kind == "O" or arr.ndim == 0:
        raise TypeError(
            f"{where} expected an array of samples (first axis = samples) or a DataLoader, got "
            f"{type(x).__name__} with shape {getattr(arr, 'shape', None)}"
        )
    with np.errstate(over="ignore"):  # float64 beyond float32's range: refused just below
        arr = _float32(arr)
    _check_finite(arr, "the inputs", where)
    return arr


def _as_arrays(x: Any, y: Any, where: str) -> tuple[np.ndarray, np.ndarray]:
    xa = _as_inputs(x, where)
    if y is None:
        raise ValueError(
            f"{where} got inputs without targets; pass y (an array with one target per sample) "
            "or a DataLoader yielding (inputs, targets)"
        )
    ya = y.data if isinstance(y, Tensor) else np.asarray(y)
    with np.errstate(over="ignore"):
        ya = _float32(ya)
    _check_finite(ya, "the targets", where)
    if len(ya) != len(xa):
        raise ValueError(
            f"{where} expected as many targets as inputs, got {len(xa)} inputs and "
            f"{len(ya)} targets"
        )
    return xa, ya


# ---------------------------------------------------------------------- resolution helpers
def _resolve_loss(loss: Loss | LossFunction | str) -> Loss | LossFunction:
    if isinstance(loss, str):
        from .. import nn

        return nn.get_loss(loss)
    if not callable(loss):
        raise TypeError(
            "Trainer expected a loss object, a callable (outputs, targets) -> Tensor or a name "
            f"such as 'cross_entropy', got {loss!r}"
        )
    return loss


def _resolve_metrics(metrics: Sequence[Any]) -> dict[str, Callable[..., float]]:
    resolved: dict[str, Callable[..., float]] = {}
    for m in metrics:
        if isinstance(m, str):
            from .metrics import get_metric

            name, fn = m, get_metric(m)
        elif callable(m):
            name = getattr(m, "name", None) or getattr(m, "__name__", None) or type(m).__name__
            fn = m
        else:
            raise TypeError(
                f"Trainer expected metric names or callables (y_true, y_pred) -> float, got {m!r}"
            )
        if name in ("loss", "lr") or name.startswith("val_"):
            raise ValueError(f"Trainer: the metric name {name!r} is reserved for the history")
        if name in resolved:
            raise ValueError(f"Trainer got the metric {name!r} twice")
        resolved[name] = fn
    return resolved


def _loss_task(loss: Loss | LossFunction) -> tuple[str, str | None]:
    """(task, kind of outputs) as the loss declares them (:class:`neuralab.nn.Loss`); a plain
    callable declares nothing: ``("unknown", None)``."""
    task = getattr(loss, "task", "unknown")
    if task not in ("multiclass", "binary", "regression", "unknown"):
        raise ValueError(
            f"the loss {loss!r} declares task={task!r}; expected 'multiclass', 'binary', "
            "'regression' or 'unknown'"
        )
    kind = getattr(loss, "output_kind", None) if task in ("multiclass", "binary") else None
    return task, kind


def _last_activation(model: Module) -> str | None:
    """Lower-case name of the activation the model ends with, when it can be seen."""
    layers = getattr(model, "layers", None)
    last = model
    while layers:
        last = list(layers)[-1]
        layers = getattr(last, "layers", None)
    for candidate in (getattr(last, "activation", None), last):
        if candidate is None:
            continue
        if isinstance(candidate, str):
            return candidate.lower()
        name = getattr(candidate, "name", None)
        if isinstance(name, str) and name.lower() in ("softmax", "sigmoid", "log_softmax"):
            return name.lower()
        cls = type(candidate).__name__.lower()
        if cls in ("softmax", "sigmoid", "logsoftmax"):
            return "log_softmax" if cls == "logsoftmax" else cls
    return None


def _check_count(value: Any, what: str, allow_zero: bool = False) -> int:
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not ok or value < (0 if allow_zero else 1):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"fit expected a {kind} integer for `{what}`, got {value!r}")
    return int(value)


def _check_verbose(verbose: Any) -> int:
    if verbose == "auto":
        return 1
    if verbose in (0, 1, 2) and not isinstance(verbose, bool):
        return int(verbose)
    raise ValueError(f"fit expected verbose as 0, 1, 2 or 'auto', got {verbose!r}")


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # split by sign so that exp never overflows
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    e = np.exp(z[~pos])
    out[~pos] = e / (1.0 + e)
    return out

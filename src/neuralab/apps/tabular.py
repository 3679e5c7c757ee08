"""Train a network on a CSV file in one call: ``neuralab train FILE.csv --target COLUMN``.

The lecture's practical workflow (wine quality, iris) for any table with a header row: load,
seeded split (stratified for classification), standardization fitted on the training part only,
an MLP of ReLU layers with a task-appropriate head (softmax logits + cross-entropy for classes,
identity + MSE for a number), Adam, validation with early stopping, one evaluation on the test
part, and a run directory with the model, the scaler, the history, the metrics and a figure.

What is refused, and when (see ``docs/errors.md``):

* before anything is read or trained: bad settings (non-finite ``lr``, ``epochs < 1``...), a
  network whose estimated training memory exceeds ``max_memory_gb`` (``--max-memory``), and an
  output directory that is a file, is not writable or holds an earlier run (unless
  ``overwrite``);
* while loading: anything :func:`~neuralab.data.load_csv` refuses (nan/inf cells, duplicate
  column names, ...);
* after training: a run whose loss became nan/inf (:class:`TrainingDiverged`; the model keeps
  its last finite weights, nothing is written).

The run directory is written as a unit (:class:`neuralab.io.RunDirectory`): all files or none.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import json
import math

import numpy as np

from .. import nn, optim
from ..data import LabelEncoder, StandardScaler, train_test_split
from ..data.datasets import load_csv
from ..io import RunDirectory, atomic_write, figures, save, to_jsonable
from ..random import seed as set_seed
from ..train import metrics
from ..train.callbacks import EarlyStopping, TerminateOnNaN
from ..train.trainer import Trainer

#: bytes per parameter while training with Adam: weights, gradients, the two moment estimates,
#: two scratch arrays, the best weights kept by early stopping and the weights + moments kept by
#: TerminateOnNaN at the start of every epoch (float32)
BYTES_PER_PARAMETER = 4 * 10


class TrainingDiverged(RuntimeError):
    """The training loss (or a result) became nan or infinite; nothing was written.
    ``model`` is the network with its last finite weights (those at the start of the epoch in
    which the loss stopped being finite).  ``neuralab train`` exits with code 3."""

    def __init__(self, message: str, model: Any = None) -> None:
        super().__init__(message)
        self.model = model


@dataclass
class TabularConfig:
    """Settings of :func:`train_csv`; every field is also a ``neuralab train`` option."""

    csv: str
    target: str
    task: str = "auto"  # "classification", "regression" or "auto" (strings -> classes)
    hidden: tuple[int, ...] = (64, 32)
    epochs: int = 200
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.0
    test_size: float = 0.2
    validation_split: float = 0.2
    patience: int = 20
    seed: int = 0
    out: str | None = None
    overwrite: bool = False  # replace an existing run directory ``out`` (else refused)
    max_memory_gb: float = 2.0  # refuse networks estimated to need more to train
    verbose: int = 2


@dataclass
class TabularResult:
    task: str
    n_train: int
    n_test: int
    features: list[str]
    classes: list[str] | None
    epochs_run: int
    best_epoch: int
    test_metrics: dict[str, float]
    history: dict[str, list[float]] = field(repr=False)
    files: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"task: {self.task}; {self.n_train} training rows (incl. validation), "
            f"{self.n_test} test rows, {len(self.features)} features",
            f"trained {self.epochs_run} epochs; best validation loss at epoch {self.best_epoch}",
            "test metrics:",
        ]
        lines += [f"  {name:<22} {value:.4f}" for name, value in self.test_metrics.items()]
        return "\n".join(lines)


def _decide_task(task: str, y: np.ndarray) -> str:
    if task not in ("auto", "classification", "regression"):
        raise ValueError(
            f"task must be 'auto', 'classification' or 'regression', got {task!r}"
        )
    if task != "auto":
        if task == "regression" and y.dtype.kind not in "iuf":
            raise ValueError(
                "the target column holds text, so it cannot be regressed; use --task classification"
            )
        return task
    return "regression" if y.dtype.kind in "iuf" else "classification"


def parameter_count(sizes: list[int]) -> int:
    """Weights and biases of a chain of Dense layers ``sizes[0] -> sizes[1] -> ...``:
    :math:`\\sum_k (n_k + 1)\\, n_{k+1}`."""
    return sum((n_in + 1) * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


def _check_settings(config: TabularConfig) -> None:
    for name in ("epochs", "batch_size", "patience"):
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value}")
    if not 0 < config.test_size < 1 or not 0 <= config.validation_split < 1:
        raise ValueError("test_size must be in (0, 1) and validation_split in [0, 1)")
    if not config.hidden or any(h < 1 for h in config.hidden):
        raise ValueError(f"hidden must list positive layer sizes, got {config.hidden}")
    for name, low in (("lr", "> 0"), ("weight_decay", ">= 0")):
        value = getattr(config, name)
        if not math.isfinite(value) or (value <= 0 if low == "> 0" else value < 0):
            raise ValueError(f"{name} must be a finite number {low}, got {value} "
                             f"(--{name.replace('_', '-')})")
    if not (math.isfinite(config.max_memory_gb) and config.max_memory_gb > 0):
        raise ValueError(f"max_memory_gb must be a positive number, got {config.max_memory_gb}")


def _check_size(config: TabularConfig, n_features: int, n_out: int) -> None:
    """Refuse a network too large to train before allocating it (``--hidden 100000000`` was
    killed by the kernel's OOM killer without a word)."""
    n_params = parameter_count([n_features, *config.hidden, n_out])
    need = n_params * BYTES_PER_PARAMETER
    limit = config.max_memory_gb * 2**30
    if need > limit:
        raise ValueError(
            f"the network {n_features}-{'-'.join(map(str, config.hidden))}-{n_out} has "
            f"{n_params:,} parameters and would need about {need / 2**30:.3g} GB to train, "
            f"more than the limit of {config.max_memory_gb:.3g} GB; use smaller --hidden sizes "
            "or raise the limit with --max-memory GB"
        )


def _diverged(what: str, config: TabularConfig, model: Any = None) -> TrainingDiverged:
    return TrainingDiverged(
        f"training diverged: {what}; nothing was written. Lower the learning rate (--lr "
        f"{config.lr:g}) or the weight decay, or use fewer/smaller layers", model
    )


def _strict_json(name: str, payload: Any, config: TabularConfig) -> bytes:
    """``payload`` as JSON, refusing nan/inf (``json`` would write a bare ``NaN``, which is not
    JSON)."""
    try:
        return json.dumps(to_jsonable(payload), indent=1, allow_nan=False).encode()
    except ValueError:
        raise _diverged(f"{name} would hold a value that is not finite", config) from None


def train_csv(config: TabularConfig) -> TabularResult:
    """Train and evaluate an MLP on ``config.csv`` predicting ``config.target``; see the module
    docstring.  With ``config.out`` the model (safetensors), the scaler and label classes
    (``preprocessing.json``), the history, the metrics and a learning-curve figure are written
    there, all or none (an existing run there is refused unless ``config.overwrite``).

    Raises ``ValueError`` for bad settings or data, ``OSError`` (``FileExistsError``,
    ``PermissionError``, ``NotADirectoryError``) for the output directory, both before any
    training, and :class:`TrainingDiverged` when the loss became nan or infinite."""
    _check_settings(config)
    run_dir = RunDirectory(config.out, overwrite=config.overwrite) if config.out else None
    if run_dir is not None:
        run_dir.check()  # a file in the way, no write permission, an earlier run: found now
    X, y, features = load_csv(config.csv, target=config.target)
    task = _decide_task(config.task, y)
    set_seed(config.seed)

    classes = None
    # stratify on the labels as written, so that an error names the class the user knows
    stratify = y if task == "classification" else None
    if task == "classification":
        encoder = LabelEncoder().fit(y)
        y = encoder.transform(y)
        classes = [str(c) for c in encoder.classes_]
        if len(classes) < 2:
            raise ValueError(f"the target column {config.target!r} has a single class")
    else:
        y = y.astype(np.float32).reshape(-1, 1)
    n_out = len(classes) if classes else 1
    _check_size(config, X.shape[1], n_out)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=config.test_size, stratify=stratify, rng=config.seed
    )
    scaler = StandardScaler().fit(X_train)  # statistics of the training part only
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

    layers: list[Any] = [nn.Dense(config.hidden[0], activation="relu", input_dim=X.shape[1])]
    layers += [nn.Dense(h, activation="relu") for h in config.hidden[1:]]
    layers.append(nn.Dense(n_out))
    model = nn.Sequential(layers)
    loss = nn.CrossEntropyLoss() if classes else nn.MSELoss()
    opt = (optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
           if config.weight_decay else optim.Adam(model.parameters(), lr=config.lr))
    trainer = Trainer(model, loss, opt, metrics=["accuracy"] if classes else ["mae"])
    stopper = EarlyStopping(patience=config.patience, restore_best_weights=True)
    guard = TerminateOnNaN()  # stops at the first nan/inf loss, back to the last good weights
    monitor_val = config.validation_split > 0
    # a diverging run overflows float32 on its way to nan: reported below, not as warnings
    with np.errstate(over="ignore", invalid="ignore"):
        history = trainer.fit(
            X_train, y_train, validation_split=config.validation_split, epochs=config.epochs,
            batch_size=config.batch_size, callbacks=[stopper, guard] if monitor_val else [guard],
            verbose=config.verbose,
        )
    if guard.nan_epoch is not None:
        what = "nan" if "became nan" in (guard.message or "") else "infinite"
        raise _diverged(f"the training loss became {what} at epoch {guard.nan_epoch + 1}, "
                        f"batch {guard.nan_batch + 1}", config, model)
    if not all(np.isfinite(p.data).all() for p in model.parameters()):
        raise _diverged("the weights are no longer finite", config)

    with np.errstate(over="ignore", invalid="ignore"):
        if classes:
            pred = trainer.predict_classes(X_test)
            test = {
                "accuracy": metrics.accuracy(y_test, pred),
                "f1_macro": metrics.f1(y_test, pred),
                "loss": trainer.evaluate(X_test, y_test)["loss"],
            }
        else:
            pred = trainer.predict(X_test)
            test = {
                "mae": metrics.mae(y_test, pred),
                "rmse": metrics.rmse(y_test, pred),
                "r2": metrics.r2(y_test, pred),
            }
            if np.all(y_test == np.round(y_test)):  # graded targets (wine quality): Cortez's T
                test["accuracy_within_0.5"] = metrics.accuracy_within(y_test, pred, 0.5)
                test["accuracy_within_1.0"] = metrics.accuracy_within(y_test, pred, 1.0)
    bad = [name for name, value in test.items() if not math.isfinite(value)]
    if bad:
        raise _diverged(f"the test {', '.join(bad)} is not finite", config, model)
    best = stopper.best_epoch + 1 if monitor_val and stopper.best_epoch is not None else len(
        history.history["loss"])
    result = TabularResult(task, len(X_train), len(X_test), features, classes,
                           len(history.history["loss"]), best, test, dict(history.history))
    if run_dir is not None:
        names = _write_run(run_dir, config, result, model, scaler)
        result.files = [str(Path(config.out) / name) for name in names]
    return result


def _write_run(run_dir: RunDirectory, config: TabularConfig, result: TabularResult, model: Any,
               scaler: StandardScaler) -> list[str]:
    """Write the run into a fresh directory and commit it whole; the names of the files."""
    prep = {"features": result.features, "target": config.target, "task": result.task,
            "classes": result.classes, "scaler": scaler.state_dict()}
    payloads = {"preprocessing.json": prep, "history.json": result.history,
                "metrics.json": {"config": asdict(config), "test": result.test_metrics,
                                 "best_epoch": result.best_epoch}}
    # every payload is made first, so that a refused one leaves nothing half-written
    encoded = {name: _strict_json(name, payload, config) for name, payload in payloads.items()}
    names = ["model.safetensors", *encoded]
    with run_dir as tmp:
        save(model, tmp / "model.safetensors")
        for name, data in encoded.items():
            atomic_write(tmp / name, data)
        if _plot(result, tmp / "history.png") is not None:
            names.append("history.png")
    return names


def _plot(result: TabularResult, path: Path) -> Path | None:
    try:
        plt = figures.pyplot()
    except ImportError:  # figures need the [lab] extra; the run itself does not
        return None
    h = result.history
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    epochs = np.arange(1, len(h["loss"]) + 1)
    ax.plot(epochs, h["loss"], label="training loss")
    if "val_loss" in h:
        ax.plot(epochs, h["val_loss"], label="validation loss")
    ax.axvline(result.best_epoch, color="grey", ls=":", label="best epoch (kept)")
    ax.set(xlabel="epoch", ylabel="loss", title=f"{result.task}: learning curves")
    losses = [v for key in ("loss", "val_loss") for v in h.get(key, []) if v > 0]
    if losses and max(losses) > 20 * min(losses):  # a steep first epoch would flatten the rest
        ax.set_yscale("log")
    ax.legend()
    ax.grid(alpha=0.3)
    return figures.save(fig, path)

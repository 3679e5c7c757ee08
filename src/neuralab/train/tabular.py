"""Train a network on a CSV file in one call: ``neuralab train FILE.csv --target COLUMN``.

The lecture's practical workflow (wine quality, iris) for any table with a header row: load,
seeded split (stratified for classification), standardization fitted on the training part only,
an MLP of ReLU layers with a task-appropriate head (softmax logits + cross-entropy for classes,
identity + MSE for a number), Adam, validation with early stopping, one evaluation on the test
part, and a run directory with the model, the scaler, the history, the metrics and a figure.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import nn, optim
from ..data import LabelEncoder, StandardScaler, train_test_split
from ..data.datasets import load_csv
from ..io import figures, save, write_json
from ..random import seed as set_seed
from . import metrics
from .callbacks import EarlyStopping
from .trainer import Trainer


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


def train_csv(config: TabularConfig) -> TabularResult:
    """Train and evaluate an MLP on ``config.csv`` predicting ``config.target``; see the module
    docstring.  With ``config.out`` the model (safetensors), the scaler and label classes
    (``preprocessing.json``), the history, the metrics and a learning-curve figure are written
    there."""
    for name in ("epochs", "batch_size", "patience"):
        if getattr(config, name) < 1:
            raise ValueError(f"{name} must be a positive integer, got {getattr(config, name)}")
    if not 0 < config.test_size < 1 or not 0 <= config.validation_split < 1:
        raise ValueError("test_size must be in (0, 1) and validation_split in [0, 1)")
    if not config.hidden or any(h < 1 for h in config.hidden):
        raise ValueError(f"hidden must list positive layer sizes, got {config.hidden}")
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
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=config.test_size, stratify=stratify, seed=config.seed
    )
    scaler = StandardScaler().fit(X_train)  # statistics of the training part only
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

    n_out = len(classes) if classes else 1
    layers: list[Any] = [nn.Dense(config.hidden[0], activation="relu", input_dim=X.shape[1])]
    layers += [nn.Dense(h, activation="relu") for h in config.hidden[1:]]
    layers.append(nn.Dense(n_out))
    model = nn.Sequential(layers)
    loss = nn.CrossEntropyLoss() if classes else nn.MSELoss()
    opt = (optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
           if config.weight_decay else optim.Adam(model.parameters(), lr=config.lr))
    trainer = Trainer(model, loss, opt, metrics=["accuracy"] if classes else ["mae"])
    stopper = EarlyStopping(patience=config.patience, restore_best_weights=True)
    monitor_val = config.validation_split > 0
    history = trainer.fit(
        X_train, y_train, validation_split=config.validation_split, epochs=config.epochs,
        batch_size=config.batch_size, callbacks=[stopper] if monitor_val else [],
        verbose=config.verbose,
    )

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
    best = stopper.best_epoch + 1 if monitor_val and stopper.best_epoch is not None else len(
        history.history["loss"])
    result = TabularResult(task, len(X_train), len(X_test), features, classes,
                           len(history.history["loss"]), best, test, dict(history.history))
    if config.out:
        result.files = [str(f) for f in _write_run(Path(config.out), config, result, model, scaler)]
    return result


def _write_run(out: Path, config: TabularConfig, result: TabularResult, model: Any,
               scaler: StandardScaler) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    files = [save(model, out / "model.safetensors")]
    prep = {"features": result.features, "target": config.target, "task": result.task,
            "classes": result.classes, "scaler": scaler.state_dict()}
    for name, payload in (("preprocessing.json", prep), ("history.json", result.history),
                          ("metrics.json", {"config": asdict(config), "test": result.test_metrics,
                                            "best_epoch": result.best_epoch})):
        write_json(out / name, payload)
        files.append(out / name)
    figure = _plot(result, out / "history.png")
    if figure is not None:
        files.append(figure)
    return files


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

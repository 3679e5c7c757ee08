"""The main job on any table: ``neuralab train DATA``, then ``predict`` and ``evaluate``.

``DATA`` is a delimited text file with a header row, or the name of a built-in data set
(``neuralab datasets``).  The workflow is the lecture's practical (wine quality, iris):

1. read the table (:func:`neuralab.data.read_table`: ``,`` ``;`` tab or whitespace); choose the
   columns (``features``, ``drop``); rows without a target are left out and counted;
2. decide the task by a printed rule (:func:`infer_task`), overridable with ``task``;
3. a seeded split into training, validation and test rows (stratified for classes);
4. a :class:`~neuralab.data.TablePreprocessor` fitted on the training rows only (numbers scaled
   by median and IQR and clipped, text one-hot encoded, gaps imputed or refused);
5. an MLP of ReLU layers with a head for the task (softmax logits + cross-entropy for classes,
   identity + MSE for a number, learned standardized and the head rescaled afterwards), AdamW
   (Adam without weight decay), early stopping on the validation rows, the best weights kept;
   predicted numbers are clipped to the range of the training targets;
6. one evaluation on the test rows, and a run directory that is a complete record: the model
   with its preprocessing (one safetensors file), ``config.toml`` (reruns the same run bit for
   bit: ``neuralab train --config RUN/config.toml``), ``history.csv``, ``metrics.json``, figures
   and ``report.html``.

What is refused, and when (see ``docs/errors.md``): bad settings, a network estimated to need
more memory than ``max_memory_gb``, and an output directory that is a file, is not writable or
holds an earlier run (unless ``overwrite``), all before anything is read or trained; unreadable
tables while loading; a run whose loss became nan/inf after training (:class:`TrainingDiverged`:
nothing is written).  The run directory is written as a unit (:class:`neuralab.io.RunDirectory`).
"""

from __future__ import annotations

import copy
import csv
import io as _io
import json
import math
import shlex
import signal
import sys
import threading
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .. import nn, optim
from ..config import to_toml
from ..data import LabelEncoder, Table, TablePreprocessor, read_table, train_test_split
from ..data.datasets.catalog import is_builtin, load_table
from ..data.table import as_numbers, is_missing, numeric_column
from ..io import RunDirectory, atomic_write, figures, read_safetensors, save, to_jsonable
from ..io.checkpoint import write_checkpoint
from ..io import load as load_model
from ..random import seed as set_seed
from ..train import metrics
from ..train.callbacks import Callback, EarlyStopping, RunProgress, TerminateOnNaN
from ..train.trainer import Trainer

#: bytes per parameter while training with Adam: weights, gradients, the two moment estimates,
#: two scratch arrays, the best weights kept by early stopping and the weights + moments kept by
#: TerminateOnNaN at the start of every epoch (float32)
BYTES_PER_PARAMETER = 4 * 10
#: integer targets with at most this many distinct values are classes (see infer_task)
MAX_INTEGER_CLASSES = 20
#: the lecture's iris network, which `neuralab train` without arguments trains: Dense(64, relu)
#: and the softmax head, 515 weights
LECTURE_HIDDEN = (64,)
#: the metadata key of the model file that holds the preprocessing and the task
TABLE_KEY = "neuralab.table"


class TrainingDiverged(RuntimeError):
    """The training loss (or a result) became nan or infinite; nothing was written.
    ``model`` is the network with its last finite weights (those at the start of the epoch in
    which the loss stopped being finite).  ``neuralab train`` exits with code 3."""

    def __init__(self, message: str, model: Any = None) -> None:
        super().__init__(message)
        self.model = model


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped ``neuralab train`` after the current batch.  When an epoch had completed,
    the run directory holds ``checkpoint.safetensors`` (the state after the last complete epoch)
    and ``config.toml``, and ``neuralab train --resume RUN`` finishes the run with the weights
    an uninterrupted run would have had.  ``neuralab train`` exits with code 130."""


class _Interruptible(Callback):
    """Ctrl-C asks to stop after the current batch (a second Ctrl-C stops at once); the state
    after every completed epoch is kept in memory, so that the run can be resumed from the
    last one bit for bit (the interrupted epoch is run again)."""

    order = 60  # after the callbacks that change state at the end of an epoch

    def __init__(self) -> None:
        self.interrupted = False
        self.state: dict[str, Any] | None = None
        self.epoch: int | None = None
        self._previous: Any = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum: int, frame: Any) -> None:
        if self.interrupted:
            raise KeyboardInterrupt
        self.interrupted = True
        print("\ninterrupted: stopping after this batch (Ctrl-C again to stop at once)",
              file=sys.stderr, flush=True)

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self.interrupted:
            self.trainer.stop_training = True

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if not self.interrupted:
            self.state = copy.deepcopy(self.trainer.state_dict(epoch))
            self.epoch = epoch

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None


@dataclass
class TabularConfig:
    """Settings of :func:`train_table`; every field is also a ``neuralab train`` option and a key
    of the run's ``config.toml``.  The network's defaults (``scale`` to ``patience``) were chosen
    by cross-validation on the training rows of eight tables (``python -m bench.tabular_defaults
    --select``) and are measured against scikit-learn's MLP in docs/training.md; the lecture's
    iris network is ``hidden=(64,)``."""

    data: str = "iris"  # a CSV file or a built-in data set (neuralab datasets)
    target: str = ""  # the column to predict ("": the built-in set's own)
    task: str = "auto"  # "classification", "regression" or "auto" (infer_task)
    features: tuple[str, ...] = ()  # the input columns ("": all but the target and `drop`)
    drop: tuple[str, ...] = ()  # columns to leave out
    delimiter: str = ""  # "", ",", ";", "\t" or " " (whitespace); "": guessed
    missing: str = "impute"  # "impute", "error" or "drop" (rows with a gap)
    scale: str = "robust"  # "robust" (median, IQR) or "standard" (mean, std)
    hidden: tuple[int, ...] = (256,)
    model: str = "mlp"  # "mlp", or "cnn" for rows that are square images (784 = 28 x 28 pixels)
    epochs: int = 500  # at most: early stopping ends most runs sooner
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.1  # > 0: AdamW (decoupled weight decay)
    test_size: float = 0.2
    validation_split: float = 0.2
    patience: int = 30
    seed: int = 0
    search: int = 0  # > 0: that many trials of a validation-only search before training
    out: str = ""  # the run directory ("": nothing written)
    overwrite: bool = False  # replace an existing run directory ``out`` (else refused)
    max_memory_gb: float = 2.0  # refuse networks estimated to need more to train
    verbose: int = 1  # 0 silent, 1 a progress bar, 2 one line per epoch


@dataclass
class TabularResult:
    task: str
    task_rule: str
    n_train: int
    n_validation: int
    n_test: int
    features: list[str]
    inputs: int
    classes: list[str] | None
    epochs_run: int
    best_epoch: int
    test_metrics: dict[str, float]
    history: dict[str, list[float]] = field(repr=False)
    notes: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"task: {self.task} ({self.task_rule})",
            f"{self.n_train} training, {self.n_validation} validation and {self.n_test} test "
            f"rows; {len(self.features)} columns -> {self.inputs} inputs",
            *self.notes,
            f"trained {self.epochs_run} epochs; best validation loss at epoch {self.best_epoch}",
            "test metrics:",
        ]
        lines += [f"  {name:<22} {value:.4f}" for name, value in self.test_metrics.items()]
        return "\n".join(lines)


# ---------------------------------------------------------------------- the rules
def infer_task(cells: np.ndarray, name: str, table: Table | None = None) -> tuple[str, str]:
    """``("classification" | "regression", the rule that decided, with the override)``.

    The rule: a target with any cell that is not a number holds classes; a numeric target whose
    values are all integers with at most :data:`MAX_INTEGER_CLASSES` (20) distinct values holds
    classes too (0/1 labels, classes coded 1/2/3, digits 0-9, a quality grade 3-9); any other
    numeric target is a number to regress.
    """
    values = as_numbers(cells, name, table)
    if values is None:
        return "classification", f"the target {name!r} holds text, so its values are classes"
    distinct = np.unique(values)
    if np.all(distinct == np.round(distinct)) and len(distinct) <= MAX_INTEGER_CLASSES:
        return "classification", (
            f"the target {name!r} holds {len(distinct)} distinct integers; integers with at "
            f"most {MAX_INTEGER_CLASSES} distinct values are classes; pass --task regression to "
            "predict it as a number")
    kind = "integers" if np.all(distinct == np.round(distinct)) else "numbers"
    return "regression", (f"the target {name!r} holds {len(distinct)} distinct {kind}; pass "
                          "--task classification to treat them as classes")


def parameter_count(sizes: list[int]) -> int:
    """Weights and biases of a chain of Dense layers ``sizes[0] -> sizes[1] -> ...``:
    :math:`\\sum_k (n_k + 1)\\, n_{k+1}`."""
    return sum((n_in + 1) * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


def _check_settings(config: TabularConfig) -> None:
    for name in ("epochs", "batch_size", "patience"):
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value}")
    if isinstance(config.search, bool) or not isinstance(config.search, int) or config.search < 0:
        raise ValueError(f"search must be a number of trials >= 0, got {config.search!r}")
    if not 0 < config.test_size < 1 or not 0 < config.validation_split < 1:
        raise ValueError("test_size and validation_split must be in (0, 1)")
    if not config.hidden or any(h < 1 for h in config.hidden):
        raise ValueError(f"hidden must list positive layer sizes, got {config.hidden}")
    for name, low in (("lr", "> 0"), ("weight_decay", ">= 0")):
        value = getattr(config, name)
        if not math.isfinite(value) or (value <= 0 if low == "> 0" else value < 0):
            raise ValueError(f"{name} must be a finite number {low}, got {value} "
                             f"(--{name.replace('_', '-')})")
    if not (math.isfinite(config.max_memory_gb) and config.max_memory_gb > 0):
        raise ValueError(f"max_memory_gb must be a positive number, got {config.max_memory_gb}")
    choices = {"task": ("auto", "classification", "regression"), "model": MODELS,
               "missing": ("impute", "error", "drop"), "scale": ("robust", "standard"),
               "delimiter": ("", ",", ";", "\t", " ")}
    for name, allowed in choices.items():
        if getattr(config, name) not in allowed:
            raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}, got "
                             f"{getattr(config, name)!r}")
    if config.verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1 or 2, got {config.verbose!r}")


#: the networks ``model`` names
MODELS = ("mlp", "cnn")
#: filters of the convolution blocks of ``model="cnn"`` (the cnn-fashion-mnist lab's)
CNN_CHANNELS = (32, 64, 128)


def image_side(n_inputs: int) -> int:
    """The side of the square images that rows of ``n_inputs`` pixels are (``model="cnn"``):
    784 -> 28; a ValueError for anything else."""
    side = math.isqrt(n_inputs)
    if side * side != n_inputs or side < 4:
        raise ValueError(
            f"--model cnn reads each row as a square image (784 pixels = 28 x 28, as "
            f"fashion-mnist; 64 = 8 x 8, as digits), but the rows have {n_inputs} inputs after "
            "preprocessing; use --model mlp for this table")
    return side


def _cnn_blocks(side: int) -> int:
    """Convolution blocks (each halves the image) for images of ``side``: at most
    len(CNN_CHANNELS), leaving at least 2 x 2 pixels."""
    return sum(1 for k in range(1, len(CNN_CHANNELS) + 1) if side >> k >= 2)


def cnn_parameter_count(side: int, hidden: tuple[int, ...], n_out: int) -> int:
    """Weights of ``model="cnn"``'s network: 3 x 3 convolutions without bias and their batch
    norms (2 per filter), then the dense layers."""
    count, c = 0, 1
    blocks = _cnn_blocks(side)
    for out in CNN_CHANNELS[:blocks]:
        count += c * 9 * out + 2 * out
        c = out
    flat = c * (side >> blocks) ** 2
    return count + parameter_count([flat, *hidden, n_out])


def check_size(config: TabularConfig, n_inputs: int, n_out: int) -> None:
    """Refuse a network too large to train before allocating it (``--hidden 100000000`` was
    killed by the kernel's OOM killer without a word)."""
    if config.model == "cnn":
        n_params = cnn_parameter_count(image_side(n_inputs), config.hidden, n_out)
    else:
        n_params = parameter_count([n_inputs, *config.hidden, n_out])
    need = n_params * BYTES_PER_PARAMETER
    limit = config.max_memory_gb * 2**30
    if need > limit:
        raise ValueError(
            f"the {'CNN with the dense layers ' if config.model == 'cnn' else 'network '}"
            f"{n_inputs}-{'-'.join(map(str, config.hidden))}-{n_out} has "
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


# ---------------------------------------------------------------------- data
def names_builtin(data: str) -> bool:
    """Whether ``data`` means a built-in data set: its name, and no file of that name here."""
    return is_builtin(data) and not Path(data).exists()


def load_source(data: str, delimiter: str = "") -> tuple[Table, str]:
    """The table of ``data`` (a file, else a built-in name) and its default target ("" for a
    file)."""
    if names_builtin(data):
        return load_table(data)
    if not Path(data).exists():
        raise ValueError(f"no file {data!r} (and no built-in data set of that name: "
                         "'neuralab datasets' lists them)")
    return read_table(data, delimiter=delimiter or None), ""


def _columns(table: Table, config: TabularConfig, target: str) -> list[str]:
    names = table.names
    if len(names) == 1:
        raise ValueError(f"{table.path} was read as one column {names[0]!r}: no delimiter (',', "
                         "';', tab or spaces) was found in its header line; pass --delimiter")
    if target not in names:
        raise ValueError(f"no column {target!r} in {table.path}; the columns are {names} "
                         "(--target)")
    unknown = [c for c in (*config.features, *config.drop) if c not in names]
    if unknown:
        raise ValueError(f"no column(s) {unknown} in {table.path} (--features/--drop); the "
                         f"columns are {names}")
    chosen = list(config.features) or [c for c in names if c != target]
    if target in chosen:
        raise ValueError(f"the target {target!r} is also listed in --features")
    chosen = [c for c in chosen if c not in config.drop]
    if not chosen:
        raise ValueError("no input column is left (--features/--drop)")
    return chosen


@dataclass
class PreparedTable:
    """A table ready to be split (:func:`prepare_table`): the input columns as text, the target
    encoded for its task, and what was decided on the way."""

    table: Table  # the input columns, one row per usable row of the source
    target: str
    features: list[str]
    task: str  # "classification" or "regression"
    rule: str  # why: infer_task's rule, or "--task ..."
    classes: list[str] | None  # the class names, in the order of the indices in ``y``
    y: np.ndarray  # class indices (N,), or numbers (N, 1) float32
    stratify: np.ndarray | None  # a label per row for stratified splits (classes only)
    notes: list[str]


def prepare_table(config: TabularConfig) -> PreparedTable:
    """Steps 1 and 2 of the module docstring: read ``config.data``, choose the columns, leave
    out the rows without a target (with ``missing="drop"`` also those with a gap), decide the
    task and encode the target (numeric classes sorted as numbers).  Raises ``ValueError``."""
    table, default_target = load_source(config.data, config.delimiter)
    target = config.target or default_target
    if not target:
        raise ValueError(f"which column of {table.path} is to be predicted? pass --target "
                         f"COLUMN; the columns are {table.names}")
    chosen = _columns(table, config, target)
    notes: list[str] = []
    y_cells = table[target]
    has_target = ~is_missing(y_cells)
    if not has_target.all():
        notes.append(f"left out {int((~has_target).sum())} rows without a target value")
    table = table.keep([*chosen, target]).select(has_target)
    if config.missing == "drop":
        complete = table.complete_rows()
        if not complete.all():
            notes.append(f"dropped {int((~complete).sum())} rows with a missing cell "
                         "(--missing drop)")
        table = table.select(complete)
    if len(table) < 5:
        raise ValueError(f"{table.path}: only {len(table)} usable rows; at least 5 are needed "
                         "(training, validation and test rows)")
    task, rule = infer_task(table[target], target, table)
    for name in chosen:  # a typo in a number column is reported before anything is split
        numeric_column(table[name], name, table)
    y_cells = table.pop(target)
    if config.task != "auto":
        if config.task == "regression" and as_numbers(y_cells, target) is None:
            raise ValueError(f"the target {target!r} holds text, so it cannot be regressed; use "
                             "--task classification")
        if config.task != task:
            rule = f"--task {config.task}"
        task = config.task
    classes = None
    if task == "classification":
        labels = y_cells
        numeric = as_numbers(y_cells, target)
        if numeric is not None:  # "1", "1.0" and " 1" are one class, sorted as numbers
            labels = np.array([_number_text(v) for v in numeric])
        encoder = LabelEncoder().fit(labels)
        y = encoder.transform(labels)
        classes = [str(c) for c in encoder.classes_]
        if numeric is not None:
            order = np.argsort([float(c) for c in classes])
            rank = np.empty_like(order)
            rank[order] = np.arange(len(order))
            classes = [classes[i] for i in order]
            y = rank[y]
        if len(classes) < 2:
            raise ValueError(f"the target column {target!r} has a single class")
        stratify: np.ndarray | None = labels
    else:
        values = as_numbers(y_cells, target)
        y = values.astype(np.float32).reshape(-1, 1)
        stratify = None
    return PreparedTable(table, target, chosen, task, rule, classes, y, stratify, notes)


def split_off(rows: np.ndarray, size: float, stratify: np.ndarray | None,
              seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``rows`` cut into a kept part and a held-out part of ``size`` (a fraction), shuffled by
    ``seed`` and stratified by ``stratify`` (a label per row of the whole table) when given."""
    return train_test_split(rows, test_size=size, rng=seed,
                            stratify=stratify[rows] if stratify is not None else None)


def split_rows(data: PreparedTable,
               config: TabularConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Step 3: the training, validation and test rows of ``data``: ``config.test_size`` of the
    rows for the test (seeded by ``config.seed``), then ``config.validation_split`` of the rest
    for early stopping (``config.seed + 1``), both stratified for classes."""
    train_rows, test_rows = split_off(np.arange(len(data.table)), config.test_size,
                                      data.stratify, config.seed)
    fit_rows, val_rows = split_off(train_rows, config.validation_split, data.stratify,
                                   config.seed + 1)
    return fit_rows, val_rows, test_rows


def fit_preprocessor(config: TabularConfig, table: Table) -> TablePreprocessor:
    """Step 4: the preprocessing of ``config`` (``missing``, ``scale``) fitted on ``table``, the
    training rows only."""
    return TablePreprocessor(missing="error" if config.missing == "error" else "impute",
                             scale=config.scale).fit(table)


def build_network(config: TabularConfig, n_inputs: int, classes: list[str] | None) -> Trainer:
    """Step 5's network in a :class:`Trainer`: ReLU layers of ``config.hidden`` and a linear
    head (logits and cross-entropy for classes, one number and MSE otherwise), Adam with
    ``config.lr`` (AdamW with ``config.weight_decay``)."""
    n_out = len(classes) if classes else 1
    if config.model == "cnn":
        layers = cnn_layers(n_inputs)
        layers += [nn.Dense(h, activation="relu") for h in config.hidden]
    else:
        layers = [nn.Dense(config.hidden[0], activation="relu", input_dim=n_inputs)]
        layers += [nn.Dense(h, activation="relu") for h in config.hidden[1:]]
    layers.append(nn.Dense(n_out))
    model = nn.Sequential(layers)
    if config.model == "cnn":
        model.eval()
        model(np.zeros((2, n_inputs), dtype=np.float32))  # build the lazy layers
        model.train()
    loss = nn.CrossEntropyLoss() if classes else nn.MSELoss()
    opt = (optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
           if config.weight_decay else optim.Adam(model.parameters(), lr=config.lr))
    return Trainer(model, loss, opt, metrics=["accuracy"] if classes else ["mae"])


def cnn_layers(n_inputs: int) -> list[Any]:
    """The convolution part of ``model="cnn"``: each row as a one-channel square image, then
    blocks of a 3 x 3 convolution (no bias: the batch norm shifts), BatchNorm2D, ReLU and 2 x 2
    max pooling with CNN_CHANNELS filters, flattened for the dense layers."""
    side = image_side(n_inputs)
    layers: list[Any] = [nn.Reshape((1, side, side))]
    for filters in CNN_CHANNELS[:_cnn_blocks(side)]:
        layers += [nn.Conv2D(filters, 3, padding="same", use_bias=False), nn.BatchNorm2D(),
                   nn.ReLU(), nn.MaxPool2D(2)]
    return layers + [nn.Flatten()]


def fit_network(config: TabularConfig, trainer: Trainer, fit: tuple[np.ndarray, np.ndarray],
                validation: tuple[np.ndarray, np.ndarray], callbacks: tuple[Any, ...] = (),
                resume_from: str | Path | None = None) -> tuple[Any, EarlyStopping]:
    """Train ``trainer`` on ``fit`` (inputs, targets) for at most ``config.epochs`` epochs with
    early stopping on ``validation`` (``config.patience``; the best weights are kept), the
    progress display of ``config.verbose`` and ``callbacks``; ``(history, the early stopping)``.

    Raises :class:`TrainingDiverged` when the loss or the weights stopped being finite."""
    model = trainer.model
    shift, scale = 0.0, 1.0
    if isinstance(trainer.loss_fn, nn.MSELoss):  # numbers are learned standardized
        shift, scale = float(np.mean(fit[1])), float(np.std(fit[1])) or 1.0
        fit = (fit[0], ((fit[1] - shift) / scale).astype(np.float32))
        validation = (validation[0], ((validation[1] - shift) / scale).astype(np.float32))
    stopper = EarlyStopping(patience=config.patience, restore_best_weights=True)
    guard = TerminateOnNaN()  # stops at the first nan/inf loss, back to the last good weights
    # a diverging run overflows float32 on its way to nan: reported below, not as warnings
    with np.errstate(over="ignore", invalid="ignore"):
        history = trainer.fit(
            *fit, validation_data=validation, epochs=config.epochs,
            batch_size=config.batch_size,
            callbacks=[stopper, guard, *callbacks,
                       *([RunProgress()] if config.verbose == 1 else [])],
            verbose=2 if config.verbose == 2 else 0,
            resume_from=str(resume_from) if resume_from is not None else None,
        )
    if guard.nan_epoch is not None:
        what = "nan" if "became nan" in (guard.message or "") else "infinite"
        raise _diverged(f"the training loss became {what} at epoch {guard.nan_epoch + 1}, "
                        f"batch {guard.nan_batch + 1}", config, model)
    if not all(np.isfinite(p.data).all() for p in model.parameters()):
        raise _diverged("the weights are no longer finite", config)
    if (shift, scale) != (0.0, 1.0):
        _unstandardize(model, history, shift, scale)
    return history, stopper


def _unstandardize(model: Any, history: Any, shift: float, scale: float) -> None:
    """A network trained on standardized targets ``(y - shift) / scale`` made to predict ``y``:
    its linear head scaled and shifted; the history's losses (MSE) and MAEs in the target's
    units."""
    head = model.layers[-1]
    head.weight.data *= np.float32(scale)
    head.bias.data *= np.float32(scale)
    head.bias.data += np.float32(shift)
    for key, values in history.history.items():
        power = 2 if key in ("loss", "val_loss") else 1 if key in ("mae", "val_mae") else 0
        if power:
            values[:] = [v * scale**power for v in values]


def data_profile(table: Table, prep: TablePreprocessor) -> list[dict[str, Any]]:
    """One line per input column of the training rows: kind, gaps and a summary."""
    rows = []
    for col in prep.describe():
        cells = table[col["name"]]
        missing = is_missing(cells)
        row: dict[str, Any] = {"name": col["name"], "kind": col["kind"],
                               "missing": int(missing.sum())}
        if col["kind"] == "numeric":
            values = as_numbers(cells, col["name"])
            present = values[~missing] if values is not None else np.zeros(0)
            if len(present):
                row.update(mean=float(present.mean()), std=float(present.std()),
                           min=float(present.min()), max=float(present.max()))
        else:
            row.update(categories=len(col["categories"]), top=col["fill"])
        rows.append(row)
    return rows


# ---------------------------------------------------------------------- train
def train_table(config: TabularConfig, command: str = "",
                resume_from: str | Path | None = None) -> TabularResult:
    """Train and evaluate an MLP on ``config.data`` predicting ``config.target``; see the module
    docstring.  With ``config.out`` the run directory is written, all or none.  ``resume_from``:
    the checkpoint an interrupted run left (:class:`TrainingInterrupted`); the run continues
    after its epoch and ends as the uninterrupted run would have.

    Raises ``ValueError`` for bad settings or data, ``OSError`` (``FileExistsError``,
    ``PermissionError``, ``NotADirectoryError``) for the output directory, both before any
    training, and :class:`TrainingDiverged` when the loss became nan or infinite."""
    _check_settings(config)
    run_dir = RunDirectory(config.out, overwrite=config.overwrite) if config.out else None
    if run_dir is not None:
        run_dir.check()  # a file in the way, no write permission, an earlier run: found now
    data = prepare_table(config)
    table, target, chosen, task, rule = (data.table, data.target, data.features, data.task,
                                         data.rule)
    classes, y, notes = data.classes, data.y, data.notes
    set_seed(config.seed)
    fit_rows, val_rows, test_rows = split_rows(data, config)
    prep = fit_preprocessor(config, table.select(fit_rows))
    n_out = len(classes) if classes else 1
    check_size(config, len(prep.output_names), n_out)
    X_fit = prep.transform(table.select(fit_rows))
    imputed = dict(prep.report["imputed"])
    X_val, X_test = prep.transform(table.select(val_rows)), prep.transform(table.select(test_rows))
    if imputed:
        notes.append("imputed missing cells of the training rows: " + ", ".join(
            f"{k} {v}" for k, v in imputed.items()) + " (median / most frequent; --missing)")
    y_fit, y_val, y_test = y[fit_rows], y[val_rows], y[test_rows]

    if config.verbose:
        print(f"task: {task} ({rule})", flush=True)
    if config.search:
        config, trials = search_settings(config, (X_fit, y_fit), (X_val, y_val), classes)
        best_trial = trials[0]
        notes.append(f"search: {len(trials)} trials on the validation rows; chose "
                     f"{_settings_text(best_trial['params'])} (validation loss "
                     f"{best_trial['val_loss']:.4g})")
        set_seed(config.seed)  # the final training draws as a run with these settings would
    trainer = build_network(config, X_fit.shape[1], classes)
    model, loss = trainer.model, trainer.loss_fn
    interrupt = _Interruptible()
    history, stopper = fit_network(config, trainer, (X_fit, y_fit), (X_val, y_val),
                                   callbacks=(interrupt,), resume_from=resume_from)
    if interrupt.interrupted:
        raise _interrupted(config, run_dir, interrupt, command)
    epochs_run = len(history.history["loss"])
    best = stopper.best_epoch + 1 if stopper.best_epoch is not None else epochs_run
    if epochs_run == config.epochs and best > config.epochs - config.patience // 2:
        notes.append(f"still improving at the last epoch ({config.epochs}): more --epochs may "
                     "help")
    y_range = (float(y_fit.min()), float(y_fit.max())) if not classes else None
    outputs = _predict_arrays(model, X_test, classes, y_range)
    test = _metrics(y_test, outputs, classes, loss)
    bad = [name for name, value in test.items() if not math.isfinite(value)]
    if bad:
        raise _diverged(f"the test {', '.join(bad)} is not finite", config, model)
    result = TabularResult(task, rule, len(fit_rows), len(val_rows), len(test_rows), chosen,
                           X_fit.shape[1], classes, epochs_run, best, test,
                           dict(history.history), notes)
    if run_dir is not None:
        meta = {"target": target, "task": task, "classes": classes, "y_range": y_range,
                "features": chosen, "preprocessing": prep.state_dict()}
        figures_data = {"y_test": y_test, "outputs": outputs}
        names = _write_run(run_dir, config, result, model, meta, data_profile(
            table.select(fit_rows), prep), figures_data, command)
        result.files = [str(Path(config.out) / name) for name in names]
    return result


def _interrupted(config: TabularConfig, run_dir: RunDirectory | None,
                 interrupt: _Interruptible, command: str) -> TrainingInterrupted:
    """Write what resumes the run (the state after the last complete epoch and config.toml)
    and say how to resume it."""
    if interrupt.state is None:
        return TrainingInterrupted("interrupted in the first epoch; nothing to resume and "
                                   "nothing was written")
    done = interrupt.epoch + 1
    if run_dir is None:
        return TrainingInterrupted(f"interrupted after {done} complete epoch(s); nothing was "
                                   "written (no output directory)")
    with run_dir as tmp:
        write_checkpoint(tmp / "checkpoint.safetensors", interrupt.state)
        atomic_write(tmp / "config.toml", _config_toml(config, command).encode())
    return TrainingInterrupted(
        f"interrupted after {done} complete epoch(s) of {config.epochs}; their state is in "
        f"{config.out}/checkpoint.safetensors; resume with: neuralab train --resume "
        f"{shlex.quote(config.out)}")


def settings_toml(config: TabularConfig, rerun: str, made_by: str) -> str:
    """``config`` (a TabularConfig or a subclass) as the TOML file of a run directory: the data
    as a built-in name or an absolute path, no output settings; ``rerun`` and ``made_by`` (the
    command line) as its header."""
    source = config.data if names_builtin(config.data) else str(Path(config.data).resolve())
    return to_toml(replace(config, data=source, out="", overwrite=False, verbose=1),
                   f"{rerun}\nmade by: {made_by}")


def _config_toml(config: TabularConfig, command: str) -> str:
    return settings_toml(config, "neuralab train --config config.toml reruns this run bit for "
                         "bit", command or "neuralab.apps.tabular.train_table")


#: what ``--search`` draws from (train.search distributions): the settings that matter most
SEARCH_SPACE = {"hidden": [(64,), (128,), (256,), (128, 64), (256, 128)],
                "lr": (3e-4, 3e-3), "weight_decay": [0.0, 0.01, 0.1]}


def _settings_text(params: dict[str, Any]) -> str:
    return ", ".join(f"{k} {','.join(map(str, v)) if isinstance(v, tuple) else f'{v:g}'}"
                     for k, v in params.items())


def draw_settings(config: TabularConfig, n: int) -> list[dict[str, Any]]:
    """``n`` settings of hidden sizes, learning rate (log-uniform) and weight decay drawn from
    :data:`SEARCH_SPACE` with ``train.search``'s distributions, seeded by ``config.seed`` (the
    first ``k`` of ``n`` are those of ``k``): what ``train --search`` and ``neuralab search``
    try."""
    from ..train.search import Choice, LogUniform

    rng = np.random.default_rng([config.seed, 7])
    space = {"hidden": Choice(SEARCH_SPACE["hidden"]), "lr": LogUniform(*SEARCH_SPACE["lr"]),
             "weight_decay": Choice(SEARCH_SPACE["weight_decay"])}
    settings = []
    for _ in range(n):
        params = {name: dist.sample(rng) for name, dist in space.items()}
        settings.append({"hidden": tuple(int(h) for h in params["hidden"]),
                         "lr": float(params["lr"]),
                         "weight_decay": float(params["weight_decay"])})
    return settings


def search_settings(config: TabularConfig, fit: tuple[np.ndarray, np.ndarray],
                    validation: tuple[np.ndarray, np.ndarray], classes: list[str] | None,
                    ) -> tuple[TabularConfig, list[dict[str, Any]]]:
    """``config.search`` random trials of hidden sizes, learning rate (log-uniform) and weight
    decay (:data:`SEARCH_SPACE`, drawn with ``train.search``'s distributions from
    ``config.seed``), each trained on ``fit`` with early stopping and scored by its best
    validation loss; never the test rows.  Returns the config with the best trial's settings and
    the trials, best first."""
    trials = []
    for i, params in enumerate(draw_settings(config, config.search)):
        trial = replace(config, **params, verbose=0, search=0)
        set_seed(config.seed + 1000 + i)
        check_size(trial, fit[0].shape[1], len(classes) if classes else 1)
        _, stopper = fit_network(trial, build_network(trial, fit[0].shape[1], classes), fit,
                                 validation)
        trials.append({"params": params, "val_loss": float(stopper.best)})
        if config.verbose:
            print(f"search trial {i + 1}/{config.search}: {_settings_text(params)}: validation "
                  f"loss {stopper.best:.4g}", flush=True)
    trials.sort(key=lambda t: t["val_loss"])
    return replace(config, **trials[0]["params"]), trials


def _number_text(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(float(value))


def _predict_arrays(model: Any, X: np.ndarray, classes: list[str] | None,
                    y_range: tuple[float, float] | None) -> np.ndarray:
    """Class probabilities (N, C) or numbers (N,), clipped to the training targets' range."""
    from ..autograd import no_grad

    model.eval()
    with no_grad(), np.errstate(over="ignore", invalid="ignore"):
        out = model(X).data.astype(np.float64)
    if classes:
        z = out - out.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)
    values = out[:, 0]
    return np.clip(values, *y_range) if y_range is not None else values


def _metrics(y: np.ndarray, outputs: np.ndarray, classes: list[str] | None,
             loss: Any = None) -> dict[str, float]:
    if classes:
        y = np.asarray(y).reshape(-1)
        p_true = outputs[np.arange(len(y)), y]
        return {**task_metrics(y, outputs.argmax(axis=1), classes),
                "loss": float(-np.mean(np.log(np.clip(p_true, 1e-12, None))))}
    return task_metrics(y, outputs, classes)


def task_metrics(y: np.ndarray, predicted: np.ndarray,
                 classes: list[str] | None) -> dict[str, float]:
    """The test metrics of step 6 from predictions: for classes (``predicted`` are class
    indices) accuracy and macro F1; for numbers MAE, RMSE, R^2 and, when every target is a
    whole number (wine grades), the accuracy within 0.5 and 1.0 (Cortez et al.)."""
    if classes:
        y, pred = np.asarray(y).reshape(-1), np.asarray(predicted).reshape(-1)
        return {"accuracy": metrics.accuracy(y, pred), "f1_macro": metrics.f1(y, pred)}
    outputs = np.asarray(predicted, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    test = {"mae": metrics.mae(y, outputs), "rmse": metrics.rmse(y, outputs),
            "r2": metrics.r2(y, outputs)}
    if np.all(y == np.round(y)):  # graded targets (wine quality): Cortez's tolerance T
        test["accuracy_within_0.5"] = metrics.accuracy_within(y, outputs, 0.5)
        test["accuracy_within_1.0"] = metrics.accuracy_within(y, outputs, 1.0)
    return test


# ---------------------------------------------------------------------- the run directory
def _history_csv(history: dict[str, list[float]]) -> bytes:
    buf = _io.StringIO()
    keys = list(history)
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["epoch", *keys])
    for i in range(len(history["loss"])):
        writer.writerow([i + 1, *(repr(float(history[k][i])) for k in keys)])
    return buf.getvalue().encode()


def _write_run(run_dir: RunDirectory, config: TabularConfig, result: TabularResult, model: Any,
               meta: dict[str, Any], profile: list[dict[str, Any]], data: dict[str, np.ndarray],
               command: str) -> list[str]:
    """Write the run into a fresh directory and commit it whole; the names of the files."""
    from .report import write_report

    settings = asdict(config)
    settings.pop("out"), settings.pop("overwrite")
    summary = {"task": result.task, "task_rule": result.task_rule, "command": command,
               "data": config.data, "target": meta["target"], "test": result.test_metrics,
               "best_epoch": result.best_epoch, "epochs_run": result.epochs_run,
               "n_train": result.n_train, "n_validation": result.n_validation,
               "n_test": result.n_test, "features": result.features, "inputs": result.inputs,
               "classes": result.classes, "notes": result.notes, "data_profile": profile,
               "config": settings}
    encoded = {"metrics.json": _strict_json("metrics.json", summary, config),
               "history.csv": _history_csv(result.history)}
    # every payload is made first, so that a refused one leaves nothing half-written
    table_meta = _strict_json("the model's preprocessing", meta, config).decode()
    toml = _config_toml(config, command)
    names = ["model.safetensors", "config.toml", *encoded]
    with run_dir as tmp:
        save(model, tmp / "model.safetensors", metadata={TABLE_KEY: table_meta})
        atomic_write(tmp / "config.toml", toml.encode())
        for name, payload in encoded.items():
            atomic_write(tmp / name, payload)
        names += _plots(result, tmp, data)
        write_report(tmp)
        names.append("report.html")
    return names


def _plots(result: TabularResult, tmp: Path, data: dict[str, np.ndarray]) -> list[str]:
    try:
        plt = figures.pyplot()
    except ImportError:  # figures need the [lab] extra; the run itself does not
        return []
    written = []
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
    figures.save(fig, tmp / "history.png")
    written.append("history.png")
    y, out = data["y_test"], data["outputs"]
    if result.classes:
        k = len(result.classes)
        cm = np.zeros((k, k), dtype=np.int64)
        np.add.at(cm, (np.asarray(y).reshape(-1), out.argmax(axis=1)), 1)
        fig, ax = plt.subplots(figsize=(1.2 + 0.45 * k + 3, 1.2 + 0.45 * k + 2))
        ax.imshow(cm, cmap="Blues")
        for i in range(k):
            for j in range(k):
                ax.text(j, i, str(cm[i, j]), ha="center", va="center",
                        color="white" if cm[i, j] > cm.max() / 2 else "black", fontsize=8)
        ax.set_xticks(range(k), result.classes, rotation=45, ha="right")
        ax.set_yticks(range(k), result.classes)
        ax.set(xlabel="predicted", ylabel="true", title="confusion matrix (test rows)")
        figures.save(fig, tmp / "confusion.png")
        written.append("confusion.png")
    else:
        y = np.asarray(y).reshape(-1)
        fig, ax = plt.subplots(figsize=(4.5, 4.5))
        ax.scatter(y, out, s=8, alpha=0.5)
        low, high = float(min(y.min(), out.min())), float(max(y.max(), out.max()))
        ax.plot([low, high], [low, high], color="grey", ls=":")
        ax.set(xlabel="true", ylabel="predicted", title="test rows: predicted vs true")
        figures.save(fig, tmp / "predicted_vs_true.png")
        fig, ax = plt.subplots(figsize=(5.5, 3.5))
        ax.scatter(out, y - out, s=8, alpha=0.5)
        ax.axhline(0, color="grey", ls=":")
        ax.set(xlabel="predicted", ylabel="true - predicted", title="test rows: residuals")
        figures.save(fig, tmp / "residuals.png")
        written += ["predicted_vs_true.png", "residuals.png"]
    return written


# ---------------------------------------------------------------------- use a trained run
@dataclass
class TrainedRun:
    """A run directory's model with everything needed to use it on raw rows."""

    path: Path
    model: Any
    prep: TablePreprocessor
    target: str
    task: str
    classes: list[str] | None
    y_range: tuple[float, float] | None
    features: list[str]

    @classmethod
    def load(cls, run: str | Path) -> TrainedRun:
        path = Path(run)
        file = path / "model.safetensors" if path.is_dir() else path
        if not file.is_file():
            raise ValueError(f"{run}: no trained run here (expected {file}); train one with "
                             "neuralab train DATA --out RUN")
        model = load_model(file)
        _, metadata = read_safetensors(file)
        if TABLE_KEY not in metadata:
            raise ValueError(f"{file}: a model without the preprocessing of a table; it was not "
                             "written by neuralab train")
        try:
            meta = json.loads(metadata[TABLE_KEY])
            prep = TablePreprocessor.from_state(meta["preprocessing"])
            y_range = tuple(meta["y_range"]) if meta.get("y_range") else None
            return cls(path, model, prep, str(meta["target"]), str(meta["task"]),
                       meta["classes"], y_range, list(meta["features"]))
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"{file}: damaged preprocessing metadata ({err})") from None

    def _table(self, data: str | Table, delimiter: str = "") -> Table:
        table = data if isinstance(data, Table) else read_table(data, delimiter=delimiter or None)
        extra = [c for c in table.names if c not in self.features and c != self.target]
        absent = [c for c in self.features if c not in table.names]
        if absent:
            raise ValueError(f"{table.path} lacks the column(s) {absent} that the model was "
                             f"trained on; its columns are {table.names}")
        if extra:
            raise ValueError(f"{table.path} has column(s) {extra} that the model was not "
                             f"trained on; remove them (the model's columns are "
                             f"{self.features}, plus the target {self.target!r} if present)")
        return table

    def predict(self, data: str | Table, delimiter: str = "") -> tuple[Table, np.ndarray]:
        """The table read from ``data`` and its outputs: class probabilities (N, C) or numbers."""
        table = self._table(data, delimiter)
        X = self.prep.transform(table.keep(self.features))
        return table, _predict_arrays(self.model, X, self.classes, self.y_range)

    def evaluate(self, data: str | Table, delimiter: str = "") -> dict[str, float]:
        """The test metrics of ``neuralab train`` on the rows of ``data`` (with the target)."""
        table = self._table(data, delimiter)
        if self.target not in table.names:
            raise ValueError(f"{table.path} has no target column {self.target!r} to evaluate "
                             "against; use neuralab predict for rows without it")
        table = table.select(~is_missing(table[self.target]))
        _, outputs = self.predict(table)
        cells = table[self.target]
        if self.classes:
            numeric = as_numbers(cells, self.target)
            labels = ([_number_text(v) for v in numeric] if numeric is not None
                      else cells.tolist())
            index = {c: i for i, c in enumerate(self.classes)}
            unknown = sorted({c for c in labels if c not in index})
            if unknown:
                raise ValueError(f"{table.path}: the target {self.target!r} holds classes the "
                                 f"model does not know: {unknown[:5]}")
            y = np.array([index[c] for c in labels])
        else:
            y = as_numbers(cells, self.target)
            if y is None:
                raise ValueError(f"{table.path}: the target {self.target!r} holds text")
        return _metrics(y, outputs, self.classes)

    def predictions_csv(self, table: Table, outputs: np.ndarray) -> str:
        buf = _io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        if self.classes:
            writer.writerow(["line", f"predicted_{self.target}",
                             *(f"p_{c}" for c in self.classes)])
            for line, p in zip(table.lines, outputs):
                writer.writerow([int(line), self.classes[int(p.argmax())],
                                 *(f"{v:.6g}" for v in p)])
        else:
            writer.writerow(["line", f"predicted_{self.target}"])
            for line, v in zip(table.lines, outputs):
                writer.writerow([int(line), f"{v:.6g}"])
        return buf.getvalue()


def command_line() -> str:
    """The command that runs this process, quoted for a shell."""
    return " ".join(shlex.quote(a) for a in ["neuralab", *sys.argv[1:]])

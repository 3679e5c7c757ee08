"""Lab: early stopping (조기 종료) on noisy labels: the restored epoch against the last.

Early stopping watches the loss on validation data (검증 데이터) after every epoch, stops when it
has not improved for ``patience`` epochs, and gives the model back the weights of its best epoch
(``neuralab.train.EarlyStopping(monitor="val_loss", patience=..., restore_best_weights=True)``,
as Keras' callback).  The lecture's promise is a better model on unseen data than the one at the
end of training.

That promise holds where the network keeps getting *worse* on unseen data as it trains on, which
is the case when it memorizes what it should not learn.  The lab makes that happen the way it
happens in practice, with wrong labels: a fraction ``noise`` of the training and validation labels
is replaced by a random other class (the test labels stay right).  A big network first learns the
pattern shared by the correct labels, then memorizes the wrong ones, and its test accuracy falls
(Arpit et al., 2017, "A closer look at memorization in deep networks").  Early stopping on the
noisy validation loss catches the epoch before the fall.

As a control the same network trains on the same samples with their true labels.  There the
network barely loses test accuracy by training on, and early stopping buys little accuracy: what
it saves is the epochs after the best one.

For every seed and both label sets the lab trains twice from the same initial weights and batch
order: once for all ``epochs`` (the curves and the last epoch's test accuracy), once with the
``EarlyStopping`` callback (the restored model's test accuracy).  The two runs are the same up to
the stop, so the restored model is the first run's model at the best epoch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neuralab import nn, optim
from neuralab import seed as set_seed
from neuralab.threads import single_thread_blas
from neuralab.train import EarlyStopping, LambdaCallback, Trainer
import neuralab.io.figures as plots
from neuralab.labs import common

TITLE = "Early stopping: test accuracy of the restored epoch vs the last, with noisy labels"
#: with noisy labels the restored model must beat the last epoch by more than this test accuracy
#: on every seed (on 10,000 test images, 500 images; on the 797 test digits, 40)
MIN_GAIN = 0.05
CLAIM = (
    "Early stopping (조기 종료) on the validation loss, with the best weights restored, gives a "
    "better model than the last epoch where the network memorizes what it should not: with "
    "noisy labels (a fraction of the training and validation labels wrong) the test accuracy "
    "peaks early and falls as training goes on, and the restored model's test accuracy beats "
    f"the last epoch's by more than {MIN_GAIN:g} on every seed, a larger gain than with the true "
    "labels on every seed (where training on costs little accuracy and early stopping mainly "
    "saves epochs)."
)
CONCEPTS = [19, 16, 23]

CONDITIONS = ("noisy", "clean")


@dataclass
class Config:
    dataset: str = "fashion-mnist"
    n_train: int = 1000
    n_val: int = 500
    n_test: int = 10000
    # the fraction of training and validation labels replaced by a random other class
    noise: float = 0.4
    hidden_layers: int = 3
    units: int = 100
    epochs: int = 100
    lr: float = 0.05
    batch_size: int = 25
    patience: int = 10
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)

    @classmethod
    def quick(cls) -> Config:
        return cls(dataset="digits", n_train=300, n_val=200, n_test=797, epochs=60, lr=0.2,
                   batch_size=100, seeds=(0, 1, 2))


@dataclass
class SeedRun:
    seed: int
    condition: str  # "noisy" or "clean"
    best_epoch: int  # 1-based: the epoch whose weights EarlyStopping restored
    stopped_epoch: int  # 1-based: the epoch after which it stopped (epochs: ran to the end)
    restored_test: float  # test accuracy of the restored model
    last_test: float  # test accuracy after the last epoch of the full run
    peak_test: float  # the highest test accuracy of any epoch of the full run
    peak_epoch: int
    full_run_at_best: float  # the full run's test accuracy at best_epoch (= restored_test)

    @property
    def gain(self) -> float:
        return self.restored_test - self.last_test


@dataclass
class Result:
    dataset: str
    n_train: int
    n_val: int
    n_test: int
    epochs: int
    noise: float
    runs: list[SeedRun]
    # the curves of the first seed, per condition: val_loss, test_accuracy, train_loss per epoch
    curves: dict[str, dict[str, list[float]]]
    flipped: int  # training + validation labels made wrong (first seed)
    checks: dict[str, bool] = field(default_factory=dict)
    claim_holds: bool = False

    def summary(self) -> str:
        lines = [f"{self.dataset}: {self.n_train} training, {self.n_val} validation, "
                 f"{self.n_test} test samples; noisy: {self.noise:.0%} of the training and "
                 f"validation labels wrong ({self.flipped} labels, first seed), test labels "
                 "true; epochs are 1-based",
                 f"{'labels':>6} {'seed':>5} {'best ep':>8} {'stopped':>8} {'restored':>9} "
                 f"{'last':>7} {'gain':>7} {'peak':>7} {'peak ep':>8}"]
        for r in self.runs:
            lines.append(f"{r.condition:>6} {r.seed:>5} {r.best_epoch:>8} {r.stopped_epoch:>8} "
                         f"{r.restored_test:>9.3f} {r.last_test:>7.3f} {r.gain:>+7.3f} "
                         f"{r.peak_test:>7.3f} {r.peak_epoch:>8}")
        for condition in CONDITIONS:
            gains = [r.gain for r in self.runs if r.condition == condition]
            stops = [r.stopped_epoch for r in self.runs if r.condition == condition]
            lines.append(f"{condition}: gain (restored - last) median {np.median(gains):+.3f}, "
                         f"min {min(gains):+.3f}, max {max(gains):+.3f}; stopped after "
                         f"{min(stops)}-{max(stops)} of {self.epochs} epochs")
        lines += ["", "Checks: " + ", ".join(f"{k}={'ok' if v else 'FAILED'}"
                                             for k, v in self.checks.items())]
        return "\n".join(lines)


def _data(config: Config, seed: int) -> tuple[common.Data, np.ndarray, np.ndarray, int]:
    """The data of one seed: train, validation (from the training images) and test, with the
    noisy training and validation labels."""
    data = common.load_data(config.dataset, config.n_train + config.n_val, config.n_test,
                            seed=seed)
    labels, wrong = common.noisy_labels(data.y_train, data.n_classes, config.noise, seed)
    return data, data.y_train, labels, wrong


def _trainer(config: Config, data: common.Data, seed: int) -> Trainer:
    set_seed(seed)
    model = common.build_mlp(data.n_classes, config.hidden_layers, config.units,
                             input_dim=data.n_features)
    return Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=config.lr),
                   rng=seed)


def _fit(trainer: Trainer, config: Config, data: common.Data, labels: np.ndarray,
         callback: Any) -> None:
    n = config.n_train
    trainer.fit(data.x_train[:n], labels[:n], validation_data=(data.x_train[n:], labels[n:]),
                epochs=config.epochs, batch_size=config.batch_size, verbose=0,
                callbacks=[callback])


def _run(config: Config, data: common.Data, labels: np.ndarray, seed: int,
         condition: str) -> tuple[SeedRun, dict[str, list[float]]]:
    # the full run, with every epoch's test accuracy
    curves: dict[str, list[float]] = {"val_loss": [], "test_accuracy": [], "train_loss": []}
    full = _trainer(config, data, seed)

    def record(epoch: int, logs: dict[str, Any]) -> None:
        curves["val_loss"].append(float(logs["val_loss"]))
        curves["train_loss"].append(float(logs["loss"]))
        curves["test_accuracy"].append(
            float(full.evaluate(data.x_test, data.y_test)["accuracy"]))

    _fit(full, config, data, labels, LambdaCallback(on_epoch_end=record))
    # the early-stopped run from the same initial weights and batch order
    stop = EarlyStopping(monitor="val_loss", patience=config.patience,
                         restore_best_weights=True)
    stopped = _trainer(config, data, seed)
    _fit(stopped, config, data, labels, stop)
    restored = float(stopped.evaluate(data.x_test, data.y_test)["accuracy"])
    test = curves["test_accuracy"]
    best = stop.best_epoch + 1
    run = SeedRun(seed, condition, best,
                  stop.stopped_epoch + 1 if stop.stopped_epoch else config.epochs,
                  restored, test[-1], max(test), int(np.argmax(test)) + 1, test[best - 1])
    return run, curves


@single_thread_blas()
def run(config: Config) -> Result:
    if not 0.0 < config.noise < 0.9:
        raise ValueError(f"early-stopping expected a label `noise` between 0 and 0.9, got "
                         f"{config.noise}")
    if config.n_val < 10:
        raise ValueError(f"early-stopping expected at least 10 validation samples (`n_val`), "
                         f"got {config.n_val}")
    if config.epochs <= config.patience or config.patience < 1:
        raise ValueError(f"early-stopping expected 1 <= `patience` < `epochs`, got patience="
                         f"{config.patience}, epochs={config.epochs}")
    common.check_seeds("early-stopping", config.seeds)
    runs: list[SeedRun] = []
    curves: dict[str, dict[str, list[float]]] = {}
    flipped = 0
    data: common.Data | None = None
    for seed in config.seeds:
        data, true_labels, noisy_labels, wrong = _data(config, seed)
        if not curves:
            flipped = wrong
        for condition, labels in (("noisy", noisy_labels), ("clean", true_labels)):
            r, c = _run(config, data, labels, seed, condition)
            runs.append(r)
            curves.setdefault(condition, c)
    assert data is not None
    gain = {(r.condition, r.seed): r.gain for r in runs}
    checks = {
        f"noisy labels: restored beats last by > {MIN_GAIN:g} on every seed": all(
            gain["noisy", s] > MIN_GAIN for s in config.seeds),
        "the gain is larger with noisy labels than with true labels on every seed": all(
            gain["noisy", s] > gain["clean", s] for s in config.seeds),
        "noisy labels: the test accuracy falls after its peak (last < peak - gain bound)": all(
            r.last_test < r.peak_test - MIN_GAIN for r in runs if r.condition == "noisy"),
    }
    return Result(config.dataset, config.n_train, config.n_val, len(data.x_test), config.epochs,
                  config.noise, runs, curves, flipped, checks, all(checks.values()))


def plot(result: Result, out_dir: Path) -> list[Path]:
    plt = plots.pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.4))
    epochs = np.arange(1, result.epochs + 1)
    first = result.runs[0].seed
    for ax, condition in zip(axes[:2], CONDITIONS):
        c = result.curves[condition]
        r = next(r for r in result.runs if r.condition == condition and r.seed == first)
        ax.plot(epochs, c["test_accuracy"], color="C1", label="test accuracy")
        ax.axvline(r.best_epoch, color="C2", ls="--", lw=1,
                   label=f"restored epoch {r.best_epoch}: {r.restored_test:.3f}")
        ax.axvline(r.stopped_epoch, color="C7", ls=":", lw=1,
                   label=f"stopped after epoch {r.stopped_epoch}")
        ax.plot([result.epochs], [r.last_test], "o", color="C3",
                label=f"last epoch: {r.last_test:.3f}")
        ax.set(title=f"{condition} labels (seed {first})", xlabel="epoch",
               ylabel="test accuracy")
        twin = ax.twinx()
        twin.plot(epochs, c["val_loss"], color="C0", alpha=0.6, lw=1)
        twin.set_ylabel("validation loss (blue)", color="C0")
        ax.legend(fontsize=8, loc="lower center")
        ax.grid(alpha=0.3)
    ax = axes[2]
    seeds = sorted({r.seed for r in result.runs})
    x = np.arange(len(seeds))
    for k, condition in enumerate(CONDITIONS):
        gains = [next(r.gain for r in result.runs if r.condition == condition and r.seed == s)
                 for s in seeds]
        ax.bar(x + (k - 0.5) * 0.38, gains, width=0.38, label=f"{condition} labels",
               color=("C3", "C0")[k])
    ax.axhline(MIN_GAIN, color="k", ls="--", lw=0.8, label=f"bound {MIN_GAIN:g}")
    ax.axhline(0, color="k", lw=0.5)
    ax.set(title="test accuracy: restored minus last epoch", xlabel="seed",
           ylabel="gain in test accuracy", xticks=x, xticklabels=[str(s) for s in seeds])
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return [plots.save(fig, Path(out_dir) / "early_stopping.png")]

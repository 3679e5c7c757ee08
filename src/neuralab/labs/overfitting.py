"""Lab: overfitting (과적합) and generalization (일반화), after *Deep Learning from Scratch*
section 6.4.1.

Overfitting happens with "a model with many parameters and high expressive power" and "little
training data".  The book provokes it with the first 300 MNIST training images and a network of
six hidden layers of 100 ReLU units trained for 200 epochs with SGD (lr 0.01, batches of 100):
the training accuracy reaches 100 % while the test accuracy stops far below, and the gap between
the two opens as training goes on.  The lab repeats that on Fashion-MNIST (the quick version on
100 of scikit-learn's 8 x 8 digits) and, as a control, trains the same network on ten times as
much data for the same number of epochs: it overfits less.

The accuracies are measured after every epoch in evaluation mode on the whole training set and
on the test set (see :mod:`neuralab.labs._overfit`).

**How the claim is decided.**  The experiment runs once per seed, ``seed, seed + 1, ...,
seed + n_seeds - 1`` (new initial weights and batch order; for the digits also a new split), and
the claim must hold on every seed: final training accuracy (mean of the last 10 epochs)
``>= 0.98``, final gap ``>= 0.08`` and wider than after epoch 1 by more than ``0.05``, and with
ten times the data a gap smaller by more than ``0.03`` and a test accuracy higher by more than
``0.02``.  With 10,000 Fashion-MNIST test images one image is ``1e-4`` of accuracy, so these
margins are dozens of test images; the summary prints per-seed values, median and min-max.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neuralab import optim
from neuralab import seed as set_seed
from neuralab.threads import single_thread_blas
import neuralab.io.figures as plots
from neuralab.labs import common

TITLE = "Overfitting: a big network on a small training set"
CLAIM = (
    "With few training samples and a big network, the training accuracy climbs to about 100 % "
    "while the test accuracy stays far lower, and the gap between them opens during training; "
    "the same network trained on ten times as much data overfits less (a smaller gap and a "
    "higher test accuracy). Decided on every seed: final train accuracy >= 0.98, gap >= 0.08 and "
    "> epoch-1 gap + 0.05; ten times the data: gap smaller by > 0.03, test accuracy higher by "
    "> 0.02."
)
CONCEPTS = [16]


@dataclass
class Config(common.Setup):
    n_train_large: int = 3000
    # the experiment is repeated for the seeds seed, seed + 1, ..., seed + n_seeds - 1
    n_seeds: int = 3

    @classmethod
    def quick(cls) -> "Config":
        return cls(dataset="digits", n_train=100, n_test=797, n_train_large=1000, epochs=60,
                   lr=0.02, batch_size=25)

    @property
    def seeds(self) -> list[int]:
        return [self.seed + i for i in range(self.n_seeds)]


@dataclass
class Result:
    dataset: str
    n_train: int
    n_test: int
    train_accuracy: list[float]
    test_accuracy: list[float]
    gap: list[float]
    final: dict[str, float]
    n_train_large: int = 0
    large_train_accuracy: list[float] = field(default_factory=list)
    large_test_accuracy: list[float] = field(default_factory=list)
    large_final: dict[str, float] = field(default_factory=dict)
    # one entry per seed (the curves above are those of the first seed):
    # {"seed", "gap_epoch1", "train", "test", "gap", "large_test", "large_gap"}
    per_seed: list[dict[str, float]] = field(default_factory=list)
    checks: dict[str, bool] = field(default_factory=dict)
    claim_holds: bool = False

    def summary(self) -> str:
        epochs = len(self.gap)
        marks = sorted({0, epochs // 10, epochs // 4, epochs // 2, epochs - 1})
        lines = [f"{self.dataset}: {self.n_train} training samples, {self.n_test} test samples",
                 f"{'epoch':>6} {'train acc':>10} {'test acc':>9} {'gap':>7}"]
        for e in marks:
            lines.append(f"{e + 1:>6} {self.train_accuracy[e]:>10.3f} "
                         f"{self.test_accuracy[e]:>9.3f} {self.gap[e]:>7.3f}")
        f = self.final
        lines.append(f"final (mean of the last 10 epochs): train {f['train_accuracy']:.3f}, "
                     f"test {f['test_accuracy']:.3f}, gap {f['gap']:.3f}")
        if self.large_final:
            g = self.large_final
            lines.append(f"same network, {self.n_train_large} training samples: train "
                         f"{g['train_accuracy']:.3f}, test {g['test_accuracy']:.3f}, "
                         f"gap {g['gap']:.3f}")
        keys = ["gap_epoch1", "train", "test", "gap"]
        head = (f"{'seed':>6} {'gap ep 1':>9} {'train':>7} {'test':>7} {'gap':>7}")
        if self.large_final:
            keys += ["large_test", "large_gap", "gap_change", "test_change"]
            head += f" {'test 10x':>9} {'gap 10x':>8} {'gap diff':>9} {'test diff':>10}"
        lines += ["", f"per seed, final = mean of the last 10 epochs; 10x = {self.n_train_large} "
                      "training samples; diff = 10x minus small", head]
        rows = [{**r, "gap_change": r.get("large_gap", 0.0) - r["gap"],
                 "test_change": r.get("large_test", 0.0) - r["test"]} for r in self.per_seed]
        widths = [9, 7, 7, 7, 9, 8, 9, 10]
        for r in rows:
            lines.append(f"{int(r['seed']):>6} " + " ".join(
                f"{r[k]:>{w}.3f}" for k, w in zip(keys, widths, strict=False)))
        for label, f in (("median", np.median), ("min", np.min), ("max", np.max)):
            lines.append(f"{label:>6} " + " ".join(
                f"{f([r[k] for r in rows]):>{w}.3f}" for k, w in zip(keys, widths, strict=False)))
        lines += ["", "Checks: " + ", ".join(f"{k}={'ok' if v else 'FAILED'}"
                                             for k, v in self.checks.items())]
        return "\n".join(lines)


def _train(config: Config, n_train: int,
           seed: int) -> tuple[common.Data, common.Curves]:
    data = common.load_data(config.dataset, n_train, config.n_test, seed=seed)
    set_seed(seed)
    model = common.build_mlp(data.n_classes, config.hidden_layers, config.units,
                               input_dim=data.n_features)
    curves = common.fit(model, data, optim.SGD(model.parameters(), lr=config.lr),
                          config.epochs, config.batch_size, seed=seed)
    return data, curves


@single_thread_blas()
def run(config: Config) -> Result:
    if config.epochs < 10:
        raise ValueError(f"expected at least 10 `epochs` to see overfitting, got {config.epochs}")
    if config.n_seeds < 1:
        raise ValueError(f"expected at least 1 seed in `n_seeds`, got {config.n_seeds}")
    result: Result | None = None
    checks: dict[str, bool] = {}
    for seed in config.seeds:
        data, curves = _train(config, config.n_train, seed)
        final = curves.final(10)
        row = {"seed": seed, "gap_epoch1": curves.gap[0], "train": final["train_accuracy"],
               "test": final["test_accuracy"], "gap": final["gap"]}
        large = None
        if config.n_train_large > 0:
            _, large = _train(config, config.n_train_large, seed)
            row["large_test"] = large.final(10)["test_accuracy"]
            row["large_gap"] = large.final(10)["gap"]
        if result is None:  # the curves of the first seed are kept for the figure
            result = Result(config.dataset, len(data.x_train), len(data.x_test),
                            curves.train_accuracy, curves.test_accuracy, curves.gap, final)
            if large is not None:
                result.n_train_large = config.n_train_large
                result.large_train_accuracy = large.train_accuracy
                result.large_test_accuracy = large.test_accuracy
                result.large_final = large.final(10)
        result.per_seed.append(row)
    assert result is not None
    rows = result.per_seed
    checks = {
        "training accuracy reaches ~100 % (>= 0.98)": all(r["train"] >= 0.98 for r in rows),
        "test accuracy far lower (gap >= 0.08)": all(r["gap"] >= 0.08 for r in rows),
        "the gap opens during training (final > epoch 1 + 0.05)": all(
            r["gap"] > r["gap_epoch1"] + 0.05 for r in rows),
    }
    if config.n_train_large > 0:
        checks["10x more data: gap smaller by > 0.03, test accuracy higher by > 0.02"] = all(
            r["large_gap"] < r["gap"] - 0.03 and r["large_test"] > r["test"] + 0.02
            for r in rows)
    result.checks = checks
    result.claim_holds = all(checks.values())
    return result


def plot(result: Result, out_dir: Path) -> list[Path]:
    plt = plots.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    epochs = range(1, len(result.gap) + 1)
    ax = axes[0]
    ax.plot(epochs, result.train_accuracy, color="C0",
            label=f"train, {result.n_train} training samples")
    ax.plot(epochs, result.test_accuracy, color="C1",
            label=f"test, {result.n_train} training samples")
    if result.large_final:
        ax.plot(epochs, result.large_train_accuracy, color="C0", ls=":", alpha=0.8,
                label=f"train, {result.n_train_large} training samples")
        ax.plot(epochs, result.large_test_accuracy, color="C1", ls=":", alpha=0.8,
                label=f"test, {result.n_train_large} training samples")
    ax.set(title=f"{result.dataset}: accuracy during training", xlabel="epoch",
           ylabel="accuracy", ylim=(0, 1.02))
    ax.legend(fontsize=8, loc="lower right")
    ax = axes[1]
    ax.plot(epochs, result.gap, color="C3", label=f"{result.n_train} training samples")
    if result.large_final:
        large_gap = [a - b for a, b in zip(result.large_train_accuracy,
                                           result.large_test_accuracy, strict=True)]
        ax.plot(epochs, large_gap, color="C3", ls=":", label=f"{result.n_train_large} samples")
    ax.axhline(0, color="k", lw=0.5)
    ax.set(title="overfitting gap: train minus test accuracy", xlabel="epoch",
           ylabel="accuracy gap")
    ax.legend(fontsize=8)
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return [plots.save(fig, Path(out_dir) / "overfitting.png")]

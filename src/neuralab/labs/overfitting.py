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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .. import optim
from .. import seed as set_seed
from ._blas import single_thread_blas
from . import _overfit, _plot

TITLE = "Overfitting: a big network on a small training set"
CLAIM = (
    "With few training samples and a big network, the training accuracy climbs to about 100 % "
    "while the test accuracy stays far lower, and the gap between them opens during training; "
    "the same network trained on ten times as much data overfits less (a smaller gap and a "
    "higher test accuracy)."
)
CONCEPTS = [16]


@dataclass
class Config(_overfit.Setup):
    n_train_large: int = 3000

    @classmethod
    def quick(cls) -> "Config":
        return cls(dataset="digits", n_train=100, n_test=797, n_train_large=1000, epochs=80,
                   lr=0.02, batch_size=25)


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
        lines += ["", "Checks: " + ", ".join(f"{k}={'ok' if v else 'FAILED'}"
                                             for k, v in self.checks.items())]
        return "\n".join(lines)


def _train(config: Config, n_train: int) -> tuple[_overfit.Data, _overfit.Curves]:
    data = _overfit.load_data(config.dataset, n_train, config.n_test, seed=config.seed)
    set_seed(config.seed)
    model = _overfit.build_mlp(data.n_classes, config.hidden_layers, config.units,
                               input_dim=data.n_features)
    curves = _overfit.fit(model, data, optim.SGD(model.parameters(), lr=config.lr),
                          config.epochs, config.batch_size, seed=config.seed)
    return data, curves


@single_thread_blas()
def run(config: Config) -> Result:
    if config.epochs < 10:
        raise ValueError(f"expected at least 10 `epochs` to see overfitting, got {config.epochs}")
    data, curves = _train(config, config.n_train)
    result = Result(config.dataset, len(data.x_train), len(data.x_test), curves.train_accuracy,
                    curves.test_accuracy, curves.gap, curves.final(10))
    if config.n_train_large > 0:
        _, large = _train(config, config.n_train_large)
        result.n_train_large = config.n_train_large
        result.large_train_accuracy = large.train_accuracy
        result.large_test_accuracy = large.test_accuracy
        result.large_final = large.final(10)
    checks = {
        "training accuracy reaches ~100 % (>= 0.98)": result.final["train_accuracy"] >= 0.98,
        "test accuracy far lower (gap >= 0.08)": result.final["gap"] >= 0.08,
        "the gap opens during training (final > epoch 1 + 0.05)": (
            result.final["gap"] > result.gap[0] + 0.05),
    }
    if result.large_final:
        checks["10x more data: smaller gap, higher test accuracy"] = (
            result.large_final["gap"] < result.final["gap"] - 0.05
            and result.large_final["test_accuracy"] > result.final["test_accuracy"] + 0.02)
    result.checks = checks
    result.claim_holds = all(checks.values())
    return result


def plot(result: Result, out_dir: Path) -> list[Path]:
    plt = _plot.pyplot()
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
    return [_plot.save(fig, Path(out_dir) / "overfitting.png")]

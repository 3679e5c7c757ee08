"""Lab: dropout (드롭아웃), after *Deep Learning from Scratch* section 6.4.3.

Dropout switches off a random part of the hidden units at every training step, so the network
cannot rely on any particular unit or group of units; at test time every unit is used.
neuralab's ``nn.Dropout(p)`` is inverted dropout:

    training:   y = x * m / (1 - p),   m_i ~ Bernoulli(1 - p)
    evaluation: y = x

The overfitting setup of :mod:`neuralab.labs.overfitting` (300 Fashion-MNIST images, six hidden
layers of 100 ReLU units, SGD) is trained with ``Dropout(p)`` after every hidden layer for each
ratio ``p`` (the book uses 0.2), and the training and test accuracy are measured after every
epoch in evaluation mode (dropout off).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .. import optim
from .. import seed as set_seed
from ._blas import single_thread_blas
from . import _overfit, _plot

TITLE = "Dropout against overfitting"
CLAIM = (
    "Training with dropout narrows the gap between training and test accuracy of an overfitting "
    "network: with the book's ratio 0.2 the training accuracy no longer reaches 100 % and the "
    "test accuracy stays closer to it."
)
CONCEPTS = [18, 16]


@dataclass
class Config(_overfit.Setup):
    epochs: int = 301
    ratios: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.5)

    @classmethod
    def quick(cls) -> "Config":
        return cls(n_test=1000, epochs=80, lr=0.05, batch_size=50, ratios=(0.0, 0.2))


@dataclass
class Result:
    dataset: str
    ratios: list[float]
    train_accuracy: dict[str, list[float]]
    test_accuracy: dict[str, list[float]]
    final: dict[str, dict[str, float]]
    checks: dict[str, bool] = field(default_factory=dict)
    claim_holds: bool = False

    def summary(self) -> str:
        lines = [f"{self.dataset}: final accuracies (mean of the last 10 epochs)",
                 f"{'dropout p':>9} {'train':>7} {'test':>7} {'gap':>7}"]
        for p in self.ratios:
            f = self.final[_key(p)]
            lines.append(f"{p:>9g} {f['train_accuracy']:>7.3f} {f['test_accuracy']:>7.3f} "
                         f"{f['gap']:>7.3f}")
        lines += ["", "Checks: " + ", ".join(f"{k}={'ok' if v else 'FAILED'}"
                                             for k, v in self.checks.items())]
        return "\n".join(lines)


def _key(p: float) -> str:
    return f"{p:g}"


@single_thread_blas()
def run(config: Config) -> Result:
    bad = [p for p in config.ratios if not 0.0 <= p < 1.0]
    if bad:
        raise ValueError(f"expected dropout ratios in [0, 1), got {bad}")
    if 0.0 not in config.ratios:
        raise ValueError(f"`ratios` must include 0 (the network without dropout), got "
                         f"{config.ratios}")
    data = _overfit.load_data(config.dataset, config.n_train, config.n_test, seed=config.seed)
    train, test, final = {}, {}, {}
    for p in config.ratios:
        set_seed(config.seed)  # the same initial weights for every ratio
        model = _overfit.build_mlp(data.n_classes, config.hidden_layers, config.units,
                                   dropout=p, input_dim=data.n_features)
        curves = _overfit.fit(model, data, optim.SGD(model.parameters(), lr=config.lr),
                              config.epochs, config.batch_size, seed=config.seed)
        train[_key(p)], test[_key(p)] = curves.train_accuracy, curves.test_accuracy
        final[_key(p)] = curves.final(10)
    base = final[_key(0.0)]
    ratios = [p for p in config.ratios if p > 0]
    checks = {"without dropout the network overfits (gap >= 0.1)": base["gap"] >= 0.1}
    checks.update({f"p={_key(p)}: gap no wider": final[_key(p)]["gap"] < base["gap"]
                   for p in ratios})
    # A clear narrowing that is not just a failure to learn: the test accuracy stays within 0.1
    # of the network without dropout (a too high ratio also "narrows" the gap by underfitting).
    checks["some ratio narrows the gap by 0.03 and keeps the test accuracy"] = any(
        final[_key(p)]["gap"] < base["gap"] - 0.03
        and final[_key(p)]["test_accuracy"] > base["test_accuracy"] - 0.1 for p in ratios)
    return Result(config.dataset, list(config.ratios), train, test, final, checks,
                  claim_holds=all(checks.values()))


def plot(result: Result, out_dir: Path) -> list[Path]:
    plt = _plot.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [1.6, 1]})
    ax = axes[0]
    for k, p in enumerate(result.ratios):
        key = _key(p)
        epochs = range(1, len(result.train_accuracy[key]) + 1)
        label = "no dropout" if p == 0 else f"dropout {key}"
        ax.plot(epochs, result.train_accuracy[key], color=f"C{k}", lw=1, label=label)
        ax.plot(epochs, result.test_accuracy[key], color=f"C{k}", lw=1, ls="--")
    ax.set(title=f"{result.dataset}: training (solid) and test (dashed) accuracy",
           xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02))
    ax.legend(fontsize=7, ncols=len(result.ratios), loc="upper center",
              bbox_to_anchor=(0.5, -0.16))
    ax.grid(alpha=0.3)
    ax = axes[1]
    keys = [_key(p) for p in result.ratios]
    for metric, label, color, style in [("train_accuracy", "train", "k", "-"),
                                        ("test_accuracy", "test", "k", "--"),
                                        ("gap", "gap (train - test)", "C3", "-")]:
        ax.plot(result.ratios, [result.final[key][metric] for key in keys], marker="o",
                color=color, ls=style, label=label)
    ax.set(title="final accuracy and gap by dropout ratio", xlabel="dropout ratio p",
           ylabel="accuracy", ylim=(0, 1.02))
    ax.set_xticks(result.ratios)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return [_plot.save(fig, Path(out_dir) / "dropout.png")]

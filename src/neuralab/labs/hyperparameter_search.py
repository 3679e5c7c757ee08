"""Lab: random search of the learning rate and the weight decay on validation data
(하이퍼파라미터 탐색, 검증 데이터).

*Deep Learning from Scratch* (section 6.5) searches the learning rate and the weight decay of an
MLP at random on a log scale (``lr = 10 ** uniform(-6, -2)``, ``weight_decay = 10 **
uniform(-8, -4)``), scores each trial on validation data split off the training data, and keeps
the test data out of the search: a hyperparameter chosen on the test set is fitted to it, and the
test score then overestimates the score on new data.

The lab does the same with :class:`~neuralab.train.RandomSearch` on scikit-learn's 8 x 8 digits:
a stratified split into training, validation and test data; ``n_trials`` configurations with
``lr ~ LogUniform`` and ``weight_decay ~ LogUniform``; each trial trains a fresh MLP with SGD on
the training part and is scored by its accuracy on the validation part.  The best configuration
is then trained again on training + validation data and evaluated on the test set once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import nn, optim
from ..data import train_val_test_split
from ..train import LogUniform, RandomSearch, Trainer
from . import _plot

TITLE = "Random search of learning rate x weight decay on validation data"
CLAIM = (
    "Hyperparameters (하이퍼파라미터) are chosen by their score on validation data (검증 데이터), "
    "never on the test data; the configuration chosen this way, evaluated once on the test set, "
    "scores about as well there as on validation, so its test score is an honest estimate."
)
CONCEPTS = [24, 23, 12, 17]


@dataclass
class Config:
    n_trials: int = 60
    lr_min: float = 1e-4
    lr_max: float = 1.0
    wd_min: float = 1e-6
    wd_max: float = 1e-1
    hidden: int = 100
    layers: int = 2
    epochs: int = 30
    batch_size: int = 32
    val_size: float = 0.2
    test_size: float = 0.2
    seed: int = 0

    @classmethod
    def quick(cls) -> Config:
        return cls(n_trials=12, epochs=10)


@dataclass
class Result:
    trials: list[dict[str, Any]]        # the search table, best first (validation scores only)
    best_params: dict[str, float]
    best_val_accuracy: float
    median_val_accuracy: float
    test_accuracy: float                # the refit best configuration, evaluated once
    n_train: int
    n_val: int
    n_test: int
    claim_holds: bool = False

    def summary(self) -> str:
        lines = [f"digits: {self.n_train} training, {self.n_val} validation, {self.n_test} test "
                 f"samples; {len(self.trials)} random trials",
                 f"{'rank':>4} {'lr':>10} {'weight_decay':>13} {'val acc':>8}"]
        for row in self.trials[:8]:
            lines.append(f"{row['rank']:>4} {row['lr']:>10.3g} {row['weight_decay']:>13.3g} "
                         f"{row['score']:>8.4f}")
        if len(self.trials) > 8:
            lines.append(f"{'...':>4}")
        lines += [
            f"median validation accuracy of all trials: {self.median_val_accuracy:.4f}",
            f"chosen on validation: lr={self.best_params['lr']:.3g}, "
            f"weight_decay={self.best_params['weight_decay']:.3g} -> "
            f"validation accuracy {self.best_val_accuracy:.4f}",
            f"retrained on training + validation, test accuracy (evaluated once): "
            f"{self.test_accuracy:.4f}  (test - validation: "
            f"{self.test_accuracy - self.best_val_accuracy:+.4f})",
        ]
        return "\n".join(lines)


def _digits(seed: int, val_size: float, test_size: float) -> list[np.ndarray]:
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError("this lab uses scikit-learn's digits: pip install 'neuralab[lab]'") \
            from None
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    return train_val_test_split(x, y, val_size=val_size, test_size=test_size, stratify=y,
                                seed=seed)


def run(config: Config) -> Result:
    for name in ("lr", "wd"):
        low, high = getattr(config, f"{name}_min"), getattr(config, f"{name}_max")
        if not 0 < low < high:
            raise ValueError(f"expected 0 < {name}_min < {name}_max, got {low} and {high}")
    x_tr, x_va, x_te, y_tr, y_va, y_te = _digits(config.seed, config.val_size, config.test_size)

    def build(params: dict[str, float]) -> Trainer:
        layers: list[Any] = [nn.Dense(config.hidden, activation="relu", input_dim=x_tr.shape[1])]
        layers += [nn.Dense(config.hidden, activation="relu") for _ in range(config.layers - 1)]
        model = nn.Sequential([*layers, nn.Dense(10)])
        opt = optim.SGD(model.parameters(), lr=params["lr"],
                        weight_decay=params["weight_decay"])
        return Trainer(model, nn.CrossEntropyLoss(), opt)

    space = {"lr": LogUniform(config.lr_min, config.lr_max),
             "weight_decay": LogUniform(config.wd_min, config.wd_max)}
    search = RandomSearch(build, space, n_trials=config.n_trials, seed=config.seed,
                          metric="accuracy", refit=True)
    # the search sees training and validation data only; the test set stays here
    search.fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=config.epochs,
               batch_size=config.batch_size)
    test_accuracy = float(search.best_estimator_.evaluate(x_te, y_te)["accuracy"])
    trials = [{k: row[k] for k in ("rank", "trial", "lr", "weight_decay", "score")}
              for row in search.results_]
    scores = np.array([row["score"] for row in trials], dtype=np.float64)
    median = float(np.nanmedian(scores))
    best = float(search.best_score_)
    holds = (
        abs(test_accuracy - best) <= 0.03     # validation predicted the test score
        and best - median >= 0.02             # and the choice mattered
    )
    return Result(trials=trials, best_params=dict(search.best_params_), best_val_accuracy=best,
                  median_val_accuracy=median, test_accuracy=test_accuracy, n_train=len(x_tr),
                  n_val=len(x_va), n_test=len(x_te), claim_holds=bool(holds))


def plot(result: Result, out_dir: Path) -> list[Path]:
    plt = _plot.pyplot()
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    lr = np.array([t["lr"] for t in result.trials])
    wd = np.array([t["weight_decay"] for t in result.trials])
    acc = np.nan_to_num(np.array([t["score"] for t in result.trials], dtype=np.float64), nan=0.0)
    best = result.best_params

    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 4.6),
                                        gridspec_kw={"width_ratios": [5, 4, 2.4]})
    points = ax1.scatter(lr, wd, c=acc, cmap="viridis", vmin=0.0, vmax=1.0, s=45,
                         edgecolors="k", linewidths=0.4)
    ax1.scatter([best["lr"]], [best["weight_decay"]], marker="*", s=320, c="red",
                edgecolors="k", linewidths=0.8, label="chosen on validation")
    ax1.set(xscale="log", yscale="log", xlabel="learning rate (log scale)",
            ylabel="weight decay (log scale)",
            title=f"validation accuracy of {len(lr)} random trials")
    ax1.legend(loc="upper left", fontsize=8, framealpha=0.9)
    fig.colorbar(points, ax=ax1, label="validation accuracy")

    ax2.scatter(lr, acc, c="tab:gray", s=30, edgecolors="k", linewidths=0.3,
                label="one trial")
    ax2.scatter([best["lr"]], [result.best_val_accuracy], marker="*", s=320, c="red",
                edgecolors="k", linewidths=0.8, label="chosen on validation")
    ax2.axhline(result.median_val_accuracy, color="gray", ls=":", lw=1,
                label=f"median trial = {result.median_val_accuracy:.3f}")
    ax2.set(xscale="log", xlabel="learning rate (log scale)", ylabel="validation accuracy",
            ylim=(-0.02, 1.05), title="the learning rate matters most")
    ax2.grid(alpha=0.3)
    ax2.legend(loc="lower right", fontsize=8)

    labels = ["median\ntrial\n(val)", "chosen\n(val)", "chosen\n(test, once)"]
    values = [result.median_val_accuracy, result.best_val_accuracy, result.test_accuracy]
    bars = ax3.bar(labels, values, color=["tab:gray", "tab:red", "tab:blue"])
    ax3.bar_label(bars, fmt="%.3f", fontsize=8)
    low = min(values)
    ax3.set(ylim=(max(0.0, low - 0.1), 1.02), ylabel="accuracy",
            title="choose on validation,\ntest only once")
    ax3.tick_params(axis="x", labelsize=8)
    ax3.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return [_plot.save(fig, Path(out_dir) / "hyperparameter_search.png")]

"""Lab: random search of the learning rate and the weight decay on validation data
(하이퍼파라미터 탐색, 검증 데이터).

*Deep Learning from Scratch* (section 6.5) searches the learning rate and the weight decay of an
MLP at random on a log scale (``lr = 10 ** uniform(-6, -2)``, ``weight_decay = 10 **
uniform(-8, -4)``), scores each trial on validation data split off the training data, and keeps
the test data out of the search: a hyperparameter chosen on the test set is fitted to it, and the
test score then overestimates the score on new data.  Choose on validation, test once, and the
test score is an honest estimate of the chosen model's accuracy on new data.

The lab does the same with :class:`~neuralab.train.RandomSearch` on scikit-learn's 8 x 8 digits,
once per seed: a stratified split into training, validation and test data; ``n_trials``
configurations with ``lr ~ LogUniform`` and ``weight_decay ~ LogUniform``; each trial trains a
fresh MLP with SGD on the training part and is scored by its accuracy on the validation part.
The model of the best trial (the one whose validation accuracy chose it, trained on the training
part only) is then evaluated on the test set once.

**How the claim is decided.**  Validation and test accuracy of the *same* model are two
estimates of its accuracy on new data, from two independent samples of ``n_val`` and ``n_test``
images; each has the binomial standard error :math:`\\sqrt{p (1 - p) / n}`.  Over :math:`S`
seeds, the mean of the differences :math:`d_s = \\mathrm{val}_s - \\mathrm{test}_s` has the
standard error

.. math::  \\mathrm{SE}(\\bar d) = \\frac{1}{S} \\sqrt{\\sum_s \\frac{v_s (1 - v_s)}{n_{val}}
           + \\frac{t_s (1 - t_s)}{n_{test}}}

and the claim requires :math:`|\\bar d| \\le` ``Z`` :math:`\\cdot \\mathrm{SE}(\\bar d)`: the test
score agrees with the validation score that chose the model within sampling error.  (The
validation score of the winner is slightly optimistic, the largest of ``n_trials`` noisy
estimates; the test set, which took no part in the choice, has no such bias.)  And the choice
must matter: the chosen model's test accuracy exceeds the median trial's validation accuracy by
more than ``Z`` standard errors of that difference, computed the same way.

RandomSearch's ``refit=True`` (its default) would train the chosen configuration once more, on
training + validation data: a different model, whose test score the validation score does not
estimate (near the unstable edge of the learning rate, a new run can land elsewhere).  The lab
therefore tests the model that was chosen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neuralab import nn, optim
from neuralab.data import train_val_test_split
from neuralab.train import LogUniform, RandomSearch, Trainer
import neuralab.io.figures as plots
from neuralab.labs import common

TITLE = "Random search of learning rate x weight decay on validation data"
#: the tolerance of both checks, in standard errors of the difference of two accuracies
Z = 3.0
CLAIM = (
    "Hyperparameters (하이퍼파라미터) are chosen by their score on validation data (검증 데이터), "
    "never on the test data, and the chosen model is evaluated once on the test set: its test "
    "accuracy is an honest estimate, agreeing with the validation accuracy that chose it within "
    f"the sampling error of the two sets (mean over seeds of validation - test within {Z:g} "
    "binomial standard errors), and the choice matters (the chosen model's test accuracy beats "
    f"the median trial's validation accuracy by more than {Z:g} standard errors)."
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
    # each seed repeats the whole protocol: a new split, new draws, new initial weights
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)

    @classmethod
    def quick(cls) -> Config:
        return cls(n_trials=8, epochs=8)


@dataclass
class SeedResult:
    seed: int
    best_params: dict[str, float]
    val_accuracy: float          # the chosen model on validation (what chose it)
    test_accuracy: float         # the same model on the test set, evaluated once
    median_val_accuracy: float   # the median trial of this seed's search, on validation


@dataclass
class Result:
    per_seed: list[SeedResult]
    trials: list[dict[str, Any]]     # every trial of every seed (validation scores only)
    n_train: int
    n_val: int
    n_test: int
    gap: float                       # mean over seeds of validation - test (the chosen model)
    gap_se: float                    # its binomial standard error
    gain: float                      # mean over seeds of test (chosen) - validation (median)
    gain_se: float
    claim_holds: bool = False
    checks: dict[str, bool] = field(default_factory=dict)

    def column(self, name: str) -> np.ndarray:
        return np.array([getattr(r, name) for r in self.per_seed], dtype=np.float64)

    def summary(self) -> str:
        n_seeds = len(self.per_seed)
        lines = [f"digits: {self.n_train} training, {self.n_val} validation, {self.n_test} test "
                 f"samples (a new stratified split per seed); "
                 f"{len(self.trials) // max(n_seeds, 1)} random trials per seed",
                 "",
                 "the best trials of all seeds, by validation accuracy:",
                 f"{'seed':>4} {'lr':>10} {'weight_decay':>13} {'val acc':>8}"]
        ranked = sorted(self.trials, key=lambda t: -np.nan_to_num(t["score"], nan=-1.0))
        for row in ranked[:8]:
            lines.append(f"{row['seed']:>4} {row['lr']:>10.3g} {row['weight_decay']:>13.3g} "
                         f"{row['score']:>8.4f}")
        lines += ["", "per seed, the model chosen on validation, then tested once:",
                  f"{'seed':>6} {'lr':>8} {'weight_decay':>13} {'median trial':>13} "
                  f"{'chosen val':>11} {'chosen test':>12} {'val - test':>11}"]
        for r in self.per_seed:
            lines.append(f"{r.seed:>6} {r.best_params['lr']:>8.3g} "
                         f"{r.best_params['weight_decay']:>13.3g} "
                         f"{r.median_val_accuracy:>13.4f} {r.val_accuracy:>11.4f} "
                         f"{r.test_accuracy:>12.4f} {r.val_accuracy - r.test_accuracy:>+11.4f}")
        cols = [self.column(c) for c in ("median_val_accuracy", "val_accuracy",
                                         "test_accuracy")]
        cols.append(cols[1] - cols[2])
        for label, f in (("median", np.median), ("min", np.min), ("max", np.max)):
            lines.append(f"{label:>6} {'':>8} {'':>13} {f(cols[0]):>13.4f} {f(cols[1]):>11.4f} "
                         f"{f(cols[2]):>12.4f} {f(cols[3]):>+11.4f}")
        one = math.sqrt(_variance(float(np.mean(cols[2])), self.n_test))
        lines += [
            "",
            f"one test image is {1 / self.n_test:.4f} of accuracy; the binomial standard error of "
            f"one test accuracy near {np.mean(cols[2]):.3f} is {one:.4f}",
            f"validation - test of the chosen model, mean of {n_seeds} seeds: {self.gap:+.4f} "
            f"(standard error {self.gap_se:.4f}, tolerance {Z:g} SE = {Z * self.gap_se:.4f}): "
            f"{'agree' if self.checks.get('agree') else 'DISAGREE'}",
            f"test of the chosen model - validation of the median trial, mean: {self.gain:+.4f} "
            f"(standard error {self.gain_se:.4f}, needed > {Z * self.gain_se:.4f}): "
            f"{'the choice matters' if self.checks.get('choice_matters') else 'NOT shown'}",
        ]
        return "\n".join(lines)


def _variance(p: float, n: int) -> float:
    """The variance p (1 - p) / n of an accuracy measured on n independent samples."""
    return p * (1.0 - p) / n


def _digits(seed: int, val_size: float, test_size: float) -> list[np.ndarray]:
    from neuralab.data import load_digits

    x, y = load_digits()  # pixels / 16, float32
    return train_val_test_split(x, y, val_size=val_size, test_size=test_size, stratify=y,
                                rng=seed)


def _search_one_seed(config: Config, seed: int) -> tuple[SeedResult, list[dict[str, Any]],
                                                         tuple[int, int, int]]:
    x_tr, x_va, x_te, y_tr, y_va, y_te = _digits(seed, config.val_size, config.test_size)
    built: list[Trainer] = []    # trial t's trainer is built t-th (one validation split)

    def build(params: dict[str, float]) -> Trainer:
        layers: list[Any] = [nn.Dense(config.hidden, activation="relu", input_dim=x_tr.shape[1])]
        layers += [nn.Dense(config.hidden, activation="relu") for _ in range(config.layers - 1)]
        model = nn.Sequential([*layers, nn.Dense(10)])
        opt = optim.SGD(model.parameters(), lr=params["lr"],
                        weight_decay=params["weight_decay"])
        built.append(Trainer(model, nn.CrossEntropyLoss(), opt))
        return built[-1]

    space = {"lr": LogUniform(config.lr_min, config.lr_max),
             "weight_decay": LogUniform(config.wd_min, config.wd_max)}
    # refit=False: the model tested is the one whose validation accuracy chose it
    search = RandomSearch(build, space, n_trials=config.n_trials, rng=seed,
                          metric="accuracy", refit=False)
    # the search sees training and validation data only; the test set stays here
    search.fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=config.epochs,
               batch_size=config.batch_size)
    best = search.results_[0]
    chosen = built[best["trial"]]
    test_accuracy = float(chosen.evaluate(x_te, y_te)["accuracy"])   # the test set, once
    trials = [{"seed": seed, **{k: row[k] for k in ("rank", "trial", "lr", "weight_decay",
                                                     "score")}}
              for row in search.results_]
    scores = np.array([row["score"] for row in trials], dtype=np.float64)
    result = SeedResult(seed=seed, best_params=dict(search.best_params_),
                        val_accuracy=float(search.best_score_), test_accuracy=test_accuracy,
                        median_val_accuracy=float(np.nanmedian(scores)))
    return result, trials, (len(x_tr), len(x_va), len(x_te))


def run(config: Config) -> Result:
    for name in ("lr", "wd"):
        low, high = getattr(config, f"{name}_min"), getattr(config, f"{name}_max")
        if not 0 < low < high:
            raise ValueError(f"expected 0 < {name}_min < {name}_max, got {low} and {high}")
    common.check_seeds("hyperparameter-search", config.seeds)
    per_seed: list[SeedResult] = []
    trials: list[dict[str, Any]] = []
    sizes = (0, 0, 0)
    for seed in config.seeds:
        one, rows, sizes = _search_one_seed(config, seed)
        per_seed.append(one)
        trials += rows
    n_train, n_val, n_test = sizes
    S = len(per_seed)
    val = np.array([r.val_accuracy for r in per_seed])
    test = np.array([r.test_accuracy for r in per_seed])
    median = np.array([r.median_val_accuracy for r in per_seed])
    # two independent samples per seed, independent seeds: the variances add
    gap = float(np.mean(val - test))
    gap_se = math.sqrt(sum(_variance(v, n_val) + _variance(t, n_test)
                           for v, t in zip(val, test))) / S
    gain = float(np.mean(test - median))
    gain_se = math.sqrt(sum(_variance(m, n_val) + _variance(t, n_test)
                            for m, t in zip(median, test))) / S
    checks = {"agree": abs(gap) <= Z * gap_se, "choice_matters": gain > Z * gain_se}
    return Result(per_seed=per_seed, trials=trials, n_train=n_train, n_val=n_val, n_test=n_test,
                  gap=gap, gap_se=gap_se, gain=gain, gain_se=gain_se,
                  claim_holds=bool(all(checks.values())), checks=checks)


def plot(result: Result, out_dir: Path) -> list[Path]:
    plt = plots.pyplot()
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    lr = np.array([t["lr"] for t in result.trials])
    wd = np.array([t["weight_decay"] for t in result.trials])
    acc = np.nan_to_num(np.array([t["score"] for t in result.trials], dtype=np.float64), nan=0.0)
    chosen_lr = [r.best_params["lr"] for r in result.per_seed]
    chosen_wd = [r.best_params["weight_decay"] for r in result.per_seed]
    n_seeds = len(result.per_seed)

    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(16, 4.8),
                                        gridspec_kw={"width_ratios": [5, 4, 3.6]})
    points = ax1.scatter(lr, wd, c=acc, cmap="viridis", vmin=0.0, vmax=1.0, s=30,
                         edgecolors="k", linewidths=0.3)
    ax1.scatter(chosen_lr, chosen_wd, marker="*", s=260, c="red", edgecolors="k",
                linewidths=0.8, label="chosen on validation (one per seed)")
    ax1.set(xscale="log", yscale="log", xlabel="learning rate (log scale)",
            ylabel="weight decay (log scale)",
            title=f"validation accuracy of {len(lr)} random trials ({n_seeds} seeds)")
    ax1.legend(loc="upper left", fontsize=8, framealpha=0.9)
    fig.colorbar(points, ax=ax1, label="validation accuracy")

    ax2.scatter(lr, acc, c="tab:gray", s=22, edgecolors="k", linewidths=0.3, label="one trial")
    ax2.scatter(chosen_lr, [r.val_accuracy for r in result.per_seed], marker="*", s=260,
                c="red", edgecolors="k", linewidths=0.8, label="chosen on validation")
    ax2.set(xscale="log", xlabel="learning rate (log scale)", ylabel="validation accuracy",
            ylim=(-0.02, 1.05), title="the learning rate matters most")
    ax2.grid(alpha=0.3)
    ax2.legend(loc="lower right", fontsize=8)

    # like with like: the same chosen model on validation and on test, per seed, +- 1 SE
    pos = np.arange(n_seeds)
    val = np.array([r.val_accuracy for r in result.per_seed])
    test = np.array([r.test_accuracy for r in result.per_seed])
    med = np.array([r.median_val_accuracy for r in result.per_seed])
    se_val = np.sqrt(val * (1 - val) / result.n_val)
    se_test = np.sqrt(test * (1 - test) / result.n_test)
    ax3.errorbar(pos - 0.12, val, yerr=se_val, fmt="o", color="tab:red", capsize=3,
                 label="chosen model, validation")
    ax3.errorbar(pos + 0.12, test, yerr=se_test, fmt="s", color="tab:blue", capsize=3,
                 label="same model, test (once)")
    ax3.scatter(pos, med, marker="_", s=300, color="tab:gray", label="median trial, validation")
    low = float(min(val.min(), test.min()) - 3 * se_test.max())
    ax3.set(xticks=pos, xticklabels=[str(r.seed) for r in result.per_seed],
            xlabel=f"seed\nmean validation - test {result.gap:+.4f}, allowed "
                   f"±{Z * result.gap_se:.4f} ({Z:g} SE)",
            ylabel="accuracy (error bars: 1 binomial SE)",
            ylim=(max(0.0, min(low, float(med.min())) - 0.02), 1.01),
            title="choose on validation, test once")
    ax3.grid(alpha=0.3, axis="y")
    ax3.legend(loc="center", fontsize=7)   # between the chosen models and the median trials
    fig.tight_layout()
    return [plots.save(fig, Path(out_dir) / "hyperparameter_search.png")]

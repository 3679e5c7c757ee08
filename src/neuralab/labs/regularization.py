"""Lab: L1 and L2 regularization and weight decay (가중치 감소), after *Deep Learning from
Scratch* section 6.4.2.

The overfitting setup of :mod:`neuralab.labs.overfitting` (300 Fashion-MNIST images, six hidden
layers of 100 ReLU units, SGD) is trained again with a penalty on the weights:

* ``l2``: the book's weight decay, ``loss + l2 * sum W^2`` on every weight matrix
  (``kernel_regularizer=nn.regularizers.L2(l2)``; the book writes ``lambda / 2 * sum W^2`` with
  lambda = 0.1, i.e. ``l2 = 0.05``).  Its gradient ``2 l2 W`` shrinks every weight in proportion;
* ``l1``: ``loss + l1 * sum |W|``, whose gradient ``l1 sign(W)`` pushes weights to exactly 0
  (sparse weights);
* ``weight_decay``: SGD's ``weight_decay`` option, ``W <- W - lr (g + lambda W)``; for plain SGD it
  is the L2 penalty with ``lambda = 2 l2`` (biases decay too), so its curves follow ``l2``'s;
* ``adamw``: decoupled weight decay ``W <- (1 - lr lambda) W`` next to Adam's step, compared
  with plain ``adam`` (with Adam an L2 penalty would be divided by the running gradient scale;
  AdamW keeps the decay out of it).

For every setting the lab records the training and test accuracy per epoch, the final gap
between them, and the distribution of the trained weights' magnitudes.

**Seeds and verdict.**  Every setting is trained once per seed of ``seeds`` (new initial
weights and batch order, the same for every setting of one seed; ``seed`` only picks the
digits' sample).  For each seed and regularized setting the *narrowing* is the baseline's gap
minus the setting's gap.  The claim requires, for each regularized setting, a median narrowing
over the seeds of at least ``MARGIN`` and a positive narrowing on every seed; and the median
fraction of L1's weights below ``ZERO`` above three times that of ``none`` and ``l2`` plus 0.05.

**Where the penalty raises the test accuracy.**  With the true labels the penalties narrow the
gap by lowering the training accuracy, and the test accuracy does not rise (the summary gives
each setting's paired test-accuracy gain over its baseline).  The lab therefore also trains on
*noisy labels*: a fraction ``noise`` of the training labels replaced by a random other class
(the test labels stay right), which the unpenalized network memorizes, at the price of test
accuracy.  That experiment compares ``none`` with L2 (``noisy_l2``) on a wide, shallow network
(``noisy_hidden_layers`` of ``noisy_units``, the same as the dropout lab's).  Both networks of a
seed are scored on the same test images, so the gain is paired: d_i = c_i(l2) - c_i(none), gain
mean(d), standard error sd(d) / sqrt(n).  The claim requires a gain above ``Z`` standard errors
on every seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neuralab import nn, optim
from neuralab import seed as set_seed
from neuralab.threads import single_thread_blas
import neuralab.io.figures as plots
from neuralab.labs import common

TITLE = "Regularization: L2, L1 and weight decay against overfitting"
#: with noisy labels, L2's test-accuracy gain must exceed this many paired SEs on every seed
Z = 3.0
CLAIM = (
    "Penalizing large weights (L2 weight decay, L1, decoupled weight decay) narrows the gap "
    "between training and test accuracy of an overfitting network; L1 drives many weights to "
    "(almost) exactly zero.  Decided over several seeds: each penalty's median narrowing of the "
    "gap (baseline's gap minus its gap, mean of the last 10 epochs) is at least 0.03 and every "
    "seed narrows it.  Where the network memorizes wrong training labels, L2 also raises the "
    f"test accuracy, by more than {Z:g} paired standard errors on every seed (on the true labels "
    "it does not)."
)
CONCEPTS = [17, 16]

SETTINGS = ("none", "l2", "l1", "weight_decay", "adam", "adamw")
#: The unregularized run each setting is compared with.
BASELINE = {"l2": "none", "l1": "none", "weight_decay": "none", "adamw": "adam"}
#: |w| below this counts as zero in the sparsity measure.
ZERO = 1e-3
#: The median narrowing of the gap a penalty must reach (0.03 of accuracy: 30 of the 1,000 test
#: images of the full run); the measured narrowings are two to four times larger and their spread
#: over seeds and BLAS kernels is below it (see the test's comments).
MARGIN = 0.03
_HIST_EDGES = np.logspace(-6, 0.5, 40)


@dataclass
class Config(common.NoisySetup, common.Setup):
    settings: tuple[str, ...] = SETTINGS
    l2: float = 0.05
    l1: float = 0.005
    weight_decay: float = 0.1
    adam_lr: float = 0.001
    adamw_weight_decay: float = 12.5
    #: one training per seed and setting (initial weights and batch order)
    seeds: tuple[int, ...] = (0, 1, 2)
    #: the penalty of the noisy-label experiment, none against L2 (its other settings:
    #: common.NoisySetup)
    noisy_l2: float = 0.02

    @classmethod
    def quick(cls) -> "Config":
        # Five times the book's learning rate and a quarter of its batch for fewer epochs, so
        # the penalties are scaled down to keep about the same total shrinkage (lr * steps *
        # lambda); 500 test images.  SGD's weight_decay is left out: for SGD it repeats the L2
        # run (the full run shows that).
        return cls(n_test=500, epochs=40, lr=0.05, batch_size=25,
                   settings=("none", "l2", "l1"), l2=0.02, l1=0.002, weight_decay=0.04)


@dataclass
class Result:
    dataset: str
    settings: list[str]
    seeds: list[int]
    #: per-epoch curves of the first seed (the figures)
    train_accuracy: dict[str, list[float]]
    test_accuracy: dict[str, list[float]]
    #: per setting, per seed: train and test accuracy and gap (mean of the last 10 epochs)
    final_by_seed: dict[str, list[dict[str, float]]]
    mean_abs_weight_by_seed: dict[str, list[float]]
    zero_fraction_by_seed: dict[str, list[float]]
    #: histogram of the first seed's trained weight magnitudes
    weight_hist_edges: list[float]
    weight_hist_counts: dict[str, list[int]]
    strengths: dict[str, float]
    #: true labels: per regularized setting, per seed, the paired test-accuracy gain over its
    #: baseline (mean of the last 10 epochs) and its SE
    clean_gain: dict[str, list[float]] = field(default_factory=dict)
    clean_gain_se: dict[str, list[float]] = field(default_factory=dict)
    noisy: common.NoisyComparison | None = None
    checks: dict[str, bool] = field(default_factory=dict)
    claim_holds: bool = False

    @property
    def final(self) -> dict[str, dict[str, float]]:
        """Median over the seeds of each final accuracy and gap, per setting."""
        return {s: {k: float(np.median([f[k] for f in runs])) for k in runs[0]}
                for s, runs in self.final_by_seed.items()}

    @property
    def mean_abs_weight(self) -> dict[str, float]:
        return {s: float(np.median(v)) for s, v in self.mean_abs_weight_by_seed.items()}

    @property
    def zero_fraction(self) -> dict[str, float]:
        return {s: float(np.median(v)) for s, v in self.zero_fraction_by_seed.items()}

    def narrowing(self, name: str) -> list[float]:
        """Per seed: the gap of ``name``'s baseline minus the gap of ``name``."""
        base = self.final_by_seed[BASELINE[name]]
        return [b["gap"] - f["gap"] for b, f in zip(base, self.final_by_seed[name], strict=True)]

    def summary(self) -> str:
        seeds = ", ".join(map(str, self.seeds))
        lines = [f"{self.dataset}: final accuracies (mean of the last 10 epochs), median over "
                 f"seeds {seeds}",
                 f"{'setting':<14} {'strength':>9} {'train':>7} {'test':>7} {'gap':>7} "
                 f"{'mean|w|':>8} {'|w|<1e-3':>9}"]
        final, mean_abs, zeros = self.final, self.mean_abs_weight, self.zero_fraction
        for s in self.settings:
            f = final[s]
            strength = self.strengths.get(s)
            lines.append(f"{s:<14} {'-' if strength is None else f'{strength:g}':>9} "
                         f"{f['train_accuracy']:>7.3f} {f['test_accuracy']:>7.3f} "
                         f"{f['gap']:>7.3f} {mean_abs[s]:>8.4f} {zeros[s]:>9.1%}")
        lines += ["", "per seed: gap (train - test), and |w| < 1e-3",
                  f"{'setting':<14} " + " ".join(f"{'seed ' + str(s):>8}" for s in self.seeds)
                  + f" {'min-max':>13}"]
        for s in self.settings:
            gaps = [f["gap"] for f in self.final_by_seed[s]]
            lines.append(f"{s:<14} " + " ".join(f"{g:>8.3f}" for g in gaps)
                         + f" {min(gaps):>6.3f}-{max(gaps):.3f}")
        for s in self.settings:
            z = self.zero_fraction_by_seed[s]
            lines.append(f"{s + ' |w|<1e-3':<14} " + " ".join(f"{v:>8.1%}" for v in z)
                         + f" {min(z):>6.1%}-{max(z):.1%}")
        narrowed = [s for s in self.settings if BASELINE.get(s) in self.final_by_seed]
        if narrowed:
            lines += ["", f"narrowing of the gap (baseline's gap - the setting's), needed: "
                          f"median >= {MARGIN:g} and every seed > 0"]
            for s in narrowed:
                d = self.narrowing(s)
                lines.append(f"{s + ' vs ' + BASELINE[s]:<20} "
                             + " ".join(f"{v:>+8.3f}" for v in d)
                             + f"  median {np.median(d):+.3f} [{min(d):+.3f} to {max(d):+.3f}]")
        if self.clean_gain:
            lines += ["", "true labels: test-accuracy gain over the baseline per seed (mean of "
                          "the last 10 epochs; paired SE)"]
            for name, gains in self.clean_gain.items():
                lines.append(f"{name + ' vs ' + BASELINE[name]:<20} " + " ".join(
                    f"{g:+.3f} ({se:.3f})".rjust(16)
                    for g, se in zip(gains, self.clean_gain_se[name], strict=True)))
        if self.noisy is not None:
            lines += [""] + self.noisy.lines(Z)
        lines += ["", "Checks: " + ", ".join(f"{k}={'ok' if v else 'FAILED'}"
                                             for k, v in self.checks.items())]
        return "\n".join(lines)


def _optimizer_and_regularizer(name: str, config: Config) -> tuple[Any, Any]:
    """(regularizer for the layers, function params -> optimizer) of one setting."""
    sgd = lambda params: optim.SGD(params, lr=config.lr)  # noqa: E731
    if name == "none":
        return None, sgd
    if name == "l2":
        return nn.regularizers.L2(config.l2), sgd
    if name == "l1":
        return nn.regularizers.L1(config.l1), sgd
    if name == "weight_decay":
        return None, lambda params: optim.SGD(params, lr=config.lr,
                                              weight_decay=config.weight_decay)
    if name == "adam":
        return None, lambda params: optim.Adam(params, lr=config.adam_lr)
    return None, lambda params: optim.AdamW(params, lr=config.adam_lr,
                                            weight_decay=config.adamw_weight_decay)


@single_thread_blas()
def run(config: Config) -> Result:
    unknown = [s for s in config.settings if s not in SETTINGS]
    if unknown:
        raise ValueError(f"unknown setting(s) {unknown}; choose from {list(SETTINGS)}")
    common.check_seeds("regularization", config.seeds)
    data = common.load_data(config.dataset, config.n_train, config.n_test, seed=config.seed)
    train: dict[str, list[float]] = {}
    test: dict[str, list[float]] = {}
    hists: dict[str, list[int]] = {}
    final: dict[str, list[dict[str, float]]] = {s: [] for s in config.settings}
    mean_abs: dict[str, list[float]] = {s: [] for s in config.settings}
    zeros: dict[str, list[float]] = {s: [] for s in config.settings}
    if not 0.0 < config.noise < 0.9:
        raise ValueError(f"regularization expected a label `noise` between 0 and 0.9, got "
                         f"{config.noise}")
    clean_gain: dict[str, list[float]] = {s: [] for s in config.settings
                                          if BASELINE.get(s) in config.settings}
    clean_se: dict[str, list[float]] = {s: [] for s in clean_gain}
    for seed in config.seeds:
        correct = {}
        for name in config.settings:
            regularizer, make_optimizer = _optimizer_and_regularizer(name, config)
            set_seed(seed)  # the same initial weights for every setting of a seed
            model = common.build_mlp(data.n_classes, config.hidden_layers, config.units,
                                       regularizer=regularizer, input_dim=data.n_features)
            curves = common.fit(model, data, make_optimizer(model.parameters()),
                                  config.epochs, config.batch_size, seed=seed)
            weights = np.concatenate([layer.weight.data.ravel() for layer in model.layers])
            magnitude = np.abs(weights)
            final[name].append(curves.final(10))
            correct[name] = curves.test_correct
            mean_abs[name].append(float(magnitude.mean()))
            zeros[name].append(float((magnitude < ZERO).mean()))
            if name not in train:  # the first seed's curves and histogram for the figures
                train[name], test[name] = curves.train_accuracy, curves.test_accuracy
                clipped = np.clip(magnitude, _HIST_EDGES[0], _HIST_EDGES[-1])
                hists[name] = np.histogram(clipped, bins=_HIST_EDGES)[0].tolist()
        for name in clean_gain:
            g, se = common.paired_gain(correct[name], correct[BASELINE[name]])
            clean_gain[name].append(g)
            clean_se[name].append(se)
    noisy = common.compare_on_noisy_labels(
        data, ["none", "l2"],
        lambda name: common.build_mlp(
            data.n_classes, config.noisy_hidden_layers, config.noisy_units,
            regularizer=nn.regularizers.L2(config.noisy_l2) if name == "l2" else None,
            input_dim=data.n_features),
        lambda name, params: optim.SGD(params, lr=config.noisy_lr), config.noise,
        config.noisy_epochs, config.noisy_batch_size, config.seeds,
        f"L2 {config.noisy_l2:g}, {config.noisy_architecture()}")
    strengths = {"l2": config.l2, "l1": config.l1, "weight_decay": config.weight_decay,
                 "adamw": config.adamw_weight_decay}
    result = Result(config.dataset, list(config.settings), list(config.seeds), train, test,
                    final, mean_abs, zeros, _HIST_EDGES.tolist(), hists,
                    {k: v for k, v in strengths.items() if k in config.settings},
                    clean_gain, clean_se, noisy)
    checks: dict[str, bool] = {}
    for name in config.settings:
        base = BASELINE.get(name)
        if base in final:
            narrowing = result.narrowing(name)
            checks[f"{name} narrows the gap of {base}"] = (
                float(np.median(narrowing)) >= MARGIN and min(narrowing) > 0)
    if "l1" in zeros:
        z = result.zero_fraction
        others = [z[s] for s in ("none", "l2") if s in z]
        if others:
            checks["l1 makes weights sparse"] = z["l1"] > 3 * max(others) + 0.05
    checks[f"noisy labels: l2 beats none by > {Z:g} paired SE on every seed"] = \
        noisy.beats_baseline("l2", Z)
    result.checks = checks
    result.claim_holds = bool(checks) and all(checks.values())
    return result


def _label(result: Result, name: str) -> str:
    strength = result.strengths.get(name)
    return name if strength is None else f"{name} ({strength:g})"


def plot(result: Result, out_dir: Path) -> list[Path]:
    plt = plots.pyplot()
    out_dir = Path(out_dir)
    files = []
    n = len(result.settings)
    cols = min(3, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.3 * cols, 2.5 * rows), squeeze=False,
                             sharey=True)
    for ax, name in zip(axes.flat, result.settings):
        epochs = range(1, len(result.train_accuracy[name]) + 1)
        base = BASELINE.get(name)
        if base in result.train_accuracy:
            ax.plot(epochs, result.train_accuracy[base], color="0.75", lw=0.8)
            ax.plot(epochs, result.test_accuracy[base], color="0.75", lw=0.8, ls="--",
                    label=f"{base} (reference)")
        ax.plot(epochs, result.train_accuracy[name], color="C0", lw=1.2, label="train")
        ax.plot(epochs, result.test_accuracy[name], color="C1", lw=1.2, ls="--", label="test")
        gap = result.final[name]["gap"]
        ax.set_title(f"{_label(result, name)}: gap {gap:.2f} (median)", fontsize=10)
        ax.set(xlabel="epoch", ylim=(0, 1.02))
        ax.grid(alpha=0.3)
    for ax in axes[:, 0]:
        ax.set_ylabel("accuracy")
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    axes[0][min(1, cols - 1)].legend(fontsize=8, loc="lower right")
    fig.suptitle(f"{result.dataset}: training and test accuracy with each regularizer "
                 f"(seed {result.seeds[0]})",
                 fontsize=11)
    fig.tight_layout()
    files.append(plots.save(fig, out_dir / "regularization_curves.png"))

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
    x = np.arange(n)
    width = 0.27
    for k, (key, label) in enumerate([("train_accuracy", "train"), ("test_accuracy", "test"),
                                      ("gap", "gap")]):
        values = [result.final[s][key] for s in result.settings]
        bars = ax1.bar(x + (k - 1) * width, values, width, label=label, color=f"C{k}")
        if key == "gap":
            ax1.bar_label(bars, fmt="%.2f", fontsize=7)
    ax1.set_xticks(x, [_label(result, s) for s in result.settings], rotation=20, fontsize=8)
    ax1.set(title=f"final accuracies and train-test gap (median of {len(result.seeds)} seeds)",
            ylabel="accuracy", ylim=(0, 1.1))
    ax1.legend(fontsize=8, ncols=3, loc="upper right")
    ax1.grid(alpha=0.3, axis="y")
    edges = np.asarray(result.weight_hist_edges)
    for k, name in enumerate(result.settings):
        ax2.stairs(result.weight_hist_counts[name], edges, color=f"C{k}", lw=1.5,
                   label=f"{_label(result, name)}: {result.zero_fraction[name]:.0%} < {ZERO:g}")
    ax2.set_xscale("log")
    ax2.axvline(ZERO, color="k", lw=0.6, ls=":")
    ax2.set(title=f"magnitudes of the trained weights (seed {result.seeds[0]}; % below: median)",
            xlabel="|w| (log scale)",
            ylabel="number of weights")
    ax2.legend(fontsize=7)
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    files.append(plots.save(fig, out_dir / "regularization_summary.png"))
    if result.noisy is not None:
        files.append(common.plot_noisy(
            result.noisy, Z, out_dir / "regularization_noisy_labels.png",
            f"{result.dataset}, {result.noisy.architecture}: weight decay against memorizing "
            "wrong labels"))
    return files

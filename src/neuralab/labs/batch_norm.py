"""Lab: batch normalization (배치 정규화) across weight scales, and residual connections
(잔차 연결), after *Deep Learning from Scratch* section 6.3.

**Batch normalization.**  The book's figure 6-19: a network of five hidden layers of 100 ReLU
units is trained on 1,000 images for 20 epochs with SGD (lr 0.01, batches of 100), once plain
(Dense -> ReLU) and once with batch normalization after every Dense layer (Dense -> BatchNorm ->
ReLU), for 16 weight scales: every weight drawn from N(0, sigma^2) with sigma log-spaced from 1
down to 1e-4.  Batch normalization re-centres and re-scales every unit over the batch,

    x_hat = (x - mu_B) / sqrt(var_B + eps),   y = gamma x_hat + beta,

so the next layer sees activations of the same spread whatever the scale of the weights: the
network learns at almost every scale, while without it the signal explodes (large sigma) or
vanishes (small sigma) and training does not start.  The lab records the training accuracy
(whole training set, evaluation mode) after every epoch.

**Seeds.**  Every run is repeated for each seed of ``seeds`` (new initial weights and batch
order; for the digits also a new sample of training images).  The checks are decided on the
median over the seeds of each final accuracy, so that no verdict hangs on one run.

**Residual connections.**  A deep plain stack (``2 * residual_blocks + 1`` hidden ReLU layers
with the default Xavier initialization, whose signal shrinks by about 1/sqrt(2) per layer) is
compared with the same number of layers arranged in residual blocks ``x + Dense(ReLU(Dense(x)))``
(``nn.Residual``): the identity path carries the signal forward and the gradient back.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neuralab import nn, optim
from neuralab import seed as set_seed
from neuralab.train import GradientStats, LambdaCallback, Trainer
from neuralab.threads import single_thread_blas
import neuralab.io.figures as plots
from neuralab.labs import common

TITLE = "Batch normalization across weight scales, and residual connections"
CLAIM = (
    "With batch normalization a deep ReLU network learns faster and at almost every initial "
    "weight scale from 1 to 1e-4, while without it training only starts near a well-chosen "
    "scale; a residual connection lets a deep stack train where the same plain stack does not."
)
CONCEPTS = [21, 14, 15]

#: Final training accuracy at or above which a run counts as having learned (chance is 0.1).
LEARNED = 0.5


@dataclass
class Config:
    dataset: str = "fashion-mnist"
    n_train: int = 1000
    hidden_layers: int = 5
    units: int = 100
    epochs: int = 20
    lr: float = 0.01
    batch_size: int = 100
    n_scales: int = 16
    scale_max: float = 1.0
    scale_min: float = 1e-4
    residual_blocks: int = 10
    residual_units: int = 64
    seeds: tuple[int, ...] = (0, 1, 2)

    @classmethod
    def quick(cls) -> "Config":
        # 500 digits keep three seeds within a few seconds
        return cls(dataset="digits", n_train=500, n_scales=6, epochs=15)


@dataclass
class Result:
    dataset: str
    seeds: list[int]
    scales: list[float]
    #: per-epoch curves of the first seed (the figure), indexed [scale][epoch]
    plain_accuracy: list[list[float]]
    bn_accuracy: list[list[float]]
    #: final training accuracy, indexed [seed][scale]
    plain_final_by_seed: list[list[float]]
    bn_final_by_seed: list[list[float]]
    #: whether the plain network's loss overflowed, [seed][scale]
    plain_diverged_by_seed: list[list[bool]]
    residual_blocks: int = 0
    #: per-epoch curves of the first seed
    residual_accuracy: dict[str, list[float]] = field(default_factory=dict)
    #: per seed: final accuracy, and first/last layer gradient norm in epoch 1
    residual_final_by_seed: dict[str, list[float]] = field(default_factory=dict)
    residual_grad_ratio_by_seed: dict[str, list[float]] = field(default_factory=dict)
    checks: dict[str, bool] = field(default_factory=dict)
    claim_holds: bool = False

    @property
    def plain_final(self) -> list[float]:
        """Median over the seeds of the plain network's final accuracy, per scale."""
        return np.median(self.plain_final_by_seed, axis=0).tolist()

    @property
    def bn_final(self) -> list[float]:
        """Median over the seeds of the batch-normalized network's final accuracy, per scale."""
        return np.median(self.bn_final_by_seed, axis=0).tolist()

    @property
    def plain_diverged(self) -> list[bool]:
        """Per scale: the plain network's loss overflowed for every seed."""
        return np.all(self.plain_diverged_by_seed, axis=0).tolist()

    @property
    def residual_final(self) -> dict[str, float]:
        return {k: float(np.median(v)) for k, v in self.residual_final_by_seed.items()}

    @property
    def residual_grad_ratio(self) -> dict[str, float]:
        return {k: float(np.median(v)) for k, v in self.residual_grad_ratio_by_seed.items()}

    def summary(self) -> str:
        epochs = len(self.bn_accuracy[0])
        seeds = ", ".join(map(str, self.seeds))
        lines = [f"{self.dataset}: training accuracy after {epochs} epochs, seeds {seeds}: "
                 "median over the seeds [min-max]",
                 f"{'weight std':>10} {'plain':>19} {'batch norm':>19}"]
        plain, bn = np.asarray(self.plain_final_by_seed), np.asarray(self.bn_final_by_seed)
        for k, (s, d) in enumerate(zip(self.scales, self.plain_diverged, strict=True)):
            cells = [f"{np.median(a[:, k]):.3f} [{a[:, k].min():.3f}-{a[:, k].max():.3f}]"
                     for a in (plain, bn)]
            lines.append(f"{s:>10.2e} {cells[0]:>19} {cells[1]:>19}"
                         + ("  (plain: loss overflowed)" if d else ""))
        lines.append("per seed, batch norm minus plain at each scale:")
        for seed, p_row, b_row in zip(self.seeds, plain, bn, strict=True):
            lines.append(f"  seed {seed}: " + " ".join(f"{b - p:+.2f}"
                                                     for p, b in zip(p_row, b_row)))
        n = len(self.scales)
        lines.append(f"learned (accuracy >= {LEARNED}): plain at "
                     f"{sum(a >= LEARNED for a in self.plain_final)}/{n} scales, batch norm at "
                     f"{sum(a >= LEARNED for a in self.bn_final)}/{n}; batch norm ahead at "
                     f"{sum(b > p for p, b in zip(self.plain_final, self.bn_final))}/{n}")
        if self.residual_accuracy:
            layers = 2 * self.residual_blocks + 1
            lines.append("")
            lines.append(f"{layers} hidden layers: final training accuracy and first/last layer "
                         f"gradient norm in epoch 1, per seed ({seeds}), median [min-max]:")
            for name, acc in self.residual_final_by_seed.items():
                ratio = self.residual_grad_ratio_by_seed[name]
                lines.append(f"{name:<9} accuracy " + " ".join(f"{a:.3f}" for a in acc)
                             + f"  median {np.median(acc):.3f} [{min(acc):.3f}-{max(acc):.3f}]")
                lines.append(f"{'':<9} ratio    " + " ".join(f"{r:.1e}" for r in ratio)
                             + f"  median {np.median(ratio):.1e}")
        lines += ["", "Checks: " + ", ".join(f"{k}={'ok' if v else 'FAILED'}"
                                             for k, v in self.checks.items())]
        return "\n".join(lines)


def _train(model: nn.Module, data: common.Data, config: Config, seed: int,
           callbacks: list[Any] | None = None) -> tuple[list[float], bool]:
    """Train; the training accuracy after every epoch and whether the loss overflowed."""
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=config.lr),
                      rng=seed)
    accuracy: list[float] = []
    record = LambdaCallback(on_epoch_end=lambda epoch, logs: accuracy.append(
        trainer.evaluate(data.x_train, data.y_train)["accuracy"]))
    # Without normalization, large weights make the activations overflow float32: that is the
    # effect being shown, so it is recorded rather than warned about.
    with np.errstate(over="ignore", invalid="ignore"):
        history = trainer.fit(data.x_train, data.y_train, epochs=config.epochs,
                              batch_size=config.batch_size, verbose=0,
                              callbacks=[record, *(callbacks or [])])
    diverged = not bool(np.all(np.isfinite(history.history["loss"])))
    return accuracy, diverged


def _scaled_net(data: common.Data, config: Config, std: float, batch_norm: bool) -> nn.Sequential:
    initializer = functools.partial(nn.init.normal, std=std)
    layers: list[nn.Module] = []
    for i in range(config.hidden_layers):
        first = data.n_features if i == 0 else None
        if batch_norm:
            layers += [nn.Dense(config.units, kernel_initializer=initializer, input_dim=first),
                       nn.BatchNorm(config.units), nn.ReLU()]
        else:
            layers.append(nn.Dense(config.units, activation="relu",
                                   kernel_initializer=initializer, input_dim=first))
    layers.append(nn.Dense(data.n_classes, kernel_initializer=initializer))
    return nn.Sequential(layers)


def _deep_net(data: common.Data, config: Config, residual: bool) -> nn.Sequential:
    width = config.residual_units
    layers: list[nn.Module] = [nn.Dense(width, activation="relu", input_dim=data.n_features)]
    for _ in range(config.residual_blocks):
        if residual:
            layers.append(nn.Residual(nn.Sequential([nn.Dense(width, activation="relu"),
                                                     nn.Dense(width)])))
        else:
            layers += [nn.Dense(width, activation="relu"), nn.Dense(width, activation="relu")]
    layers.append(nn.Dense(data.n_classes))
    model = nn.Sequential(layers)
    model(data.x_train[:2])  # build every layer before the optimizer collects the parameters
    return model


@single_thread_blas()
def run(config: Config) -> Result:
    if config.n_scales < 2 or not 0 < config.scale_min < config.scale_max:
        raise ValueError(f"expected `n_scales` >= 2 and 0 < `scale_min` < `scale_max`, got "
                         f"{config.n_scales}, {config.scale_min}, {config.scale_max}")
    common.check_seeds("batch-norm", config.seeds)
    scales = np.geomspace(config.scale_max, config.scale_min, config.n_scales).tolist()
    result = Result(config.dataset, list(config.seeds), scales, [], [], [], [], [])
    for seed in config.seeds:
        data = common.load_data(config.dataset, config.n_train, 100, seed=seed)
        plain, bn, diverged = [], [], []
        for std in scales:
            set_seed(seed)
            acc, div = _train(_scaled_net(data, config, std, batch_norm=False), data, config,
                              seed)
            plain.append(acc)
            diverged.append(div)
            set_seed(seed)
            bn.append(_train(_scaled_net(data, config, std, batch_norm=True), data, config,
                             seed)[0])
        if not result.plain_accuracy:
            result.plain_accuracy, result.bn_accuracy = plain, bn
        result.plain_final_by_seed.append([a[-1] for a in plain])
        result.bn_final_by_seed.append([a[-1] for a in bn])
        result.plain_diverged_by_seed.append(diverged)
        if config.residual_blocks > 0:
            result.residual_blocks = config.residual_blocks
            for name, residual in (("plain", False), ("residual", True)):
                set_seed(seed)
                stats = GradientStats()
                acc, _ = _train(_deep_net(data, config, residual), data, config, seed, [stats])
                layers = list(stats.norms)
                result.residual_accuracy.setdefault(name, acc)
                result.residual_final_by_seed.setdefault(name, []).append(acc[-1])
                result.residual_grad_ratio_by_seed.setdefault(name, []).append(
                    stats.norms[layers[0]][0] / stats.norms[layers[-1]][0])
    # The checks read the median over the seeds of every final accuracy.
    n = len(scales)
    pf, bf = result.plain_final, result.bn_final
    learned_bn = sum(a >= LEARNED for a in bf)
    learned_plain = sum(a >= LEARNED for a in pf)
    checks = {
        "batch norm learns at most scales": learned_bn >= 0.6 * n,
        "batch norm learns at more scales than plain": learned_bn > learned_plain,
        "batch norm ahead at most scales": sum(b > p for p, b in zip(pf, bf)) >= 0.6 * n,
        "batch norm's mean accuracy over scales higher by 0.2": np.mean(bf) > np.mean(pf) + 0.2,
    }
    if result.residual_final_by_seed:
        r = result.residual_final
        checks["residual stack trains, plain stack lags"] = (
            r["residual"] >= LEARNED and r["residual"] > r["plain"] + 0.3)
    result.checks = checks
    result.claim_holds = all(checks.values())
    return result


def plot(result: Result, out_dir: Path) -> list[Path]:
    plt = plots.pyplot()
    out_dir = Path(out_dir)
    files = []
    n = len(result.scales)
    cols = 4 if n > 6 else 3
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.7 * cols, 2.0 * rows), squeeze=False,
                             sharex=True, sharey=True)
    for k, ax in enumerate(axes.flat):
        if k >= n:
            ax.set_visible(False)
            continue
        epochs = range(1, len(result.bn_accuracy[k]) + 1)
        ax.plot(epochs, result.bn_accuracy[k], color="C0", lw=1.2, label="batch norm")
        ax.plot(epochs, result.plain_accuracy[k], color="C1", lw=1.2, ls="--", label="plain")
        suffix = " (overflow)" if result.plain_diverged_by_seed[0][k] else ""
        ax.set_title(f"weight std {result.scales[k]:.2g}{suffix}", fontsize=9)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("epoch")
    for ax in axes[:, 0]:
        ax.set_ylabel("train accuracy")
    fig.suptitle(f"{result.dataset}: training accuracy with batch normalization (solid) and "
                 f"without (dashed) for each initial weight scale (seed {result.seeds[0]})",
                 fontsize=11)
    fig.tight_layout()
    files.append(plots.save(fig, out_dir / "batch_norm_scales.png"))

    panels = 2 if result.residual_accuracy else 1
    fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 4), squeeze=False)
    ax = axes[0][0]
    ax.semilogx(result.scales, result.bn_final, marker="o", color="C0", label="batch norm")
    ax.semilogx(result.scales, result.plain_final, marker="s", ls="--", color="C1",
                label="plain")
    ax.axhline(0.1, color="k", lw=0.6, ls=":", label="chance (10 classes)")
    ax.invert_xaxis()
    ax.set(title=f"training accuracy after {len(result.bn_accuracy[0])} epochs "
                 f"(median of {len(result.seeds)} seeds)",
           xlabel="std of the initial weights (log scale)", ylabel="train accuracy",
           ylim=(0, 1.02))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    if result.residual_accuracy:
        ax = axes[0][1]
        for k, (name, acc) in enumerate(result.residual_accuracy.items()):
            ratio = result.residual_grad_ratio_by_seed[name][0]
            ax.plot(range(1, len(acc) + 1), acc, marker=".", color=f"C{k + 2}",
                    label=f"{name} (first/last gradient {ratio:.0e})")
        layers = 2 * result.residual_blocks + 1
        ax.set(title=f"{layers} hidden ReLU layers: plain vs residual blocks (seed "
                     f"{result.seeds[0]})", xlabel="epoch",
               ylabel="train accuracy", ylim=(0, 1.02))
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    files.append(plots.save(fig, out_dir / "batch_norm_summary.png"))
    return files

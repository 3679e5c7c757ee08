"""Lab: dying ReLU (죽은 뉴런) under a large learning rate, and Leaky ReLU as the remedy.

The lecture: "입력이 음수일 때 그래디언트도 0이 됨, 뉴런이 완전히 비활성화됨 ... '죽은 뉴런' 문제 ...
다시 활성화되거나 학습에 기여하는 것이 어려워짐", and Leaky ReLU "음수 입력에서도 아주 작은 기울기를
허용함으로써 모든 입력에 대해 그래디언트를 유지".  A ReLU unit whose pre-activation is negative for
every input outputs 0 for every input and passes back a gradient of exactly 0: nothing moves its
incoming weights any more, so it stays dead unless the layers below change its inputs.

The lab trains the same network, three hidden layers of 100 units on the standardized 8 x 8 digits,
with ReLU and with Leaky ReLU (slope 0.01 for negative inputs), by Adam at a small and at a large
learning rate, and after every epoch counts, per hidden layer, the units that are **inactive on
every training sample** (pre-activation <= 0 for all of them; for ReLU these are the dead units).
After training it checks the gradient of the full-batch loss: every dead ReLU unit's incoming
weights and bias get a gradient of exactly 0, and no Leaky ReLU unit's weights all do.

A large step throws many units' pre-activations below zero for every input at once.  With ReLU
they never come back and the network loses most of its hidden layers; with Leaky ReLU the same
steps make units inactive too, but their small gradient keeps moving them and many come back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neuralab import nn, no_grad, optim
from neuralab import seed as set_seed
from neuralab.data import StandardScaler, load_digits, train_test_split
from neuralab.threads import single_thread_blas
from neuralab.train import LambdaCallback, Trainer
import neuralab.io.figures as plots
from neuralab.labs import common

TITLE = "Dying ReLU under a large learning rate, ReLU vs Leaky ReLU"
#: at the large learning rate, on every seed: at least this fraction of the ReLU network's hidden
#: units dead at the end ...
MIN_DEAD = 0.3
#: ... more than Leaky ReLU's inactive fraction by at least this ...
MIN_DEAD_GAP = 0.15
#: ... and Leaky ReLU's test accuracy higher than ReLU's by at least this
MIN_ACCURACY_GAP = 0.2
#: at the small learning rate, on every seed: at most this fraction of ReLU units dead
MAX_DEAD_SMALL_LR = 0.05
#: the test accuracy compared is the mean over the last this many epochs
FINAL_EPOCHS = 3
CLAIM = (
    "Under a large learning rate many ReLU units die (죽은 뉴런): inactive on every training "
    "sample, they get a gradient of exactly 0 and stay dead, and the network stops learning; "
    "Leaky ReLU keeps a gradient on every unit, its units come back, and it goes on learning. "
    "Decided on every seed, Adam at the large learning rate: at least "
    f"{MIN_DEAD:.0%} of the ReLU hidden units dead at the end, every dead unit's gradient exactly "
    f"0, Leaky ReLU's inactive fraction lower by at least {MIN_DEAD_GAP:g} with no unit's "
    f"gradient 0, and its test accuracy higher by at least {MIN_ACCURACY_GAP:g}; at the small "
    f"learning rate at most {MAX_DEAD_SMALL_LR:.0%} of the ReLU units dead."
)
CONCEPTS = [29, 5, 12]

ACTIVATIONS = ("relu", "leaky_relu")


@dataclass
class Config:
    hidden_layers: int = 3
    units: int = 100
    lr_small: float = 0.001
    lr_large: float = 0.1
    epochs: int = 30
    batch_size: int = 32
    leaky_slope: float = 0.01
    n_test: int = 500
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)

    @classmethod
    def quick(cls) -> Config:
        return cls(epochs=8, seeds=(0, 1, 2))


@dataclass
class SeedRun:
    seed: int
    activation: str
    lr: float
    inactive: list[float]  # fraction of all hidden units inactive on every sample, per epoch
    inactive_per_layer: list[float]  # at the end
    revived: float  # units inactive after the first epoch that are active at the end (fraction)
    test_accuracy: list[float]  # per epoch
    zero_gradient: float  # fraction of hidden units whose incoming weights' gradient is all 0
    dead_with_nonzero_gradient: int  # inactive ReLU units with a gradient: must be 0

    @property
    def final_accuracy(self) -> float:
        """The test accuracy averaged over the last FINAL_EPOCHS epochs (at a large learning
        rate a single epoch's accuracy jumps)."""
        return float(np.mean(self.test_accuracy[-FINAL_EPOCHS:]))


@dataclass
class Result:
    n_train: int
    n_test: int
    hidden_units: int
    runs: list[SeedRun]
    checks: dict[str, bool] = field(default_factory=dict)
    claim_holds: bool = False

    def summary(self) -> str:
        lines = [f"digits: {self.n_train} training, {self.n_test} test samples; "
                 f"{self.hidden_units} hidden units; inactive = pre-activation <= 0 on every "
                 f"training sample (dead, for ReLU); test accuracy: mean of the last "
                 f"{FINAL_EPOCHS} epochs",
                 f"{'activation':>10} {'lr':>6} {'seed':>5} {'inactive':>9} {'per layer':>17} "
                 f"{'revived':>8} {'grad 0':>7} {'test acc':>9}"]
        for r in self.runs:
            layers = " ".join(f"{f:.2f}" for f in r.inactive_per_layer)
            lines.append(f"{r.activation:>10} {r.lr:>6g} {r.seed:>5} {r.inactive[-1]:>9.3f} "
                         f"{layers:>17} {r.revived:>8.3f} {r.zero_gradient:>7.3f} "
                         f"{r.final_accuracy:>9.3f}")
        for lr in sorted({r.lr for r in self.runs}):
            for act in ACTIVATIONS:
                rows = [r for r in self.runs if r.lr == lr and r.activation == act]
                lines.append(f"{act} at lr {lr:g}: inactive at the end median "
                             f"{np.median([r.inactive[-1] for r in rows]):.3f}, test accuracy "
                             f"median {np.median([r.final_accuracy for r in rows]):.3f}")
        lines += ["", "Checks: " + ", ".join(f"{k}={'ok' if v else 'FAILED'}"
                                             for k, v in self.checks.items())]
        return "\n".join(lines)


def _data(n_test: int) -> tuple[np.ndarray, ...]:
    x, y = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=n_test, stratify=y,
                                                        rng=0)
    scaler = StandardScaler().fit(x_train)  # fitted on the training rows only
    return (scaler.transform(x_train).astype(np.float32), y_train,
            scaler.transform(x_test).astype(np.float32), y_test)


def _inactive(hidden: list[tuple[nn.Dense, nn.Module]], x: np.ndarray) -> list[np.ndarray]:
    """Per hidden layer, a boolean per unit: its pre-activation is <= 0 on every row of ``x``."""
    masks = []
    with no_grad():
        h = x
        for dense, activation in hidden:
            z = dense(h)
            masks.append(np.all(z.data <= 0, axis=0))
            h = activation(z)
    return masks


def _run(config: Config, data: tuple[np.ndarray, ...], activation: str, lr: float,
         seed: int) -> SeedRun:
    x_train, y_train, x_test, y_test = data
    set_seed(seed)
    hidden = [(nn.Dense(config.units, kernel_initializer="he_normal",
                        input_dim=x_train.shape[1] if i == 0 else None),
               nn.ReLU() if activation == "relu" else nn.LeakyReLU(config.leaky_slope))
              for i in range(config.hidden_layers)]
    model = nn.Sequential([*(layer for pair in hidden for layer in pair), nn.Dense(10)])
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=lr),
                      rng=seed)
    inactive: list[float] = []
    accuracy: list[float] = []
    after_first: list[np.ndarray] = []

    def record(epoch: int, logs: dict) -> None:
        masks = _inactive(hidden, x_train)
        if not after_first:
            after_first.extend(masks)
        inactive.append(float(np.mean(np.concatenate(masks))))
        accuracy.append(float(trainer.evaluate(x_test, y_test)["accuracy"]))

    trainer.fit(x_train, y_train, epochs=config.epochs, batch_size=config.batch_size,
                verbose=0, callbacks=[LambdaCallback(on_epoch_end=record)])
    masks = _inactive(hidden, x_train)
    # the gradient of the full-batch loss: a unit's incoming weights (a column) and its bias
    model.zero_grad()
    nn.CrossEntropyLoss()(model(x_train), y_train).backward()
    zero = [np.all(d.weight.grad == 0, axis=0) & (d.bias.grad == 0) for d, _ in hidden]
    all_masks, all_zero = np.concatenate(masks), np.concatenate(zero)
    revived = float(np.mean(np.concatenate(after_first) & ~all_masks))
    return SeedRun(seed, activation, lr, inactive, [float(np.mean(m)) for m in masks], revived,
                   accuracy, float(np.mean(all_zero)),
                   int(np.sum(all_masks & ~all_zero)) if activation == "relu" else 0)


@single_thread_blas()
def run(config: Config) -> Result:
    if config.hidden_layers < 1 or config.units < 1 or config.epochs < FINAL_EPOCHS:
        raise ValueError(f"dying-relu expected `hidden_layers` and `units` >= 1 and `epochs` >= "
                         f"{FINAL_EPOCHS}, got {config.hidden_layers}, {config.units}, {config.epochs}")
    if not 0 < config.lr_small < config.lr_large:
        raise ValueError(f"dying-relu expected 0 < `lr_small` < `lr_large`, got "
                         f"{config.lr_small} and {config.lr_large}")
    if not 0 < config.leaky_slope < 1:
        raise ValueError(f"dying-relu expected a `leaky_slope` in (0, 1), got "
                         f"{config.leaky_slope}")
    common.check_seeds("dying-relu", config.seeds)
    data = _data(config.n_test)
    runs = [_run(config, data, act, lr, seed)
            for lr in (config.lr_small, config.lr_large) for act in ACTIVATIONS
            for seed in config.seeds]

    def get(act: str, lr: float, seed: int) -> SeedRun:
        return next(r for r in runs if (r.activation, r.lr, r.seed) == (act, lr, seed))

    large, small = config.lr_large, config.lr_small
    checks = {
        f"ReLU at lr {large:g}: >= {MIN_DEAD:.0%} of the units dead on every seed": all(
            get("relu", large, s).inactive[-1] >= MIN_DEAD for s in config.seeds),
        "every dead ReLU unit's gradient is exactly 0": all(
            r.dead_with_nonzero_gradient == 0 for r in runs if r.activation == "relu"),
        "no Leaky ReLU unit's gradient is all 0": all(
            r.zero_gradient == 0 for r in runs if r.activation == "leaky_relu"),
        f"Leaky ReLU at lr {large:g}: inactive fraction lower by >= {MIN_DEAD_GAP:g}": all(
            get("leaky_relu", large, s).inactive[-1]
            <= get("relu", large, s).inactive[-1] - MIN_DEAD_GAP for s in config.seeds),
        f"Leaky ReLU at lr {large:g}: test accuracy higher by >= {MIN_ACCURACY_GAP:g}": all(
            get("leaky_relu", large, s).final_accuracy
            >= get("relu", large, s).final_accuracy + MIN_ACCURACY_GAP
            for s in config.seeds),
        f"ReLU at lr {small:g}: <= {MAX_DEAD_SMALL_LR:.0%} of the units dead": all(
            get("relu", small, s).inactive[-1] <= MAX_DEAD_SMALL_LR for s in config.seeds),
    }
    return Result(len(data[0]), len(data[2]), config.hidden_layers * config.units, runs, checks,
                  all(checks.values()))


def plot(result: Result, out_dir: Path) -> list[Path]:
    plt = plots.pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.4))
    colors = {"relu": "C3", "leaky_relu": "C0"}
    lrs = sorted({r.lr for r in result.runs})
    for r in result.runs:
        style = "-" if r.lr == lrs[-1] else ":"
        epochs = np.arange(1, len(r.inactive) + 1)
        axes[0].plot(epochs, r.inactive, style, color=colors[r.activation], alpha=0.7, lw=1)
        axes[1].plot(epochs, r.test_accuracy, style, color=colors[r.activation], alpha=0.7, lw=1)
    for act, color in colors.items():
        for lr in lrs:
            axes[0].plot([], [], "-" if lr == lrs[-1] else ":", color=color,
                         label=f"{act}, lr {lr:g}")
    axes[0].set(title="hidden units inactive on every training sample", xlabel="epoch",
                ylabel="fraction of hidden units", ylim=(-0.02, 1.02))
    axes[0].legend(fontsize=8)
    axes[1].set(title="test accuracy (one line per seed)", xlabel="epoch",
                ylabel="test accuracy", ylim=(0, 1.02))
    ax = axes[2]
    n_layers = len(result.runs[0].inactive_per_layer)
    x = np.arange(n_layers)
    for k, act in enumerate(ACTIVATIONS):
        rows = [r for r in result.runs if r.activation == act and r.lr == lrs[-1]]
        per_layer = np.array([r.inactive_per_layer for r in rows])
        ax.bar(x + (k - 0.5) * 0.38, per_layer.mean(axis=0), width=0.38, color=colors[act],
               yerr=np.maximum(0.0, [per_layer.mean(axis=0) - per_layer.min(axis=0),
                                     per_layer.max(axis=0) - per_layer.mean(axis=0)]),
               capsize=3, label=act)
    ax.set(title=f"inactive units per layer at the end, lr {lrs[-1]:g} (mean, min-max)",
           xlabel="hidden layer", ylabel="fraction of the layer's units", xticks=x,
           xticklabels=[str(i + 1) for i in x], ylim=(0, 1.02))
    ax.legend(fontsize=8)
    for a in axes:
        a.grid(alpha=0.3)
    fig.tight_layout()
    return [plots.save(fig, Path(out_dir) / "dying_relu.png")]

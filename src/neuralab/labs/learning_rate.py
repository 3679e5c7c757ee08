"""Lab: the learning rate (학습률) and its schedules (학습률 감쇠).

Gradient descent moves the weights by w <- w - eta dL/dw; the learning rate eta decides how far.

1. On the parabola f(w) = w^2 the update is w <- (1 - 2 eta) w: too small an eta crawls
   (0 < 1 - 2 eta close to 1), eta = 0.5 jumps to the minimum, 0.5 < eta < 1 overshoots and
   oscillates around it (1 - 2 eta < 0), and eta > 1 diverges (|1 - 2 eta| > 1).
2. The same regimes on a neural network: a 10-32-1 MLP trained by plain mini-batch SGD on
   scikit-learn's diabetes regression (MSE on standardized targets), for learning rates from 1e-4
   to 10.
3. Schedules (learning-rate decay): StepLR, ExponentialLR, CosineAnnealingLR with a linear
   warmup, and ReduceLROnPlateau, drawn from their closed forms (``lr_curve``) and compared in
   training with a constant rate, all starting from the same high rate.  The diabetes targets are
   noisy, so the training loss cannot reach 0 and mini-batch noise keeps a constant-rate run
   bouncing above the minimum; shrinking the rate lets it settle lower.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neuralab import nn, optim, seed, tensor
from neuralab.data import StandardScaler
from neuralab.optim.lr_scheduler import lr_curve
from neuralab.train import Callback, Trainer
import neuralab.io.figures as plots
from neuralab.labs import common

TITLE = "The learning rate: too small, too large, and schedules"
CLAIM = (
    "Too small a learning rate (학습률) makes training slow, too large a one makes the loss "
    "oscillate and then diverge; a learning-rate schedule (학습률 감쇠: step, exponential, cosine "
    "with warmup, reduce on plateau) lets training start with a large rate and still settle at a "
    "lower loss than the same rate kept constant. Decided for every seed of `seeds`."
)
CONCEPTS = [11, 12]

PARABOLA_LRS = (0.05, 0.3, 0.9, 1.05)
SCHEDULES = ("constant", "step", "exponential", "cosine+warmup", "plateau")


@dataclass
class Config:
    lrs: tuple[float, ...] = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0)
    epochs: int = 60
    batch_size: int = 16
    hidden: int = 32
    schedule_lr: float = 0.2
    last_epochs: int = 10
    parabola_steps: int = 20
    #: each seed repeats the network part: new initial weights and shuffling
    seeds: tuple[int, ...] = (0, 1, 2)

    @classmethod
    def quick(cls) -> Config:
        return cls(lrs=(1e-4, 1e-2, 0.1, 1.0, 10.0), epochs=40, last_epochs=5)


@dataclass
class Result:
    parabola_paths: dict[str, list[float]]
    lrs: list[float]
    curves: dict[str, list[float]]
    level: dict[str, float]
    rise_fraction: dict[str, float]
    status: dict[str, str]
    best_lr: float
    schedule_lr: float
    schedule_lr_curves: dict[str, list[float]]
    schedule_curves: dict[str, list[float]]
    schedule_level: dict[str, float]
    last_epochs: int
    seeds: list[int] = field(default_factory=list)
    per_seed: list[dict] = field(default_factory=list)
    claim_holds: bool = False
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = ["f(w) = w^2 from w = 1, |w| after the last step:"]
        for lr, path in self.parabola_paths.items():
            lines.append(f"  lr {lr:<5} |w| = {abs(path[-1]):.3g}")
        lines += [
            "",
            f"MLP on diabetes, mini-batch SGD: mean training loss over the last {self.last_epochs} "
            + "epochs",
            f"{'lr':>8} {'loss':>9} {'epochs with a rise':>18}  regime",
        ]
        for lr in self.lrs:
            key = _key(lr)
            lines.append(
                f"{lr:>8g} {self.level[key]:>9.4g} {self.rise_fraction[key]:>18.2f}  "
                f"{self.status[key]}"
            )
        lines += ["", f"schedules from lr = {self.schedule_lr:g}: mean training loss over the last "
                  + f"{self.last_epochs} epochs"]
        for name in SCHEDULES:
            lines.append(f"  {name:<14} {self.schedule_level[name]:.4f}  (final lr "
                         f"{self.schedule_lr_curves[name][-1]:.3g})")
        lines += ["", f"per seed (the tables above are seed {self.seeds[0]}): best rate, "
                  "constant-rate level, the worst schedule's level / constant, checks:",
                  f"{'seed':>6} {'best lr':>8} {'constant':>9} {'worst/const':>12}  claim"]
        for row in self.per_seed:
            lines.append(f"{row['seed']:>6} {row['best_lr']:>8g} {row['constant']:>9.4f} "
                         f"{row['worst/const']:>12.4f}  {'holds' if row['holds'] else 'FAILS'}")
        for label, f in (("median", np.median), ("min", np.min), ("max", np.max)):
            lines.append(f"{label:>6} {f([r['best_lr'] for r in self.per_seed]):>8g} "
                         f"{f([r['constant'] for r in self.per_seed]):>9.4f} "
                         f"{f([r['worst/const'] for r in self.per_seed]):>12.4f}")
        held = sum(r["holds"] for r in self.per_seed)
        lines.append(f"the claim holds for {held} of {len(self.per_seed)} seeds")
        return "\n".join(lines)


def _key(lr: float) -> str:
    return f"{lr:g}"


class _StopWhenDiverged(Callback):
    """Ends training once the loss is no longer finite (or astronomically large)."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("val_loss", math.nan)
        if not math.isfinite(loss) or loss > 1e6:
            self.stop_training = True


def _diabetes() -> tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn.datasets import load_diabetes
    except ImportError:  # pragma: no cover - scikit-learn is part of the lab extra
        raise ImportError("this lab uses sklearn's diabetes data: pip install 'neuralab[lab]'"
                          ) from None
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X.astype(np.float32))
    y = StandardScaler().fit_transform(y.astype(np.float32).reshape(-1, 1))
    return X, y


def _model(hidden: int) -> nn.Sequential:
    return nn.Sequential([nn.Dense(hidden, activation="relu", input_dim=10), nn.Dense(1)])


def _make_schedule(name: str, opt: optim.Optimizer, epochs: int) -> optim.LRScheduler | None:
    if name == "constant":
        return None
    if name == "step":
        return optim.StepLR(opt, step_size=max(1, epochs // 3), gamma=0.1)
    if name == "exponential":
        return optim.ExponentialLR(opt, gamma=0.01 ** (1 / epochs))  # to 1 % of lr0 at the end
    if name == "cosine+warmup":
        return optim.CosineAnnealingLR(opt, T_max=epochs, warmup_epochs=max(1, epochs // 10))
    return optim.ReduceLROnPlateau(opt, factor=0.5, patience=3)


def _train(config: Config, seed_value: int, X: np.ndarray, y: np.ndarray, initial: dict,
           lr: float, schedule: str = "constant") -> tuple[list[float], list[float]]:
    """The full training loss before training and after every epoch, and the rate of each epoch."""
    model = _model(config.hidden)
    model.load_state_dict(initial)
    opt = optim.SGD(model.parameters(), lr=lr)
    trainer = Trainer(model, nn.MSELoss(), opt, scheduler=_make_schedule(schedule, opt,
                                                                          config.epochs),
                      rng=seed_value)
    start = trainer.evaluate(X, y)["loss"]
    # a diverging run overflows on purpose: its inf and nan are the result, not a bug
    with np.errstate(over="ignore", invalid="ignore"):
        # validating on the training data gives the full training loss with each epoch's final
        # weights (the running `loss` averages over weights that changed during the epoch)
        history = trainer.fit(X, y, validation_data=(X, y), epochs=config.epochs,
                              batch_size=config.batch_size, verbose=0,
                              callbacks=[_StopWhenDiverged()])
    return [start, *history.history["val_loss"]], list(history.history["lr"])


def _level(curve: list[float], config: Config) -> float:
    if len(curve) < config.epochs + 1 or not all(math.isfinite(v) for v in curve):
        return math.inf  # stopped early: diverged
    return float(np.mean(curve[-config.last_epochs:]))


def _parabola(lr: float, steps: int) -> list[float]:
    """Gradient descent on f(w) = w^2 from w = 1 with neuralab's SGD and autograd."""
    w = tensor([1.0], requires_grad=True, dtype=np.float64)
    opt = optim.SGD([w], lr=lr)
    path = [1.0]
    for _ in range(steps):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
        path.append(float(w.data[0]))
    return path


def run(config: Config) -> Result:
    """The experiment once per seed; the figures and tables show the first seed, and the claim
    holds only if every check holds for every seed."""
    common.check_seeds("learning-rate", config.seeds)
    results = [_run_seed(config, s) for s in config.seeds]
    first = results[0]
    first.seeds = list(config.seeds)
    first.per_seed = [
        {"seed": s, "best_lr": r.best_lr, "constant": r.schedule_level["constant"],
         "worst/const": max(r.schedule_level[n] for n in SCHEDULES[1:])
         / r.schedule_level["constant"], "holds": r.claim_holds}
        for s, r in zip(config.seeds, results)
    ]
    first.claim_holds = all(r.claim_holds for r in results)
    return first


def _run_seed(config: Config, seed_value: int) -> Result:
    if len(config.lrs) < 3 or any(lr <= 0 for lr in config.lrs):
        raise ValueError(f"learning-rate expected at least 3 positive `lrs`, got {config.lrs}")
    if config.epochs < 4 or not 1 <= config.last_epochs <= config.epochs:
        raise ValueError(
            "learning-rate expected `epochs` >= 4 and 1 <= `last_epochs` <= `epochs`, got "
            f"{config.epochs} and {config.last_epochs}"
        )
    seed(seed_value)
    paths = {_key(lr): _parabola(lr, config.parabola_steps) for lr in PARABOLA_LRS}

    X, y = _diabetes()
    initial = _model(config.hidden).state_dict()
    lrs = sorted(config.lrs)
    curves, level, rises, status = {}, {}, {}, {}
    for lr in lrs:
        key = _key(lr)
        curves[key], _ = _train(config, seed_value, X, y, initial, lr)
        level[key] = _level(curves[key], config)
        rises[key] = float(np.mean(np.diff(curves[key]) > 0))
    best = min(level, key=level.get)
    for lr in lrs:
        key = _key(lr)
        if not math.isfinite(level[key]) or level[key] > curves[key][0]:
            status[key] = "diverges"
        elif rises[key] >= 0.3:
            status[key] = "oscillates"
        elif level[key] > 1.2 * level[best]:
            status[key] = "too slow"
        else:
            status[key] = "good"

    lr_curves, sched_curves, sched_level = {}, {}, {}
    for name in SCHEDULES:
        sched_curves[name], used = _train(config, seed_value, X, y, initial,
                                         config.schedule_lr, name)
        sched_level[name] = _level(sched_curves[name], config)
        if name in ("constant", "plateau"):
            lr_curves[name] = used  # the plateau schedule depends on the losses: no closed form
        else:
            dummy = optim.SGD([tensor([0.0], requires_grad=True)], lr=config.schedule_lr)
            lr_curves[name] = lr_curve(_make_schedule(name, dummy, config.epochs),
                                       config.epochs).tolist()

    smallest, largest = _key(lrs[0]), _key(lrs[-1])
    first_diverging = min((lr for lr in lrs if status[_key(lr)] == "diverges"), default=math.inf)
    p = {lr: np.abs(paths[_key(lr)]) for lr in PARABOLA_LRS}
    checks = [
        # parabola: slow, fast, oscillating (sign flips, shrinking), diverging
        p[0.05][-1] > p[0.3][-1],
        np.all(np.diff(np.sign(paths[_key(0.9)])) != 0) and p[0.9][-1] < 1,
        p[1.05][-1] > 1,
        # the network: the best rate is neither extreme
        best not in (smallest, largest),
        level[smallest] > 1.5 * level[best] and rises[smallest] == 0,
        # the largest rates diverge, and only they: divergence sets in above some rate
        status[largest] == "diverges",
        all(status[_key(lr)] == "diverges" for lr in lrs if lr > first_diverging),
        # just below that rate the loss oscillates (rises in at least 30 % of the epochs)
        rises[_key(max(lr for lr in lrs if lr < first_diverging))] >= 0.3,
        # schedules: each ends lower than the constant rate they start from
        all(sched_level[name] < sched_level["constant"] for name in SCHEDULES[1:]),
    ]
    return Result(
        parabola_paths=paths,
        lrs=lrs,
        curves=curves,
        level=level,
        rise_fraction=rises,
        status=status,
        best_lr=float(best),
        schedule_lr=config.schedule_lr,
        schedule_lr_curves=lr_curves,
        schedule_curves=sched_curves,
        schedule_level=sched_level,
        last_epochs=config.last_epochs,
        claim_holds=bool(all(checks)),
    )


def plot(result: Result, out_dir: Path) -> list[Path]:
    plt = plots.pyplot()
    out_dir = Path(out_dir)
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(17, 4.8))
    # 1. the parabola: the path of w on f(w) = w^2
    w = np.linspace(-1.6, 1.6, 200)
    ax1.plot(w, w ** 2, color="k", lw=1)
    regimes = {0.05: "too small", 0.3: "good", 0.9: "too large: oscillates",
               1.05: "too large: diverges"}
    for (lr, label), color in zip(regimes.items(), ("tab:blue", "tab:green", "tab:orange",
                                                    "tab:red")):
        path = np.asarray(result.parabola_paths[_key(lr)])[:8]
        ax1.plot(path, path ** 2, "o-", ms=4, lw=1, color=color, label=f"lr = {lr:g} ({label})")
    ax1.set(title="Gradient descent on f(w) = w^2 from w = 1 (8 steps)", xlabel="w",
            ylabel="f(w)", xlim=(-1.6, 1.6), ylim=(-0.05, 2.6))
    ax1.legend(fontsize=8, loc="upper center")

    # 2. loss curves of the sweep; a diverging run is drawn up to the top edge
    start = result.curves[_key(result.lrs[0])][0]
    top = 1.3 * start
    cmap = plt.get_cmap("plasma")
    for i, lr in enumerate(result.lrs):
        key = _key(lr)
        curve = np.nan_to_num(np.asarray(result.curves[key], dtype=float), nan=np.inf)
        color = cmap(0.85 * i / max(1, len(result.lrs) - 1))
        ax2.plot(np.arange(len(curve)), np.minimum(curve, top), color=color,
                 lw=2.2 if key == _key(result.best_lr) else 1.2,
                 label=f"{lr:g} ({result.status[key]})")
    ax2.set(title="Training loss per epoch (MLP on diabetes, SGD)", xlabel="epoch",
            ylabel="training MSE", ylim=(0.9 * min(result.level.values()), top))
    ax2.legend(title="learning rate", fontsize=7, ncol=2, loc="upper right")

    # 3. final level vs learning rate
    lrs = np.asarray(result.lrs)
    levels = np.asarray([result.level[_key(lr)] for lr in lrs])
    finite = np.isfinite(levels)
    ax3.semilogx(lrs[finite], levels[finite], "o-", color="k")
    ax3.axhline(start, color="gray", ls=":", lw=1, label="loss before training")
    if (~finite).any():
        ax3.plot(lrs[~finite], np.full((~finite).sum(), 1.3 * start), "x", color="tab:red",
                 ms=10, mew=2, label="diverged (loss -> inf / nan)")
    ax3.axvline(result.best_lr, color="tab:green", ls="--", lw=1,
                label=f"best: lr = {result.best_lr:g}")
    ax3.set(title=f"Loss after training (mean of the last {result.last_epochs} epochs)",
            xlabel="learning rate (log scale)", ylabel="training MSE",
            ylim=(0, 1.45 * start))
    ax3.legend(fontsize=8)
    for ax in (ax1, ax2, ax3):
        ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    files = [plots.save(fig, out_dir / "learning_rate_sweep.png")]

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.8))
    colors = dict(zip(SCHEDULES, ("k", "tab:blue", "tab:orange", "tab:green", "tab:purple")))
    for name in SCHEDULES:
        rates = result.schedule_lr_curves[name]
        ax1.semilogy(np.arange(len(rates)), rates, color=colors[name], lw=1.5,
                     drawstyle="steps-post", label=name)
        curve = result.schedule_curves[name]
        ax2.plot(np.arange(len(curve)), curve, color=colors[name], lw=1.2,
                 label=f"{name}: {result.schedule_level[name]:.3f}")
    ax1.set(title=f"Learning rate per epoch (from lr = {result.schedule_lr:g})", xlabel="epoch",
            ylabel="learning rate (log scale)")
    ax2.set(title=f"Training loss with each schedule (last {result.last_epochs} epochs' mean "
                  "in the legend)", xlabel="epoch", ylabel="training MSE",
            ylim=(0.9 * min(result.schedule_level.values()),
                  1.6 * result.schedule_level["constant"]))
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.tight_layout()
    files.append(plots.save(fig, out_dir / "lr_schedules.png"))
    return files

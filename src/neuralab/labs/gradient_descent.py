"""Lab: batch, stochastic and mini-batch gradient descent (배치 / 확률적 / 미니배치 경사하강법).

The same MLP (64-32-10, ReLU) starts from the same weights on the same data (sklearn's 8x8
digits, standardized) and is trained with plain SGD, ``w <- w - eta g_B``, at the same learning
rate; only the batch size B changes:

* B = N (batch gradient descent): g_B is the exact gradient of the training loss, one update per
  epoch;
* B = 1 (stochastic gradient descent): the gradient of one random sample, N updates per epoch;
* B = 32 (mini-batch): in between, ceil(N / 32) updates per epoch.

The full training loss is recorded per epoch, per update and per second of training, and the
noise of the gradient estimate, ||g_B - g|| / ||g|| (which falls like 1/sqrt(B)), is measured at
the initial weights on random batches.

The lecture's picture of the three paths over the loss contours (등고선) is drawn on a problem
with two weights, where the loss surface can be shown whole: linear regression y ~ w1 x1 + w2 x2
(no bias) on ``contour_samples`` points with correlated features, mean squared error, plain SGD
at one learning rate from one start for ``contour_steps`` updates with B = N, B =
``contour_batch`` and B = 1.  After every update the full loss is evaluated; the path's
*wiggle* is its length divided by the straight distance from its start to its end (1 for a
straight path).

The whole experiment is repeated for each of several seeds (new initial weights, new shuffling,
new noise batches, a new regression sample); the claim holds only if every one of its orderings
holds for every seed.  The figures and the first table show the first seed.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neuralab import nn, no_grad, optim, seed
from neuralab.data import DataLoader, StandardScaler
import neuralab.io.figures as plots
from neuralab.threads import single_thread_blas
from neuralab.labs import common

TITLE = "Batch, stochastic and mini-batch gradient descent"
CLAIM = (
    "Stochastic gradient descent (확률적 경사하강법, one sample per update) is noisy but makes N "
    "updates per epoch, so it lowers the loss the most per epoch; batch gradient descent (배치 "
    "경사하강법) follows the exact gradient smoothly but makes one update per epoch, so it is the "
    "slowest per epoch; mini-batch gradient descent (미니배치) is the compromise: its gradient "
    "noise falls like 1/sqrt(B), so its loss falls smoothly, while it still makes many updates "
    "per epoch. On the loss contours of a two-weight linear regression the batch path is "
    "smooth and its loss falls at every update, SGD's path zigzags and its loss rises after "
    "many updates, mini-batch in between. Decided for every seed of `seeds`: each ordering "
    "must hold for each seed."
)
CONCEPTS = [11]

MODES = ("batch", "mini-batch", "stochastic")


@dataclass
class Config:
    n_samples: int = 1797
    hidden: int = 32
    epochs: int = 20
    lr: float = 0.03
    mini_batch_size: int = 32
    trace_steps: int = 300
    noise_batches: int = 30
    #: the two-weight linear regression of the contour figure
    contour_samples: int = 200
    contour_steps: int = 100
    contour_lr: float = 0.1
    contour_batch: int = 20
    #: each seed repeats the experiment: new initial weights, shuffling and noise batches
    seeds: tuple[int, ...] = (0, 1, 2)

    @classmethod
    def quick(cls) -> Config:
        return cls(n_samples=300, epochs=8, trace_steps=100, noise_batches=12)


#: the numbers of one seed that the claim is decided on (printed per seed by ``summary()``)
SEED_COLUMNS = ("final batch", "final mini", "final SGD", "SGD/mini", "mini/batch",
                "SGD raising", "mini @ k", "SGD @ k")
#: the contour problem's numbers per seed: the fraction of updates after which the full loss
#: rose, and the path's wiggle (length / distance from start to end), per mode
CONTOUR_COLUMNS = ("raising batch", "raising mini", "raising SGD", "wiggle batch",
                   "wiggle mini", "wiggle SGD")
#: the margins of the contour orderings (measured: SGD's raising fraction exceeds mini-batch's
#: by about twice this, and its wiggle is well over twice mini-batch's; see the test)
RAISE_MARGIN = 0.1
WIGGLE_FACTOR = 1.5


@dataclass
class Result:
    n_samples: int
    lr: float
    architecture: str
    batch_sizes: dict[str, int]
    updates_per_epoch: dict[str, int]
    epoch_loss: dict[str, list[float]]
    trace_step: dict[str, list[int]]
    trace_loss: dict[str, list[float]]
    trace_time: dict[str, list[float]]
    step_time: dict[str, float]
    epoch_time: dict[str, float]
    increase_fraction: dict[str, float]
    loss_at_step: dict[str, float]
    loss_at_step_k: int
    noise_batch_sizes: list[int]
    gradient_noise: list[float]
    gradient_noise_theory: list[float]
    initial_weights: dict[str, list]
    seeds: list[int] = field(default_factory=list)
    per_seed: list[dict] = field(default_factory=list)  # SEED_COLUMNS + "seed", "holds"
    #: the first seed's contour problem: grid, loss on it, the minimum, paths and their losses
    contour: dict = field(default_factory=dict)
    contour_per_seed: list[dict] = field(default_factory=list)  # CONTOUR_COLUMNS + seed, holds
    claim_holds: bool = False
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        k = self.loss_at_step_k
        header = (
            f"{'mode':<11} {'B':>5} {'updates/epoch':>13} {'loss ep 1':>10} {'final loss':>10} "
            f"{f'loss @ {k} upd':>13} {'upd. raising loss':>17} {'time/update':>11} "
            f"{'time/epoch':>10}"
        )
        lines = [header]
        for mode in MODES:
            lines.append(
                f"{mode:<11} {self.batch_sizes[mode]:>5} {self.updates_per_epoch[mode]:>13} "
                f"{self.epoch_loss[mode][1]:>10.4f} {self.epoch_loss[mode][-1]:>10.4f} "
                f"{_fmt(self.loss_at_step.get(mode)):>13} "
                f"{self.increase_fraction[mode]:>17.2f} {self.step_time[mode] * 1e3:>9.3f}ms "
                f"{self.epoch_time[mode] * 1e3:>8.1f}ms"
            )
        noise = ", ".join(f"B={b}: {v:.3f} ({t:.3f})" for b, v, t in zip(
            self.noise_batch_sizes, self.gradient_noise, self.gradient_noise_theory))
        lines += ["", "gradient noise ||g_B - g|| / ||g|| at the start, measured (theory):",
                  noise]
        lines += ["", f"per seed (the table above is seed {self.seeds[0]}); k = {k} updates, "
                  "SGD/mini and mini/batch are ratios of the final losses:",
                  f"{'seed':>6} " + " ".join(f"{c:>11}" for c in SEED_COLUMNS) + "  orderings"]
        for row in self.per_seed:
            lines.append(f"{row['seed']:>6} " + " ".join(f"{row[c]:>11.4g}" for c in SEED_COLUMNS)
                         + f"  {'hold' if row['holds'] else 'FAIL'}")
        for label, f in (("median", np.median), ("min", np.min), ("max", np.max)):
            lines.append(f"{label:>6} " + " ".join(
                f"{f([row[c] for row in self.per_seed]):>11.4g}" for c in SEED_COLUMNS))
        held = sum(row["holds"] for row in self.per_seed)
        lines.append(f"the orderings hold for {held} of {len(self.per_seed)} seeds")
        c = self.contour
        lines += ["", f"loss contours: linear regression with two weights, {c['n']} samples, "
                  f"{c['steps']} updates of each at lr = {c['lr']:g} with B = "
                  + ", ".join(str(c["batch_sizes"][m]) for m in MODES)
                  + "; raising = fraction of updates after which the full loss rose, wiggle = "
                  "path length / distance from start to end",
                  f"{'seed':>6} " + " ".join(f"{col:>13}" for col in CONTOUR_COLUMNS)
                  + "  orderings"]
        for row in self.contour_per_seed:
            lines.append(f"{row['seed']:>6} " + " ".join(f"{row[col]:>13.3f}"
                                                         for col in CONTOUR_COLUMNS)
                         + f"  {'hold' if row['holds'] else 'FAIL'}")
        for label, f in (("min", np.min), ("max", np.max)):
            lines.append(f"{label:>6} " + " ".join(
                f"{f([row[col] for row in self.contour_per_seed]):>13.3f}"
                for col in CONTOUR_COLUMNS))
        held = sum(row["holds"] for row in self.contour_per_seed)
        lines.append(f"needed on every seed: batch never raises the loss; SGD raises it after "
                     f"more updates than mini-batch by {RAISE_MARGIN:g}; wiggle batch < mini < "
                     f"SGD, SGD's over {WIGGLE_FACTOR:g} x mini-batch's; held for {held} of "
                     f"{len(self.contour_per_seed)} seeds")
        return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _digits(n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    from neuralab.data import load_digits

    X, y = load_digits()
    return StandardScaler().fit_transform(X[:n_samples]), y[:n_samples]


def _model(hidden: int) -> nn.Sequential:
    return nn.Sequential([nn.Dense(hidden, activation="relu", input_dim=64), nn.Dense(10)])


def run(config: Config) -> Result:
    if not 10 <= config.n_samples <= 1797:
        raise ValueError(
            f"gradient-descent expected `n_samples` between 10 and 1797 (the digits), "
            f"got {config.n_samples}"
        )
    if config.epochs < 2 or config.mini_batch_size < 2 or config.lr <= 0:
        raise ValueError(
            "gradient-descent expected `epochs` >= 2, `mini_batch_size` >= 2 and `lr` > 0, got "
            f"{config.epochs}, {config.mini_batch_size}, {config.lr}"
        )
    common.check_seeds("gradient-descent", config.seeds)
    if config.contour_samples < 10 or config.contour_steps < 10 or not (
            2 <= config.contour_batch < config.contour_samples) or config.contour_lr <= 0:
        raise ValueError(
            "gradient-descent expected `contour_samples` >= 10, `contour_steps` >= 10, "
            "2 <= `contour_batch` < `contour_samples` and `contour_lr` > 0, got "
            f"{config.contour_samples}, {config.contour_steps}, {config.contour_batch}, "
            f"{config.contour_lr}")
    X, y = _digits(config.n_samples)
    runs = [_run_seed(config, s, X, y) for s in config.seeds]
    with single_thread_blas():
        contours = [_contours(config, s) for s in config.seeds]
    first = runs[0]
    return Result(
        n_samples=len(X),
        lr=config.lr,
        architecture=f"64-{config.hidden}-10",
        **{name: first[name] for name in _SEED_FIELDS},
        seeds=list(config.seeds),
        per_seed=[r["row"] for r in runs],
        contour=contours[0]["figure"],
        contour_per_seed=[c["row"] for c in contours],
        claim_holds=all(r["row"]["holds"] for r in runs)
        and all(c["row"]["holds"] for c in contours),
    )


_SEED_FIELDS = ("batch_sizes", "updates_per_epoch", "epoch_loss", "trace_step", "trace_loss",
                "trace_time", "step_time", "epoch_time", "increase_fraction", "loss_at_step",
                "loss_at_step_k", "noise_batch_sizes", "gradient_noise", "gradient_noise_theory",
                "initial_weights")


def _run_seed(config: Config, seed_value: int, X: np.ndarray, y: np.ndarray) -> dict:
    """The three batch sizes from one seed's initial weights, the gradient noise, and whether
    each ordering of the claim holds."""
    seed(seed_value)
    n = len(X)
    initial = _model(config.hidden).state_dict()
    sizes = {"batch": n, "mini-batch": min(config.mini_batch_size, n), "stochastic": 1}
    # the updates that mini-batch descent makes in all: where SGD is compared with it
    k = math.ceil(n / sizes["mini-batch"]) * config.epochs
    with single_thread_blas():
        runs = {mode: _train(config, seed_value, X, y, initial, sizes[mode], k)
                for mode in MODES}
    updates = {mode: r["updates"] for mode, r in runs.items()}
    epoch_loss = {mode: r["epoch_loss"] for mode, r in runs.items()}
    trace_step = {mode: r["steps"] for mode, r in runs.items()}
    trace_loss = {mode: r["losses"] for mode, r in runs.items()}
    increase = {mode: r["increase"] for mode, r in runs.items()}
    step_time = {mode: r["step_time"] for mode, r in runs.items()}
    trace_time = {mode: [s * step_time[mode] for s in trace_step[mode]] for mode in MODES}
    epoch_time = {mode: updates[mode] * step_time[mode] for mode in MODES}
    at_k = {mode: trace_loss[mode][trace_step[mode].index(k)] for mode in MODES[1:]}

    noise_sizes, noise, noise_theory = _gradient_noise(initial, config, seed_value, X, y)
    finite = all(math.isfinite(v) for m in MODES for v in epoch_loss[m])
    checks = [
        finite,
        updates["stochastic"] == n and updates["batch"] == 1,
        # per epoch: more updates -> lower loss
        epoch_loss["stochastic"][-1] < epoch_loss["mini-batch"][-1] < epoch_loss["batch"][-1],
        epoch_loss["stochastic"][1] < epoch_loss["mini-batch"][1] < epoch_loss["batch"][1],
        # noise: SGD's updates often raise the loss; batch gradient descent's never do
        increase["stochastic"] > max(increase["mini-batch"], 0.05),
        increase["batch"] == 0.0,
        # per update: an average over 32 samples is worth more than one sample's gradient
        at_k["mini-batch"] < at_k["stochastic"],
        noise[0] > noise[noise_sizes.index(sizes["mini-batch"])] > noise[-1],
    ]
    final = {mode: epoch_loss[mode][-1] for mode in MODES}
    row = {
        "seed": seed_value,
        "final batch": final["batch"],
        "final mini": final["mini-batch"],
        "final SGD": final["stochastic"],
        "SGD/mini": final["stochastic"] / final["mini-batch"],
        "mini/batch": final["mini-batch"] / final["batch"],
        "SGD raising": increase["stochastic"],
        "mini @ k": at_k["mini-batch"],
        "SGD @ k": at_k["stochastic"],
        "holds": bool(all(checks)),
    }
    return {
        "batch_sizes": sizes,
        "updates_per_epoch": updates,
        "epoch_loss": epoch_loss,
        "trace_step": trace_step,
        "trace_loss": trace_loss,
        "trace_time": trace_time,
        "step_time": step_time,
        "epoch_time": epoch_time,
        "increase_fraction": increase,
        "loss_at_step": at_k,
        "loss_at_step_k": k,
        "noise_batch_sizes": noise_sizes,
        "gradient_noise": noise,
        "gradient_noise_theory": noise_theory,
        "initial_weights": {name: w.tolist() for name, w in initial.items()},
        "row": row,
    }


def _train(
    config: Config, seed_value: int, X: np.ndarray, y: np.ndarray, initial: dict,
    batch_size: int, k: int
) -> dict:
    """Plain SGD with one batch size from the shared initial weights; the full training loss
    after every one of the first ``trace_steps`` updates, ~150 log-spaced ones, every epoch's
    last one and update ``k``."""
    model = _model(config.hidden)
    model.load_state_dict(initial)
    criterion = nn.CrossEntropyLoss()
    opt = optim.SGD(model.parameters(), lr=config.lr)
    loader = DataLoader((X, y), batch_size=batch_size, shuffle=True, rng=seed_value)

    def full_loss() -> float:
        with no_grad():
            return float(criterion(model(X), y).data)

    updates = len(loader)
    total = updates * config.epochs
    record = set(range(1, min(config.trace_steps, total) + 1))
    record |= {int(s) for s in np.unique(np.geomspace(1, total, 150).round())}
    record |= {updates * (e + 1) for e in range(config.epochs)} | {k}
    steps, losses = [0], [full_loss()]
    epoch_loss = [losses[0]]
    durations = np.empty(total)
    step = 0
    for _ in range(config.epochs):
        for xb, yb in loader:
            start = time.perf_counter()
            loss = criterion(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            durations[step] = time.perf_counter() - start
            step += 1
            if step in record:
                steps.append(step)
                losses.append(full_loss())
        epoch_loss.append(losses[-1])
    traced = np.asarray(losses[: min(config.trace_steps, total) + 1])
    return {
        "updates": updates,
        "epoch_loss": epoch_loss,
        "steps": steps,
        "losses": losses,
        "increase": float(np.mean(np.diff(traced) > 0)),
        # an update sometimes waits milliseconds for a core on a shared machine (and batch
        # descent makes so few that even its median can be hit): the fastest update, times the
        # number of updates, is the reproducible time axis, as timeit reports the minimum
        "step_time": float(np.min(durations)),
    }


def _contours(config: Config, seed_value: int) -> dict:
    """Batch, mini-batch and stochastic gradient descent on a linear regression with two weights
    (mean squared error, no bias), ``contour_steps`` updates each from the same start: the paths,
    the full loss after every update and, for the figure, the loss on a grid of weights."""
    rng = np.random.default_rng(seed_value)
    n = config.contour_samples
    # correlated features make the contours elongated ellipses, as in the lecture's picture
    x1 = rng.normal(size=n)
    x2 = 0.8 * x1 + 0.6 * rng.normal(size=n)
    X = np.stack([x1, x2], axis=1).astype(np.float32)
    y = (X @ np.array([1.0, 0.5]) + 0.5 * rng.normal(size=n)).astype(np.float32)[:, None]
    start = np.array([[-2.5], [0.5]], dtype=np.float32)
    sizes = {"batch": n, "mini-batch": config.contour_batch, "stochastic": 1}
    criterion = nn.MSELoss()
    paths: dict[str, list[list[float]]] = {}
    losses: dict[str, list[float]] = {}
    for mode in MODES:
        model = nn.Sequential([nn.Dense(1, input_dim=2, use_bias=False)])
        model.load_state_dict({"0.weight": start})
        opt = optim.SGD(model.parameters(), lr=config.contour_lr)
        loader = DataLoader((X, y), batch_size=sizes[mode], shuffle=True, rng=seed_value + 1)
        weight = model.layers[0].weight

        def full_loss() -> float:
            with no_grad():
                return float(criterion(model(X), y).data)

        path, loss_path = [weight.data.ravel().tolist()], [full_loss()]
        while len(path) <= config.contour_steps:
            for xb, yb in loader:
                loss = criterion(model(xb), yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
                path.append(weight.data.ravel().tolist())
                loss_path.append(full_loss())
                if len(path) > config.contour_steps:
                    break
        paths[mode], losses[mode] = path, loss_path
    best = np.linalg.lstsq(X.astype(np.float64), y[:, 0].astype(np.float64), rcond=None)[0]
    row: dict = {"seed": seed_value}
    for mode, short in zip(MODES, ("batch", "mini", "SGD")):
        p = np.asarray(paths[mode])
        row[f"raising {short}"] = float(np.mean(np.diff(losses[mode]) > 0))
        row[f"wiggle {short}"] = float(np.sum(np.linalg.norm(np.diff(p, axis=0), axis=1))
                                       / np.linalg.norm(p[-1] - p[0]))
    row["holds"] = bool(
        row["raising batch"] == 0.0
        and row["raising SGD"] > row["raising mini"] + RAISE_MARGIN
        and row["wiggle batch"] < row["wiggle mini"]
        and row["wiggle SGD"] > WIGGLE_FACTOR * row["wiggle mini"])
    w1 = np.linspace(-3.0, 3.0, 81)
    w2 = np.linspace(-2.5, 3.5, 81)
    W = np.stack(np.meshgrid(w1, w2), axis=-1).reshape(-1, 2).astype(np.float64)
    residual = X.astype(np.float64) @ W.T - y.astype(np.float64)
    grid_loss = np.mean(residual ** 2, axis=0).reshape(len(w2), len(w1))
    figure = {"n": n, "steps": config.contour_steps, "lr": config.contour_lr,
              "batch_sizes": sizes, "w1": w1.tolist(), "w2": w2.tolist(),
              "grid_loss": grid_loss.tolist(), "minimum": best.tolist(), "paths": paths,
              "losses": losses, "seed": seed_value}
    return {"row": row, "figure": figure}


def _gradient_noise(
    initial: dict, config: Config, seed_value: int, X: np.ndarray, y: np.ndarray
) -> tuple[list[int], list[float], list[float]]:
    """The relative error ||g_B - g|| / ||g|| of a batch gradient g_B at the initial weights (g the
    full-data gradient): measured as the RMS over random batches, and from sampling theory.

    With per-sample gradients g_i (whose mean is g) and sigma^2 = (1/N) sum_i ||g_i - g||^2, a
    batch of B samples drawn without replacement has E||g_B - g||^2 = sigma^2 (N - B) / (B (N - 1)).
    """
    model = _model(config.hidden)
    model.load_state_dict(initial)
    criterion = nn.CrossEntropyLoss()
    params = model.parameters()

    def gradient(xb: np.ndarray, yb: np.ndarray) -> np.ndarray:
        model.zero_grad()
        criterion(model(xb), yb).backward()
        return np.concatenate([p.grad.ravel() for p in params]).astype(np.float64)

    n = len(X)
    full = gradient(X, y)
    sigma2 = np.mean([np.sum((gradient(X[i:i + 1], y[i:i + 1]) - full) ** 2) for i in range(n)])
    sizes = sorted(b for b in {1, 4, 16, config.mini_batch_size, 128, 512} if b < n) + [n]
    rng = np.random.default_rng(seed_value)
    measured, theory = [], []
    for b in sizes:
        reps = 1 if b == n else config.noise_batches
        errs = [np.sum((gradient(X[idx], y[idx]) - full) ** 2)
                for idx in (rng.choice(n, size=b, replace=False) for _ in range(reps))]
        measured.append(float(np.sqrt(np.mean(errs)) / np.linalg.norm(full)))
        theory.append(float(np.sqrt(sigma2 * (n - b) / (b * (n - 1))) / np.linalg.norm(full)))
    return sizes, measured, theory


def plot(result: Result, out_dir: Path) -> list[Path]:
    plt = plots.pyplot()
    colors = {"batch": "tab:blue", "mini-batch": "tab:green", "stochastic": "tab:red"}
    fig, axes = plt.subplots(2, 2, figsize=(12, 8.5))
    (ax1, ax2), (ax3, ax4) = axes
    for mode in MODES:
        label = f"{mode} (B = {result.batch_sizes[mode]})"
        c = colors[mode]
        ep = result.epoch_loss[mode]
        ax1.semilogy(range(len(ep)), ep, "o-", ms=3, color=c, label=label)
        steps = np.asarray(result.trace_step[mode])
        marker = "o" if mode == "batch" else None
        ax2.loglog(np.maximum(steps, 0.8), result.trace_loss[mode], color=c, lw=1, ms=3,
                   marker=marker, label=label)
        ax3.loglog(np.maximum(result.trace_time[mode], 1e-5), result.trace_loss[mode], color=c,
                   lw=1, ms=3, marker=marker, label=label)
    ax1.set(title="Training loss per epoch", xlabel="epoch",
            ylabel="training loss (log scale)")
    ax2.axvline(result.loss_at_step_k, color="gray", ls=":", lw=1)
    ax2.text(result.loss_at_step_k, ax2.get_ylim()[0], " last update of\n mini-batch GD",
             fontsize=8, color="gray", va="bottom")
    ax2.set(title="Training loss per update step", xlabel="update step (log scale)",
            ylabel="training loss (log scale)")
    ax3.set(title="Training loss per second of training",
            xlabel="training time = updates x fastest time per update (s, log scale)",
            ylabel="training loss (log scale)")
    b = np.asarray(result.noise_batch_sizes, dtype=float)
    noise = np.asarray(result.gradient_noise)
    n = result.n_samples
    shown = b < n  # at B = N the estimate is the gradient itself (float32 rounding aside)
    ax4.loglog(b[shown], noise[shown], "o-", color="k", label="measured on random batches")
    # sampling B of N without replacement: the variance falls as (N - B) / (B (N - 1))
    theory = np.asarray(result.gradient_noise_theory)
    ax4.loglog(b[shown], theory[shown], ":", color="gray", lw=2,
               label="sampling theory: sigma sqrt((N - B) / (B (N - 1))) / ||g||")
    for mode in MODES:
        if result.batch_sizes[mode] in result.noise_batch_sizes[:-1]:
            i = result.noise_batch_sizes.index(result.batch_sizes[mode])
            ax4.plot(b[i], noise[i], "o", ms=10, color=colors[mode], label=mode)
    ax4.set(title=f"Gradient noise at the start (at B = N = {n} it is 0)",
            xlabel="batch size B (log scale)", ylabel="||g_B - g|| / ||g|| (log scale)")
    for ax in (ax1, ax2, ax3, ax4):
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    low, high = ax4.get_ylim()
    ticks = [t for t in (0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50) if low <= t <= high]
    ax4.set_yticks(ticks, [f"{t:g}" for t in ticks])
    ax4.yaxis.set_minor_formatter(plt.NullFormatter())
    ax4.set_ylim(low, high)
    fig.suptitle(f"Gradient descent on digits: {result.n_samples} samples, {result.architecture} "
                 f"MLP, plain SGD with lr = {result.lr:g} for every batch size")
    fig.tight_layout()
    files = [plots.save(fig, Path(out_dir) / "gradient_descent.png")]
    files.append(_plot_contours(result, Path(out_dir), colors))
    return files


def _plot_contours(result: Result, out_dir: Path, colors: dict[str, str]) -> Path:
    plt = plots.pyplot()
    c = result.contour
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 5),
                                   gridspec_kw={"width_ratios": [1.15, 1]})
    grid = np.asarray(c["grid_loss"])
    low = float(grid.min())
    levels = low + (float(grid.max()) - low) * np.linspace(0, 1, 16) ** 2
    ax1.contour(c["w1"], c["w2"], grid, levels=levels[1:], colors="0.6", linewidths=0.7)
    row = result.contour_per_seed[0]
    for mode, short in zip(MODES, ("batch", "mini", "SGD")):
        p = np.asarray(c["paths"][mode])
        label = (f"{mode} (B = {c['batch_sizes'][mode]}): wiggle {row[f'wiggle {short}']:.2f}, "
                 f"loss rose after {row[f'raising {short}']:.0%} of updates")
        ax1.plot(p[:, 0], p[:, 1], "-", color=colors[mode], lw=1.2 if mode != "stochastic"
                 else 0.9, marker="o", ms=2, label=label)
        ax2.semilogy(range(len(c["losses"][mode])), np.asarray(c["losses"][mode]) - low + 1e-4,
                     color=colors[mode], lw=1, label=mode)
    ax1.plot(*c["paths"]["batch"][0], "ks", ms=6, label="start (the same for all three)")
    ax1.plot(*c["minimum"], "k*", ms=12, label="minimum (least squares)")
    ax1.set(title=f"Loss contours and the paths of {c['steps']} updates (seed {c['seed']})",
            xlabel="w1", ylabel="w2", aspect="equal")
    ax1.legend(fontsize=7, loc="lower left")
    ax2.set(title="Full training loss above its minimum, per update",
            xlabel="update step", ylabel="loss - minimum loss (log scale)")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    ax2.legend(fontsize=8)
    fig.suptitle(f"Linear regression with two weights: {c['n']} samples, mean squared error, "
                 f"plain SGD with lr = {c['lr']:g} for every batch size")
    fig.tight_layout()
    return plots.save(fig, out_dir / "gradient_descent_contours.png")

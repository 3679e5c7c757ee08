"""Lab: why input normalization (입력 정규화) speeds up gradient descent.

The lecture: normalization "데이터의 범위를 일정하게 조정하거나 데이터 분포를 표준화하는 과정, 모델의
학습속도를 빠르게 하고 ...".  Here is why, on the lecture's white-wine practical: a linear model of
the quality from two inputs on very different scales, alcohol (a standard deviation of about 1
%vol) and total sulfur dioxide (about 40 mg/l), fitted by full-batch gradient descent (경사하강법) on
the mean squared error, once on the raw inputs and once on the standardized ones (each column
minus its mean, divided by its standard deviation; ``neuralab.data.StandardScaler``).

The loss of a linear model is a quadratic bowl, L(w) = L* + (w - w*)^T H (w - w*) / 2 with
H = 2 A^T A / n for the design matrix A (a column of ones for the bias, then the inputs), so
everything about gradient descent on it is known in closed form:

* the largest stable step is 2 / lambda_max(H); the lab uses lr = 1 / lambda_max(H) for each
  version, the usual safe choice, so neither is handicapped by its step;
* along the eigenvector of eigenvalue lambda_i the error shrinks by (1 - lambda_i / lambda_max)
  per step, so the excess loss L(w) - L* after t steps is at most (1 - 1 / kappa)^(2t) of the
  initial one, with the condition number kappa = lambda_max / lambda_min: gradient descent needs
  at most kappa ln(e_0 / tol) / 2 steps to bring the excess from e_0 down to ``tol``;
* the contours of L are ellipses whose axes are in the ratio sqrt(kappa).

On raw inputs the scales (and the means, which tie the weights to the bias) make kappa millions;
standardized, it is about (1 + |rho|) / (1 - |rho|) for the correlation rho of the two inputs, a
few.  The lab computes kappa from the eigenvalues, runs gradient descent until the excess loss is
below ``tol`` of its starting value (or ``max_steps``), draws the contours and the paths, and
trains the same model as ``nn.Dense(1)`` with ``optim.SGD`` for a few steps to show that neuralab
takes exactly these steps.  Each seed draws another ``n_rows`` rows of the 4,898 wines.

The lecture also says that normalization helps escape local minima; a linear model's loss has a
single minimum, so this lab shows the speed only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neuralab import nn, optim
from neuralab.data import StandardScaler, load_wine_quality
import neuralab.io.figures as plots
from neuralab.labs import common

TITLE = "Input normalization: steps to converge and loss contours, raw vs standardized"
#: on every seed: the raw inputs' condition number is at least this many times the standardized
MIN_KAPPA_RATIO = 1e4
#: ... the standardized version converges within this many steps ...
MAX_STEPS_STANDARDIZED = 100
#: ... and the raw version, after max_steps, still has an excess loss of more than this
#: (relative to var(y) - L*: the share of what the inputs can explain that is still missing)
MIN_RAW_LEFT = 0.05
#: neuralab's SGD on nn.Dense(1) in float64 takes the same steps (relative difference of the loss)
AGREEMENT_TOL = 1e-9
CLAIM = (
    "Standardizing the inputs (입력 정규화) makes gradient descent converge in a few steps where it "
    "crawls on the raw inputs: on raw alcohol and total sulfur dioxide the loss contours are "
    "long thin ellipses (condition number in the millions), standardized they are nearly "
    "circles. Decided on every seed, at the step 1 / lambda_max of each version, the excess "
    "loss measured against what the inputs can explain (var(y) - L*): condition "
    f"number ratio >= {MIN_KAPPA_RATIO:g}; standardized, the excess loss falls below the "
    f"tolerance within {MAX_STEPS_STANDARDIZED} steps and within the closed-form bound "
    f"kappa ln(e_0 / tol) / 2; raw, more than {MIN_RAW_LEFT:g} is left after max_steps; "
    "and neuralab's optim.SGD on nn.Dense(1) takes the same steps."
)
CONCEPTS = [30, 22, 11]

VERSIONS = ("raw", "standardized")


@dataclass
class Config:
    features: tuple[str, ...] = ("alcohol", "total sulfur dioxide")
    n_rows: int = 1000
    tol: float = 1e-6  # stop when the excess loss is below tol x (var(y) - L*)
    max_steps: int = 20000
    neuralab_steps: int = 50  # steps of optim.SGD compared with the NumPy steps
    grid_points: int = 81
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)

    @classmethod
    def quick(cls) -> Config:
        return cls(max_steps=2000, neuralab_steps=10, grid_points=31, seeds=(0, 1, 2))


@dataclass
class SeedRun:
    seed: int
    version: str
    kappa: float
    eigenvalues: list[float]
    lr: float
    steps: int | None  # to reach tol (None: not within max_steps)
    bound: float  # kappa ln(excess at the start / tol) / 2: the closed-form number of steps
    left: float  # excess loss after the run, relative to var(y) - L*
    neuralab_difference: float  # max relative difference of neuralab's losses


@dataclass
class Result:
    features: list[str]
    n_rows: int
    tol: float
    max_steps: int
    runs: list[SeedRun]
    # the first seed, for the figure: per version, the excess-loss curve, the path of the two
    # weights, and the profile loss (the bias at its best for each pair of weights) on a grid
    curves: dict[str, dict[str, list[float]]]  # "step" and "excess", every few steps
    paths: dict[str, list[list[float]]]
    grids: dict[str, dict[str, list]]
    checks: dict[str, bool] = field(default_factory=dict)
    claim_holds: bool = False

    def summary(self) -> str:
        lines = [f"white wine quality from {' and '.join(self.features)}: {self.n_rows} rows per "
                 f"seed; excess loss L(w) - L* relative to var(y) - L* (what the inputs can "
                 f"explain beyond the mean); tolerance {self.tol:g}, at most {self.max_steps} "
                 "steps of lr = 1 / lambda_max from w = 0",
                 f"{'inputs':>12} {'seed':>5} {'kappa':>10} {'lr':>10} {'steps':>7} "
                 f"{'bound':>10} {'excess':>9} {'|neuralab-numpy|':>17}"]
        for r in self.runs:
            steps = "never" if r.steps is None else str(r.steps)
            lines.append(f"{r.version:>12} {r.seed:>5} {r.kappa:>10.3g} {r.lr:>10.3g} "
                         f"{steps:>7} {r.bound:>10.3g} {r.left:>9.2e} "
                         f"{r.neuralab_difference:>17.1e}")
        for version in VERSIONS:
            rows = [r for r in self.runs if r.version == version]
            done = [r.steps for r in rows if r.steps is not None]
            lines.append(f"{version}: condition number median "
                         f"{np.median([r.kappa for r in rows]):.3g}; converged on {len(done)} of "
                         f"{len(rows)} seeds" + (f" in {min(done)}-{max(done)} steps" if done
                                                 else ""))
        lines += ["", "Checks: " + ", ".join(f"{k}={'ok' if v else 'FAILED'}"
                                             for k, v in self.checks.items())]
        return "\n".join(lines)


def _inputs(config: Config, seed: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    x, y, names = load_wine_quality()
    unknown = [f for f in config.features if f not in names]
    if unknown:
        raise ValueError(f"input-normalization: unknown feature(s) {unknown}; the white wines "
                         f"have {names}")
    if not 2 <= config.n_rows <= len(x):
        raise ValueError(f"input-normalization expected 2 <= `n_rows` <= {len(x)}, got "
                         f"{config.n_rows}")
    rows = np.random.default_rng(seed).choice(len(x), config.n_rows, replace=False)
    raw = x[rows][:, [names.index(f) for f in config.features]].astype(np.float64)
    return ({"raw": raw, "standardized": StandardScaler().fit_transform(raw).astype(np.float64)},
            y[rows].astype(np.float64))


def _design(x: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(len(x)), x])


def _gradient_descent(a: np.ndarray, y: np.ndarray, lr: float, tol: float,
                      max_steps: int) -> tuple[list[float], np.ndarray, int | None]:
    """Full-batch gradient descent on mean((A w - y)^2) from w = 0: after every step the excess
    loss L(w) - L* relative to what the inputs can explain, var(y) - L* (the excess of the best
    constant prediction, the mean), the path of w, and the steps to reach ``tol`` (None:
    never)."""
    best = np.linalg.lstsq(a, y, rcond=None)[0]
    l_best = float(np.mean((a @ best - y) ** 2))
    explainable = float(np.var(y)) - l_best
    w = np.zeros(a.shape[1])
    excess = [(float(np.mean((a @ w - y) ** 2)) - l_best) / explainable]
    path, steps = [w.copy()], None
    for step in range(1, max_steps + 1):
        w = w - lr * 2.0 * a.T @ (a @ w - y) / len(y)
        excess.append((float(np.mean((a @ w - y) ** 2)) - l_best) / explainable)
        path.append(w.copy())
        if excess[-1] < tol:
            steps = step
            break
    return excess, np.array(path), steps


def _neuralab_losses(x: np.ndarray, y: np.ndarray, lr: float, steps: int) -> list[float]:
    """The same model as nn.Dense(1) in float64 from zero weights, trained by optim.SGD on the
    whole batch: the loss before every step."""
    model = nn.Dense(1, input_dim=x.shape[1])
    model.weight.data = np.zeros((x.shape[1], 1))
    model.bias.data = np.zeros(1)
    opt = optim.SGD(model.parameters(), lr=lr)
    loss_fn, losses = nn.MSELoss(), []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(x), y[:, None])
        losses.append(float(loss.data))
        loss.backward()
        opt.step()
    return losses


def _profile_grid(x: np.ndarray, y: np.ndarray, path: np.ndarray, points: int) -> dict:
    """The loss over the two weights with the bias at its best for each pair (the loss of the
    centered inputs), on a square grid around the path and the minimum."""
    best = np.linalg.lstsq(_design(x), y, rcond=None)[0][1:]
    w = np.vstack([path[:, 1:], best])
    lo, hi = w.min(axis=0), w.max(axis=0)
    center, half = (lo + hi) / 2, 0.65 * max(float(np.max(hi - lo)), 1e-12)
    # a square window: drawn with equal axes, the contours show their true shape
    axes = [np.linspace(center[i] - half, center[i] + half, points) for i in range(2)]
    g1, g2 = np.meshgrid(*axes)
    xc, yc = x - x.mean(axis=0), y - y.mean()
    pred = g1[..., None] * xc[:, 0] + g2[..., None] * xc[:, 1]
    loss = np.mean((pred - yc) ** 2, axis=-1)
    return {"w1": axes[0].tolist(), "w2": axes[1].tolist(), "loss": loss.tolist(),
            "best": best.tolist()}


def run(config: Config) -> Result:
    if len(config.features) != 2:
        raise ValueError(f"input-normalization draws the loss over two weights: give two "
                         f"`features`, got {list(config.features)}")
    if not 0 < config.tol < 1 or config.max_steps < 1 or config.neuralab_steps < 1:
        raise ValueError(f"input-normalization expected 0 < `tol` < 1 and positive `max_steps` "
                         f"and `neuralab_steps`, got {config.tol}, {config.max_steps}, "
                         f"{config.neuralab_steps}")
    common.check_seeds("input-normalization", config.seeds)
    runs: list[SeedRun] = []
    curves: dict[str, dict[str, list[float]]] = {}
    paths: dict[str, list[list[float]]] = {}
    grids: dict[str, dict[str, list]] = {}
    for seed in config.seeds:
        inputs, y = _inputs(config, seed)
        for version in VERSIONS:
            x = inputs[version]
            a = _design(x)
            eig = np.linalg.eigvalsh(2.0 * a.T @ a / len(y))  # the Hessian of the loss
            lr = 1.0 / eig[-1]
            kappa = float(eig[-1] / eig[0])
            excess, path, steps = _gradient_descent(a, y, lr, config.tol, config.max_steps)
            losses = _neuralab_losses(x, y, lr, config.neuralab_steps)
            _, numpy_path, _ = _gradient_descent(a, y, lr, -np.inf, config.neuralab_steps - 1)
            numpy_losses = [float(np.mean((a @ w - y) ** 2)) for w in numpy_path]
            difference = float(np.max(np.abs(np.subtract(losses, numpy_losses))
                                      / np.abs(numpy_losses)))
            runs.append(SeedRun(seed, version, kappa, eig.tolist(), float(lr), steps,
                                kappa * np.log(excess[0] / config.tol) / 2.0, excess[-1],
                                difference))
            if version not in curves:
                stride = max(1, len(excess) // 400)
                curves[version] = {"step": list(range(0, len(excess), stride)),
                                   "excess": excess[::stride]}
                paths[version] = path[::stride, 1:].tolist()
                grids[version] = _profile_grid(x, y, path, config.grid_points)
    get = {(r.version, r.seed): r for r in runs}
    checks = {
        f"condition number raw / standardized >= {MIN_KAPPA_RATIO:g} on every seed": all(
            get["raw", s].kappa >= MIN_KAPPA_RATIO * get["standardized", s].kappa
            for s in config.seeds),
        f"standardized converges within {MAX_STEPS_STANDARDIZED} steps and the bound": all(
            (r := get["standardized", s]).steps is not None
            and r.steps <= min(MAX_STEPS_STANDARDIZED, np.ceil(r.bound)) for s in config.seeds),
        f"raw: more than {MIN_RAW_LEFT:g} of the excess loss left after {config.max_steps} "
        "steps": all(get["raw", s].steps is None and get["raw", s].left > MIN_RAW_LEFT
                     for s in config.seeds),
        f"neuralab's SGD takes the same steps (relative {AGREEMENT_TOL:g})": all(
            r.neuralab_difference < AGREEMENT_TOL for r in runs),
    }
    return Result(list(config.features), config.n_rows, config.tol, config.max_steps, runs,
                  curves, paths, grids, checks, all(checks.values()))


def plot(result: Result, out_dir: Path) -> list[Path]:
    plt = plots.pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6))
    colors = {"raw": "C3", "standardized": "C0"}
    for ax, version in zip(axes[:2], VERSIONS):
        g = result.grids[version]
        loss = np.asarray(g["loss"])
        levels = np.quantile(loss, np.linspace(0.002, 0.9, 14))
        ax.contour(g["w1"], g["w2"], loss, levels=np.unique(levels), cmap="viridis",
                   linewidths=0.8)
        path = np.asarray(result.paths[version])
        ax.plot(path[:, 0], path[:, 1], ".-", color=colors[version], ms=3, lw=1,
                label="gradient descent from 0")
        ax.plot(*g["best"], "k*", ms=12, label="minimum")
        r = next(r for r in result.runs if r.version == version)
        ax.set(title=f"{version} inputs: condition number {r.kappa:.3g}",
               xlabel=f"weight of {result.features[0]}",
               ylabel=f"weight of {result.features[1]}")
        ax.set_aspect("equal")  # the contours' true shape
        ax.legend(fontsize=8)
    ax = axes[2]
    for version in VERSIONS:
        curve = result.curves[version]
        r = next(r for r in result.runs if r.version == version)
        ax.loglog(np.asarray(curve["step"]) + 1, curve["excess"], color=colors[version],
                  label=f"{version}: " + (f"{r.steps} steps" if r.steps else
                                          f"not in {result.max_steps} steps"))
    ax.axhline(result.tol, color="k", ls="--", lw=0.8, label=f"tolerance {result.tol:g}")
    ax.set(title="excess loss / (var(y) - L*), first seed", xlabel="step + 1",
           ylabel="relative excess loss",
           ylim=(result.tol / 10, 2 * max(max(c["excess"]) for c in result.curves.values())))
    ax.legend(fontsize=8)
    for a in axes:
        a.grid(alpha=0.3)
    fig.tight_layout()
    return [plots.save(fig, Path(out_dir) / "input_normalization.png")]

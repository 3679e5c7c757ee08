"""Lab: the lecture's XOR practical, forward and backward passes written by hand in NumPy
(순전파, 오차 역전파, 연쇄법칙).

The network of the lecture's notebook (4.03.NN.Backpropagation), 2 inputs, a sigmoid hidden layer
of H units and one sigmoid output, trained on the four XOR points by full-batch gradient descent
on the mean squared error:

    h     = sigmoid(X W1 + b1)        X (4, 2), W1 (2, H), b1 (H,)      hidden layer (은닉층)
    y_hat = sigmoid(h W2 + b2)        W2 (H, 1), b2 (1,)                output layer (출력층)
    L     = mean((y_hat - y)^2)                                         loss (손실함수)

The backward pass is the chain rule, layer by layer from the output (upstream gradient x local
derivative, with sigmoid'(z) = s (1 - s) for s = sigmoid(z)):

    d_y_hat = 2 (y_hat - y) / N                     dL / d y_hat
    delta2  = d_y_hat * y_hat (1 - y_hat)           dL / d (h W2 + b2)
    dW2 = h^T delta2,     db2 = sum of delta2 over the samples
    delta1  = (delta2 W2^T) * h (1 - h)             dL / d (X W1 + b1)
    dW1 = X^T delta1,     db1 = sum of delta1 over the samples

Nothing here uses autograd: :func:`forward`, :func:`backward` and :func:`train` are NumPy only, so
they can be copied into a notebook as they are.  The lab then checks the hand-written gradients
twice, at the initial weights, halfway and at the end of training of every seed: against
neuralab's autograd (the same network as ``nn.Dense`` layers in float64, ``loss.backward()``) and
against numerical differentiation (central differences, :func:`neuralab.numerical_gradient`).

**Not every start solves XOR.**  The smallest network, 2-2-1, ends on some seeds on a flat region
where the loss stays at about 1/8 or 1/6 (one or two of the four outputs stuck near 1/2 or 1/3)
and the gradient has all but vanished: gradient descent stalls there.  The lab counts the seeds
and reports the fraction; the wider 2-4-1 network solves XOR from every seed of the lab.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neuralab import nn, numerical_gradient
import neuralab.io.figures as plots
from neuralab.labs import common

TITLE = "XOR by hand: NumPy forward and backward passes, checked against autograd"

#: |hand-written - autograd| allowed, float64. Both evaluate the same formulas in a different order
#: (autograd's sigmoid and matmul backward vs the closed forms above), so they differ by rounding:
#: gradients are of size <= ~0.1, one ulp of that is ~1e-17, and the measured difference is
#: ~1e-17 to 1e-16. 1e-12 is thousands of ulps above, and a wrong formula misses it by orders.
AUTOGRAD_TOL = 1e-12
#: |hand-written - central differences| allowed, float64 with h = 1e-6: the rounding error of a
#: central difference is ~eps_64 L / h ~ 2e-16 * 0.3 / 1e-6 ~ 1e-10 and its truncation error
#: h^2 L''' / 6 ~ 1e-13; 1e-7 is three orders of magnitude above.
NUMERIC_TOL = 1e-7
#: a seed solved XOR when every output is within this of its target (so on the correct side
#: of 1/2 with a margin of 1/4, which no rounding difference between CPUs can flip)
SOLVED = 0.25
#: a seed stalled when its loss is still at least this (the flat regions sit at ~1/8 and ~1/6)
#: and fell by less than STALL_CHANGE over the last tenth of the epochs
STALLED_LOSS = 0.1
STALL_CHANGE = 1e-2
#: the 2-2-1 network must solve XOR from at least this fraction of the seeds
MIN_FRACTION = 0.5
#: the stored loss curves keep at most this many epochs
CURVE_POINTS = 250

CLAIM = (
    "The hand-written NumPy backward pass (오차 역전파 by the chain rule, 연쇄법칙) gives the "
    "gradients of neuralab's autograd and of numerical differentiation (수치 미분), and gradient "
    "descent with it learns XOR - but not from every start: the 2-2-1 sigmoid network stalls on "
    "some seeds on a flat region of the loss, the 2-4-1 network does not. Decided on every seed, "
    f"at the start, halfway and at the end of training: |hand - autograd| < {AUTOGRAD_TOL:g} and "
    f"|hand - numerical| < {NUMERIC_TOL:g}; every 2-4-1 seed solves XOR (every output within "
    f"{SOLVED:g} of its target); every 2-2-1 seed either solves it or stalls (loss >= "
    f"{STALLED_LOSS:g}, changing by < {STALL_CHANGE:g} over the last tenth), and at least "
    f"{MIN_FRACTION:.0%} of them solve it."
)
CONCEPTS = [27, 8, 9, 10]

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)  # the lecture's inputs
Y = np.array([[0], [1], [1], [0]], dtype=np.float64)  # XOR


# ------------------------------------------------------------------ the hand-written network
def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def init(hidden: int, seed: int) -> dict[str, np.ndarray]:
    """Weights from a standard normal distribution, biases zero."""
    rng = np.random.default_rng(seed)
    return {"W1": rng.normal(size=(2, hidden)), "b1": np.zeros(hidden),
            "W2": rng.normal(size=(hidden, 1)), "b2": np.zeros(1)}


def forward(p: dict[str, np.ndarray], x: np.ndarray = X) -> tuple[np.ndarray, np.ndarray]:
    """The forward pass: (h, y_hat)."""
    h = sigmoid(x @ p["W1"] + p["b1"])
    return h, sigmoid(h @ p["W2"] + p["b2"])


def mse(y_hat: np.ndarray, y: np.ndarray = Y) -> float:
    return float(np.mean((y_hat - y) ** 2))


def backward(p: dict[str, np.ndarray], h: np.ndarray, y_hat: np.ndarray,
             x: np.ndarray = X, y: np.ndarray = Y) -> dict[str, np.ndarray]:
    """The backward pass by the chain rule: dL/dW1, dL/db1, dL/dW2, dL/db2."""
    d_y_hat = 2.0 * (y_hat - y) / y.size
    delta2 = d_y_hat * y_hat * (1.0 - y_hat)
    delta1 = (delta2 @ p["W2"].T) * h * (1.0 - h)
    return {"W1": x.T @ delta1, "b1": delta1.sum(axis=0),
            "W2": h.T @ delta2, "b2": delta2.sum(axis=0)}


def train(p: dict[str, np.ndarray], lr: float, epochs: int,
          on_epoch=None) -> list[float]:
    """Full-batch gradient descent for ``epochs`` steps, updating ``p`` in place; the loss of
    every epoch (before its step). ``on_epoch(epoch, p)`` is called before each step."""
    losses = []
    for epoch in range(epochs):
        if on_epoch is not None:
            on_epoch(epoch, p)
        h, y_hat = forward(p)
        losses.append(mse(y_hat))
        grads = backward(p, h, y_hat)
        for name in p:
            p[name] -= lr * grads[name]
    return losses


# ------------------------------------------------------------------ the two references
def autograd_gradients(p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The same network as neuralab layers in float64: ``loss.backward()``'s gradients."""
    hidden = p["W1"].shape[1]
    model = nn.Sequential([nn.Dense(hidden, activation="sigmoid", input_dim=2),
                           nn.Dense(1, activation="sigmoid")])
    for param, name in zip(model.parameters(), ("W1", "b1", "W2", "b2"), strict=True):
        param.data = p[name].copy()
    nn.MSELoss()(model(X), Y).backward()
    return {name: param.grad for param, name in
            zip(model.parameters(), ("W1", "b1", "W2", "b2"), strict=True)}


def numerical_gradients(p: dict[str, np.ndarray], eps: float) -> dict[str, np.ndarray]:
    """Central differences of the hand-written loss (two forward passes per weight)."""
    arrays = [p[name].copy() for name in ("W1", "b1", "W2", "b2")]
    params = dict(zip(("W1", "b1", "W2", "b2"), arrays, strict=True))
    grads = numerical_gradient(lambda: mse(forward(params)[1]), arrays, eps)
    return dict(zip(("W1", "b1", "W2", "b2"), grads, strict=True))


def max_difference(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
    return max(float(np.max(np.abs(a[k] - b[k]))) for k in a)


# ------------------------------------------------------------------ the lab
@dataclass
class Config:
    hidden: int = 2  # the lecture's 2-2-1 network
    hidden_wide: int = 4  # the 2-4-1 network beside it
    lr: float = 2.0
    epochs: int = 5000
    eps: float = 1e-6  # the step of the central differences
    grid_points: int = 41
    # each seed: new initial weights (the same for both checks and for training)
    seeds: tuple[int, ...] = tuple(range(30))

    @classmethod
    def quick(cls) -> Config:
        return cls(epochs=2000, grid_points=21, seeds=tuple(range(8)))


@dataclass
class SeedRun:
    seed: int
    hidden: int
    final_loss: float
    max_error: float  # max over the four points of |y_hat - y| after training
    last_tenth_change: float  # loss at 90 % of the epochs minus the final loss
    gradient_norm: float  # of the final gradient
    autograd_diff: float  # max |hand - autograd| over the checkpoints and parameters
    numeric_diff: float  # max |hand - central differences|
    outputs: list[float]
    outcome: str  # "solved", "stalled" or "neither"


@dataclass
class Result:
    runs: list[SeedRun]
    # the curves for the figure, per hidden size and seed, at the epochs `loss_epochs` (at most
    # CURVE_POINTS of them, so that the stored result stays small)
    loss_epochs: list[int]
    losses: dict[str, list[list[float]]]
    grid_axis: list[float]
    grids: dict[str, list[list[float]]]  # "H/seed" -> P(y=1) on the grid, for chosen seeds
    fraction_solved: dict[str, float]
    checks: dict[str, bool] = field(default_factory=dict)
    claim_holds: bool = False

    def summary(self) -> str:
        lines = [f"{'net':>6} {'seed':>5} {'final loss':>11} {'max |y_hat-y|':>14} "
                 f"{'|grad|':>9} {'outcome':>8} {'|hand-autograd|':>16} {'|hand-numeric|':>15}"]
        for r in self.runs:
            lines.append(f"{f'2-{r.hidden}-1':>6} {r.seed:>5} {r.final_loss:>11.2e} "
                         f"{r.max_error:>14.3f} {r.gradient_norm:>9.1e} {r.outcome:>8} "
                         f"{r.autograd_diff:>16.1e} {r.numeric_diff:>15.1e}")
        lines.append("")
        for hidden, fraction in self.fraction_solved.items():
            rows = [r for r in self.runs if r.hidden == int(hidden)]
            solved = sum(r.outcome == "solved" for r in rows)
            stalled = [r.seed for r in rows if r.outcome == "stalled"]
            lines.append(f"2-{hidden}-1: solved XOR from {solved} of {len(rows)} seeds "
                         f"({fraction:.0%}); stalled: "
                         + (", ".join(map(str, stalled)) or "none"))
        for key, label in (("autograd_diff", "|hand - autograd|"),
                           ("numeric_diff", "|hand - numerical|")):
            values = [getattr(r, key) for r in self.runs]
            lines.append(f"{label}: median {np.median(values):.1e}, max {max(values):.1e}")
        lines += [f"  {name}: {'yes' if ok else 'NO'}" for name, ok in self.checks.items()]
        return "\n".join(lines)


def _outcome(losses: list[float], max_error: float) -> tuple[str, float]:
    change = losses[int(0.9 * len(losses))] - losses[-1]
    if max_error < SOLVED:
        return "solved", change
    if losses[-1] >= STALLED_LOSS and abs(change) < STALL_CHANGE:
        return "stalled", change
    return "neither", change


def _run_seed(config: Config, hidden: int, seed: int) -> tuple[SeedRun, list[float], dict]:
    p = init(hidden, seed)
    checkpoints = {0, config.epochs // 2}
    diffs = {"autograd": 0.0, "numeric": 0.0}

    def check(_epoch: int, params: dict[str, np.ndarray]) -> None:
        h, y_hat = forward(params)
        hand = backward(params, h, y_hat)
        diffs["autograd"] = max(diffs["autograd"],
                                max_difference(hand, autograd_gradients(params)))
        diffs["numeric"] = max(diffs["numeric"],
                               max_difference(hand, numerical_gradients(params, config.eps)))

    losses = train(p, config.lr, config.epochs,
                   on_epoch=lambda e, params: check(e, params) if e in checkpoints else None)
    check(config.epochs, p)  # and at the end
    h, y_hat = forward(p)
    losses.append(mse(y_hat))
    grads = backward(p, h, y_hat)
    max_error = float(np.max(np.abs(y_hat - Y)))
    outcome, change = _outcome(losses, max_error)
    run = SeedRun(seed, hidden, losses[-1], max_error, change,
                  float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))),
                  diffs["autograd"], diffs["numeric"], y_hat.ravel().tolist(), outcome)
    return run, losses, p


def run(config: Config) -> Result:
    if config.hidden < 1 or config.hidden_wide < 1:
        raise ValueError(f"xor-numpy expected `hidden` and `hidden_wide` >= 1, got "
                         f"{config.hidden} and {config.hidden_wide}")
    if config.epochs < 10 or config.lr <= 0 or config.eps <= 0:
        raise ValueError(f"xor-numpy expected `epochs` >= 10 and positive `lr` and `eps`, got "
                         f"epochs={config.epochs}, lr={config.lr}, eps={config.eps}")
    if config.grid_points < 2:
        raise ValueError(f"xor-numpy expected `grid_points` >= 2, got {config.grid_points}")
    common.check_seeds("xor-numpy", config.seeds)
    axis = np.linspace(-0.25, 1.25, config.grid_points)
    gx, gy = np.meshgrid(axis, axis)
    grid_x = np.stack([gx.ravel(), gy.ravel()], axis=1)
    runs, losses, grids = [], {}, {}
    epochs = sorted({*range(0, config.epochs + 1, max(1, config.epochs // CURVE_POINTS)),
                     config.epochs})
    for hidden in dict.fromkeys((config.hidden, config.hidden_wide)):
        losses[str(hidden)] = []
        for seed in config.seeds:
            r, curve, p = _run_seed(config, hidden, seed)
            runs.append(r)
            losses[str(hidden)].append([curve[e] for e in epochs])
            # the figure shows the first solved and the first stalled seed of each network
            if not any(k.startswith(f"{hidden}/") and k.endswith(r.outcome) for k in grids):
                grids[f"{hidden}/{seed}/{r.outcome}"] = \
                    forward(p, grid_x)[1].reshape(gx.shape).tolist()
    fraction = {str(h): float(np.mean([r.outcome == "solved" for r in runs if r.hidden == h]))
                for h in dict.fromkeys((config.hidden, config.hidden_wide))}
    small = [r for r in runs if r.hidden == config.hidden]
    wide = [r for r in runs if r.hidden == config.hidden_wide]
    checks = {
        f"|hand - autograd| < {AUTOGRAD_TOL:g} for every seed and checkpoint":
            all(r.autograd_diff < AUTOGRAD_TOL for r in runs),
        f"|hand - numerical| < {NUMERIC_TOL:g} for every seed and checkpoint":
            all(r.numeric_diff < NUMERIC_TOL for r in runs),
        f"2-{config.hidden_wide}-1 solves XOR from every seed":
            all(r.outcome == "solved" for r in wide),
        f"every 2-{config.hidden}-1 seed solves XOR or stalls":
            all(r.outcome in ("solved", "stalled") for r in small),
        f"2-{config.hidden}-1 solves XOR from >= {MIN_FRACTION:.0%} of the seeds":
            fraction[str(config.hidden)] >= MIN_FRACTION,
    }
    return Result(runs, epochs, losses, axis.tolist(), grids, fraction, checks,
                  claim_holds=all(checks.values()))


def plot(result: Result, out_dir: Path) -> list[Path]:
    plt = plots.pyplot()
    out_dir = Path(out_dir)
    hiddens = list(result.losses)
    fig, axes = plt.subplots(1, len(hiddens) + 1, figsize=(5.2 * (len(hiddens) + 1), 4.2))
    colors = {"solved": "tab:blue", "stalled": "tab:red", "neither": "tab:orange"}
    for ax, hidden in zip(axes, hiddens):
        rows = [r for r in result.runs if r.hidden == int(hidden)]
        for r, curve in zip(rows, result.losses[hidden], strict=True):
            ax.semilogy(result.loss_epochs, curve, color=colors[r.outcome], lw=0.8, alpha=0.7)
        for outcome, color in colors.items():
            n = sum(r.outcome == outcome for r in rows)
            if n:
                ax.plot([], [], color=color, label=f"{outcome}: {n} of {len(rows)} seeds")
        ax.set(title=f"2-{hidden}-1 on XOR: training loss per seed", xlabel="epoch",
               ylabel="mean squared error (log scale)")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    ax = axes[-1]
    runs = result.runs
    x = np.arange(len(runs))
    ax.semilogy(x, [max(r.autograd_diff, 1e-19) for r in runs], "o", ms=3,
                label="|hand - autograd|")
    ax.semilogy(x, [r.numeric_diff for r in runs], "s", ms=3, label="|hand - numerical|")
    ax.axhline(AUTOGRAD_TOL, color="C0", ls="--", lw=0.8, label=f"bound {AUTOGRAD_TOL:g}")
    ax.axhline(NUMERIC_TOL, color="C1", ls="--", lw=0.8, label=f"bound {NUMERIC_TOL:g}")
    ax.set(title="largest gradient difference per run", xlabel="run (network, seed)",
           ylabel="max absolute difference (log scale)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    files = [plots.save(fig, out_dir / "xor_numpy_training.png")]

    axis = np.asarray(result.grid_axis)
    gx, gy = np.meshgrid(axis, axis)
    extent = (axis[0], axis[-1], axis[0], axis[-1])
    fig, axes = plt.subplots(1, len(result.grids), figsize=(4.4 * len(result.grids), 4.2),
                             squeeze=False, constrained_layout=True)
    for ax, (key, values) in zip(axes[0], result.grids.items()):
        hidden, seed, outcome = key.split("/")
        mesh = ax.imshow(np.asarray(values), origin="lower", extent=extent, cmap="RdBu_r",
                         vmin=0, vmax=1, interpolation="bilinear")
        ax.contour(gx, gy, np.asarray(values), levels=[0.5], colors="k", linewidths=1.2)
        ax.scatter(*X[Y[:, 0] == 0].T, s=110, c="white", edgecolors="k", label="class 0")
        ax.scatter(*X[Y[:, 0] == 1].T, s=110, marker="s", c="black", label="class 1")
        ax.set(title=f"2-{hidden}-1, seed {seed}: {outcome}", xlabel="$x_1$", ylabel="$x_2$",
               aspect="equal")
    fig.colorbar(mesh, ax=axes[0], fraction=0.02, pad=0.02, label="network output y_hat")
    files.append(plots.save(fig, out_dir / "xor_numpy_boundaries.png"))
    return files

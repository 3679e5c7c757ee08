"""Lab: activation functions and their derivatives (활성화 함수).

Every curve and derivative is computed by neuralab itself: the derivative comes from
backpropagation (``backward()`` on the sum of the outputs), and the lab checks it against the
closed-form derivative of each function.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neuralab import tensor
from neuralab.autograd import ops
import neuralab.io.figures as plots

TITLE = "Activation functions and their derivatives"
#: |backprop - closed form| allowed, in float64. Both sides evaluate the same formula with
#: different operation orders and libm calls (exp, tanh), each correct to an ulp or two; on
#: derivatives of size <= ~1.13 that is ~1e-16 (2.2e-16 per ulp), the measured error. 1e-12 is
#: ~4500 ulps of 1, so no CPU's libm flips it, and a wrong formula (off by a term) misses it by
#: many orders of magnitude.
TOL = 1e-12
#: the grid is exact math on fixed points, no randomness: these bounds are the lecture's values
#: with room only for the grid (nearest point to 0 is 1e-4 away: sigmoid'(1e-4) = 1/4 - 6e-10)
GRID_TOL = 1e-3
CLAIM = (
    "The sigmoid's derivative is at most 0.25 and tanh's at most 1 (both reached at x = 0, within "
    f"{GRID_TOL:g} on the grid), and both nearly vanish for large |x| (saturation: sigmoid'(5) "
    "< 0.01, tanh'(5) < 0.001), while ReLU passes a derivative of exactly 1 for every positive "
    "input; the derivatives computed by backpropagation equal the closed forms within "
    f"{TOL:g} in float64 (rounding). The softmax (소프트맥스) turns logits into probabilities "
    f"that sum to 1 within {TOL:g}, and its derivative dp_i/dz_i by backpropagation is "
    "p_i (1 - p_i)."
)
CONCEPTS = [5, 6, 9]

#: the panels of the figure: functions that saturate, and the ReLU family
SATURATING = ("step", "sigmoid", "tanh")
#: the softmax is drawn for the logits (x, SOFTMAX_LOGITS[0], SOFTMAX_LOGITS[1]) along the grid
SOFTMAX_LOGITS = (1.0, 0.0)

FUNCTIONS = {
    "step": (ops.step, lambda x: np.zeros_like(x)),
    "sigmoid": (ops.sigmoid, lambda x: (s := 1 / (1 + np.exp(-x))) * (1 - s)),
    "tanh": (ops.tanh, lambda x: 1 - np.tanh(x) ** 2),
    "relu": (ops.relu, lambda x: (x > 0).astype(x.dtype)),
    "leaky_relu": (lambda t: ops.leaky_relu(t, 0.1), lambda x: np.where(x > 0, 1.0, 0.1)),
    "elu": (ops.elu, lambda x: np.where(x > 0, 1.0, np.exp(x))),
    "gelu": (ops.gelu, None),
}


@dataclass
class Config:
    x_min: float = -6.0
    x_max: float = 6.0
    points: int = 1201
    functions: tuple[str, ...] = tuple(FUNCTIONS)

    @classmethod
    def quick(cls) -> "Config":
        return cls(points=241)


@dataclass
class Result:
    x: list[float]
    values: dict[str, list[float]]
    derivatives: dict[str, list[float]]
    max_derivative: dict[str, float]
    derivative_at_5: dict[str, float]
    max_error_vs_closed_form: dict[str, float]
    # the softmax of the logits (x, 1, 0): probabilities (N, 3) and dp_0/dz_0 by backprop
    softmax: list[list[float]] = field(default_factory=list)
    softmax_derivative: list[float] = field(default_factory=list)
    softmax_errors: dict[str, float] = field(default_factory=dict)
    checks: dict[str, bool] = field(default_factory=dict)
    claim_holds: bool = False
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"{'function':<11} {'max f_prime':>11} {'f_prime(5)':>10} {'|autograd-formula|':>19}"
        ]
        for name in self.values:
            err = self.max_error_vs_closed_form.get(name)
            lines.append(
                f"{name:<11} {self.max_derivative[name]:>11.4f} "
                f"{self.derivative_at_5[name]:>10.4f} "
                f"{'-' if err is None else f'{err:.2e}':>19}"
            )
        if self.softmax_errors:
            lines.append(f"softmax of (x, 1, 0): max |sum of p - 1| "
                         f"{self.softmax_errors['sum']:.2e}, max |dp_0/dz_0 by backprop - "
                         f"p_0 (1 - p_0)| {self.softmax_errors['derivative']:.2e}")
        lines += ["", f"grid: {len(self.x)} points from {self.x[0]:g} to {self.x[-1]:g}; "
                  f"tolerance autograd vs closed form {TOL:g} (float64), grid {GRID_TOL:g}"]
        lines += [f"  {name}: {'yes' if ok else 'NO'}" for name, ok in self.checks.items()]
        return "\n".join(lines)


def run(config: Config) -> Result:
    unknown = set(config.functions) - set(FUNCTIONS)
    if unknown:
        raise ValueError(f"unknown activation(s) {sorted(unknown)}; choose from {list(FUNCTIONS)}")
    if config.points < 2 or not config.x_min < config.x_max:
        raise ValueError(f"the grid needs points >= 2 and x_min < x_max, got points="
                         f"{config.points}, x_min={config.x_min}, x_max={config.x_max}")
    # the grid avoids x = 0 exactly, where step and ReLU have no derivative
    x = np.linspace(config.x_min, config.x_max, config.points) + 1e-4
    values, derivatives, max_d, at5, errors = {}, {}, {}, {}, {}
    for name in config.functions:
        fn, closed_form = FUNCTIONS[name]
        t = tensor(x, requires_grad=True, dtype=np.float64)
        y = fn(t)
        y.sum().backward()  # d(sum y)/dx_i = f'(x_i): each output depends on its own input only
        values[name] = y.data.tolist()
        derivatives[name] = t.grad.tolist()
        max_d[name] = float(t.grad.max())
        at5[name] = float(np.interp(5.0, x, t.grad))
        if closed_form is not None:
            errors[name] = float(np.max(np.abs(t.grad - closed_form(x))))
    # a function left out of `functions` is not checked (its check counts as passed)
    checks = {
        "max sigmoid' = 1/4": abs(max_d.get("sigmoid", 0.25) - 0.25) < GRID_TOL,
        "max tanh' = 1": abs(max_d.get("tanh", 1.0) - 1.0) < GRID_TOL,
        "sigmoid'(5) < 0.01 and tanh'(5) < 0.001":
            at5.get("sigmoid", 0.0) < 0.01 and at5.get("tanh", 0.0) < 0.001,
        "relu'(x) = 1 for every x > 0":
            "relu" not in derivatives
            or bool(np.all(np.asarray(derivatives["relu"])[x > 0] == 1.0)),
        "autograd = closed form": all(err < TOL for err in errors.values()),
    }
    # the softmax: each row of logits (x, 1, 0) gives probabilities; d(sum of p_0)/dz_0 is
    # dp_0/dz_0 of its own row, p_0 (1 - p_0)
    z = tensor(np.column_stack([x, np.full_like(x, SOFTMAX_LOGITS[0]),
                                np.full_like(x, SOFTMAX_LOGITS[1])]),
               requires_grad=True, dtype=np.float64)
    p = ops.softmax(z, axis=1)
    p[:, 0].sum().backward()
    probs = p.data
    softmax_errors = {
        "sum": float(np.max(np.abs(probs.sum(axis=1) - 1))),
        "derivative": float(np.max(np.abs(z.grad[:, 0] - probs[:, 0] * (1 - probs[:, 0])))),
    }
    checks["softmax: rows sum to 1, dp_i/dz_i = p_i (1 - p_i)"] = all(
        e < TOL for e in softmax_errors.values())
    return Result(x.tolist(), values, derivatives, max_d, at5, errors, probs.tolist(),
                  z.grad[:, 0].tolist(), softmax_errors, checks=checks,
                  claim_holds=all(checks.values()))


def plot(result: Result, out_dir: Path) -> list[Path]:
    plt = plots.pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(15, 8), sharex=True)
    groups = [[n for n in result.values if n in SATURATING],
              [n for n in result.values if n not in SATURATING]]
    for col, (names, title) in enumerate(zip(groups, ("saturating: step, sigmoid, tanh",
                                                      "the ReLU family"))):
        for name in names:
            axes[0, col].plot(result.x, result.values[name], label=name)
            axes[1, col].plot(result.x, result.derivatives[name], label=name)
        axes[0, col].set(title=f"{title}: f(x)", ylim=(-1.5, 3) if col else (-1.2, 1.2))
        axes[1, col].set(title="derivative f'(x) by backpropagation", xlabel="x",
                         ylim=(-0.1, 1.2))
        axes[0, col].legend(loc="upper left", fontsize=8)
    ax = axes[0, 2]
    if result.softmax:
        probs = np.asarray(result.softmax)
        a, b = SOFTMAX_LOGITS
        for i, label in enumerate(("p0 (logit x)", f"p1 (logit {a:g})", f"p2 (logit {b:g})")):
            ax.plot(result.x, probs[:, i], label=label)
        ax.plot(result.x, probs.sum(axis=1), "k:", lw=1, label="p0 + p1 + p2")
        axes[1, 2].plot(result.x, result.softmax_derivative, label="dp0/dz0 by backprop")
        axes[1, 2].plot(result.x, probs[:, 0] * (1 - probs[:, 0]), "k:", lw=1,
                        label="p0 (1 - p0)")
    ax.set(title=f"softmax of the logits (x, {SOFTMAX_LOGITS[0]:g}, {SOFTMAX_LOGITS[1]:g})",
           ylim=(-0.05, 1.1))
    ax.legend(loc="center left", fontsize=8)
    axes[1, 2].set(title="softmax derivative", xlabel="x", ylim=(-0.02, 0.3))
    axes[1, 2].legend(loc="upper left", fontsize=8)
    for ax in axes.flat:
        ax.grid(alpha=0.3)
        ax.axhline(0, color="k", lw=0.5)
    fig.tight_layout()
    return [plots.save(fig, Path(out_dir) / "activations.png")]

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
    f"{TOL:g} in float64 (rounding)."
)
CONCEPTS = [5, 6, 9]

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
    return Result(x.tolist(), values, derivatives, max_d, at5, errors, checks=checks,
                  claim_holds=all(checks.values()))


def plot(result: Result, out_dir: Path) -> list[Path]:
    plt = plots.pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for name in result.values:
        ax1.plot(result.x, result.values[name], label=name)
        ax2.plot(result.x, result.derivatives[name], label=name)
    ax1.set(title="activation f(x)", xlabel="x", ylim=(-1.5, 3))
    ax2.set(title="derivative f'(x) by backpropagation", xlabel="x", ylim=(-0.1, 1.2))
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.axhline(0, color="k", lw=0.5)
    ax2.legend(loc="upper left", fontsize=8)
    return [plots.save(fig, Path(out_dir) / "activations.png")]

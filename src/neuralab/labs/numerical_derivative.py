"""Lab: the numerical derivative, the gradient and gradient descent, the figures of *Deep Learning
from Scratch* chapter 4 (수치 미분, 기울기, 경사하강법, 학습률), each computed and checked against its
closed form.

1. **The derivative as a tangent** (Fig. 4-6, 4-7): f(x) = 0.01 x^2 + 0.1 x, its central
   difference (f(x + h) - f(x - h)) / 2h with the book's h = 1e-4 (the lecture's ``derivative(f,
   z, eps)``) at x = 5 and x = 10, against f'(x) = 0.02 x + 0.1, and the tangent lines.
2. **Forward against central differences**: the error of (f(x + h) - f(x)) / h and of the central
   difference for sin at x = 1 (f' = cos 1) over h from 1e-1 down to 1e-13.  Taylor's formula
   says the forward difference errs by h f''/2 (slope 1 on a log-log plot) and the central one
   by h^2 f'''/6 (slope 2), until the rounding error of f, about eps / h, takes over for small h;
   the lab fits the slopes where truncation dominates.
3. **The gradient** (Fig. 4-9): -grad f of f(x0, x1) = x0^2 + x1^2 on a grid by
   ``neuralab.numerical_gradient``, against 2 (x0, x1): the arrows point to the minimum.
4. **Gradient descent** (Fig. 4-10): x <- x - lr grad f(x) from (-3, 4), 20 steps of lr = 0.1,
   with the numerical gradient as the book does.  On this f every step multiplies x by
   (1 - 2 lr), so x_t = (1 - 2 lr)^t x_0 exactly.
5. **A learning rate too large or too small** (the book's lr = 10 and 1e-10, 100 steps): with
   lr = 10 each step multiplies x by -19 and it diverges; with lr = 1e-10 it hardly moves.

Everything is deterministic float64 arithmetic, checked against the closed forms.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neuralab import numerical_gradient
import neuralab.io.figures as plots

TITLE = "Numerical derivative, gradient and gradient descent (the book's chapter 4)"
#: |numerical - closed form| bounds, float64: the central difference of a quadratic is exact up
#: to rounding (eps f / h ~ 2e-16 * 1 / 1e-4 ~ 1e-12); numerical_gradient of x0^2 + x1^2 with
#: h = 1e-6 errs by ~eps |f| / h ~ 1e-9 at |x| ~ 3
DERIVATIVE_TOL = 1e-9
GRADIENT_TOL = 1e-7
#: the diverging descent is compared with its closed form while |x| stays below this, within
#: LARGE_TOL: the numerical gradient's rounding error, ~eps_64 |x|^2 / eps, is a relative error
#: of ~eps_64 |x| / (2 eps) of the gradient 2 x: ~1e-6 per step at |x| = 1e4, growing with |x|
#: until it swamps the gradient near |x| ~ 1e10 (where the book's lr = 10 result stops)
BREAKDOWN = 1e4
LARGE_TOL = 1e-4
CLAIM = (
    "The central difference (수치 미분) gives the derivative of 0.01 x^2 + 0.1 x at x = 5 and 10 "
    f"(0.2 and 0.3) within {DERIVATIVE_TOL:g}; its error falls like h^2 and the forward "
    "difference's like h until rounding takes over (fitted log-log slopes near 2 and 1); the "
    "numerical gradient of x0^2 + x1^2 is 2 x on the whole grid and -grad f points to the "
    "minimum; gradient descent (경사하강법) with lr = 0.1 follows x_t = 0.8^t x_0 to the minimum, "
    "while lr = 10 diverges and lr = 1e-10 hardly moves (학습률: too large, too small)."
)
CONCEPTS = [10, 11, 12]


def f_1d(x: float) -> float:
    return 0.01 * x ** 2 + 0.1 * x


def f_2d(x: np.ndarray) -> float:
    return float(np.sum(np.asarray(x) ** 2))


def central(f: Callable[[float], float], x: float, h: float) -> float:
    return (f(x + h) - f(x - h)) / (2 * h)


def forward(f: Callable[[float], float], x: float, h: float) -> float:
    return (f(x + h) - f(x)) / h


def gradient_descent(start: tuple[float, float], lr: float, steps: int,
                     eps: float) -> np.ndarray:
    """The book's gradient_descent: x -= lr * numerical gradient, ``steps`` times; the path."""
    x = np.array(start, dtype=np.float64)
    path = [x.copy()]
    for _ in range(steps):
        (grad,) = numerical_gradient(lambda: f_2d(x), [x], eps)
        x -= lr * grad
        path.append(x.copy())
    return np.array(path)


@dataclass
class Config:
    h: float = 1e-4  # the book's step for the derivative
    tangent_at: tuple[float, ...] = (5.0, 10.0)
    sweep: tuple[float, float, int] = (-13.0, -1.0, 49)  # log10(h) from, to, points
    fit_range: tuple[float, float] = (-4.0, -1.0)  # log10(h) where truncation dominates
    grid: int = 9  # points per axis of the gradient field on [-2, 2]^2
    eps: float = 1e-6  # the step of numerical_gradient
    start: tuple[float, float] = (-3.0, 4.0)
    lr: float = 0.1
    steps: int = 20
    lr_large: float = 10.0
    lr_small: float = 1e-10
    steps_lr: int = 100

    @classmethod
    def quick(cls) -> Config:
        return cls(sweep=(-13.0, -1.0, 25), grid=5)


@dataclass
class Result:
    derivatives: dict[str, dict[str, float]]  # x -> numerical, exact, error
    sweep_h: list[float]
    forward_error: list[float]
    central_error: list[float]
    slopes: dict[str, float]
    best_h: dict[str, float]
    gradient_error: float
    arrows_point_inward: bool
    grid_points: list[list[float]]
    grid_gradients: list[list[float]]
    paths: dict[str, list[list[float]]]  # lr -> path
    closed_form_error: dict[str, float]  # lr -> max relative error against (1 - 2 lr)^t x0
    breakdown_step: dict[str, int | None]  # lr -> first step more than 1e-3 off it
    final_norm: dict[str, float]
    checks: dict[str, bool] = field(default_factory=dict)
    claim_holds: bool = False

    def summary(self) -> str:
        lines = [f"{'x':>5} {'central difference':>19} {'0.02 x + 0.1':>13} {'error':>9}"]
        for x, d in self.derivatives.items():
            lines.append(f"{x:>5} {d['numerical']:>19.15f} {d['exact']:>13.4f} "
                         f"{d['error']:>9.1e}")
        lines += [
            "",
            f"sin at x = 1, error against cos 1: fitted log-log slope forward "
            f"{self.slopes['forward']:.3f}, central {self.slopes['central']:.3f}; the smallest "
            f"error at h = {self.best_h['forward']:.1e} (forward), {self.best_h['central']:.1e} "
            "(central)",
            f"gradient of x0^2 + x1^2 on {len(self.grid_points)} grid points: max |numerical - "
            f"2 x| = {self.gradient_error:.1e}; -grad f points to the minimum everywhere: "
            f"{self.arrows_point_inward}",
            "",
            f"{'lr':>8} {'steps':>6} {'final x':>30} {'|x|':>10} {'vs (1 - 2 lr)^t x0':>19} "
            f"{'off from step':>14}",
        ]
        for lr, path in self.paths.items():
            end = path[-1]
            off = self.breakdown_step[lr]
            lines.append(f"{lr:>8} {len(path) - 1:>6} {f'({end[0]:.6g}, {end[1]:.6g})':>30} "
                         f"{self.final_norm[lr]:>10.3g} {self.closed_form_error[lr]:>19.1e} "
                         f"{'-' if off is None else off:>14}")
        lines.append(f"vs (1 - 2 lr)^t x0: max relative difference while |x| <= {BREAKDOWN:g}; "
                     "off from step: the first step more than 1e-3 off it (the numerical "
                     "gradient's rounding at large |x|)")
        lines += [f"  {name}: {'yes' if ok else 'NO'}" for name, ok in self.checks.items()]
        return "\n".join(lines)


def run(config: Config) -> Result:
    if not 0 < config.h < 1 or not 0 < config.eps < 1:
        raise ValueError(f"numerical-derivative expected steps `h` and `eps` in (0, 1), got "
                         f"{config.h} and {config.eps}")
    lo, hi, n = config.sweep
    if not (lo < hi <= 0 and int(n) >= 5):
        raise ValueError(f"numerical-derivative expected `sweep` = (from, to, points) with "
                         f"from < to <= 0 and at least 5 points, got {config.sweep}")
    if config.grid < 2 or min(config.steps, config.steps_lr) < 1:
        raise ValueError(f"numerical-derivative expected `grid` >= 2 and positive `steps` and "
                         f"`steps_lr`, got {config.grid}, {config.steps}, {config.steps_lr}")
    derivatives = {}
    for x in config.tangent_at:
        num, exact = central(f_1d, x, config.h), 0.02 * x + 0.1
        derivatives[f"{x:g}"] = {"numerical": num, "exact": exact, "error": abs(num - exact)}
    hs = 10.0 ** np.linspace(lo, hi, int(n))
    fwd = np.array([abs(forward(np.sin, 1.0, h) - np.cos(1.0)) for h in hs])
    cen = np.array([abs(central(np.sin, 1.0, h) - np.cos(1.0)) for h in hs])
    in_fit = (np.log10(hs) >= config.fit_range[0]) & (np.log10(hs) <= config.fit_range[1])
    slopes = {name: float(np.polyfit(np.log10(hs[in_fit]), np.log10(err[in_fit]), 1)[0])
              for name, err in (("forward", fwd), ("central", cen))}
    best_h = {"forward": float(hs[np.argmin(fwd)]), "central": float(hs[np.argmin(cen)])}

    axis = np.linspace(-2.0, 2.0, config.grid)
    points = np.array([(a, b) for a in axis for b in axis])
    grads = []
    for p in points:
        x = p.copy()
        grads.append(numerical_gradient(lambda: f_2d(x), [x], config.eps)[0])  # noqa: B023
    grads = np.array(grads)
    gradient_error = float(np.max(np.abs(grads - 2 * points)))
    # -grad f points to the minimum: its dot product with -x is positive (away from x = 0)
    away = np.linalg.norm(points, axis=1) > 0
    inward = bool(np.all(np.sum(-grads[away] * -points[away], axis=1) > 0))

    paths, closed, norms, broke = {}, {}, {}, {}
    for lr, steps in ((config.lr, config.steps), (config.lr_large, config.steps_lr),
                      (config.lr_small, config.steps_lr)):
        path = gradient_descent(config.start, lr, steps, config.eps)
        t = np.arange(steps + 1)[:, None]
        exact = (1 - 2 * lr) ** t * np.asarray(config.start)
        key = f"{lr:g}"
        paths[key] = path.tolist()
        relative = np.max(np.abs(path - exact) / np.maximum(np.abs(exact), 1e-300), axis=1)
        # compared while |x| <= BREAKDOWN: beyond it the numerical gradient's rounding error
        # eps_64 |f| / eps swamps the gradient itself (the book's lr = 10 result is that)
        valid = np.linalg.norm(exact, axis=1) <= BREAKDOWN
        closed[key] = float(np.max(relative[valid]))
        wrong = np.nonzero(relative > 1e-3)[0]
        broke[key] = int(wrong[0]) if len(wrong) else None
        norms[key] = float(np.linalg.norm(path[-1]))
    small_moved = float(np.linalg.norm(np.subtract(paths[f"{config.lr_small:g}"][-1],
                                                   config.start)))
    checks = {
        f"central difference at {', '.join(derivatives)} within {DERIVATIVE_TOL:g}": all(
            d["error"] < DERIVATIVE_TOL for d in derivatives.values()),
        "forward slope in [0.9, 1.1], central slope in [1.9, 2.1]":
            0.9 <= slopes["forward"] <= 1.1 and 1.9 <= slopes["central"] <= 2.1,
        "rounding: the best h of the central difference is larger than the forward one's":
            best_h["central"] > best_h["forward"],
        f"numerical gradient = 2 x within {GRADIENT_TOL:g}, -grad f points inward":
            gradient_error < GRADIENT_TOL and inward,
        f"lr {config.lr:g}: x_t = (1 - 2 lr)^t x0 (relative 1e-6) and |x| < 0.1 at the end":
            closed[f"{config.lr:g}"] < 1e-6 and norms[f"{config.lr:g}"] < 0.1,
        f"lr {config.lr_large:g} diverges as (1 - 2 lr)^t x0 (relative {LARGE_TOL:g}) while "
        f"|x| <= {BREAKDOWN:g}, and |x| > {BREAKDOWN:g} at the end":
            closed[f"{config.lr_large:g}"] < LARGE_TOL
            and norms[f"{config.lr_large:g}"] > BREAKDOWN,
        f"lr {config.lr_small:g} hardly moves: |x - x0| < 1e-6": small_moved < 1e-6,
    }
    return Result(derivatives, hs.tolist(), fwd.tolist(), cen.tolist(), slopes, best_h,
                  gradient_error, inward, points.tolist(), grads.tolist(), paths, closed, broke,
                  norms, checks, all(checks.values()))


def plot(result: Result, out_dir: Path) -> list[Path]:
    plt = plots.pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(16, 9.5))
    ax = axes[0, 0]
    x = np.linspace(0, 20, 200)
    ax.plot(x, f_1d(x), color="k", label="f(x) = 0.01 x^2 + 0.1 x")
    for (at, d), color in zip(result.derivatives.items(), ("C0", "C1")):
        a = float(at)
        ax.plot(x, f_1d(a) + d["numerical"] * (x - a), "--", color=color,
                label=f"tangent at x = {at}: slope {d['numerical']:.4f}")
        ax.plot(a, f_1d(a), "o", color=color)
    ax.set(title="numerical derivative as the tangent's slope (Fig. 4-7)", xlabel="x",
           ylabel="f(x)", ylim=(-1, 6))
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    ax.loglog(result.sweep_h, np.maximum(result.forward_error, 1e-17), "o-", ms=3,
              label=f"forward, slope {result.slopes['forward']:.2f}")
    ax.loglog(result.sweep_h, np.maximum(result.central_error, 1e-17), "s-", ms=3,
              label=f"central, slope {result.slopes['central']:.2f}")
    ax.set(title="error of the derivative of sin at 1 against h", xlabel="h",
           ylabel="|difference quotient - cos 1|")
    ax.legend(fontsize=8)
    ax = axes[0, 2]
    pts, grads = np.asarray(result.grid_points), np.asarray(result.grid_gradients)
    ax.quiver(pts[:, 0], pts[:, 1], -grads[:, 0], -grads[:, 1], angles="xy", color="C2")
    ax.plot(0, 0, "k*", ms=10)
    ax.set(title="-grad f of x0^2 + x1^2 (Fig. 4-9)", xlabel="x0", ylabel="x1", aspect="equal")
    ax = axes[1, 0]
    g = np.linspace(-4.5, 4.5, 100)
    gx, gy = np.meshgrid(g, g)
    ax.contour(gx, gy, gx ** 2 + gy ** 2, levels=12, cmap="viridis", linewidths=0.7)
    first = next(iter(result.paths))
    path = np.asarray(result.paths[first])
    ax.plot(path[:, 0], path[:, 1], "o-", ms=3, color="C3", label=f"lr {first}")
    ax.set(title="gradient descent from (-3, 4) (Fig. 4-10)", xlabel="x0", ylabel="x1",
           aspect="equal")
    ax.legend(fontsize=8)
    ax = axes[1, 1]
    for k, (lr, path) in enumerate(result.paths.items()):
        norms = np.linalg.norm(np.asarray(path), axis=1)
        ax.semilogy(norms, color=f"C{k}", label=f"lr {lr}")
        exact = abs(1 - 2 * float(lr)) ** np.arange(len(norms)) * norms[0]
        shown = exact < 1e30
        ax.semilogy(np.arange(len(norms))[shown], exact[shown], ":", color=f"C{k}",
                    label=f"lr {lr}: |1 - 2 lr|^t |x0|")
    ax.set(title="|x| per step: learning rate too large, good, too small", xlabel="step",
           ylabel="|x| (log scale)")
    ax.legend(fontsize=8)
    axes[1, 2].axis("off")
    axes[1, 2].text(0, 0.5, "\n".join(f"lr {lr}: |x| after {len(p) - 1} steps = "
                                      f"{result.final_norm[lr]:.3g}"
                                      for lr, p in result.paths.items()), fontsize=11)
    for a in axes.flat[:5]:
        a.grid(alpha=0.3)
    fig.tight_layout()
    return [plots.save(fig, Path(out_dir) / "numerical_derivative.png")]

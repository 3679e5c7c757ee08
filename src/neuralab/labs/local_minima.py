"""Lab: local minima, saddle points and plateaus (지역 최솟값, 안장점, 고원): where plain gradient
descent stalls and momentum or Adam get through.

Three functions of two variables whose critical points are known in closed form:

* **saddle** f(x, y) = x^4 / 4 - x^2 / 2 + y^2 / 2: a saddle point at (0, 0) (Hessian eigenvalues
  -1 and 1, value 0) between two minima at (+-1, 0) (value -1/4).  Started next to the saddle's
  stable line (x tiny, y about 1), gradient descent slides into the saddle and waits there until
  the tiny x has grown: near the saddle x grows by the factor (1 + lr) per step.
* **plateau** f(x, y) = 1 - exp(-(x^2 + y^2) / 2): one minimum at the origin (value 0), and far
  from it a plateau whose gradient r exp(-r^2 / 2) at the distance r is almost 0.
* **local** f(x, y) = x^4 - 3 x^2 + x + y^2: critical points at y = 0 and the three roots of
  4 x^3 - 6 x + 1 = 0 (numpy.roots): the global minimum near x = -1.30, a saddle near x = 0.17
  (a maximum in x, a minimum in y) and a local minimum near 1.13.  Started right of the local minimum, gradient descent ends
  in it: its gradient there is exactly 0.

For each function and each seed (a random start in a box on the same side of the landscape) the
lab runs plain gradient descent (``optim.SGD``), momentum (``optim.SGD(momentum=0.9)``) and Adam
(``optim.Adam``) with the same learning rate on a two-element ``nn.Parameter``, the function
written with neuralab's tensor operations and its gradient from ``backward()``.  It checks the
critical points first: the gradient is 0 there and the Hessian (central differences of the
autograd gradient) has the eigenvalue signs of a saddle, a minimum or a maximum.

The lecture promises that momentum and Adam "escape" where gradient descent gets stuck.  Measured:
both leave the saddle and the plateau far sooner; from the local minimum only momentum, whose
velocity carries it over the barrier, gets out; Adam settles in the local minimum as gradient
descent does.  The claim says exactly that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import neuralab as nl
from neuralab import nn, optim
import neuralab.io.figures as plots
from neuralab.labs import common

TITLE = "Local minima, saddle points and plateaus: where gradient descent stalls"
#: saddle: gradient descent needs more than this many times the steps of momentum and of Adam
#: to reach a minimum (the linear escape rates alone give ~3.7 for momentum at lr 0.05)
MIN_SADDLE_RATIO = 2.0
#: saddle: "reached a minimum" = f below this (the minima are at -1/4, the saddle at 0)
SADDLE_REACHED = -0.24
#: plateau: momentum and Adam must reach f below this; gradient descent is still above
#: PLATEAU_STUCK after the same steps (f = 1 on the plateau, 0 at the minimum)
PLATEAU_REACHED = 0.01
PLATEAU_STUCK = 0.5
#: local: the final x within this of a critical point counts as ending there
AT_POINT = 1e-2
CLAIM = (
    "Plain gradient descent (경사하강법) stalls near a saddle point (안장점) and on a plateau (고원), "
    "where momentum (모멘텀) and Adam get through far sooner, and it ends in a local minimum "
    "(지역 최솟값), from which momentum rolls on to the global minimum while Adam, like gradient "
    "descent, stays. Decided on every seed, on functions whose critical points are known in "
    "closed form (checked: gradient 0, Hessian eigenvalue signs): at the saddle gradient descent "
    f"needs more than {MIN_SADDLE_RATIO:g} times the steps of momentum and of Adam; on the "
    f"plateau momentum and Adam reach f < {PLATEAU_REACHED:g} while gradient descent is still "
    f"above {PLATEAU_STUCK:g}; gradient descent and Adam end at the local minimum, momentum at "
    "the global one."
)
CONCEPTS = [28, 11, 13]

OPTIMIZERS = ("gd", "momentum", "adam")
FUNCTIONS = ("saddle", "plateau", "local")


def saddle(p: nl.Tensor) -> nl.Tensor:
    x, y = p[0], p[1]
    return x ** 4 / 4 - x ** 2 / 2 + y ** 2 / 2


def plateau(p: nl.Tensor) -> nl.Tensor:
    return 1 - nl.exp(-(p[0] ** 2 + p[1] ** 2) / 2)


def local(p: nl.Tensor) -> nl.Tensor:
    x, y = p[0], p[1]
    return x ** 4 - 3 * x ** 2 + x + y ** 2


FUNCTION = {"saddle": saddle, "plateau": plateau, "local": local}


def critical_points() -> dict[str, dict[str, tuple[float, float]]]:
    """Every function's critical points in closed form: name -> kind -> (x, y)."""
    roots = np.sort(np.roots([4.0, 0.0, -6.0, 1.0]).real)  # 4 x^3 - 6 x + 1 = 0
    return {
        "saddle": {"saddle": (0.0, 0.0), "minimum": (1.0, 0.0), "minimum (mirror)": (-1.0, 0.0)},
        "plateau": {"minimum": (0.0, 0.0)},
        "local": {"global minimum": (float(roots[0]), 0.0),
                  "saddle (maximum in x)": (float(roots[1]), 0.0),
                  "local minimum": (float(roots[2]), 0.0)},
    }


#: the eigenvalue signs of the Hessian at each kind of point
SIGNS = {"saddle": "+-", "minimum": "++", "minimum (mirror)": "++", "global minimum": "++",
         "local minimum": "++", "saddle (maximum in x)": "+-"}


def gradient(f: Callable, point: np.ndarray) -> np.ndarray:
    p = nn.Parameter(np.asarray(point, dtype=np.float64), dtype=np.float64)
    f(p).backward()
    return p.grad.copy()


def hessian(f: Callable, point: tuple[float, float], h: float = 1e-5) -> np.ndarray:
    """Central differences of the autograd gradient, symmetrized."""
    rows = []
    for i in range(2):
        e = np.zeros(2)
        e[i] = h
        rows.append((gradient(f, np.add(point, e)) - gradient(f, np.subtract(point, e))) / (2 * h))
    m = np.array(rows)
    return (m + m.T) / 2


def descend(f: Callable, start: tuple[float, float], name: str, lr: float,
            steps: int) -> tuple[np.ndarray, list[float]]:
    """``steps`` updates of optimizer ``name`` from ``start``: the path (steps + 1, 2) and f
    along it."""
    p = nn.Parameter(np.asarray(start, dtype=np.float64), dtype=np.float64)
    opt = {"gd": lambda: optim.SGD([p], lr=lr),
           "momentum": lambda: optim.SGD([p], lr=lr, momentum=0.9),
           "adam": lambda: optim.Adam([p], lr=lr)}[name]()
    path, values = [p.data.copy()], []
    for _ in range(steps):
        opt.zero_grad()
        value = f(p)
        values.append(float(value.data))
        value.backward()
        opt.step()
        path.append(p.data.copy())
    values.append(float(f(p).data))
    return np.array(path), values


@dataclass
class Config:
    # the learning rate and the number of steps on each function (the same for all optimizers)
    saddle_lr: float = 0.05
    saddle_steps: int = 1000
    plateau_lr: float = 0.1
    plateau_steps: int = 600
    local_lr: float = 0.01
    local_steps: int = 1000
    # each seed: a new random start in the box of each function (see _start)
    seeds: tuple[int, ...] = tuple(range(10))

    @classmethod
    def quick(cls) -> Config:
        return cls(saddle_steps=500, plateau_steps=300, seeds=(0, 1, 2))


@dataclass
class SeedRun:
    function: str
    seed: int
    start: list[float]
    end: dict[str, list[float]]  # optimizer -> final point
    final: dict[str, float]  # optimizer -> final f
    steps_to_reach: dict[str, int | None]  # saddle: f < SADDLE_REACHED; plateau: < REACHED


@dataclass
class Result:
    points: dict[str, dict[str, tuple[float, float]]]
    point_checks: dict[str, dict[str, dict[str, float | str]]]  # gradient norm, eigenvalues
    runs: list[SeedRun]
    paths: dict[str, dict[str, list[list[float]]]]  # first seed: function -> optimizer -> path
    values: dict[str, dict[str, list[float]]]  # first seed: f along the path
    checks: dict[str, bool] = field(default_factory=dict)
    claim_holds: bool = False

    def summary(self) -> str:
        lines = ["critical points (closed form): |gradient| by autograd, Hessian eigenvalues"]
        for fn, kinds in self.point_checks.items():
            for kind, c in kinds.items():
                x, y = self.points[fn][kind]
                lines.append(f"  {fn:<8} {kind:<17} ({x:+.4f}, {y:+.4f})  |grad| "
                             f"{c['gradient']:.1e}  eigenvalues {c['eigenvalues']}")
        lines += ["", f"{'function':>8} {'seed':>5} {'start':>18}   " + "  ".join(
            f"{o:>22}" for o in OPTIMIZERS)]
        for r in self.runs:
            cells = []
            for o in OPTIMIZERS:
                reached = r.steps_to_reach.get(o, "")
                reached = "-" if reached is None else reached
                end = f"({r.end[o][0]:+.2f},{r.end[o][1]:+.2f})"
                cells.append(f"{end} {r.final[o]:+.3f} {reached!s:>4}"
                             if r.function != "local" else f"{end} {r.final[o]:+.3f}     ")
            lines.append(f"{r.function:>8} {r.seed:>5} ({r.start[0]:+.1e},{r.start[1]:+.2f})   "
                         + "  ".join(f"{c:>22}" for c in cells))
        lines.append("columns per optimizer: final point, final f, steps to reach (saddle: f < "
                     f"{SADDLE_REACHED:g}; plateau: f < {PLATEAU_REACHED:g}; - never)")
        saddle_rows = [r for r in self.runs if r.function == "saddle"]
        if saddle_rows:
            ratios = {o: [r.steps_to_reach["gd"] / r.steps_to_reach[o] for r in saddle_rows
                          if r.steps_to_reach["gd"] and r.steps_to_reach[o]]
                      for o in ("momentum", "adam")}
            lines.append("saddle: steps of gradient descent / steps of " + ", ".join(
                f"{o} {min(v):.2f}-{max(v):.2f}" for o, v in ratios.items() if v))
        lines += ["", "Checks: " + ", ".join(f"{k}={'ok' if v else 'FAILED'}"
                                             for k, v in self.checks.items())]
        return "\n".join(lines)


def _start(function: str, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    if function == "saddle":  # next to the saddle's stable line x = 0
        return float(10 ** -rng.uniform(4, 8) * rng.choice([-1, 1])), float(rng.uniform(0.5, 1.5))
    if function == "plateau":  # far out on the plateau, in any direction
        angle, radius = rng.uniform(0, 2 * np.pi), rng.uniform(3.5, 4.0)
        return float(radius * np.cos(angle)), float(radius * np.sin(angle))
    return float(rng.uniform(1.8, 2.6)), float(rng.uniform(-1.0, 1.0))  # right of the local min


def _first(values: list[float], below: float) -> int | None:
    return next((i for i, v in enumerate(values) if v < below), None)


def run(config: Config) -> Result:
    for fn in FUNCTIONS:
        for what in ("lr", "steps"):
            if not getattr(config, f"{fn}_{what}") > 0:
                raise ValueError(f"local-minima expected a positive `{fn}_{what}`, got "
                                 f"{getattr(config, f'{fn}_{what}')!r}")
    common.check_seeds("local-minima", config.seeds)
    points = critical_points()
    point_checks: dict[str, dict[str, dict[str, float | str]]] = {}
    signs_ok = True
    for fn, kinds in points.items():
        point_checks[fn] = {}
        for kind, point in kinds.items():
            eig = np.linalg.eigvalsh(hessian(FUNCTION[fn], point))
            signs = "".join("+" if e > 0 else "-" for e in eig[::-1])
            signs_ok &= signs == SIGNS[kind] and bool(np.all(np.abs(eig) > 1e-3))
            point_checks[fn][kind] = {
                "gradient": float(np.linalg.norm(gradient(FUNCTION[fn], np.array(point)))),
                "eigenvalues": " ".join(f"{e:+.3f}" for e in eig)}
    runs: list[SeedRun] = []
    paths: dict[str, dict[str, list[list[float]]]] = {}
    values: dict[str, dict[str, list[float]]] = {}
    for fn in FUNCTIONS:
        for seed in config.seeds:
            start = _start(fn, seed)
            end, final, reach = {}, {}, {}
            for name in OPTIMIZERS:
                path, vals = descend(FUNCTION[fn], start, name, getattr(config, f"{fn}_lr"),
                                     getattr(config, f"{fn}_steps"))
                end[name], final[name] = path[-1].tolist(), vals[-1]
                if fn != "local":
                    reach[name] = _first(vals, SADDLE_REACHED if fn == "saddle"
                                         else PLATEAU_REACHED)
                if name not in paths.setdefault(fn, {}):  # the first seed's, for the figure
                    paths[fn][name] = path.tolist()
                    values.setdefault(fn, {})[name] = vals
            runs.append(SeedRun(fn, seed, list(start), end, final, reach))
    by = {fn: [r for r in runs if r.function == fn] for fn in FUNCTIONS}
    local_min, global_min = (points["local"][k][0] for k in ("local minimum", "global minimum"))

    def ends_at(r: SeedRun, name: str, x: float) -> bool:
        return abs(r.end[name][0] - x) < AT_POINT and abs(r.end[name][1]) < AT_POINT

    checks = {
        "critical points: gradient 0 and the Hessian's eigenvalue signs": signs_ok and all(
            c["gradient"] < 1e-12 for kinds in point_checks.values() for c in kinds.values()),
        f"saddle: gradient descent needs > {MIN_SADDLE_RATIO:g}x the steps of momentum and "
        "Adam": all(
            r.steps_to_reach["gd"] is not None and all(
                r.steps_to_reach[o] is not None
                and r.steps_to_reach["gd"] > MIN_SADDLE_RATIO * r.steps_to_reach[o]
                for o in ("momentum", "adam")) for r in by["saddle"]),
        f"plateau: momentum and Adam reach f < {PLATEAU_REACHED:g}, gradient descent stays above "
        f"{PLATEAU_STUCK:g}": all(
            r.final["gd"] > PLATEAU_STUCK and r.steps_to_reach["momentum"] is not None
            and r.steps_to_reach["adam"] is not None for r in by["plateau"]),
        "local: gradient descent and Adam end at the local minimum, momentum at the global": all(
            ends_at(r, "gd", local_min) and ends_at(r, "adam", local_min)
            and ends_at(r, "momentum", global_min) for r in by["local"]),
    }
    return Result(points, point_checks, runs, paths, values, checks, all(checks.values()))


def _grid(fn: str, lo: tuple[float, float], hi: tuple[float, float],
          n: int = 120) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The function on a grid, evaluated with the same tensor code on a (2, n, n) array."""
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n))
    with nl.no_grad():
        z = FUNCTION[fn](nl.tensor(np.stack([gx, gy]), dtype=np.float64)).data
    return gx, gy, z


def plot(result: Result, out_dir: Path) -> list[Path]:
    plt = plots.pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(16, 9.5), gridspec_kw={"height_ratios": [1.25, 1]})
    colors = {"gd": "C3", "momentum": "C2", "adam": "C0"}
    labels = {"gd": "gradient descent", "momentum": "momentum 0.9", "adam": "Adam"}

    for col, fn in enumerate(FUNCTIONS):
        ax = axes[0, col]
        everything = np.vstack([np.asarray(p) for p in result.paths[fn].values()]
                               + [np.array(list(result.points[fn].values()))])
        lo, hi = everything.min(axis=0) - 0.4, everything.max(axis=0) + 0.4
        gx, gy, z = _grid(fn, tuple(lo), tuple(hi))
        ax.contour(gx, gy, z, levels=25, cmap="viridis", linewidths=0.7)
        for name, path in result.paths[fn].items():
            path = np.asarray(path)
            ax.plot(path[:, 0], path[:, 1], ".-", ms=2, lw=1, color=colors[name],
                    label=labels[name])
        for kind, (x, y) in result.points[fn].items():
            ax.plot(x, y, "X" if kind.startswith("saddle") else "*", color="k", ms=10)
            ax.annotate(kind, (x, y), textcoords="offset points", fontsize=8,
                        xytext=(5, -12) if kind.startswith("saddle") else (5, 5))
        ax.set(title=f"{fn}: paths from the first seed's start", xlabel="x", ylabel="y")
        ax.legend(fontsize=8, loc="lower left")
        ax = axes[1, col]
        for name, vals in result.values[fn].items():
            ax.plot(vals, color=colors[name], label=labels[name])
        ax.set(title=f"{fn}: f along the path, first seed", xlabel="step", ylabel="f")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return [plots.save(fig, Path(out_dir) / "local_minima.png")]

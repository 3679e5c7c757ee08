"""Lab: numerical differentiation versus backpropagation (수치 미분 vs 오차 역전파).

The numerical gradient of the loss L with respect to every weight w_i, by central differences,

    dL/dw_i ~ (L(w + h e_i) - L(w - h e_i)) / (2 h),

needs two forward passes per weight: its cost grows linearly with the number of parameters P.
Backpropagation gets all P partial derivatives from one forward and one backward pass.  The lab
checks that both give the same gradient (the "gradient check" of *Deep Learning from Scratch*,
ch. 5) on a 4-16-3 MLP on iris, and times both as the hidden layer widens.

The numerical gradient is written here exactly as the book does (perturb one weight in place,
evaluate, restore), so it works on any model; :func:`neuralab.gradcheck` runs the same check on
the functional form of the network with a random cotangent.  In float64 the two gradients agree
to about 1e-8 relative; in float32 the rounding error of L (~1e-7 L) divided by 2h dominates, which
is why gradient checks run in float64.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neuralab import gradcheck, linear, nn, no_grad, seed
from neuralab.autograd import numerical_gradient, ops  # re-exported: the book-style gradient
from neuralab.data import StandardScaler, load_iris
import neuralab.io.figures as plots
from neuralab.threads import single_thread_blas
from neuralab.labs import common

TITLE = "Numerical differentiation vs backpropagation: agreement and cost"
CLAIM = (
    "The numerical gradient (수치 미분, central differences) and backpropagation (오차 역전파) "
    "give the same gradient, but the numerical one needs two forward passes per parameter, so "
    "its time grows linearly with the number of parameters while backpropagation costs about "
    "one forward and one backward pass whatever the size."
)
CONCEPTS = [9, 10]

#: float64 agreement bounds. A central difference in float64 carries a rounding error of about
#: eps_64 |L| / h = 2.2e-16 * 1.1 / 1e-6 ~ 2e-10 per component (the truncation error, h^2 times
#: the third derivative / 6, is ~1e-13), against gradient components of ~1e-2 to 1e-1: a relative
#: error of ~1e-9. The bounds sit three orders of magnitude above that, and a wrong derivative
#: (off by a term or a factor) gives a relative error of order 1.
REL_NORM_TOL = 1e-6
MAX_REL_TOL = 1e-4
#: components below this size are left out of the max relative error: their rounding error 2e-10
#: would be a relative error of up to ~1e-5 while meaning nothing (CS231n's caveat)
SMALL = 1e-5


@dataclass
class Config:
    hidden: int = 16
    activation: str = "sigmoid"
    eps: float = 1e-6
    eps_float32: float = 1e-4
    timing_hidden: tuple[int, ...] = (2, 4, 8, 16, 32, 64, 128, 256, 512)
    repeats: int = 20
    # the agreement check runs once per seed (new initial weights); the first seed's gradients
    # are stored and drawn, and its network is the one timed
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)

    @classmethod
    def quick(cls) -> Config:
        return cls(timing_hidden=(2, 8, 32, 128), repeats=5, seeds=(0, 1, 2))


@dataclass
class SeedAgreement:
    seed: int
    rel_error_norm_float64: float
    max_rel_error_float64: float
    max_abs_error_float64: float
    rel_error_norm_float32: float
    gradcheck_ok: bool


@dataclass
class Result:
    architecture: str
    n_params: int
    eps: float
    eps_float32: float
    weights: dict[str, list]
    # agreement on the check network: per parameter and overall, float64 and float32
    mean_abs_diff: dict[str, float]
    max_abs_error: dict[str, float]
    max_rel_error: dict[str, float]
    rel_error_norm: dict[str, float]
    gradcheck_ok: bool
    gradcheck_max_abs_error: float
    grad_backprop: list[float]
    grad_numeric: list[float]
    grad_numeric_float32: list[float]
    # cost as the hidden layer widens
    timing_params: list[int]
    forward_passes_numeric: list[int]
    time_forward: list[float]
    time_backprop: list[float]
    time_numeric: list[float]
    slope_numeric: float
    slope_backprop: float
    per_seed: list[SeedAgreement] = field(default_factory=list)
    checks: dict[str, bool] = field(default_factory=dict)
    claim_holds: bool = False
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"Agreement on {self.architecture} ({self.n_params} parameters), "
            + "|backprop - numerical| per parameter:",
            f"{'parameter':<12} {'mean |diff| f64':>16}",
        ]
        for name, value in self.mean_abs_diff.items():
            if name != "all":
                lines.append(f"{name:<12} {value:>16.2e}")
        for key, h in (("float64", self.eps), ("float32", self.eps_float32)):
            lines.append(
                f"{key} (h={h:g}): max abs error {self.max_abs_error[key]:.2e}, max rel error "
                f"{self.max_rel_error[key]:.2e}, ||diff||/(||a||+||n||) "
                f"{self.rel_error_norm[key]:.2e}"
            )
        lines += [
            f"neuralab.gradcheck on the same network: ok={self.gradcheck_ok}, max abs error "
            + f"{self.gradcheck_max_abs_error:.2e}",
            "",
            "per seed (new initial weights), float64 unless marked:",
            f"{'seed':>6} {'rel norm':>10} {'max rel':>10} {'max abs':>10} {'f32 rel norm':>13} "
            f"{'gradcheck':>9}",
        ]
        for r in self.per_seed:
            lines.append(f"{r.seed:>6} {r.rel_error_norm_float64:>10.2e} "
                         f"{r.max_rel_error_float64:>10.2e} {r.max_abs_error_float64:>10.2e} "
                         f"{r.rel_error_norm_float32:>13.2e} {r.gradcheck_ok!s:>9}")
        if self.per_seed:
            cols = [np.array([getattr(r, c) for r in self.per_seed]) for c in (
                "rel_error_norm_float64", "max_rel_error_float64", "max_abs_error_float64",
                "rel_error_norm_float32")]
            for label, f in (("median", np.median), ("min", np.min), ("max", np.max)):
                lines.append(f"{label:>6} " + " ".join(
                    f"{f(c):>{w}.2e}" for c, w in zip(cols, (10, 10, 10, 13))))
        lines += [
            f"bounds (float64, every seed): rel norm < {REL_NORM_TOL:g}, max rel < "
            f"{MAX_REL_TOL:g} (components above {SMALL:g}), gradcheck ok",
            "",
            f"{'params':>7} {'fwd passes':>10} {'forward':>10} {'backprop':>10} {'numerical':>10} "
            + f"{'num/bp':>8}",
        ]
        for p, k, tf, tb, tn in zip(self.timing_params, self.forward_passes_numeric,
                                    self.time_forward, self.time_backprop, self.time_numeric):
            lines.append(
                f"{p:>7} {k:>10} {tf * 1e3:>8.3f}ms {tb * 1e3:>8.3f}ms {tn * 1e3:>8.1f}ms "
                f"{tn / tb:>8.0f}"
            )
        lines.append(
            f"log-log slope of time vs parameters: numerical {self.slope_numeric:.2f}, "
            f"backprop {self.slope_backprop:.2f}"
        )
        lines += [f"  {name}: {'yes' if ok else 'NO'}" for name, ok in self.checks.items()]
        return "\n".join(lines)


def _build(hidden: int, activation: str, dtype: type) -> nn.Sequential:
    model = nn.Sequential([
        nn.Dense(hidden, activation=activation, input_dim=4),
        nn.Dense(3),
    ])
    if dtype is not np.float32:
        for p in model.parameters():
            p.data = p.data.astype(dtype)
    return model


def _loss_fn(model: nn.Sequential, x: np.ndarray, y: np.ndarray) -> Callable[[], float]:
    criterion = nn.CrossEntropyLoss()

    def loss() -> float:
        with no_grad():
            return float(criterion(model(x), y).data)

    return loss


def _backprop(model: nn.Sequential, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    model.zero_grad()
    nn.CrossEntropyLoss()(model(x), y).backward()
    return [p.grad for p in model.parameters()]


def _best_time(fn: Callable[[], object], repeats: int) -> float:
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _timings(
    config: Config, X: np.ndarray, y: np.ndarray
) -> tuple[list[int], list[int], list[float], list[float], list[float]]:
    """Parameter counts, forward passes of one numerical gradient, and the best times of one
    forward pass, one backpropagation and one numerical gradient, for each hidden width."""
    params, passes, t_fwd, t_bp, t_num = [], [], [], [], []
    for hidden in config.timing_hidden:
        model = _build(hidden, config.activation, np.float32)
        loss = _loss_fn(model, X, y)
        count = sum(p.data.size for p in model.parameters())
        params.append(count)
        passes.append(2 * count)
        t_fwd.append(_best_time(loss, config.repeats))
        t_bp.append(_best_time(lambda: _backprop(model, X, y), config.repeats))  # noqa: B023
        t_num.append(_best_time(
            lambda: numerical_gradient(loss, model.parameters(), config.eps_float32),  # noqa: B023
            max(1, min(3, config.repeats)),
        ))
    return params, passes, t_fwd, t_bp, t_num


def _slope(params: list[int], times: list[float]) -> float:
    return float(np.polyfit(np.log(params), np.log(times), 1)[0])


def _agreement(config: Config, X: np.ndarray, y: np.ndarray, act: Callable, seed_: int) -> dict:
    """Backprop vs central differences (float64 and float32) and gradcheck, from one seed's
    initial weights."""
    seed(seed_)
    # --- agreement: the same initial weights in float64 and in float32
    model64 = _build(config.hidden, config.activation, np.float64)
    model32 = _build(config.hidden, config.activation, np.float32)
    model32.load_state_dict(model64.state_dict())
    x64 = X.astype(np.float64)
    names = [name for name, _ in model64.named_parameters()]
    analytic = _backprop(model64, x64, y)
    numeric = numerical_gradient(_loss_fn(model64, x64, y), model64.parameters(), config.eps)
    numeric32 = numerical_gradient(_loss_fn(model32, X, y), model32.parameters(),
                                   config.eps_float32)
    a = np.concatenate([g.ravel() for g in analytic])
    mean_abs = {n: float(np.mean(np.abs(ga - gn))) for n, ga, gn in zip(names, analytic, numeric)}
    mean_abs["all"] = float(np.mean(np.abs(a - np.concatenate([g.ravel() for g in numeric]))))
    max_abs, max_rel, rel_norm = {}, {}, {}
    for key, grads in (("float64", numeric), ("float32", numeric32)):
        n = np.concatenate([g.ravel() for g in grads])
        diff = np.abs(a - n)
        max_abs[key] = float(diff.max())
        # relative error where the gradient is not vanishingly small (CS231n's definition)
        big = np.maximum(np.abs(a), np.abs(n)) > SMALL
        max_rel[key] = float(np.max(diff[big] / np.maximum(np.abs(a), np.abs(n))[big]))
        rel_norm[key] = float(np.linalg.norm(a - n) / (np.linalg.norm(a) + np.linalg.norm(n)))

    # neuralab.gradcheck on the functional form of the same network (random cotangent, float64)
    report = gradcheck(
        lambda w1, b1, w2, b2: ops.cross_entropy(linear(act(linear(x64, w1, b1)), w2, b2), y),
        *[p.data for p in model64.parameters()],
    )
    return dict(
        summary=SeedAgreement(
            seed=seed_, rel_error_norm_float64=rel_norm["float64"],
            max_rel_error_float64=max_rel["float64"], max_abs_error_float64=max_abs["float64"],
            rel_error_norm_float32=rel_norm["float32"], gradcheck_ok=bool(report.ok),
        ),
        architecture=f"4-{config.hidden}-3 ({config.activation})",
        n_params=int(a.size),
        eps=config.eps,
        eps_float32=config.eps_float32,
        weights={n: p.data.tolist() for n, p in zip(names, model64.parameters())},
        mean_abs_diff=mean_abs,
        max_abs_error=max_abs,
        max_rel_error=max_rel,
        rel_error_norm=rel_norm,
        gradcheck_ok=bool(report.ok),
        gradcheck_max_abs_error=float(report.max_abs_error),
        grad_backprop=a.tolist(),
        grad_numeric=np.concatenate([g.ravel() for g in numeric]).tolist(),
        grad_numeric_float32=np.concatenate([g.ravel() for g in numeric32]).tolist(),
    )


def run(config: Config) -> Result:
    if config.hidden < 1 or any(h < 1 for h in config.timing_hidden) or config.repeats < 1:
        raise ValueError(
            "gradient-check expected positive `hidden`, `timing_hidden` and `repeats`, got "
            f"{config.hidden}, {config.timing_hidden}, {config.repeats}"
        )
    if len(config.timing_hidden) < 2:
        raise ValueError(
            f"gradient-check needs at least two `timing_hidden` sizes, got {config.timing_hidden}"
        )
    act = {"sigmoid": ops.sigmoid, "tanh": ops.tanh, "relu": ops.relu}.get(config.activation)
    if act is None:
        raise ValueError(
            f"gradient-check expected `activation` sigmoid, tanh or relu, got {config.activation!r}"
        )
    common.check_seeds("gradient-check", config.seeds)
    X, y = load_iris()
    X = StandardScaler().fit_transform(X)
    agreements = [_agreement(config, X, y, act, s) for s in config.seeds]
    first = agreements[0]
    per_seed = [a.pop("summary") for a in agreements]

    # --- cost as the hidden layer widens (float32, the training precision)
    seed(config.seeds[0])
    with single_thread_blas():
        params, passes, t_fwd, t_bp, t_num = _timings(config, X, y)
    slope_num, slope_bp = _slope(params, t_num), _slope(params, t_bp)

    checks = {
        f"float64 agreement for every seed (rel norm < {REL_NORM_TOL:g}, max rel < "
        f"{MAX_REL_TOL:g}, gradcheck ok)": all(
            r.rel_error_norm_float64 < REL_NORM_TOL and r.max_rel_error_float64 < MAX_REL_TOL
            and r.gradcheck_ok for r in per_seed),
        # the cost claims have margins of an order of magnitude: the expected slopes are ~1
        # and ~0.2, the expected ratio at the largest size ~ P
        "numerical time slope > 0.7": slope_num > 0.7,
        "numerical slope > backprop slope + 0.4": slope_num > slope_bp + 0.4,
        "numerical / backprop > 10 at the largest size": t_num[-1] / t_bp[-1] > 10,
    }
    return Result(
        **first,
        timing_params=params,
        forward_passes_numeric=passes,
        time_forward=t_fwd,
        time_backprop=t_bp,
        time_numeric=t_num,
        slope_numeric=slope_num,
        slope_backprop=slope_bp,
        per_seed=per_seed,
        checks=checks,
        claim_holds=all(checks.values()),
    )


def plot(result: Result, out_dir: Path) -> list[Path]:
    plt = plots.pyplot()
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(17, 4.8),
                                        gridspec_kw={"width_ratios": [1.2, 1, 1.2]})
    p = np.asarray(result.timing_params, dtype=float)
    t_num, t_bp = np.asarray(result.time_numeric), np.asarray(result.time_backprop)
    ax1.loglog(p, t_num * 1e3, "o-", color="tab:red",
               label=f"numerical gradient (slope {result.slope_numeric:.2f})")
    ax1.loglog(p, t_bp * 1e3, "s-", color="tab:blue",
               label=f"backpropagation (slope {result.slope_backprop:.2f})")
    ax1.loglog(p, np.asarray(result.time_forward) * 1e3, "^--", color="gray",
               label="one forward pass")
    # a reference line with slope 1 through the last numerical point
    ax1.loglog(p, t_num[-1] * 1e3 * p / p[-1], ":", color="tab:red", alpha=0.5,
               label="proportional to P")
    ax1.set(title="Time of one gradient (iris, 150 samples, 4-h-3 MLP)",
            xlabel="number of parameters P", ylabel="time (ms, log scale)")
    ax1.legend(fontsize=8)
    ax1.grid(alpha=0.3, which="both")

    a = np.asarray(result.grad_backprop)
    n64, n32 = np.asarray(result.grad_numeric), np.asarray(result.grad_numeric_float32)
    lim = 1.1 * np.abs(a).max()
    ax2.plot([-lim, lim], [-lim, lim], color="k", lw=0.8, label="y = x")
    ax2.scatter(a, n64, s=10, color="tab:blue", label=f"float64, h = {result.eps:g}")
    ax2.set(title=f"Numerical vs backprop gradient\n{result.architecture}, "
                  f"{result.n_params} weights",
            xlabel="dL/dw by backpropagation", ylabel="dL/dw by central differences",
            xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal")
    ax2.legend(fontsize=8, loc="upper left")
    ax2.grid(alpha=0.3)

    index = np.arange(a.size)
    ax3.semilogy(index, np.abs(n32 - a), ".", color="tab:orange",
                 label=f"float32, h = {result.eps_float32:g} "
                       f"(rel. error {result.rel_error_norm['float32']:.0e})")
    ax3.semilogy(index, np.abs(n64 - a), ".", color="tab:blue",
                 label=f"float64, h = {result.eps:g} "
                       f"(rel. error {result.rel_error_norm['float64']:.0e})")
    ax3.set(title="|numerical - backprop| for every weight", xlabel="weight index",
            ylabel="absolute difference (log scale)")
    ax3.legend(fontsize=8, loc="center right")
    ax3.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return [plots.save(fig, Path(out_dir) / "gradient_check.png")]

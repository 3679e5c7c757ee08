"""Lab: weight initialization (가중치 초기화), after *Deep Learning from Scratch* section 6.2.

Two experiments:

1. **Symmetry.**  A small network on scikit-learn's digits is trained twice, once with every
   weight set to the same constant (0 by default) and once with random (Xavier) weights.  With
   equal weights every hidden unit of a layer computes the same output and, by backpropagation,
   receives the same gradient, so the units stay copies of each other: the layer behaves like a
   single unit.  The lab measures how far the units' incoming weight vectors are apart after
   training,

       spread = max_ij |W_ij - W_i0| / mean |W|

   (0 means all columns of ``W`` are equal), and the accuracy the network reaches.

2. **Activation histograms.**  The book's experiment: 1,000 standard-normal inputs of 100
   features go through five layers of 100 units (``y = phi(x W)``, no bias) whose weights are
   drawn from N(0, sigma^2) with sigma = 1, sigma = 0.01, Xavier (sigma^2 = 2 / (fan_in +
   fan_out) = 1/100 here) and He (sigma^2 = 2 / fan_in), for sigmoid, tanh and ReLU.  For each
   layer it records the histogram of the activations, their standard deviation, the fraction of
   saturated units (sigmoid output within 0.02 of 0 or 1, |tanh| > 0.98) and the mean local
   derivative phi'(z), the factor by which backpropagation scales a gradient through the
   activation.

**How the claim is decided.**  Both experiments run once per seed in ``seeds`` (new inputs and
weights for the histograms, a new split of the digits and new initial weights for the symmetry
run), and every check must hold on every seed.  The bounds sit far from what is measured: the
constant-init spread is float32 rounding (about ``1e-7``) against the bound ``1e-4``, the random
one is of order 1 against ``0.1``; the accuracy difference, the saturated fractions and the
std ratios are several times their thresholds on every seed and under the SkylakeX, Haswell and
Sandybridge OpenBLAS kernels.  The summary prints the checked numbers per seed with median and
min-max.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neuralab import nn, optim
from neuralab import seed as set_seed
from neuralab.nn import init
from neuralab.train import Trainer, collect_activations
from neuralab.threads import single_thread_blas
import neuralab.io.figures as plots
from neuralab.labs import common

TITLE = "Weight initialization: symmetry and activation distributions"
CLAIM = (
    "Equal initial weights are never told apart: every hidden unit of a layer stays identical, so "
    "the layer acts as one unit. With N(0, 1) weights sigmoid and tanh activations saturate at "
    "their limits (vanishing gradients); with N(0, 0.01^2) they collapse to one value (0.5 for "
    "the sigmoid: expressiveness lost) and ReLU activations vanish; Xavier keeps a spread of "
    "activations through five sigmoid or tanh layers, He through five ReLU layers."
)
CONCEPTS = [14, 15]

#: The book's four weight scales: name -> initializer.
INITS: dict[str, Any] = {
    "std=1": functools.partial(init.normal, std=1.0),
    "std=0.01": functools.partial(init.normal, std=0.01),
    "xavier": "xavier_normal",
    "he": "he_normal",
}
ACTIVATIONS = ("sigmoid", "tanh", "relu")
#: Histogram range of the positive ReLU outputs (about the 99.5th percentile with He weights).
RELU_RANGE = 4.0

# phi'(z) written with the activation a = phi(z), which is what collect_activations returns
_DERIVATIVE = {
    "sigmoid": lambda a: a * (1 - a),
    "tanh": lambda a: 1 - a * a,
    "relu": lambda a: (a > 0).astype(a.dtype),
}
_SATURATION = {
    "sigmoid": lambda a: (a < 0.02) | (a > 0.98),
    "tanh": lambda a: np.abs(a) > 0.98,
}


@dataclass
class Config:
    # activation histograms (the book: 1000 inputs, 5 layers of 100 units)
    samples: int = 1000
    units: int = 100
    layers: int = 5
    bins: int = 30
    activations: tuple[str, ...] = ACTIVATIONS
    # symmetry experiment on the digits
    sym_value: float = 0.0
    sym_activation: str = "sigmoid"
    sym_units: int = 50
    sym_layers: int = 2
    sym_epochs: int = 40
    sym_lr: float = 0.5
    sym_batch_size: int = 32
    # each seed repeats both experiments (the figures show the first)
    seeds: tuple[int, ...] = (0, 1, 2)

    @classmethod
    def quick(cls) -> "Config":
        return cls(sym_epochs=10)


@dataclass
class Result:
    activations: list[str]
    inits: list[str]
    layer_std: dict[str, dict[str, list[float]]]
    layer_mean: dict[str, dict[str, list[float]]]
    saturated_fraction: dict[str, dict[str, list[float]]]
    mean_derivative: dict[str, dict[str, list[float]]]
    hist_edges: dict[str, dict[str, list[list[float]]]]
    hist_counts: dict[str, dict[str, list[list[int]]]]
    sym_names: list[str]
    sym_spread: dict[str, list[float]]
    sym_train_accuracy: dict[str, float]
    sym_test_accuracy: dict[str, float]
    sym_loss: dict[str, list[float]]
    sym_first_weights: dict[str, list[list[float]]]
    seeds: list[int] = field(default_factory=list)
    # per seed, the numbers the checks read (see _key_numbers)
    per_seed: list[dict[str, float]] = field(default_factory=list)
    checks: dict[str, bool] = field(default_factory=dict)
    claim_holds: bool = False

    def summary(self) -> str:
        first = self.seeds[0] if self.seeds else 0
        lines = [f"Symmetry (digits), seed {first}: spread of the hidden units' weights after "
                 "training",
                 f"{'init':<16} {'spread per hidden layer':>26} {'train acc':>9} {'test acc':>9}"]
        for name in self.sym_names:
            spread = " ".join(f"{s:.1e}" for s in self.sym_spread[name])
            lines.append(f"{name:<16} {spread:>26} {self.sym_train_accuracy[name]:>9.3f} "
                         f"{self.sym_test_accuracy[name]:>9.3f}")
        lines += ["", f"Activations of layers 1..5, seed {first} (std; saturated fraction; "
                      "mean phi'(z))"]
        for act in self.activations:
            for name in self.inits:
                std = " ".join(f"{v:.2g}" for v in self.layer_std[act][name])
                sat = self.saturated_fraction.get(act, {}).get(name)
                sat_text = " ".join(f"{v:.2f}" for v in sat) if sat else "-"
                der = " ".join(f"{v:.2f}" for v in self.mean_derivative[act][name])
                lines.append(f"{act:<7} {name:<8} std {std:<36} sat {sat_text:<24} "
                             f"phi' {der}")
        if self.per_seed:
            keys = [k for k in self.per_seed[0] if k != "seed"]
            stats = {"median": np.median, "min": np.min, "max": np.max}
            lines += ["", "The numbers the checks read, per seed, with median and min-max:",
                      f"{'':<44}" + "".join(f"{'seed ' + str(int(r['seed'])):>9}"
                                            for r in self.per_seed)
                      + "".join(f"{label:>9}" for label in stats)]
            for k in keys:
                values = [r[k] for r in self.per_seed]
                lines.append(f"{k:<44}" + "".join(f"{v:>9.2g}" for v in values)
                             + "".join(f"{f(values):>9.2g}" for f in stats.values()))
        lines += ["", "Checks (every seed): " + ", ".join(f"{k}={'ok' if v else 'FAILED'}"
                                                          for k, v in self.checks.items())]
        return "\n".join(lines)


def _deep_net(activation: str, initializer: Any, units: int, layers: int) -> nn.Sequential:
    # no bias, as the book's experiment: the histograms then show the weights' effect alone
    return nn.Sequential([nn.Dense(units, activation=activation, kernel_initializer=initializer,
                                   use_bias=False, input_dim=units if i == 0 else None)
                          for i in range(layers)])


def _histograms(config: Config, rng: np.random.Generator) -> dict[str, Any]:
    x = rng.standard_normal((config.samples, config.units)).astype(np.float32)
    out: dict[str, Any] = {k: {} for k in ("std", "mean", "sat", "der", "edges", "counts")}
    for act in config.activations:
        for key in out:
            out[key][act] = {}
        for name, initializer in INITS.items():
            set_seed(int(rng.integers(2**31)))
            model = _deep_net(act, initializer, config.units, config.layers)
            acts = list(collect_activations(model, x).values())
            out["std"][act][name] = [float(a.std()) for a in acts]
            out["mean"][act][name] = [float(a.mean()) for a in acts]
            out["der"][act][name] = [float(_DERIVATIVE[act](a).mean()) for a in acts]
            if act in _SATURATION:
                out["sat"][act][name] = [float(_SATURATION[act](a).mean()) for a in acts]
            edges, counts = [], []
            for a in acts:
                if act == "relu":
                    # The zeros (about half of all ReLU outputs) would flatten every histogram;
                    # values beyond the common range pile up in the last bin, so exploding
                    # activations show as a spike on the right, vanishing ones on the left.
                    values = np.minimum(a[a > 0], RELU_RANGE)
                    span = (0.0, RELU_RANGE)
                else:
                    values, span = a, ((0.0, 1.0) if act == "sigmoid" else (-1.0, 1.0))
                c, e = np.histogram(values, bins=config.bins, range=span)
                edges.append(e.tolist())
                counts.append(c.tolist())
            out["edges"][act][name] = edges
            out["counts"][act][name] = counts
    return out


def _symmetry(config: Config, rng: np.random.Generator) -> dict[str, Any]:
    data = common.load_data("digits", 1000, 0, seed=int(rng.integers(2**31)))
    constant = functools.partial(init.constant, value=config.sym_value)
    candidates = {f"constant {config.sym_value:g}": constant, "xavier_uniform": "xavier_uniform"}
    init_seed = int(rng.integers(2**31))
    out: dict[str, Any] = {k: {} for k in ("spread", "train", "test", "loss", "weights")}
    for name, initializer in candidates.items():
        set_seed(init_seed)
        model = common.build_mlp(data.n_classes, config.sym_layers, config.sym_units,
                                   activation=config.sym_activation,
                                   kernel_initializer=initializer, input_dim=data.n_features)
        trainer = Trainer(model, nn.CrossEntropyLoss(),
                          optim.SGD(model.parameters(), lr=config.sym_lr), rng=init_seed)
        history = trainer.fit(data.x_train, data.y_train, epochs=config.sym_epochs,
                              batch_size=config.sym_batch_size, verbose=0)
        spreads = []
        for layer in model.layers[: config.sym_layers]:
            w = layer.weight.data
            scale = float(np.abs(w).mean()) or 1.0
            spreads.append(float(np.abs(w - w[:, :1]).max()) / scale)
        out["spread"][name] = spreads
        out["train"][name] = trainer.evaluate(data.x_train, data.y_train)["accuracy"]
        out["test"][name] = trainer.evaluate(data.x_test, data.y_test)["accuracy"]
        out["loss"][name] = [float(v) for v in history.history["loss"]]
        # rounded: the heat map needs no more, and result.json stays small
        out["weights"][name] = np.round(model.layers[0].weight.data, 4).tolist()
    return out


@single_thread_blas()
def run(config: Config) -> Result:
    unknown = set(config.activations) - set(ACTIVATIONS)
    if unknown:
        raise ValueError(f"unknown activation(s) {sorted(unknown)}; choose from {ACTIVATIONS}")
    if config.sym_activation not in ACTIVATIONS:
        raise ValueError(f"unknown `sym_activation` {config.sym_activation!r}; choose from "
                         f"{ACTIVATIONS}")
    for key in ("samples", "units", "layers", "bins", "sym_units", "sym_layers", "sym_epochs"):
        if getattr(config, key) < 1:
            raise ValueError(f"expected a positive integer for `{key}`, got {getattr(config, key)}")
    common.check_seeds("weight-init", config.seeds)
    per_seed, seed_checks = [], []
    h = s = None
    for seed in config.seeds:
        rng = np.random.default_rng(seed)
        h_seed, s_seed = _histograms(config, rng), _symmetry(config, rng)
        numbers = _key_numbers(h_seed, s_seed)
        per_seed.append({"seed": seed, **numbers})
        seed_checks.append(_checks(numbers))
        if h is None:  # the first seed's histograms and weights are kept for the figures
            h, s = h_seed, s_seed
    assert h is not None and s is not None
    names = list(s["spread"])
    checks = {k: all(c[k] for c in seed_checks) for k in seed_checks[0]}
    return Result(
        activations=list(config.activations), inits=list(INITS),
        layer_std=h["std"], layer_mean=h["mean"], saturated_fraction=h["sat"],
        mean_derivative=h["der"], hist_edges=h["edges"], hist_counts=h["counts"],
        sym_names=names, sym_spread=s["spread"], sym_train_accuracy=s["train"],
        sym_test_accuracy=s["test"], sym_loss=s["loss"], sym_first_weights=s["weights"],
        seeds=list(config.seeds), per_seed=per_seed,
        checks=checks, claim_holds=all(checks.values()),
    )


def _key_numbers(h: dict[str, Any], s: dict[str, Any]) -> dict[str, float]:
    """The numbers of one seed that the checks read."""
    constant, random = list(s["spread"])
    std, sat, mean = h["std"], h["sat"], h["mean"]
    out = {
        "constant init: largest spread": max(s["spread"][constant]),
        "random init: smallest spread": min(s["spread"][random]),
        "test accuracy random - constant": s["test"][random] - s["test"][constant],
    }
    if "sigmoid" in std:
        out["sigmoid std=1: smallest saturated fraction"] = min(sat["sigmoid"]["std=1"])
        out["sigmoid std=0.01: layer-5 std"] = std["sigmoid"]["std=0.01"][-1]
        out["sigmoid std=0.01: |layer-5 mean - 0.5|"] = abs(mean["sigmoid"]["std=0.01"][-1] - 0.5)
        out["sigmoid: layer-5 std xavier / std=0.01"] = (std["sigmoid"]["xavier"][-1]
                                                       / std["sigmoid"]["std=0.01"][-1])
        out["sigmoid xavier: largest saturated fraction"] = max(sat["sigmoid"]["xavier"])
    if "tanh" in std:
        out["tanh std=1: smallest saturated fraction"] = min(sat["tanh"]["std=1"])
        out["tanh std=0.01: layer-5 std"] = std["tanh"]["std=0.01"][-1]
        out["tanh xavier: layer-5 std"] = std["tanh"]["xavier"][-1]
        out["tanh xavier: largest saturated fraction"] = max(sat["tanh"]["xavier"])
    if "relu" in std:
        out["relu std=0.01: layer-5 std"] = std["relu"]["std=0.01"][-1]
        for name in ("std=1", "xavier", "he"):
            out[f"relu {name}: std layer 5 / layer 1"] = (std["relu"][name][-1]
                                                         / std["relu"][name][0])
    return out


def _checks(n: dict[str, float]) -> dict[str, bool]:
    """The claim's checks on the numbers of one seed."""
    checks = {
        "constant init: units identical (spread < 1e-4)": n["constant init: largest spread"] < 1e-4,
        "random init: units differ (spread > 0.1)": n["random init: smallest spread"] > 0.1,
        "constant init learns less (test accuracy lower by > 0.2)":
            n["test accuracy random - constant"] > 0.2,
    }
    if "sigmoid std=1: smallest saturated fraction" in n:
        checks["sigmoid std=1 saturates"] = n["sigmoid std=1: smallest saturated fraction"] > 0.3
        checks["sigmoid std=0.01 collapses to 0.5"] = (
            n["sigmoid std=0.01: layer-5 std"] < 0.03
            and n["sigmoid std=0.01: |layer-5 mean - 0.5|"] < 0.02)
        checks["sigmoid xavier keeps a spread"] = (
            n["sigmoid: layer-5 std xavier / std=0.01"] > 4
            and n["sigmoid xavier: largest saturated fraction"] < 0.05)
    if "tanh std=1: smallest saturated fraction" in n:
        checks["tanh std=1 saturates"] = n["tanh std=1: smallest saturated fraction"] > 0.3
        checks["tanh std=0.01 collapses to 0"] = n["tanh std=0.01: layer-5 std"] < 1e-3
        checks["tanh xavier keeps a spread"] = (
            n["tanh xavier: layer-5 std"] > 0.1
            and n["tanh xavier: largest saturated fraction"] < 0.05)
    if "relu std=0.01: layer-5 std" in n:
        checks["relu std=0.01 vanishes"] = n["relu std=0.01: layer-5 std"] < 1e-3
        checks["relu std=1 explodes"] = n["relu std=1: std layer 5 / layer 1"] > 100
        checks["relu xavier shrinks"] = n["relu xavier: std layer 5 / layer 1"] < 0.5
        checks["relu he keeps its scale"] = 0.5 < n["relu he: std layer 5 / layer 1"] < 2.0
    return checks


def plot(result: Result, out_dir: Path) -> list[Path]:
    plt = plots.pyplot()
    out_dir = Path(out_dir)
    files = []
    colors = {"sigmoid": "tab:blue", "tanh": "tab:orange", "relu": "tab:green"}
    for act in result.activations:
        n_layers = len(result.layer_std[act][result.inits[0]])
        fig, axes = plt.subplots(len(result.inits), n_layers,
                                 figsize=(2.3 * n_layers, 1.9 * len(result.inits)),
                                 squeeze=False)
        for i, name in enumerate(result.inits):
            for j in range(n_layers):
                ax = axes[i][j]
                edges = np.asarray(result.hist_edges[act][name][j])
                counts = np.asarray(result.hist_counts[act][name][j])
                ax.stairs(counts, edges, fill=True, color=colors[act], alpha=0.8)
                # few ticks: tick layout is most of the drawing time of a 4 x 5 grid
                ax.set_yticks([])
                ax.set_xticks([edges[0], (edges[0] + edges[-1]) / 2, edges[-1]])
                ax.xaxis.set_major_formatter("{x:.2g}")
                ax.tick_params(labelsize=7)
                std = result.layer_std[act][name][j]
                ax.set_title(f"layer {j + 1}, std {std:.2g}", fontsize=8)
                if j == 0:
                    ax.set_ylabel(name, fontsize=9)
        note = (f"\n(zeros, about half the outputs, not shown; values above {RELU_RANGE:g} in "
                f"the last bin)" if act == "relu" else "")
        fig.suptitle(f"{act}: activations of 5 layers of 100 units for 1000 random inputs{note}",
                     fontsize=10)
        fig.supxlabel("activation value", fontsize=9)
        fig.subplots_adjust(left=0.06, right=0.98, bottom=0.09, top=0.9, wspace=0.12,
                            hspace=0.45)
        files.append(plots.save(fig, out_dir / f"histograms_{act}.png"))

    fig, axes = plt.subplots(1, len(result.activations),
                             figsize=(4 * len(result.activations), 3.4), squeeze=False)
    for ax, act in zip(axes[0], result.activations, strict=True):
        for name in result.inits:
            std = result.layer_std[act][name]
            ax.semilogy(range(1, len(std) + 1), std, marker="o", label=name)
        ax.set(title=f"{act}", xlabel="layer", ylabel="std of activations")
        ax.set_xticks(range(1, len(std) + 1))
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.suptitle("spread of the activations layer by layer (log scale)", fontsize=10)
    fig.tight_layout()
    files.append(plots.save(fig, out_dir / "activation_std.png"))

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6),
                             gridspec_kw={"width_ratios": [1, 1, 1.2]})
    for ax, name in zip(axes[:2], result.sym_names, strict=True):
        w = np.asarray(result.sym_first_weights[name])
        lim = float(np.abs(w).max()) or 1.0
        im = ax.imshow(w, aspect="auto", cmap="coolwarm", vmin=-lim, vmax=lim)
        spread = result.sym_spread[name][0]
        ax.set(title=f"{name}: first-layer weights\nafter training (spread {spread:.1e})",
               xlabel="hidden unit", ylabel="input pixel")
        fig.colorbar(im, ax=ax, fraction=0.046)
    for name in result.sym_names:
        loss = result.sym_loss[name]
        axes[2].plot(range(1, len(loss) + 1), loss,
                     label=f"{name} (test acc {result.sym_test_accuracy[name]:.2f})")
    axes[2].set(title="training loss on the digits", xlabel="epoch", ylabel="cross-entropy")
    axes[2].grid(alpha=0.3)
    axes[2].legend(fontsize=8)
    fig.tight_layout()
    files.append(plots.save(fig, out_dir / "symmetry.png"))
    return files

"""Lab: optimizers (옵티마이저): SGD, Momentum, Nesterov, AdaGrad, RMSProp and Adam.

1. The figure of *Deep Learning from Scratch* (ch. 6): the path of each optimizer on
   f(x, y) = x^2 / 20 + y^2 from (-7, 2), 30 updates, with the book's learning rates (SGD 0.95,
   Momentum 0.1, AdaGrad 1.5, Adam 0.3; RMSProp and Nesterov 0.1).  The gradient (x / 10, 2 y) is
   twenty times steeper across the valley (y) than along it (x): it points mostly across, so
   SGD bounces from wall to wall.  Momentum averages the bouncing away and accumulates speed along
   x; AdaGrad, RMSProp and Adam divide each coordinate's step by the size of its own gradients,
   which evens out the two directions.  Everything is computed with neuralab tensors
   (``backward()``) and ``neuralab.optim``.
2. Training curves on real data (Fashion-MNIST, or sklearn's digits in the quick configuration):
   the book's MNIST comparison, a 4-hidden-layer ReLU MLP (100 units each, He initialization),
   mini-batches of 128, the book's learning rates (0.01 for SGD, Momentum, Nesterov and AdaGrad,
   0.001 for RMSProp and Adam, the Keras defaults for those two).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neuralab import nn, optim, seed, tensor
from neuralab.data import load_fashion_mnist, train_test_split
from neuralab.train import Callback, Trainer
import neuralab.io.figures as plots
from neuralab.threads import single_thread_blas
from neuralab.labs import common

TITLE = "Optimizers: paths on an anisotropic bowl and training curves"
CLAIM = (
    "On f(x, y) = x^2/20 + y^2 plain SGD zig-zags across the valley, while Momentum (모멘텀), "
    "AdaGrad, RMSProp and Adam damp the zig-zag (AdaGrad, with the book's settings, reaches the "
    "minimum first); on real data Momentum, Nesterov and the adaptive optimizers (옵티마이저) "
    "lower the training loss much faster than plain SGD (for every seed of `seeds`)."
)
CONCEPTS = [13]

NAMES = ("SGD", "Momentum", "Nesterov", "AdaGrad", "RMSProp", "Adam")
_KINDS = {
    "SGD": ("sgd", {}),
    "Momentum": ("sgd", {"momentum": 0.9}),
    "Nesterov": ("sgd", {"momentum": 0.9, "nesterov": True}),
    "AdaGrad": ("adagrad", {}),
    "RMSProp": ("rmsprop", {}),
    "Adam": ("adam", {}),
}
START = (-7.0, 2.0)


@dataclass
class Config:
    #: learning rates on the bowl, in the order of NAMES (the book's)
    path_lrs: tuple[float, ...] = (0.95, 0.1, 0.1, 1.5, 0.1, 0.3)
    path_steps: int = 30
    #: learning rates for training, in the order of NAMES (the book's)
    train_lrs: tuple[float, ...] = (0.01, 0.01, 0.01, 0.01, 0.001, 0.001)
    dataset: str = "fashion-mnist"
    n_train: int = 10000
    n_test: int = 2000
    epochs: int = 10
    batch_size: int = 128
    hidden: int = 100
    hidden_layers: int = 4
    #: each seed repeats the training part: new initial weights, shuffling (and digits split)
    seeds: tuple[int, ...] = (0, 1, 2)

    @classmethod
    def quick(cls) -> Config:
        return cls(dataset="digits", epochs=4)


@dataclass
class Result:
    path_lrs: dict[str, float]
    paths: dict[str, list[list[float]]]
    path_final_f: dict[str, float]
    path_y_flips: dict[str, int]
    path_y_travel: dict[str, float]
    path_first_close: dict[str, int | None]
    dataset: str
    n_train: int
    architecture: str
    train_lrs: dict[str, float]
    iteration_loss: dict[str, list[float]]
    epoch_loss: dict[str, list[float]]
    test_accuracy: dict[str, list[float]]
    seeds: list[int] = field(default_factory=list)
    #: per seed: the final training loss of each optimizer, and "holds"
    per_seed: list[dict] = field(default_factory=list)
    claim_holds: bool = False
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        steps = len(next(iter(self.paths.values()))) - 1
        lines = [
            f"Paths on f(x, y) = x^2/20 + y^2 from (-7, 2), {steps} updates:",
            f"{'optimizer':<9} {'lr':>5} {'final (x, y)':>17} {'final f':>9} {'y sign flips':>12} "
            + f"{'y travel':>8} {'first |p| < 1':>13}",
        ]
        for name in NAMES:
            x, y = self.paths[name][-1]
            first = self.path_first_close[name]
            lines.append(
                f"{name:<9} {self.path_lrs[name]:>5g} {f'({x:.3f}, {y:.3f})':>17} "
                f"{self.path_final_f[name]:>9.2e} {self.path_y_flips[name]:>12} "
                f"{self.path_y_travel[name]:>8.2f} {'never' if first is None else first:>13}"
            )
        lines += [
            "",
            f"Training {self.architecture} on {self.dataset} ({self.n_train} samples):",
            f"{'optimizer':<9} {'lr':>6} {'loss ep 1':>9} {'final loss':>10} {'test acc':>8}",
        ]
        for name in NAMES:
            lines.append(
                f"{name:<9} {self.train_lrs[name]:>6g} {self.epoch_loss[name][0]:>9.4f} "
                f"{self.epoch_loss[name][-1]:>10.4f} {self.test_accuracy[name][-1]:>8.3f}"
            )
        lines += ["", f"final training loss per seed (the table above is seed {self.seeds[0]}); "
                  "'worst/SGD' = the highest of the others / SGD's:",
                  f"{'seed':>6} " + " ".join(f"{n:>9}" for n in NAMES) + f" {'worst/SGD':>9}"]
        rows = [[row[n] for n in NAMES] + [row["worst/SGD"]] for row in self.per_seed]
        for row, values in zip(self.per_seed, rows):
            lines.append(f"{row['seed']:>6} " + " ".join(f"{v:>9.4f}" for v in values))
        for label, f in (("median", np.median), ("min", np.min), ("max", np.max)):
            lines.append(f"{label:>6} " + " ".join(f"{v:>9.4f}" for v in f(rows, axis=0)))
        held = sum(row["holds"] for row in self.per_seed)
        lines.append(f"every other optimizer below {_SGD_FACTOR:g} x SGD's final loss: "
                     f"{held} of {len(self.per_seed)} seeds")
        return "\n".join(lines)


#: on real data every other optimizer must end below this fraction of SGD's final loss
_SGD_FACTOR = 0.8


def _path(name: str, lr: float, steps: int) -> np.ndarray:
    """The points visited on f(x, y) = x^2/20 + y^2, the gradient by backpropagation."""
    kind, kwargs = _KINDS[name]
    p = tensor(START, requires_grad=True, dtype=np.float64)
    opt = optim.get(kind, [p], lr=lr, **kwargs)
    weights = np.array([1 / 20, 1.0])
    points = [p.data.copy()]
    for _ in range(steps):
        opt.zero_grad()
        (p * p * weights).sum().backward()
        opt.step()
        points.append(p.data.copy())
    return np.array(points)


class _BatchLosses(Callback):
    """Records the loss of every training step (the trainer reports a running mean per epoch,
    from which each batch's own loss follows)."""

    def __init__(self) -> None:
        self.losses: list[float] = []

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._total, self._count = 0.0, 0

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        count = self._count + logs["size"]
        total = logs["loss"] * count
        self.losses.append((total - self._total) / logs["size"])
        self._total, self._count = total, count


def _data(config: Config, seed_value: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if config.dataset == "fashion-mnist":
        (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
        # the first samples: the files are already shuffled and balanced
        return (x_train[: config.n_train], y_train[: config.n_train],
                x_test[: config.n_test], y_test[: config.n_test])
    from neuralab.data import load_digits

    X, y = load_digits()  # pixels 0..16 -> [0, 1], as Fashion-MNIST's /255
    x_train, x_test, y_train, y_test = train_test_split(
        X, y.astype(np.int64), test_size=0.2, stratify=y, rng=seed_value
    )
    return x_train[: config.n_train], y_train[: config.n_train], x_test, y_test


def _model(config: Config, n_inputs: int) -> nn.Sequential:
    layers = [nn.Dense(config.hidden, activation="relu", kernel_initializer="he_normal",
                       input_dim=n_inputs)]
    layers += [nn.Dense(config.hidden, activation="relu", kernel_initializer="he_normal")
               for _ in range(config.hidden_layers - 1)]
    layers.append(nn.Dense(10, kernel_initializer="he_normal"))
    return nn.Sequential(layers)


def run(config: Config) -> Result:
    for what, values in (("path_lrs", config.path_lrs), ("train_lrs", config.train_lrs)):
        if len(values) != len(NAMES) or any(v <= 0 for v in values):
            raise ValueError(
                f"optimizers expected {len(NAMES)} positive `{what}` (for {', '.join(NAMES)}), "
                f"got {values}"
            )
    if config.dataset not in ("fashion-mnist", "digits"):
        raise ValueError(
            f"optimizers expected `dataset` 'fashion-mnist' or 'digits', got {config.dataset!r}"
        )
    if config.hidden_layers < 1 or config.epochs < 1 or config.path_steps < 1:
        raise ValueError(
            "optimizers expected positive `hidden_layers`, `epochs` and `path_steps`, got "
            f"{config.hidden_layers}, {config.epochs}, {config.path_steps}"
        )
    common.check_seeds("optimizers", config.seeds)
    path_lrs = dict(zip(NAMES, config.path_lrs))
    paths, final_f, flips, travel, first_close = {}, {}, {}, {}, {}
    for name in NAMES:
        pts = _path(name, path_lrs[name], config.path_steps)
        paths[name] = pts.tolist()
        final_f[name] = float(pts[-1, 0] ** 2 / 20 + pts[-1, 1] ** 2)
        flips[name] = int(np.sum(np.diff(np.sign(pts[:, 1])) != 0))
        travel[name] = float(np.abs(np.diff(pts[:, 1])).sum())
        close = np.flatnonzero(np.hypot(pts[:, 0], pts[:, 1]) < 1.0)
        first_close[name] = int(close[0]) if close.size else None

    runs = [_train_seed(config, s) for s in config.seeds]
    iteration_loss, epoch_loss, test_acc, (n_train, n_inputs) = runs[0]
    per_seed = []
    for s, (_, losses, _, _) in zip(config.seeds, runs):
        final = {n: losses[n][-1] for n in NAMES}
        worst = max(final[n] for n in NAMES[1:]) / final["SGD"]
        per_seed.append({"seed": s, **final, "worst/SGD": worst,
                         "holds": bool(worst < _SGD_FACTOR)})
    checks = [
        # SGD bounces across the valley at every step; the others hardly ever
        flips["SGD"] >= 0.8 * config.path_steps,
        all(flips[n] <= config.path_steps / 3 for n in NAMES[1:]),
        all(travel[n] < travel["SGD"] / 3 for n in NAMES[1:]),
        first_close["AdaGrad"] is not None
        and (first_close["SGD"] is None or first_close["AdaGrad"] < first_close["SGD"]),
        # on real data every other optimizer ends training well below SGD, for every seed
        all(row["holds"] for row in per_seed),
    ]
    hidden = "-".join([str(config.hidden)] * config.hidden_layers)
    return Result(
        path_lrs=path_lrs,
        paths=paths,
        path_final_f=final_f,
        path_y_flips=flips,
        path_y_travel=travel,
        path_first_close=first_close,
        dataset=config.dataset,
        n_train=n_train,
        architecture=f"{n_inputs}-{hidden}-10",
        train_lrs=dict(zip(NAMES, config.train_lrs)),
        iteration_loss=iteration_loss,
        epoch_loss=epoch_loss,
        test_accuracy=test_acc,
        seeds=list(config.seeds),
        per_seed=per_seed,
        claim_holds=all(checks),
    )


def _train_seed(config: Config, seed_value: int) -> tuple[dict, dict, dict, tuple[int, int]]:
    """Every optimizer from one seed's initial weights: the loss of each step, the mean training
    loss of each epoch, the test accuracy after each epoch, and (training samples, inputs)."""
    seed(seed_value)
    x_train, y_train, x_test, y_test = _data(config, seed_value)
    train_lrs = dict(zip(NAMES, config.train_lrs))
    initial = _model(config, x_train.shape[1]).state_dict()
    iteration_loss, epoch_loss, test_acc = {}, {}, {}
    # small matrix products: one BLAS thread avoids waiting for a busy second core
    with single_thread_blas():
        for name in NAMES:
            model = _model(config, x_train.shape[1])
            model.load_state_dict(initial)
            kind, kwargs = _KINDS[name]
            recorder = _BatchLosses()
            trainer = Trainer(model, nn.CrossEntropyLoss(),
                              optim.get(kind, model.parameters(), lr=train_lrs[name], **kwargs),
                              rng=seed_value)
            history = trainer.fit(x_train, y_train, validation_data=(x_test, y_test),
                                  epochs=config.epochs, batch_size=config.batch_size, verbose=0,
                                  callbacks=[recorder])
            iteration_loss[name] = recorder.losses
            epoch_loss[name] = [float(v) for v in history.history["loss"]]
            test_acc[name] = [float(v) for v in history.history["val_accuracy"]]
    return iteration_loss, epoch_loss, test_acc, (len(x_train), x_train.shape[1])


def plot(result: Result, out_dir: Path) -> list[Path]:
    plt = plots.pyplot()
    out_dir = Path(out_dir)
    colors = dict(zip(NAMES, ("tab:red", "tab:blue", "tab:cyan", "tab:green", "tab:purple",
                              "tab:orange")))

    x = np.linspace(-10, 10, 400)
    y = np.linspace(-5, 5, 200)
    gx, gy = np.meshgrid(x, y)
    fz = gx ** 2 / 20 + gy ** 2
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.2), sharex=True, sharey=True)
    for ax, name in zip(axes.flat, NAMES):
        ax.contour(gx, gy, fz, levels=[0.1, 0.5, 1, 2, 3, 4.5, 6], colors="gray",
                   linestyles="dashed", linewidths=0.8)
        pts = np.asarray(result.paths[name])
        ax.plot(pts[:, 0], pts[:, 1], "o-", ms=3.5, lw=1.2, color=colors[name])
        ax.plot(0, 0, "+", color="k", ms=12, mew=2)
        ax.set_title(f"{name} (lr = {result.path_lrs[name]:g}): final f = "
                     f"{result.path_final_f[name]:.1e}\ny changes sign "
                     f"{result.path_y_flips[name]} times", fontsize=10)
        ax.set_xlim(-10, 10)
        ax.set_ylim(-5, 5)
    for ax in axes[1]:
        ax.set_xlabel("x")
    for ax in axes[:, 0]:
        ax.set_ylabel("y")
    steps = len(next(iter(result.paths.values()))) - 1
    fig.suptitle(f"{steps} updates on f(x, y) = x^2/20 + y^2 from (-7, 2), the minimum at (0, 0)")
    fig.tight_layout()
    files = [plots.save(fig, out_dir / "optimizer_paths.png")]

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.8))
    for name in NAMES:
        losses = np.asarray(result.iteration_loss[name])
        window = max(1, len(losses) // 40)
        smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
        ax1.semilogy(np.arange(window, len(losses) + 1), smooth, color=colors[name], lw=1.3,
                     label=f"{name} (lr {result.train_lrs[name]:g})")
        acc = result.test_accuracy[name]
        ax2.plot(np.arange(1, len(acc) + 1), acc, "o-", ms=3, color=colors[name], label=name)
    ax1.set(title=f"Training loss, {result.architecture} MLP on {result.dataset}",
            xlabel="iteration (mini-batch of 128)",
            ylabel="cross-entropy (moving average, log scale)")
    low, high = ax1.get_ylim()
    ticks = [t for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 3, 5) if low <= t <= high]
    ax1.set_yticks(ticks, [f"{t:g}" for t in ticks])
    ax1.yaxis.set_minor_formatter(plt.NullFormatter())
    ax1.set_ylim(low, high)
    ax2.set(title="Test accuracy after each epoch", xlabel="epoch", ylabel="accuracy")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.tight_layout()
    files.append(plots.save(fig, out_dir / "optimizer_training.png"))
    return files

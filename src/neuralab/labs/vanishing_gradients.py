"""Lab: vanishing gradients (기울기 소실) in a deep sigmoid network, and a ReLU network that
does not suffer from them.

Backpropagation multiplies the gradient, layer by layer from the output back to the input, by
the local derivative of the activation and by the transposed weights:

    dL/dh_{l-1} = (dL/dh_l * phi'(z_l)) W_l^T

The sigmoid's derivative is at most 1/4, so with weights that keep the forward signal's scale
(Xavier) every sigmoid layer shrinks the gradient by a factor of about four: after eight layers
the first layer's gradient is tens of thousands of times smaller than the output layer's and the
first layers hardly change.  ReLU passes a derivative of exactly 1 for active units and He
initialization keeps the scale, so its gradient norms stay of the same order at every depth.

The lab trains the same deep network (``depth`` hidden layers of ``units`` units) on scikit-learn's
digits with each activation/initializer pair, records the gradient L2 norm of every layer with
:class:`neuralab.train.GradientStats` (mean over the batches of each epoch), and the loss and
test accuracy per epoch.

**How the claim is decided.**  Once per seed in ``seeds`` (a new split of the digits and new
initial weights), and it must hold for every seed: the sigmoid network's first-to-last gradient
ratio in epoch 1 below ``1e-3``, the ReLU network's above ``0.1``, and the ReLU network ending
with less than half the sigmoid network's training loss and a test accuracy ``0.3`` higher.  The
ratios measured are orders of magnitude from the bounds (about ``3e-5`` and ``1``), and the
sigmoid network stays at chance while the ReLU one learns, on every seed and under the SkylakeX
and Haswell OpenBLAS kernels, so no bound hinges on the last digits of a run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neuralab import nn, optim
from neuralab import seed as set_seed
from neuralab.data import StandardScaler
from neuralab.train import GradientStats, Trainer
from neuralab.threads import single_thread_blas
import neuralab.io.figures as plots
from neuralab.labs import common

TITLE = "Vanishing gradients: deep sigmoid network vs deep ReLU network"
CLAIM = (
    "In a deep sigmoid network the gradient shrinks by about 4x per layer on its way back, so "
    "the first layer's gradient is orders of magnitude smaller than the last layer's and the "
    "network learns slowly; with ReLU and He initialization the gradient norms stay of the same "
    "order through the depth and the same network learns quickly. Decided on every seed: "
    "first/last gradient ratio < 1e-3 for sigmoid + Xavier, > 0.1 for ReLU + He, and the ReLU "
    "network ends with under half the sigmoid network's loss and a test accuracy 0.3 higher."
)
CONCEPTS = [15, 5, 14]

_ACTIVATIONS = ("sigmoid", "tanh", "relu")


@dataclass
class Config:
    depth: int = 8
    units: int = 64
    networks: tuple[str, ...] = ("sigmoid:xavier_normal", "tanh:xavier_normal", "relu:he_normal")
    epochs: int = 30
    lr: float = 0.1
    batch_size: int = 32
    n_train: int = 1200
    # each seed repeats the experiment: a new split of the digits, new initial weights
    seeds: tuple[int, ...] = (0, 1, 2)

    @classmethod
    def quick(cls) -> "Config":
        return cls(networks=("sigmoid:xavier_normal", "relu:he_normal"), epochs=5)


@dataclass
class Result:
    networks: list[str]
    layers: list[str]
    seeds: list[int]
    # the curves of the first seed (the figure)
    grad_norms: dict[str, dict[str, list[float]]]
    loss: dict[str, list[float]]
    test_accuracy: dict[str, list[float]]
    # per network, one value per seed
    first_to_last: dict[str, list[float]]
    final_loss: dict[str, list[float]]
    final_accuracy: dict[str, list[float]]
    checks: dict[str, bool] = field(default_factory=dict)
    claim_holds: bool = False

    def epoch1_norms(self, net: str) -> list[float]:
        return [self.grad_norms[net][layer][0] for layer in self.layers]

    def summary(self) -> str:
        lines = [f"Gradient L2 norm per layer, mean over the batches of epoch 1, seed "
                 f"{self.seeds[0]} (layer 1 = next to the input)"]
        header = f"{'network':<22}" + "".join(f"{i + 1:>9}" for i in range(len(self.layers)))
        lines.append(header)
        for net in self.networks:
            lines.append(f"{net:<22}" + "".join(f"{v:>9.1e}" for v in self.epoch1_norms(net)))
        lines += ["", "per seed: epoch-1 gradient norm of layer 1 / output layer, training loss "
                      "and test accuracy after the last epoch"]
        lines.append(f"{'network':<22}{'seed':>6}{'first/last':>12}{'final loss':>11}"
                     f"{'test acc':>9}")
        for net in self.networks:
            cols = [np.array(self.first_to_last[net]), np.array(self.final_loss[net]),
                    np.array(self.final_accuracy[net])]
            for k, seed in enumerate(self.seeds):
                lines.append(f"{net:<22}{seed:>6}{cols[0][k]:>12.1e}{cols[1][k]:>11.3g}"
                             f"{cols[2][k]:>9.3f}")
            for label, f in (("median", np.median), ("min", np.min), ("max", np.max)):
                lines.append(f"{'':<22}{label:>6}{f(cols[0]):>12.1e}{f(cols[1]):>11.3g}"
                             f"{f(cols[2]):>9.3f}")
        lines += ["", "Checks (every seed): " + ", ".join(f"{k}={'ok' if v else 'FAILED'}"
                                                          for k, v in self.checks.items())]
        return "\n".join(lines)


def _parse(spec: str) -> tuple[str, str]:
    act, sep, initializer = spec.partition(":")
    if not sep or act not in _ACTIVATIONS or not initializer:
        raise ValueError(f"expected networks as 'activation:initializer' with an activation in "
                         f"{_ACTIVATIONS} (e.g. 'relu:he_normal'), got {spec!r}")
    nn.init.get(initializer)  # an unknown name is an error listing the valid ones
    return act, initializer


def _train(config: Config, act: str, initializer: str,
           seed: int) -> tuple[dict[str, list[float]], list[float], list[float]]:
    """One network on one seed: per-layer gradient norms per epoch, loss and test accuracy."""
    data = common.load_data("digits", config.n_train, 0, seed=seed)
    scaler = StandardScaler().fit(data.x_train)
    x_train, x_test = scaler.transform(data.x_train), scaler.transform(data.x_test)
    set_seed(seed)  # every network of a seed starts from the same random stream
    model = common.build_mlp(data.n_classes, config.depth, config.units, activation=act,
                               kernel_initializer=initializer, input_dim=data.n_features)
    stats = GradientStats()
    trainer = Trainer(model, nn.CrossEntropyLoss(),
                      optim.SGD(model.parameters(), lr=config.lr), rng=seed)
    history = trainer.fit(x_train, data.y_train, validation_data=(x_test, data.y_test),
                          epochs=config.epochs, batch_size=config.batch_size, verbose=0,
                          callbacks=[stats])
    return ({k: list(v) for k, v in stats.norms.items()},
            [float(v) for v in history.history["loss"]],
            [float(v) for v in history.history["val_accuracy"]])


@single_thread_blas()
def run(config: Config) -> Result:
    specs = [_parse(s) for s in config.networks]
    if config.depth < 2:
        raise ValueError(f"expected `depth` of at least 2 hidden layers, got {config.depth}")
    common.check_seeds("vanishing-gradients", config.seeds)
    grad_norms, losses, accs = {}, {}, {}
    ratios: dict[str, list[float]] = {s: [] for s in config.networks}
    final_loss: dict[str, list[float]] = {s: [] for s in config.networks}
    final_acc: dict[str, list[float]] = {s: [] for s in config.networks}
    layers: list[str] = []
    for k, seed in enumerate(config.seeds):
        for spec, (act, initializer) in zip(config.networks, specs, strict=True):
            norms, loss, acc = _train(config, act, initializer, seed)
            layers = list(norms)
            ratios[spec].append(norms[layers[0]][0] / norms[layers[-1]][0])
            final_loss[spec].append(loss[-1])
            final_acc[spec].append(acc[-1])
            if k == 0:
                grad_norms[spec], losses[spec], accs[spec] = norms, loss, acc
    checks: dict[str, bool] = {}
    sigmoid = [s for s, (a, _) in zip(config.networks, specs, strict=True) if a == "sigmoid"]
    relu = [s for s, (a, _) in zip(config.networks, specs, strict=True) if a == "relu"]
    for s in sigmoid:
        checks[f"{s}: first/last gradient < 1e-3"] = max(ratios[s]) < 1e-3
    for r in relu:
        checks[f"{r}: first/last gradient > 0.1"] = min(ratios[r]) > 0.1
    for s in sigmoid:
        for r in relu:
            checks[f"{r} learns faster than {s}"] = all(
                lr_ < 0.5 * ls and ar > as_ + 0.3
                for lr_, ls, ar, as_ in zip(final_loss[r], final_loss[s], final_acc[r],
                                            final_acc[s], strict=True))
    return Result(list(config.networks), layers, list(config.seeds), grad_norms, losses, accs,
                  ratios, final_loss, final_acc, checks,
                  claim_holds=bool(checks) and all(checks.values()))


def plot(result: Result, out_dir: Path) -> list[Path]:
    plt = plots.pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    depth = np.arange(1, len(result.layers) + 1)
    for k, net in enumerate(result.networks):
        color = f"C{k}"
        axes[0].semilogy(depth, result.epoch1_norms(net), marker="o", color=color,
                         label=f"{net}, epoch 1")
        last = [result.grad_norms[net][layer][-1] for layer in result.layers]
        axes[0].semilogy(depth, last, ls="--", color=color, alpha=0.6,
                         label=f"{net}, epoch {len(result.loss[net])}")
        epochs = np.arange(1, len(result.loss[net]) + 1)
        axes[1].plot(epochs, result.loss[net], marker=".", color=color, label=net)
        axes[2].plot(epochs, result.test_accuracy[net], marker=".", color=color, label=net)
    axes[0].set_xticks(depth, [str(i) for i in depth[:-1]] + ["out"])
    axes[0].set(title="gradient norm per layer (input -> output)", xlabel="layer",
                ylabel="mean ||dL/dW||_2 per batch")
    axes[1].set(title="training loss", xlabel="epoch", ylabel="cross-entropy")
    axes[2].set(title="test accuracy", xlabel="epoch", ylabel="accuracy", ylim=(0, 1))
    for ax in axes:
        ax.grid(alpha=0.3)
    for ax in axes[1:]:
        ax.xaxis.get_major_locator().set_params(integer=True)
    axes[0].legend(fontsize=7)
    axes[1].legend(fontsize=8)
    fig.suptitle(f"{len(result.layers) - 1} hidden layers on the digits: where the gradient "
                 "goes", fontsize=11)
    fig.tight_layout()
    return [plots.save(fig, Path(out_dir) / "vanishing_gradients.png")]

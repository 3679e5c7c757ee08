"""Lab: training curves per weight initialization, *Deep Learning from Scratch* Fig. 6-15
(가중치 초기화).

The book trains a network of five layers of 100 ReLU units on MNIST by SGD (lr 0.01, mini-batches
of 128 drawn at random, 2,000 iterations) from three initializations of the weights: a normal
distribution with standard deviation 0.01, Xavier (Glorot) and He.  With 0.01 the activations
shrink layer after layer, the gradients with them, and the loss does not move from ln 10, the loss
of guessing; with Xavier it falls; with He, whose variance 2 / fan_in is made for ReLU, it falls
fastest.

The lab repeats the book's loop (a random mini-batch per iteration, ``loss.backward()``,
``optim.SGD``) on Fashion-MNIST (the digits with ``--quick``) for several seeds, each seed drawing
new initial weights and new mini-batches, and records the training loss of every iteration.  The
loss compared is the mean over the last ``last`` iterations, since a single mini-batch's loss
jumps.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neuralab import nn, optim
from neuralab import seed as set_seed
from neuralab.threads import single_thread_blas
import neuralab.io.figures as plots
from neuralab.labs import common

TITLE = "Training curves per weight initialization (the book's Fig. 6-15)"
#: the loss of guessing among ten classes
CHANCE = math.log(10)
#: std=0.01 is "stuck" while its final loss stays within this of ln 10 ...
STUCK = 0.05
#: ... and Xavier and He "learn" when theirs is at least this far below it
LEARNED = 0.5
INITS = {"std=0.01": functools.partial(nn.init.normal, std=0.01), "xavier": "xavier_normal",
         "he": "he_normal"}
CLAIM = (
    "With weights drawn at a standard deviation of 0.01 a 5-layer ReLU network does not learn: "
    "its training loss stays at ln 10, the loss of guessing; with Xavier initialization it "
    "learns, and with He initialization (가중치 초기화 for ReLU) it learns fastest. Decided on "
    f"every seed, from the mean loss of the last iterations: std=0.01 within {STUCK:g} of ln 10, "
    f"Xavier and He at least {LEARNED:g} below it, and He below Xavier."
)
CONCEPTS = [14, 15]


@dataclass
class Config:
    dataset: str = "fashion-mnist"
    n_train: int = 10000
    hidden_layers: int = 4  # plus the output layer: the book's five layers
    units: int = 100
    iterations: int = 2000
    batch_size: int = 128
    lr: float = 0.01
    last: int = 100  # iterations averaged for the final loss
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)

    @classmethod
    def quick(cls) -> Config:
        return cls(dataset="digits", n_train=1297, iterations=400, last=50, seeds=(0, 1))


@dataclass
class Result:
    dataset: str
    n_train: int
    losses: dict[str, list[list[float]]]  # init -> per seed, the loss of every iteration
    final: dict[str, list[float]]  # init -> per seed, the mean of the last `last` losses
    seeds: list[int]
    last: int
    checks: dict[str, bool] = field(default_factory=dict)
    claim_holds: bool = False

    def summary(self) -> str:
        lines = [f"{self.dataset}: {self.n_train} training samples; final = mean training loss "
                 f"of the last {self.last} iterations; ln 10 = {CHANCE:.4f}",
                 f"{'init':>9} " + " ".join(f"{f'seed {s}':>8}" for s in self.seeds)
                 + f" {'median':>8}"]
        for init, values in self.final.items():
            lines.append(f"{init:>9} " + " ".join(f"{v:>8.3f}" for v in values)
                         + f" {np.median(values):>8.3f}")
        gaps = [x - h for x, h in zip(self.final["xavier"], self.final["he"], strict=True)]
        lines.append(f"Xavier minus He: {min(gaps):+.3f} to {max(gaps):+.3f}")
        lines += ["", "Checks: " + ", ".join(f"{k}={'ok' if v else 'FAILED'}"
                                             for k, v in self.checks.items())]
        return "\n".join(lines)


def train(config: Config, data: common.Data, init: str, seed: int) -> list[float]:
    """The book's loop: a random mini-batch per iteration, one SGD step; the loss of each."""
    set_seed(seed)
    layers = [nn.Dense(config.units, activation="relu", kernel_initializer=INITS[init],
                       input_dim=data.n_features if i == 0 else None)
              for i in range(config.hidden_layers)]
    model = nn.Sequential([*layers, nn.Dense(data.n_classes, kernel_initializer=INITS[init])])
    opt, criterion = optim.SGD(model.parameters(), lr=config.lr), nn.CrossEntropyLoss()
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(config.iterations):
        batch = rng.choice(len(data.x_train), config.batch_size)
        opt.zero_grad()
        loss = criterion(model(data.x_train[batch]), data.y_train[batch])
        loss.backward()
        opt.step()
        losses.append(float(loss.data))
    return losses


@single_thread_blas()
def run(config: Config) -> Result:
    if config.iterations < config.last or config.last < 1:
        raise ValueError(f"init-training expected 1 <= `last` <= `iterations`, got last="
                         f"{config.last}, iterations={config.iterations}")
    if config.hidden_layers < 1 or config.units < 1 or config.lr <= 0 or config.batch_size < 1:
        raise ValueError(f"init-training expected positive `hidden_layers`, `units`, `lr` and "
                         f"`batch_size`, got {config.hidden_layers}, {config.units}, "
                         f"{config.lr}, {config.batch_size}")
    common.check_seeds("init-training", config.seeds)
    data = common.load_data(config.dataset, config.n_train, 10, seed=0)
    losses = {init: [train(config, data, init, s) for s in config.seeds] for init in INITS}
    final = {init: [float(np.mean(curve[-config.last:])) for curve in curves]
             for init, curves in losses.items()}
    checks = {
        f"std=0.01 stays within {STUCK:g} of ln 10 on every seed": all(
            abs(v - CHANCE) < STUCK for v in final["std=0.01"]),
        f"Xavier and He end at least {LEARNED:g} below ln 10 on every seed": all(
            v < CHANCE - LEARNED for init in ("xavier", "he") for v in final[init]),
        "He ends below Xavier on every seed": all(
            h < x for h, x in zip(final["he"], final["xavier"], strict=True)),
    }
    return Result(config.dataset, len(data.x_train), losses, final, list(config.seeds),
                  config.last, checks, all(checks.values()))


def plot(result: Result, out_dir: Path) -> list[Path]:
    plt = plots.pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.8))
    colors = {"std=0.01": "C0", "xavier": "C1", "he": "C2"}
    for init, curves in result.losses.items():
        for k, curve in enumerate(curves):
            window = min(20, len(curve))
            smooth = np.convolve(curve, np.ones(window) / window, mode="valid")
            ax.plot(np.arange(window, len(curve) + 1), smooth, color=colors[init], lw=1,
                    alpha=0.8, label=init if k == 0 else None)
    ax.axhline(CHANCE, color="k", ls=":", lw=0.8, label="ln 10 (guessing)")
    ax.set(title=f"{result.dataset}: training loss per iteration (moving mean of 20; one line "
                 "per seed)", xlabel="iteration", ylabel="training loss")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return [plots.save(fig, Path(out_dir) / "init_training.png")]

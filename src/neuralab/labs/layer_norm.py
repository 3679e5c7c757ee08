"""Lab: layer normalization against batch normalization when the mini-batches are small
(레이어 정규화, 배치 정규화, 미니배치).

Batch normalization (``nn.BatchNorm``) normalizes every feature over the samples of the
mini-batch in training, and over running averages of those statistics in evaluation.  Layer
normalization (``nn.LayerNorm``) normalizes every sample over its own features, the same way in
training and in evaluation, so it does not depend on the batch at all.

The difference shows when the batch is small.  With two samples, x1 and x2, batch normalization's
mean is (x1 + x2) / 2 and its variance ((x1 - x2) / 2)^2, so each normalized value is
(x1 - x2) / |x1 - x2| = +1 or -1 (up to eps): every unit says only which of the two samples is
larger.  The network learns with that, and in evaluation the running statistics give it inputs
of another kind.  With one sample there is no variance at all, and ``nn.BatchNorm`` refuses to
train.

The lab trains the same network, four hidden layers of 64 ReLU units on the standardized 8 x 8
digits, with batch normalization, with layer normalization (and without normalization, as a
reference) after every hidden Dense layer, by SGD with mini-batches of 2 and of 64, and compares
the test accuracy in evaluation mode.  It also checks the two normalizations' arithmetic on a
batch: layer normalization's outputs have mean 0 and variance 1 over each sample's features,
batch normalization's over each feature's samples, and with two samples batch normalization's
are +-1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neuralab import nn, optim
from neuralab import seed as set_seed
from neuralab.data import StandardScaler, load_digits, train_test_split
from neuralab.threads import single_thread_blas
from neuralab.train import Trainer
import neuralab.io.figures as plots
from neuralab.labs import common

TITLE = "Layer normalization vs batch normalization with small mini-batches"
#: with batches of `small_batch`: layer norm's test accuracy above batch norm's by at least this
MIN_SMALL_BATCH_GAP = 0.3
#: with batches of `large_batch`: both reach this test accuracy
MIN_LARGE_BATCH_ACCURACY = 0.85
CLAIM = (
    "Layer normalization (레이어 정규화) normalizes each sample over its own features, so it trains "
    "the same with tiny mini-batches, while batch normalization (배치 정규화) needs a batch: with "
    "two samples its normalized values are +-1 and its running statistics in evaluation do not "
    "match what the network learned, and with one sample it refuses to train. Decided on every "
    "seed: with batches of 2 layer norm's test accuracy beats batch norm's by at least "
    f"{MIN_SMALL_BATCH_GAP:g}; with batches of 64 both reach {MIN_LARGE_BATCH_ACCURACY:g}; "
    "the normalizations' arithmetic checked against their formulas on a batch."
)
CONCEPTS = [21]

NORMS = {"none": None, "batch": nn.BatchNorm, "layer": nn.LayerNorm}


@dataclass
class Config:
    hidden_layers: int = 4
    units: int = 64
    # of the digits' training split (the rest of the 1,797 is the test set); even, so that the
    # last mini-batch of 2 is not a single sample, which batch norm cannot train on
    n_train: int = 1296
    n_test: int = 500
    small_batch: int = 2
    large_batch: int = 64
    small_batch_epochs: int = 5
    large_batch_epochs: int = 40
    lr: float = 0.05
    norms: tuple[str, ...] = ("none", "batch", "layer")
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)

    @classmethod
    def quick(cls) -> Config:
        return cls(n_train=400, small_batch_epochs=2, large_batch_epochs=30,
                   norms=("batch", "layer"), seeds=(0, 1))


@dataclass
class Run:
    norm: str
    batch_size: int
    seed: int
    test_accuracy: float
    train_accuracy: float


@dataclass
class Result:
    n_train: int
    n_test: int
    runs: list[Run]
    batch_of_one_error: str  # what nn.BatchNorm says when asked to train on one sample
    arithmetic: dict[str, float]  # largest deviations of the checks on a batch
    checks: dict[str, bool] = field(default_factory=dict)
    claim_holds: bool = False

    def summary(self) -> str:
        lines = [f"digits: {self.n_train} training, {self.n_test} test samples; test accuracy "
                 "in evaluation mode",
                 f"{'norm':>6} {'batch':>6} " + " ".join(
                     f"{f'seed {s}':>8}" for s in sorted({r.seed for r in self.runs}))
                 + f" {'median':>8}"]
        for norm in dict.fromkeys(r.norm for r in self.runs):
            for bs in sorted({r.batch_size for r in self.runs}):
                rows = sorted((r for r in self.runs if (r.norm, r.batch_size) == (norm, bs)),
                              key=lambda r: r.seed)
                lines.append(f"{norm:>6} {bs:>6} " + " ".join(
                    f"{r.test_accuracy:>8.3f}" for r in rows)
                    + f" {np.median([r.test_accuracy for r in rows]):>8.3f}")
        a = self.arithmetic
        lines += ["", "on a batch of 8 x 64 (float32), max |output - formula|: layer norm "
                  f"{a['layer']:.1e}, batch norm {a['batch']:.1e}, batch norm on 2 samples "
                  f"{a['pair']:.1e} (there the median ||value| - 1| is {a['pair_off_one']:.1e})",
                  f"batch norm on one sample: {self.batch_of_one_error}",
                  "", "Checks: " + ", ".join(f"{k}={'ok' if v else 'FAILED'}"
                                             for k, v in self.checks.items())]
        return "\n".join(lines)


def _data(config: Config) -> tuple[np.ndarray, ...]:
    x, y = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=config.n_test,
                                                        stratify=y, rng=0)
    x_train, y_train = x_train[:config.n_train], y_train[:config.n_train]
    scaler = StandardScaler().fit(x_train)
    return (scaler.transform(x_train).astype(np.float32), y_train,
            scaler.transform(x_test).astype(np.float32), y_test)


def build(config: Config, norm: str, n_inputs: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(config.hidden_layers):
        layers.append(nn.Dense(config.units, kernel_initializer="he_normal",
                               input_dim=n_inputs if i == 0 else None))
        if NORMS[norm] is not None:
            layers.append(NORMS[norm](config.units))
        layers.append(nn.ReLU())
    return nn.Sequential([*layers, nn.Dense(10)])


def _arithmetic() -> tuple[dict[str, float], str]:
    """The two normalizations on a batch, against their formulas: y = (x - mu) / sqrt(var +
    eps) over each sample's features (layer) or each feature's samples (batch); on two samples
    batch norm's |y| = |d| / sqrt(d^2 + eps) for d = (x1 - x2) / 2, which is 1 unless d is tiny."""
    x = np.random.default_rng(0).normal(2.0, 3.0, size=(8, 64)).astype(np.float32)
    eps = 1e-5
    layer = nn.LayerNorm(64, elementwise_affine=False, eps=eps)(x).data
    batch_norm = nn.BatchNorm(64, affine=False, eps=eps)
    batch_norm.train()
    batch = batch_norm(x).data
    pair = batch_norm(x[:2]).data

    def formula(v: np.ndarray, axis: int) -> np.ndarray:
        v = v.astype(np.float64)
        return (v - v.mean(axis=axis, keepdims=True)) / np.sqrt(v.var(axis=axis, keepdims=True)
                                                                + eps)

    d = np.abs(x[0].astype(np.float64) - x[1]) / 2
    found = {"layer": float(np.max(np.abs(layer - formula(x, 1)))),
             "batch": float(np.max(np.abs(batch - formula(x, 0)))),
             "pair": float(np.max(np.abs(np.abs(pair) - d / np.sqrt(d * d + eps)))),
             "pair_off_one": float(np.median(np.abs(np.abs(pair) - 1)))}
    try:
        batch_norm(x[:1])
        error = "(no error)"
    except ValueError as err:
        error = str(err)
    return found, error


@single_thread_blas()
def run(config: Config) -> Result:
    unknown = set(config.norms) - set(NORMS)
    if unknown or not {"batch", "layer"} <= set(config.norms):
        raise ValueError(f"layer-norm expected `norms` from {list(NORMS)} including batch and "
                         f"layer, got {list(config.norms)}")
    if not 2 <= config.small_batch < config.large_batch:
        raise ValueError(f"layer-norm expected 2 <= `small_batch` < `large_batch`, got "
                         f"{config.small_batch} and {config.large_batch}")
    if config.hidden_layers < 1 or config.units < 2 or config.lr <= 0:
        raise ValueError(f"layer-norm expected `hidden_layers` >= 1, `units` >= 2 and a "
                         f"positive `lr`, got {config.hidden_layers}, {config.units}, "
                         f"{config.lr}")
    common.check_seeds("layer-norm", config.seeds)
    x_train, y_train, x_test, y_test = _data(config)
    runs = []
    for norm in config.norms:
        for batch_size, epochs in ((config.small_batch, config.small_batch_epochs),
                                   (config.large_batch, config.large_batch_epochs)):
            for seed in config.seeds:
                set_seed(seed)
                model = build(config, norm, x_train.shape[1])
                trainer = Trainer(model, nn.CrossEntropyLoss(),
                                  optim.SGD(model.parameters(), lr=config.lr), rng=seed)
                trainer.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, verbose=0)
                runs.append(Run(norm, batch_size, seed,
                                float(trainer.evaluate(x_test, y_test)["accuracy"]),
                                float(trainer.evaluate(x_train, y_train)["accuracy"])))
    arithmetic, error = _arithmetic()
    acc = {(r.norm, r.batch_size, r.seed): r.test_accuracy for r in runs}
    small, large = config.small_batch, config.large_batch
    checks = {
        f"batches of {small}: layer norm beats batch norm by >= {MIN_SMALL_BATCH_GAP:g}": all(
            acc["layer", small, s] >= acc["batch", small, s] + MIN_SMALL_BATCH_GAP
            for s in config.seeds),
        f"batches of {large}: both >= {MIN_LARGE_BATCH_ACCURACY:g}": all(
            min(acc["layer", large, s], acc["batch", large, s]) >= MIN_LARGE_BATCH_ACCURACY
            for s in config.seeds),
        "arithmetic: both normalizations equal their formulas (1e-5, float32), +-1 on two "
        "samples": max(arithmetic[k] for k in ("layer", "batch", "pair")) < 1e-5,
        "batch norm refuses one sample in training": error != "(no error)",
    }
    return Result(len(x_train), len(x_test), runs, error, arithmetic, checks,
                  all(checks.values()))


def plot(result: Result, out_dir: Path) -> list[Path]:
    plt = plots.pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    norms = list(dict.fromkeys(r.norm for r in result.runs))
    sizes = sorted({r.batch_size for r in result.runs})
    width = 0.8 / len(norms)
    colors = {"none": "C7", "batch": "C3", "layer": "C0"}
    for k, norm in enumerate(norms):
        for j, bs in enumerate(sizes):
            accs = [r.test_accuracy for r in result.runs if (r.norm, r.batch_size) == (norm, bs)]
            x = j + (k - (len(norms) - 1) / 2) * width
            ax.bar(x, np.median(accs), width=width * 0.9, color=colors[norm],
                   label=f"{norm} normalization" if j == 0 else None)
            ax.plot([x] * len(accs), accs, "k.", ms=5)
    ax.set(title="test accuracy in evaluation mode (bars: median; dots: seeds)",
           xticks=range(len(sizes)), xticklabels=[f"mini-batches of {s}" for s in sizes],
           ylabel="test accuracy", ylim=(0, 1.02))
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return [plots.save(fig, Path(out_dir) / "layer_norm.png")]

"""Lab: data augmentation (데이터 증강) for a small CNN on the original, centred Fashion-MNIST.

The augmentation lab shows augmentation helping an MLP when the images are artificially placed
off centre; on the centred originals it does not help the MLP.  This lab repeats the experiment
with a small convolutional network (합성곱 신경망) on Fashion-MNIST as distributed: every garment
centred, training and test alike.  The first ``n_train`` training images train; for each seed the
same CNN (the cnn-fashion-mnist lab's ``build_cnn`` with fewer filters: per block
``Conv2D(c, 3, padding="same")``, ``BatchNorm2D``, ReLU, ``MaxPool2D(2)``, then a dense head) is
trained from the same initial weights, with the same optimizer and epochs:

* **plain**: on the training images as they are;
* **flip + crop**: through an :class:`~neuralab.data.augment.AugmentedLoader` with
  ``RandomCrop(padding=crop)`` and ``RandomHorizontalFlip()``, new variants every epoch;
* **flip + rotation** (when ``rotation > 0``): ``RandomRotation(rotation)`` and the flip, reported
  beside the claim: the lecture lists rotation among the transforms, and whether it helps is
  measured, not assumed.

Validation accuracy (``n_val`` images from the end of the training file) is recorded after every
epoch for the curves; nothing is chosen on it.  The test set is evaluated once, with the final
weights.

**How the claim is decided.**  Each augmented network and the plain one of the same seed are
tested on the same images, so they are compared image by image: the gain is the difference of
their accuracies and its paired standard error :math:`\\mathrm{sd}(d)/\\sqrt{n}` (as in the
augmentation lab).  The claim holds when the flip + crop gain exceeds ``Z`` paired standard
errors on every seed **and** the mean gain over the seeds minus ``SPREAD`` standard deviations of
the seeds' gains is above zero (the seeds' spread stands for another run or another BLAS kernel),
which needs at least two seeds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import neuralab
from neuralab import nn, optim
from neuralab.data import DataLoader
from neuralab.data import augment as A
from neuralab.labs import cnn_fashion_mnist as cnn_lab
from neuralab.labs import common
from neuralab.threads import single_thread_blas
from neuralab.train import Trainer
import neuralab.io.figures as plots

TITLE = "Data augmentation helps a small CNN on the original, centred Fashion-MNIST images"
#: the flip + crop gain of every seed must exceed this many paired standard errors
Z = 2.0
#: the mean gain minus this many standard deviations of the seeds' gains must be above zero
SPREAD = 2.0
CLAIM = (
    "On Fashion-MNIST as distributed (every garment centred), a small convolutional network "
    "trained on a small training set with random crops and horizontal flips (데이터 증강) "
    "reaches a higher test accuracy than the same network trained on the originals: on every "
    f"seed by more than {Z:g} paired standard errors of the test set, and with the mean gain "
    f"minus {SPREAD:g} standard deviations of the seeds above zero."
)
CONCEPTS = [20, 3, 16]

ARMS = ("plain", "flip + crop", "flip + rotation")


@dataclass
class Config:
    n_train: int = 1000            # the small training set: the first n training images
    n_val: int = 1000              # from the end of the training file, watched every epoch
    n_test: int = 0                # the first n test images (<= 0: all 10,000)
    channels: tuple[int, ...] = (16, 32)
    hidden: int = 128
    dropout: float = 0.0
    epochs: int = 60
    batch_size: int = 32
    lr: float = 2e-3               # AdamW's peak rate, cosine-annealed to 0 over the epochs
    weight_decay: float = 5e-3
    crop: int = 2                  # RandomCrop padding of the claimed augmentation
    rotation: float = 10.0         # RandomRotation range of the reported arm (0: not run)
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)

    @classmethod
    def quick(cls) -> Config:
        # seconds, to test the mechanics: too short a training for the effect (see the page)
        return cls(n_train=300, n_val=200, n_test=1000, channels=(8, 16), hidden=32, epochs=6,
                   rotation=5.0, seeds=(0, 1))


@dataclass
class Result:
    seeds: list[int]
    n_train: int
    n_test: int
    epochs: int
    arms: list[str]
    pipelines: dict[str, str]                  # arm -> the transforms
    test_accuracy: dict[str, list[float]]      # arm -> one value per seed (final weights)
    gain_se: dict[str, list[float]]            # augmented arm -> paired SE of its gain, per seed
    train_accuracy: dict[str, list[float]]     # on the un-augmented training images, final
    val_curves: dict[str, list[float]]         # mean over seeds, per epoch
    examples: dict[str, list[Any]] = field(default_factory=dict)   # name -> images (0..255)
    claim_holds: bool = False

    def gains(self, arm: str) -> np.ndarray:
        return np.subtract(self.test_accuracy[arm], self.test_accuracy["plain"])

    def margin(self, arm: str = "flip + crop") -> float:
        """Mean gain minus SPREAD standard deviations of the seeds' gains (nan for one seed)."""
        g = self.gains(arm)
        return float(g.mean() - SPREAD * g.std(ddof=1)) if len(g) > 1 else float("nan")

    def summary(self) -> str:
        lines = [f"Fashion-MNIST as distributed (centred), {self.n_train} training images, "
                 f"{self.n_test} test images, {self.epochs} epochs",
                 *(f"{arm}: {self.pipelines[arm]}" for arm in self.arms if arm != "plain"),
                 "test: the final weights, once; train: on the un-augmented training images; "
                 "SE: paired standard error of the gain over plain"]
        head = f"{'seed':>6} {'plain':>8}"
        for arm in self.arms[1:]:
            head += f" | {arm:>15} {'gain':>8} {'SE':>7} {'gain/SE':>8}"
        lines.append(head)
        for i, s in enumerate(self.seeds):
            row = f"{s:>6} {self.test_accuracy['plain'][i]:>8.4f}"
            for arm in self.arms[1:]:
                g, se = self.gains(arm)[i], self.gain_se[arm][i]
                row += (f" | {self.test_accuracy[arm][i]:>15.4f} {g:>+8.4f} {se:>7.4f} "
                        f"{g / se:>8.1f}")
            lines.append(row)
        for arm in self.arms:
            tr = np.array(self.train_accuracy[arm])
            lines.append(f"{arm}: mean test {np.mean(self.test_accuracy[arm]):.4f}, mean train "
                         f"{tr.mean():.4f}")
        for arm in self.arms[1:]:
            g = self.gains(arm)
            z = g / np.array(self.gain_se[arm])
            sd = float(g.std(ddof=1)) if len(g) > 1 else float("nan")
            lines.append(f"{arm}: gain mean {g.mean():+.4f}, range {g.min():+.4f} to "
                         f"{g.max():+.4f}, sd over the seeds {sd:.4f}, mean - {SPREAD:g} sd = "
                         f"{self.margin(arm):+.4f}; smallest gain/SE {z.min():.1f}; better by "
                         f"more than {Z:g} SE on every seed: {'yes' if np.all(z > Z) else 'no'}")
        lines.append(f"claim (flip + crop): more than {Z:g} SE on every seed and mean - "
                     f"{SPREAD:g} sd above zero")
        return "\n".join(lines)


# ---------------------------------------------------------------------- data and training
def _load(config: Config) -> tuple[np.ndarray, ...]:
    """Images (N, 1, 28, 28) in [0, 1] and labels: training, validation, test."""
    if config.n_train < 100 or config.n_val < 10:
        raise ValueError(f"expected n_train >= 100 and n_val >= 10, got {config.n_train} and "
                         f"{config.n_val}")
    if config.n_train + config.n_val > 60000:
        raise ValueError("n_train + n_val is at most 60000 (Fashion-MNIST's training images)")
    data = common.load_data("fashion-mnist", 60000, config.n_test)  # all training images
    x_tr, x_te = (x.reshape(len(x), 1, 28, 28) for x in (data.x_train, data.x_test))
    y_tr, y_te = data.y_train, data.y_test
    return (x_tr[:config.n_train], y_tr[:config.n_train], x_tr[-config.n_val:],
            y_tr[-config.n_val:], x_te, y_te)


def pipelines(config: Config) -> dict[str, A.Compose]:
    """The augmented arms: flip + crop (the claim) and, when ``rotation > 0``, flip + rotation."""
    if config.crop < 1:
        raise ValueError(f"expected a positive `crop` padding, got {config.crop!r}")
    out = {"flip + crop": A.Compose([A.RandomCrop(padding=config.crop),
                                     A.RandomHorizontalFlip()])}
    if config.rotation > 0:
        out["flip + rotation"] = A.Compose([A.RandomRotation(config.rotation),
                                            A.RandomHorizontalFlip()])
    return out


def _train(config: Config, seed: int, data: tuple[np.ndarray, ...], augment: A.Compose | None
           ) -> tuple[np.ndarray, float, list[float]]:
    """Train one CNN; return which test images it gets right, its accuracy on the un-augmented
    training images and its validation accuracy per epoch."""
    x_tr, y_tr, x_va, y_va, x_te, y_te = data
    neuralab.seed(seed)     # the same initial weights for every arm of a seed
    model = cnn_lab.build_cnn(cnn_lab.Config(channels=config.channels, hidden=config.hidden,
                                             dropout=config.dropout))
    model.eval()
    model(x_tr[:2])         # build the lazy layers (evaluation mode: running statistics kept)
    model.train()
    opt = optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    schedule = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.epochs)
    trainer = Trainer(model, nn.CrossEntropyLoss(), opt, scheduler=schedule, rng=seed)
    if augment is None:
        loader: Any = DataLoader((x_tr, y_tr), batch_size=config.batch_size, rng=seed)
    else:
        loader = A.AugmentedLoader((x_tr, y_tr), augment, batch_size=config.batch_size,
                                   rng=seed, image_shape=x_tr.shape[2:])
    history = trainer.fit(loader, validation_data=(x_va, y_va), epochs=config.epochs, verbose=0)
    train_acc = trainer.evaluate(x_tr, y_tr, batch_size=500)["accuracy"]
    correct = trainer.predict_classes(x_te, batch_size=500) == y_te
    return correct, float(train_acc), list(history.history["val_accuracy"])


def _to_uint8(images: np.ndarray) -> list[Any]:
    return np.rint(np.clip(images, 0, 1) * 255).astype(np.uint8).tolist()


@single_thread_blas()
def run(config: Config) -> Result:
    common.check_seeds("augmentation-cnn", config.seeds)
    augment = pipelines(config)
    data = _load(config)
    arms = ["plain", *augment]
    seeds = list(config.seeds)
    test: dict[str, list[float]] = {a: [] for a in arms}
    train: dict[str, list[float]] = {a: [] for a in arms}
    curves: dict[str, list[list[float]]] = {a: [] for a in arms}
    gain_se: dict[str, list[float]] = {a: [] for a in augment}
    for s in seeds:
        correct = {}
        for arm in arms:
            correct[arm], tr, vc = _train(config, s, data, augment.get(arm))
            test[arm].append(float(correct[arm].mean()))
            train[arm].append(tr)
            curves[arm].append(vc)
        for arm in augment:   # image by image on the same test set
            gain_se[arm].append(common.paired_gain(correct[arm], correct["plain"])[1])
    # what training sees of one image per class shown, six draws of each pipeline
    shown = [int(np.flatnonzero(data[1] == c)[0]) for c in (0, 7, 9) if np.any(data[1] == c)]
    rng = np.random.default_rng(seeds[0] + 1)
    one = np.repeat(data[0][shown[:1], 0], 6, axis=0)
    examples = {"original": _to_uint8(data[0][shown, 0])}
    examples.update({arm: _to_uint8(p(one, rng=rng)) for arm, p in augment.items()})
    result = Result(
        seeds=seeds, n_train=len(data[0]), n_test=len(data[4]), epochs=config.epochs, arms=arms,
        pipelines={arm: " -> ".join(repr(t) for t in p.transforms) for arm, p in augment.items()},
        test_accuracy=test, gain_se=gain_se, train_accuracy=train,
        val_curves={a: np.mean(v, axis=0).tolist() for a, v in curves.items()},
        examples=examples)
    gains = result.gains("flip + crop")
    result.claim_holds = bool(len(seeds) >= 2
                              and np.all(gains > Z * np.array(gain_se["flip + crop"]))
                              and result.margin() > 0)
    return result


# ---------------------------------------------------------------------- figures
COLORS = {"plain": "tab:red", "flip + crop": "tab:blue", "flip + rotation": "tab:green"}


def plot(result: Result, out_dir: Path) -> list[Path]:
    plt = plots.pyplot()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []

    ex = result.examples
    rows = list(ex)
    fig, axes = plt.subplots(len(rows), 6, figsize=(7.2, 1.35 * len(rows)), squeeze=False)
    for i, name in enumerate(rows):
        for j in range(6):
            ax = axes[i, j]
            if j < len(ex[name]):
                ax.imshow(np.asarray(ex[name][j]), cmap="gray", vmin=0, vmax=255,
                          interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(ax.has_data())
        axes[i, 0].set_title(name if name == "original" else
                             f"{name}: one image, six epochs", fontsize=8, loc="left")
    fig.suptitle("the centred originals, and what the augmented networks see", fontsize=9)
    files.append(plots.save(fig, out_dir / "augmentation_cnn_examples.png"))

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [3, 2]})
    epochs = np.arange(1, result.epochs + 1)
    for arm in result.arms:
        ax1.plot(epochs, result.val_curves[arm], color=COLORS[arm], label=arm)
    low = min(min(c[len(c) // 4:]) for c in result.val_curves.values())
    ax1.set(title=f"validation accuracy per epoch (mean of {len(result.seeds)} seeds)",
            xlabel="epoch", ylabel="accuracy", ylim=(low - 0.02, None))
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize=8, loc="lower right")
    width = 0.8 / len(result.arms)
    pos = np.arange(len(result.seeds))
    for k, arm in enumerate(result.arms):
        bars = ax2.bar(pos + (k - (len(result.arms) - 1) / 2) * width, result.test_accuracy[arm],
                       width, color=COLORS[arm], label=arm)
        ax2.bar_label(bars, fmt="%.3f", fontsize=6, rotation=90, padding=2)
    values = [v for arm in result.arms for v in result.test_accuracy[arm]]
    ax2.set(title="test accuracy (final weights, once)", xlabel="seed", ylabel="accuracy",
            xticks=pos, xticklabels=[str(s) for s in result.seeds],
            ylim=(min(values) - 0.02, max(values) + 0.02))
    ax2.legend(fontsize=7, loc="lower right")
    ax2.grid(alpha=0.3, axis="y")
    files.append(plots.save(fig, out_dir / "augmentation_cnn_accuracy.png"))
    return files

"""Lab: data augmentation (데이터 증강) on a small image training set.

The lecture: augmentation transforms the training images (rotation, scaling, crop, brightness,
contrast, saturation...) so that a model trained on limited data sees many variants, learns the
variation found in real data, and generalizes better.

The setting: photographs are not centred the way Fashion-MNIST's items (or the 8 x 8 digits) are
centred by their makers.  The lab places each item at a random position on a slightly larger
canvas (up to ``jitter`` pixels off centre, the same process for the training, validation and
test images), keeps only ``n_train`` training images, and trains the same MLP twice per seed
(each seed repeats the whole experiment: the placement, the digits' split, the weights):

* **plain**: on the training images as they are;
* **augmented**: on an :class:`~neuralab.data.augment.AugmentedLoader` that re-crops every image
  at a random position (``RandomCrop`` with ``padding=aug_shift``) and mirrors it with
  probability 1/2 (``RandomHorizontalFlip``, Fashion-MNIST only) in every epoch.

Validation accuracy is watched after every epoch (curves); the test set is evaluated once, at
the end.  With ``jitter=0`` the lab runs on the centred originals, where an MLP has no position
variation to learn (see docs/labs/augmentation.md for what happens then).

**How the claim is decided.**  Both networks of a seed are tested on the same ``n`` test images,
so their accuracies are compared image by image: with :math:`d_i = c^{aug}_i - c^{plain}_i`
(:math:`c_i = 1` when image :math:`i` is classified correctly), the gain is :math:`\\bar d` and its
paired standard error :math:`\\mathrm{sd}(d) / \\sqrt{n}`.  The claim holds when, on every seed,
the gain exceeds ``Z`` standard errors and the augmented network's gap between training and test
accuracy (overfitting) is the smaller one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neuralab import nn, optim
from neuralab import seed as seed_library
from neuralab.data import augment as A
from neuralab.train import Trainer
import neuralab.io.figures as plots
from neuralab.labs import common

TITLE = "Data augmentation improves test accuracy on a small image training set"
#: the test-accuracy gain of every seed must exceed this many paired standard errors
Z = 3.0
CLAIM = (
    "Data augmentation (데이터 증강) turns a small training set into many variants of it; a network "
    "trained on the augmented images overfits less (a smaller gap between training and test "
    "accuracy) and reaches a higher test accuracy than the same network trained on the "
    f"originals, on every seed, by more than {Z:g} paired standard errors of the test set."
)
CONCEPTS = [20, 16, 23]

DATASETS = ("fashion-mnist", "digits")
_FASHION_MISSING = (
    "Fashion-MNIST is not installed (sudo apt-get install dataset-fashion-mnist puts it in "
    "/usr/share/datasets/fashion-mnist); run with --quick or --set dataset=digits"
)


@dataclass
class Config:
    dataset: str = "fashion-mnist"
    n_train: int = 1000        # the small training set
    n_val: int = 2000          # watched every epoch (curves)
    n_test: int = 10000        # evaluated once, at the end (<= 0: all available)
    jitter: int = 4            # position variation of the images in pixels (0: centred originals)
    aug_shift: int = 4         # RandomCrop padding of the augmentation
    aug_flip: bool = True      # RandomHorizontalFlip (clothes are mirror-symmetric; digits not)
    aug_rotation: float = 0.0  # RandomRotation range in degrees (0: off)
    hidden: int = 256
    epochs: int = 80
    batch_size: int = 32
    lr: float = 1e-3
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)   # each repeats the experiment: placement, split,
    #                                            initial weights, shuffles

    @classmethod
    def quick(cls) -> Config:
        return cls(dataset="digits", n_train=300, n_val=400, n_test=0, jitter=2, aug_shift=2,
                   aug_flip=False, epochs=60, lr=3e-3, seeds=(0, 1, 2))


@dataclass
class Result:
    dataset: str
    image_shape: list[int]
    seeds: list[int]
    n_train: int
    n_test: int
    test_accuracy: dict[str, list[float]]      # "plain" / "augmented" -> one value per seed
    gain_se: list[float]                       # paired standard error of the gain, per seed
    train_accuracy: dict[str, list[float]]     # on the un-augmented training set, final weights
    val_curves: dict[str, list[float]]         # mean over seeds, per epoch
    train_curves: dict[str, list[float]]       # running training accuracy, mean over seeds
    examples: dict[str, list[Any]] = field(default_factory=dict)  # name -> images (0..255)
    pipeline: str = ""
    claim_holds: bool = False

    def mean(self, kind: str, which: str) -> float:
        return float(np.mean(getattr(self, f"{kind}_accuracy")[which]))

    def table(self) -> np.ndarray:
        """One row per seed: plain test, augmented test, gain, its SE, gain / SE, plain train,
        augmented train, plain gap (train - test), augmented gap."""
        pt, at = (np.array(self.test_accuracy[k]) for k in ("plain", "augmented"))
        ptr, atr = (np.array(self.train_accuracy[k]) for k in ("plain", "augmented"))
        se = np.array(self.gain_se)
        return np.column_stack([pt, at, at - pt, se, (at - pt) / se, ptr, atr, ptr - pt,
                                atr - at])

    def summary(self) -> str:
        lines = [f"{self.dataset}, images {self.image_shape[0]} x {self.image_shape[1]}, "
                 f"{self.n_train} training images, {self.n_test} test images; augmentation: "
                 f"{self.pipeline}",
                 "test: evaluated once per run; train: the final weights on the un-augmented "
                 "training images; gap: train - test; SE: paired standard error of the gain",
                 f"{'seed':>6} {'plain test':>11} {'augm. test':>11} {'gain':>8} {'SE':>7} "
                 f"{'gain/SE':>8} {'plain train':>12} {'augm. train':>12} {'plain gap':>10} "
                 f"{'augm. gap':>10}"]
        rows = self.table()

        def line(label: Any, r: np.ndarray) -> str:
            return (f"{label:>6} {r[0]:>11.4f} {r[1]:>11.4f} {r[2]:>+8.4f} {r[3]:>7.4f} "
                    f"{r[4]:>8.1f} {r[5]:>12.4f} {r[6]:>12.4f} {r[7]:>10.4f} {r[8]:>10.4f}")

        lines += [line(s, r) for s, r in zip(self.seeds, rows)]
        lines += [line(label, f(rows, axis=0))
                  for label, f in (("median", np.median), ("min", np.min), ("max", np.max))]
        lines.append(f"smallest gain/SE {rows[:, 4].min():.1f} (needed on every seed: more "
                     f"than {Z:g}); augmented gap smaller on every seed: "
                     f"{'yes' if np.all(rows[:, 8] < rows[:, 7]) else 'NO'}")
        return "\n".join(lines)


# ---------------------------------------------------------------------- data
def _load(config: Config, seed: int) -> tuple[np.ndarray, ...]:
    """Images (N, H, W) in [0, 1] and labels for training, validation and test."""
    if config.dataset not in DATASETS:
        raise ValueError(f"unknown dataset {config.dataset!r}; expected one of {list(DATASETS)}")
    if config.n_train < 10 or config.n_val < 10:
        raise ValueError(f"expected n_train and n_val of at least 10, got {config.n_train} and "
                         f"{config.n_val}")
    if config.dataset == "fashion-mnist":
        from neuralab.data import load_fashion_mnist

        try:
            (x_tr, y_tr), (x_te, y_te) = load_fashion_mnist(flatten=False)
        except FileNotFoundError:
            raise FileNotFoundError(_FASHION_MISSING) from None
        x_tr, x_te = x_tr[:, 0], x_te[:, 0]
        if config.n_train + config.n_val > len(x_tr):
            raise ValueError(f"n_train + n_val is at most {len(x_tr)}")
        # the first n_train images train; the validation images come from the end of the file
        n_test = len(x_te) if config.n_test <= 0 else min(config.n_test, len(x_te))
        return (x_tr[:config.n_train], y_tr[:config.n_train], x_tr[-config.n_val:],
                y_tr[-config.n_val:], x_te[:n_test], y_te[:n_test])
    from neuralab.data import load_digits

    x, y = load_digits(images=True)  # (1797, 8, 8) pixels / 16, float32
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order]
    a, b = config.n_train, config.n_train + config.n_val
    if b >= len(x):
        raise ValueError(f"n_train + n_val must leave test digits: at most {len(x) - 1}")
    end = len(x) if config.n_test <= 0 else min(len(x), b + config.n_test)
    return x[:a], y[:a], x[a:b], y[a:b], x[b:end], y[b:end]


def _place(images: np.ndarray, jitter: int, rng: np.random.Generator) -> np.ndarray:
    """Each image at a random whole-pixel position on a canvas ``2 * jitter`` pixels larger."""
    if jitter <= 0:
        return images
    canvas = np.pad(images, ((0, 0), (jitter, jitter), (jitter, jitter)))
    return A.RandomCrop(padding=jitter)(canvas, rng=rng)


def _pipeline(config: Config) -> A.Compose:
    steps: list[Any] = []
    if config.aug_rotation > 0:
        steps.append(A.RandomRotation(config.aug_rotation))
    if config.aug_shift > 0:
        steps.append(A.RandomCrop(padding=config.aug_shift))
    if config.aug_flip:
        steps.append(A.RandomHorizontalFlip())
    if not steps:
        raise ValueError("the augmentation is empty: set aug_shift, aug_flip or aug_rotation")
    return A.Compose(steps)


# ---------------------------------------------------------------------- training
def _train(config: Config, seed: int, data: tuple[np.ndarray, ...], augment: A.Compose | None
           ) -> tuple[np.ndarray, float, list[float], list[float]]:
    """Train one network; return which test images it classifies correctly, its training
    accuracy, and its validation and running training accuracy per epoch."""
    x_tr, y_tr, x_va, y_va, x_te, y_te = data
    shape = x_tr.shape[1:]
    flat = [a.reshape(len(a), -1) for a in (x_tr, x_va, x_te)]
    seed_library(seed)   # the same initial weights for both runs of a seed
    model = nn.Sequential([nn.Dense(config.hidden, activation="relu",
                                    input_dim=flat[0].shape[1]), nn.Dense(10)])
    trainer = Trainer(model, nn.CrossEntropyLoss(),
                      optim.Adam(model.parameters(), lr=config.lr), rng=seed)
    if augment is None:
        history = trainer.fit(flat[0], y_tr, validation_data=(flat[1], y_va),
                              epochs=config.epochs, batch_size=config.batch_size, verbose=0)
    else:
        loader = A.AugmentedLoader((flat[0], y_tr), augment, batch_size=config.batch_size,
                                   rng=seed, image_shape=shape)
        history = trainer.fit(loader, validation_data=(flat[1], y_va), epochs=config.epochs,
                              verbose=0)
    train_acc = trainer.evaluate(flat[0], y_tr)["accuracy"]
    correct = trainer.predict_classes(flat[2]) == y_te        # the test set, once
    return (correct, float(train_acc), history.history["val_accuracy"],
            history.history["accuracy"])


def _to_uint8(images: np.ndarray) -> list[Any]:
    return np.rint(np.clip(images, 0, 1) * 255).astype(np.uint8).tolist()


def _examples(images: np.ndarray, config: Config, rng: np.random.Generator) -> dict[str, Any]:
    """The lecture's transforms on a few training images, and what training sees."""
    x = images
    pad = config.aug_shift or 2
    one = np.repeat(x[:1], 6, axis=0)
    return {
        "original": _to_uint8(x),
        "rotation ±20°": _to_uint8(A.RandomRotation(20)(x, rng=rng)),
        "zoom 1.25": _to_uint8(A.zoom(x, 1.25)),
        "zoom 0.8": _to_uint8(A.zoom(x, 0.8)),
        f"crop (pad {pad})": _to_uint8(A.RandomCrop(padding=pad)(x, rng=rng)),
        "horizontal flip": _to_uint8(x[:, :, ::-1]),
        "brightness 0.5": _to_uint8(A.adjust_brightness(x, 0.5)),
        "contrast 0.4": _to_uint8(A.adjust_contrast(x, 0.4)),
        "noise σ=0.1": _to_uint8(A.GaussianNoise(0.1)(x, rng=rng)),
        "training pipeline": _to_uint8(_pipeline(config)(one, rng=rng)),
    }


def run(config: Config) -> Result:
    common.check_seeds("augmentation", config.seeds)
    augment = _pipeline(config)
    seeds = list(config.seeds)
    test: dict[str, list[float]] = {"plain": [], "augmented": []}
    train: dict[str, list[float]] = {"plain": [], "augmented": []}
    val_curves: dict[str, list[list[float]]] = {"plain": [], "augmented": []}
    train_curves: dict[str, list[list[float]]] = {"plain": [], "augmented": []}
    gain_se: list[float] = []
    first: tuple[np.ndarray, ...] | None = None
    for s in seeds:
        raw = _load(config, s)
        rng = np.random.default_rng(s)
        placed = tuple(_place(a, config.jitter, rng) if a.ndim == 3 else a for a in raw)
        if first is None:
            first = placed
        correct = {}
        for name, aug in (("plain", None), ("augmented", augment)):
            correct[name], tr, vc, tc = _train(config, s, placed, aug)
            test[name].append(float(correct[name].mean()))
            train[name].append(tr)
            val_curves[name].append(vc)
            train_curves[name].append(tc)
        # image by image on the same test set: the paired standard error of the gain
        d = correct["augmented"].astype(np.float64) - correct["plain"]
        gain_se.append(float(d.std(ddof=1) / np.sqrt(len(d))))
    assert first is not None
    gains = np.subtract(test["augmented"], test["plain"])
    gaps = {k: np.subtract(train[k], test[k]) for k in test}
    # the first training image of three different classes, from the first seed's data
    labels = first[1]
    shown = [int(np.flatnonzero(labels == c)[0]) for c in np.unique(labels)[:3]]
    examples = _examples(first[0][shown], config, np.random.default_rng(seeds[0] + 1))
    return Result(
        dataset=config.dataset,
        image_shape=list(first[0].shape[1:]),
        seeds=seeds,
        n_train=len(first[0]),
        n_test=len(first[4]),
        test_accuracy=test,
        gain_se=gain_se,
        train_accuracy=train,
        val_curves={k: np.mean(v, axis=0).tolist() for k, v in val_curves.items()},
        train_curves={k: np.mean(v, axis=0).tolist() for k, v in train_curves.items()},
        examples=examples,
        pipeline=" -> ".join(repr(t) for t in augment.transforms),
        # every seed, not only on average: a clear gain and less overfitting
        claim_holds=bool(np.all(gains > Z * np.array(gain_se))
                         and np.all(gaps["augmented"] < gaps["plain"])),
    )


# ---------------------------------------------------------------------- figures
def plot(result: Result, out_dir: Path) -> list[Path]:
    plt = plots.pyplot()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []

    ex = result.examples
    names = [k for k in ex if k != "training pipeline"]
    rows = len(ex["original"])
    fig, axes = plt.subplots(rows + 1, len(names), figsize=(1.35 * len(names), 1.45 * (rows + 1)))
    for j, name in enumerate(names):
        for i in range(rows):
            ax = axes[i, j]
            ax.imshow(np.asarray(ex[name][i]), cmap="gray", vmin=0, vmax=255,
                      interpolation="nearest")
            if i == 0:
                ax.set_title(name, fontsize=8)
    pipeline = ex["training pipeline"]
    for j in range(len(names)):
        ax = axes[rows, j]
        if j < len(pipeline):
            ax.imshow(np.asarray(pipeline[j]), cmap="gray", vmin=0, vmax=255,
                      interpolation="nearest")
            if j == 0:
                ax.set_title("what training sees: one image, six epochs", fontsize=8, loc="left")
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(ax.has_data())
    fig.suptitle(f"Data augmentation on {result.dataset} images", fontsize=10)
    files.append(plots.save(fig, out_dir / "augmentation_examples.png"))

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [3, 2]})
    epochs = np.arange(1, len(result.val_curves["plain"]) + 1)
    colors = {"plain": "tab:red", "augmented": "tab:blue"}
    for name in ("plain", "augmented"):
        ax1.plot(epochs, result.train_curves[name], "--", color=colors[name],
                 label=f"{name}: training (running)")
        ax1.plot(epochs, result.val_curves[name], "-", color=colors[name],
                 label=f"{name}: validation")
    ax1.set(title=f"accuracy per epoch (mean of {len(result.seeds)} seeds)", xlabel="epoch",
            ylabel="accuracy", ylim=(0, 1.02))
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize=8, loc="lower right")
    width = 0.38
    pos = np.arange(len(result.seeds))
    for k, name in enumerate(("plain", "augmented")):
        values = result.test_accuracy[name]
        bars = ax2.bar(pos + (k - 0.5) * width, values, width, color=colors[name], label=name)
        ax2.bar_label(bars, fmt="%.3f", fontsize=7)
    low = min(min(v) for v in result.test_accuracy.values())
    ax2.set(title="test accuracy (evaluated once per run)", xlabel="seed", ylabel="accuracy",
            xticks=pos, xticklabels=[str(s) for s in result.seeds],
            ylim=(max(0.0, low - 0.1), max(max(v) for v in result.test_accuracy.values())
                  + 0.1))
    ax2.legend(fontsize=8, loc="upper left", ncol=2)
    ax2.grid(alpha=0.3, axis="y")
    files.append(plots.save(fig, out_dir / "augmentation_accuracy.png"))
    return files

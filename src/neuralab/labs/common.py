"""The common setup of the overfitting labs (과적합: overfitting, regularization, dropout), and the
one check of a lab's `seeds` setting that every lab shares (check_seeds).

*Deep Learning from Scratch* (section 6.4) provokes overfitting with few training samples (300
MNIST images) and a big model (six hidden layers of 100 ReLU units), trained for many epochs with
plain SGD; the training accuracy reaches 100 % while the test accuracy stays far lower.  The
overfitting, regularization and dropout labs all start from that setup, so it lives here once:

* :func:`load_data` returns the first ``n_train`` training images of Fashion-MNIST (or a seeded
  stratified subset of scikit-learn's 8 x 8 digits for quick runs) and a test set;
* :func:`build_mlp` builds the network, optionally with dropout after every hidden layer and a
  kernel regularizer on every layer;
* :func:`fit` trains it and measures, after every epoch and in evaluation mode, the accuracy on
  the whole training set and on the test set, and the gap between the two.

The other labs of the same lecture chapter (weight initialization, vanishing gradients, batch
normalization) use the digits, the network builder and the one-thread BLAS limit of neuralab.threads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neuralab import nn
from neuralab.data import train_test_split
from neuralab.train import LambdaCallback, Trainer

DATASETS = ("fashion-mnist", "digits")

FASHION_MNIST_MISSING = (
    "Fashion-MNIST is not installed (sudo apt-get install dataset-fashion-mnist puts it in "
    "/usr/share/datasets/fashion-mnist); without it, run the lab with --set dataset=digits"
)



def check_seeds(lab: str, seeds: Any) -> None:
    """Refuse an empty or repeated ``seeds`` setting: each lab's claim is decided over distinct
    seeds (a repeated one would count one run twice in the median)."""
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"{lab} expected one or more distinct `seeds`, got {seeds!r}; give "
                         "e.g. --set seeds=0,1,2")


@dataclass
class Setup:
    """The settings the overfitting labs share (the book's setup of 6.4.1: a small training set,
    six hidden layers of 100 units, plain SGD); each lab's ``Config`` adds its own."""

    dataset: str = "fashion-mnist"
    n_train: int = 300
    n_test: int = 10000
    hidden_layers: int = 6
    units: int = 100
    epochs: int = 201
    lr: float = 0.01
    batch_size: int = 100
    seed: int = 0


@dataclass
class NoisySetup:
    """The settings of the noisy-label experiment of the regularization and dropout labs: the
    fraction of training labels made wrong, and the wide, shallow network trained on them (the
    same in their full and quick configurations, but the test set)."""

    noise: float = 0.4
    noisy_hidden_layers: int = 2
    noisy_units: int = 256
    noisy_epochs: int = 40
    noisy_lr: float = 0.05
    noisy_batch_size: int = 25

    def noisy_architecture(self) -> str:
        return (f"{self.noisy_hidden_layers} hidden layers of {self.noisy_units} ReLU units, SGD "
                f"lr={self.noisy_lr:g}, batches of {self.noisy_batch_size}, "
                f"{self.noisy_epochs} epochs")


@dataclass
class Data:
    """Training and test arrays: inputs float32 (N, features) in [0, 1], labels int64."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max()) + 1)


def fashion_mnist_available() -> bool:
    """True when the four Fashion-MNIST files are in the default directory of
    :func:`neuralab.data.load_fashion_mnist` (gzip-compressed or raw)."""
    from neuralab.data.datasets import FASHION_MNIST_DIR

    stems = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
             "t10k-labels-idx1-ubyte")
    return all(any(os.path.isfile(FASHION_MNIST_DIR / f"{name}{suffix}")
                   for name in (stem, stem.replace("-idx", ".idx")) for suffix in (".gz", ""))
               for stem in stems)


def load_data(dataset: str, n_train: int, n_test: int, seed: int = 0) -> Data:
    """A small training set and a test set.

    ``"fashion-mnist"``: the first ``n_train`` training images and the first ``n_test`` test
    images (``n_test <= 0``: all 10,000), pixels scaled to [0, 1], as the book takes the first
    300 MNIST images.  ``"digits"``: scikit-learn's 1,797 8 x 8 digits (pixels / 16): a
    stratified shuffle with ``seed`` sets ``n_test`` samples aside, then ``n_train`` training
    samples are drawn (stratified) from the rest, so the test set does not depend on
    ``n_train``; ``n_test <= 0`` tests on all the samples not drawn for training.
    """
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {list(DATASETS)}")
    if isinstance(n_train, bool) or not isinstance(n_train, (int, np.integer)) or n_train < 10:
        raise ValueError(f"expected an integer of at least 10 for `n_train`, got {n_train!r}")
    if dataset == "fashion-mnist":
        from neuralab.data.datasets import load_fashion_mnist

        try:
            # as bytes: scaling only the images used is much faster than all 70,000
            (x_tr, y_tr), (x_te, y_te) = load_fashion_mnist(normalize=False)
        except FileNotFoundError as err:
            raise FileNotFoundError(f"{FASHION_MNIST_MISSING}. ({err})") from None
        if n_train > len(x_tr):
            raise ValueError(f"`n_train` is at most {len(x_tr)} for Fashion-MNIST, got {n_train}")
        n_te = len(x_te) if n_test <= 0 else min(int(n_test), len(x_te))
        def scale(images: np.ndarray) -> np.ndarray:
            # the same rounding as load_fashion_mnist(normalize=True)
            return np.divide(images, np.float32(255.0), dtype=np.float32)

        return Data(dataset, scale(x_tr[:n_train]), y_tr[:n_train], scale(x_te[:n_te]),
                    y_te[:n_te])
    from neuralab.data import load_digits

    x, y = load_digits()  # pixels / 16, float32
    n = len(x)
    if n_test <= 0:
        if n_train > n - 10:
            raise ValueError(f"`n_train` is at most {n - 10} for the digits, got {n_train}")
        x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=n - n_train, stratify=y,
                                                  rng=seed)
        return Data(dataset, x_tr, y_tr, x_te, y_te)
    # a fixed test set first, so runs with different `n_train` are scored on the same samples
    if n_test > n - 20 or n_train > n - n_test:
        raise ValueError(f"the digits have {n} samples: `n_test` = {n_test} and `n_train` = "
                         f"{n_train} do not fit")
    x_pool, x_te, y_pool, y_te = train_test_split(x, y, test_size=int(n_test), stratify=y,
                                                  rng=seed)
    if n_train < len(x_pool):
        x_pool, _, y_pool, _ = train_test_split(x_pool, y_pool, test_size=len(x_pool) - n_train,
                                                stratify=y_pool, rng=seed + 1)
    return Data(dataset, x_pool, y_pool, x_te, y_te)


def build_mlp(
    n_classes: int,
    hidden_layers: int = 6,
    units: int = 100,
    activation: str = "relu",
    kernel_initializer: Any = "he_normal",
    dropout: float = 0.0,
    regularizer: Any = None,
    input_dim: int | None = None,
) -> nn.Sequential:
    """``hidden_layers`` Dense layers of ``units`` (each followed by ``Dropout(dropout)`` when
    ``dropout > 0``) and a linear output layer of ``n_classes`` logits; ``regularizer`` (an
    ``nn.regularizers.L1``/``nn.regularizers.L2``) is attached to every layer's weight, as the book's weight decay
    penalizes every weight matrix."""
    layers: list[nn.Module] = []
    for i in range(hidden_layers):
        layers.append(nn.Dense(units, activation=activation, kernel_initializer=kernel_initializer,
                               kernel_regularizer=regularizer,
                               input_dim=input_dim if i == 0 else None))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    layers.append(nn.Dense(n_classes, kernel_initializer=kernel_initializer,
                           kernel_regularizer=regularizer,
                           input_dim=input_dim if hidden_layers == 0 else None))
    return nn.Sequential(layers)


#: the final accuracies of the overfitting labs are means over this many last epochs
LAST = 10


@dataclass
class Curves:
    """Per-epoch accuracies measured in evaluation mode with the epoch's final weights."""

    train_accuracy: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    #: per test sample, the fraction of the last ``LAST`` epochs whose weights classify it
    #: correctly (its mean is ``final(LAST)["test_accuracy"]``; for paired comparisons)
    test_correct: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def gap(self) -> list[float]:
        """Train minus test accuracy per epoch: the overfitting gap."""
        return [a - b for a, b in zip(self.train_accuracy, self.test_accuracy, strict=True)]

    def final(self, last: int = 1) -> dict[str, float]:
        """Train and test accuracy and their gap, averaged over the ``last`` epochs (a mean over a
        few epochs is steadier than the very last value of a noisy small-data run)."""
        k = max(1, min(last, len(self.train_accuracy)))
        train = float(np.mean(self.train_accuracy[-k:]))
        test = float(np.mean(self.test_accuracy[-k:]))
        return {"train_accuracy": train, "test_accuracy": test, "gap": train - test}


def fit(
    model: nn.Module,
    data: Data,
    optimizer: Any,
    epochs: int,
    batch_size: int,
    seed: int = 0,
) -> Curves:
    """Train ``model`` with cross-entropy on ``data.x_train`` and record :class:`Curves`.

    The training accuracy is re-evaluated on the whole training set after each epoch in
    evaluation mode (dropout off), as the book does, rather than the running accuracy of the
    training batches, which dropout would pull down."""
    curves = Curves()
    trainer = Trainer(model, nn.CrossEntropyLoss(), optimizer, rng=seed)

    correct = np.zeros(len(data.y_test))
    counted = 0

    def record(epoch: int, logs: dict[str, Any]) -> None:
        nonlocal correct, counted
        train = trainer.evaluate(data.x_train, data.y_train)
        curves.train_accuracy.append(train["accuracy"])
        curves.test_accuracy.append(float(logs["val_accuracy"]))
        curves.train_loss.append(float(logs["loss"]))
        if epoch >= epochs - LAST:
            correct = correct + (np.argmax(trainer.predict(data.x_test), axis=1) == data.y_test)
            counted += 1

    trainer.fit(data.x_train, data.y_train, validation_data=(data.x_test, data.y_test),
                epochs=epochs, batch_size=batch_size, verbose=0,
                callbacks=[LambdaCallback(on_epoch_end=record)])
    curves.test_correct = correct / max(counted, 1)
    return curves


def noisy_labels(labels: np.ndarray, n_classes: int, fraction: float,
                 seed: int) -> tuple[np.ndarray, int]:
    """A copy of ``labels`` with a random ``fraction`` of them replaced by a random *other*
    class (label noise: what a big network memorizes and should not learn), and how many were
    replaced.  The generator is ``np.random.default_rng(10_000 + seed)``."""
    rng = np.random.default_rng(10_000 + seed)
    noisy = labels.copy()
    wrong = rng.random(len(noisy)) < fraction
    # a random *other* class: add 1 .. n_classes - 1 modulo n_classes
    noisy[wrong] = (noisy[wrong] + rng.integers(1, n_classes, wrong.sum())) % n_classes
    return noisy, int(wrong.sum())


def paired_gain(correct: np.ndarray, baseline: np.ndarray) -> tuple[float, float]:
    """The test-accuracy gain of one model over another scored on the same test samples, and its
    paired standard error: with d_i = correct_i - baseline_i, (mean(d), sd(d) / sqrt(n)).  The
    entries may be fractions (a sample's share of correct epochs) as well as 0 or 1."""
    d = np.asarray(correct, dtype=np.float64) - np.asarray(baseline, dtype=np.float64)
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d)))


@dataclass
class NoisyComparison:
    """The same network trained with and without a regularizer on a training set whose labels
    are partly wrong (the test labels stay right): per seed, the final test accuracy of each
    setting and its paired gain over the first setting (the baseline) with the paired standard
    error; the first seed's curves."""

    names: list[str]
    noise: float
    flipped: int  # training labels made wrong (first seed)
    architecture: str
    train_accuracy: dict[str, list[float]]  # first seed, per epoch, on the noisy labels
    test_accuracy: dict[str, list[float]]  # first seed, per epoch
    final_test: dict[str, list[float]]  # per seed, mean of the last LAST epochs
    final_train: dict[str, list[float]]  # per seed, likewise, on the noisy training labels
    gain: dict[str, list[float]]  # per seed, over the baseline
    gain_se: dict[str, list[float]]

    def beats_baseline(self, name: str, z: float) -> bool:
        """Whether ``name``'s gain exceeds ``z`` paired standard errors on every seed."""
        return all(g > z * se for g, se in zip(self.gain[name], self.gain_se[name], strict=True))

    def lines(self, z: float) -> list[str]:
        """The summary's table: per seed, test accuracy and gain over the baseline (SE)."""
        base = self.names[0]
        seeds = len(self.final_test[base])
        out = [f"noisy labels: {self.noise:.0%} of the training labels replaced by another class "
               f"({self.flipped} labels, first seed), test labels true; {self.architecture}; "
               f"test accuracy (mean of the last {LAST} epochs), gain over "
               f"{base} with its paired standard error (SE), needed: gain > {z:g} SE on every "
               "seed",
               f"{'setting':<10} {'train':>6} " + " ".join(f"{'seed ' + str(k):>22}"
                                                         for k in range(seeds))]
        for name in self.names:
            cells = []
            for k in range(seeds):
                test = self.final_test[name][k]
                if name == base:
                    cells.append(f"{test:>22.3f}")
                else:
                    g, se = self.gain[name][k], self.gain_se[name][k]
                    cells.append(f"{test:.3f} {g:+.3f} ({se:.3f})".rjust(22))
            train = float(np.median(self.final_train[name]))
            verdict = "" if name == base else (
                "  holds" if self.beats_baseline(name, z) else "  not on every seed")
            out.append(f"{name:<10} {train:>6.3f} " + " ".join(cells) + verdict)
        return out


def compare_on_noisy_labels(
    data: Data, names: list[str], build: Any, optimizer: Any, noise: float, epochs: int,
    batch_size: int, seeds: Any, architecture: str,
) -> NoisyComparison:
    """Train ``build(name)`` (after ``neuralab.seed(seed)``: the same initial weights for every
    setting of a seed) with ``optimizer(name, params)`` on ``data`` with :func:`noisy_labels`
    (new wrong labels per seed), for each name and seed; the first name is the baseline."""
    from neuralab import seed as set_seed

    train: dict[str, list[float]] = {}
    test: dict[str, list[float]] = {}
    final_test: dict[str, list[float]] = {n: [] for n in names}
    final_train: dict[str, list[float]] = {n: [] for n in names}
    gain: dict[str, list[float]] = {n: [] for n in names[1:]}
    gain_se: dict[str, list[float]] = {n: [] for n in names[1:]}
    flipped = -1
    for seed in seeds:
        labels, wrong = noisy_labels(data.y_train, data.n_classes, noise, seed)
        flipped = wrong if flipped < 0 else flipped
        noisy = Data(data.name, data.x_train, labels, data.x_test, data.y_test)
        correct = {}
        for name in names:
            set_seed(seed)
            model = build(name)
            curves = fit(model, noisy, optimizer(name, model.parameters()), epochs, batch_size,
                         seed=seed)
            correct[name] = curves.test_correct
            final = curves.final(LAST)
            final_test[name].append(final["test_accuracy"])
            final_train[name].append(final["train_accuracy"])
            if name not in train:
                train[name], test[name] = curves.train_accuracy, curves.test_accuracy
        for name in names[1:]:
            g, se = paired_gain(correct[name], correct[names[0]])
            gain[name].append(g)
            gain_se[name].append(se)
    return NoisyComparison(list(names), noise, flipped, architecture, train, test, final_test,
                           final_train, gain, gain_se)


def plot_noisy(comparison: NoisyComparison, z: float, path: Any, title: str) -> Any:
    """The noisy-label comparison: the first seed's training and test curves, and every seed's
    test-accuracy gain over the baseline with its +- z SE bar."""
    import neuralab.io.figures as plots

    plt = plots.pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [1.5, 1]})
    for k, name in enumerate(comparison.names):
        epochs = range(1, len(comparison.test_accuracy[name]) + 1)
        ax1.plot(epochs, comparison.train_accuracy[name], color=f"C{k}", lw=1,
                 label=f"{name}: train (noisy labels)")
        ax1.plot(epochs, comparison.test_accuracy[name], color=f"C{k}", lw=1.2, ls="--",
                 label=f"{name}: test (true labels)")
    ax1.set(title=f"{comparison.noise:.0%} wrong training labels: accuracy per epoch (first "
                  "seed)", xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02))
    ax1.legend(fontsize=7, ncols=2, loc="lower right")
    ax1.grid(alpha=0.3)
    others = comparison.names[1:]
    seeds = len(comparison.final_test[comparison.names[0]])
    width = 0.8 / max(1, len(others))
    for k, name in enumerate(others):
        x = np.arange(seeds) + (k - (len(others) - 1) / 2) * width
        ax2.bar(x, comparison.gain[name], width, color=f"C{k + 1}",
                yerr=z * np.asarray(comparison.gain_se[name]), capsize=3,
                label=f"{name} (bar: +- {z:g} SE)")
    ax2.axhline(0, color="k", lw=0.6)
    ax2.set(title=f"test accuracy gain over {comparison.names[0]}, per seed",
            xlabel="seed (position in the list)", ylabel="gain in test accuracy",
            xticks=np.arange(seeds))
    ax2.legend(fontsize=8)
    ax2.grid(alpha=0.3, axis="y")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return plots.save(fig, path)

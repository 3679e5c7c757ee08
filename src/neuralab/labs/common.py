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


@dataclass
class Curves:
    """Per-epoch accuracies measured in evaluation mode with the epoch's final weights."""

    train_accuracy: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)

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

    def record(epoch: int, logs: dict[str, Any]) -> None:
        train = trainer.evaluate(data.x_train, data.y_train)
        curves.train_accuracy.append(train["accuracy"])
        curves.test_accuracy.append(float(logs["val_accuracy"]))
        curves.train_loss.append(float(logs["loss"]))

    trainer.fit(data.x_train, data.y_train, validation_data=(data.x_test, data.y_test),
                epochs=epochs, batch_size=batch_size, verbose=0,
                callbacks=[LambdaCallback(on_epoch_end=record)])
    return curves

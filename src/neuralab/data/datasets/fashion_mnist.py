"""Fashion-MNIST: 70,000 grey 28 x 28 images of 10 kinds of clothing (60,000 train, 10,000 test).

The files are not shipped with neuralab.  On Debian and Ubuntu ``sudo apt-get install
dataset-fashion-mnist`` puts the four IDX files in ``/usr/share/datasets/fashion-mnist/``;
elsewhere download them from https://github.com/zalandoresearch/fashion-mnist and pass the
directory as ``path``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ...random import get_rng
from .idx import read_idx

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                         "Sneaker", "Bag", "Ankle boot"]
_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
_NUM_CLASSES = 10
_SIDE = 28


def _candidates(directory: Path, stem: str) -> list[Path]:
    # both the distributed names (train-images-idx3-ubyte) and the dotted variant some mirrors use
    dotted = stem.replace("-idx", ".idx")
    return [directory / f"{name}{suffix}" for name in (stem, dotted) for suffix in (".gz", "")]


def _find(directory: Path, stem: str) -> Path | None:
    for candidate in _candidates(directory, stem):
        if candidate.is_file():
            return candidate
    return None


def _prepare(images: np.ndarray, labels: np.ndarray, normalize: bool, flatten: bool,
             one_hot: bool) -> tuple[np.ndarray, np.ndarray]:
    if normalize:
        images = np.divide(images, np.float32(255.0), dtype=np.float32)
    n = images.shape[0]
    # (N, 784) for dense networks; (N, 1, 28, 28) channels-first for convolutions, as the book
    images = images.reshape(n, -1) if flatten else images.reshape(n, 1, _SIDE, _SIDE)
    labels = labels.astype(np.int64)
    if one_hot:
        encoded = np.zeros((n, _NUM_CLASSES), dtype=np.float32)
        encoded[np.arange(n), labels] = 1.0
        labels = encoded
    return images, labels


def load_fashion_mnist(
    path: str | os.PathLike[str] | None = None,
    *,
    normalize: bool = True,
    flatten: bool = True,
    one_hot: bool = False,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load Fashion-MNIST from its four IDX files (gzip-compressed or raw).

    Args:
        path: directory holding ``train-images-idx3-ubyte[.gz]``, ``train-labels-idx1-ubyte[.gz]``,
            ``t10k-images-idx3-ubyte[.gz]`` and ``t10k-labels-idx1-ubyte[.gz]``; default
            ``/usr/share/datasets/fashion-mnist`` (Debian package ``dataset-fashion-mnist``).
        normalize: pixels as float32 in [0, 1] (x / 255); otherwise uint8 in 0..255.
        flatten: images as rows of 784 values; otherwise shape (N, 1, 28, 28).
        one_hot: labels as float32 one-hot rows of 10; otherwise int64 class codes 0..9
            (names in ``FASHION_MNIST_CLASSES``).

    Returns:
        ``((x_train, t_train), (x_test, t_test))`` with 60,000 and 10,000 samples, the return
        shape of *Deep Learning from Scratch*'s ``load_mnist``.
    """
    directory = Path(path) if path is not None else FASHION_MNIST_DIR
    found = {key: _find(directory, stem) for key, stem in _FILES.items()}
    missing = [_FILES[key] for key, file in found.items() if file is None]
    if missing:
        where = "the default location" if path is None else "the given directory"
        raise FileNotFoundError(
            f"Fashion-MNIST files not found in {where} {directory}: missing "
            f"{', '.join(m + '[.gz]' for m in missing)}. On Debian/Ubuntu install them with "
            f"`sudo apt-get install dataset-fashion-mnist` (files go to {FASHION_MNIST_DIR}), or "
            f"download the four IDX files from https://github.com/zalandoresearch/fashion-mnist "
            f"and pass their directory as `path`."
        )
    arrays = {key: read_idx(file) for key, file in found.items()}
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or images.shape[1:] != (_SIDE, _SIDE) or labels.ndim != 1 \
                or len(labels) != len(images):
            raise ValueError(f"Fashion-MNIST {split} files in {directory} have unexpected shapes: "
                             f"images {images.shape}, labels {labels.shape}; expected (N, 28, 28) "
                             f"and (N,)")
        if labels.size and labels.max() >= _NUM_CLASSES:
            raise ValueError(f"Fashion-MNIST {split} labels in {directory} go up to "
                             f"{labels.max()}, expected classes 0..9")
    train = _prepare(arrays["train_images"], arrays["train_labels"], normalize, flatten, one_hot)
    test = _prepare(arrays["test_images"], arrays["test_labels"], normalize, flatten, one_hot)
    return train, test


# Class templates are fixed (own seed), so training and test sets drawn with different rngs share
# them; only the per-sample variation comes from the caller's rng.
_TEMPLATE_SEED = 20170825


def _templates() -> np.ndarray:
    gen = np.random.default_rng(_TEMPLATE_SEED)
    coarse = gen.random((_NUM_CLASSES, 7, 7))
    shared = gen.random((7, 7))
    # a common silhouette plus a class-specific part, upsampled 4x into blocky 28 x 28 "garments"
    mixed = 0.5 * shared + 0.5 * coarse
    return np.kron(mixed, np.ones((4, 4))).reshape(_NUM_CLASSES, -1).astype(np.float32)


def make_synthetic_like_fashion_mnist(
    n: int,
    rng: np.random.Generator | int | None = None,
    *,
    normalize: bool = True,
    flatten: bool = True,
    one_hot: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Random images with Fashion-MNIST's shapes and dtypes, for benchmarks and tests without the
    files.

    Each of the 10 classes has a fixed 28 x 28 template (the same for every call); a sample is its
    class template times a random brightness in [0.6, 1] plus Gaussian noise (std 0.2), clipped to
    [0, 1].  Classes are balanced and learnable but overlap.  ``normalize``, ``flatten`` and
    ``one_hot`` mean what they mean in :func:`load_fashion_mnist`.

    >>> x, t = make_synthetic_like_fashion_mnist(1000, rng=0)
    >>> x.shape, x.dtype, t.shape
    ((1000, 784), dtype('float32'), (1000,))
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"make_synthetic_like_fashion_mnist expected a positive integer `n`, "
                         f"got {n!r}")
    gen = get_rng(rng)
    labels = gen.permutation(np.arange(n) % _NUM_CLASSES)
    brightness = gen.uniform(0.6, 1.0, size=(n, 1)).astype(np.float32)
    images = gen.standard_normal((n, _SIDE * _SIDE), dtype=np.float32)
    images *= np.float32(0.2)
    images += _templates()[labels] * brightness
    np.clip(images, 0.0, 1.0, out=images)
    if not normalize:
        images = np.rint(images * np.float32(255.0)).astype(np.uint8)
    images = images.reshape(n, 1, _SIDE, _SIDE) if not flatten else images
    labels = labels.astype(np.int64)
    if one_hot:
        encoded = np.zeros((n, _NUM_CLASSES), dtype=np.float32)
        encoded[np.arange(n), labels] = 1.0
        return images, encoded
    return images, labels

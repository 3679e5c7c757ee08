"""The 8 x 8 handwritten digits of scikit-learn (UCI "Optical Recognition of Handwritten Digits"):
1,797 images, pixel values 0-16, ten classes."""

from __future__ import annotations

import functools

import numpy as np


def load_digits(images: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The digits as ``(X, y)``: pixels scaled to [0, 1] (divided by 16) as float32, of shape
    (1797, 64), or (1797, 8, 8) with ``images=True``; ``y`` int64 classes 0-9.

    The data comes with scikit-learn, an optional dependency (``pip install neuralab[lab]``).

    >>> X, y = load_digits()
    >>> X.shape, float(X.max()), np.bincount(y)[:3]
    ((1797, 64), 1.0, array([178, 182, 177]))
    """
    pixels, target = _read(bool(images))
    return pixels.copy(), target.copy()  # copies: a caller may change its arrays


@functools.lru_cache(maxsize=2)
def _read(images: bool) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits, parsed once per process (parsing its CSV takes a good part of a
    second, and the labs load the digits once per seed)."""
    try:
        from sklearn.datasets import load_digits as _sklearn_load_digits
    except ImportError:
        raise ImportError(
            "load_digits reads the data bundled with scikit-learn, which is not installed; "
            "install the optional extra with `pip install neuralab[lab]` (or `pip install "
            "scikit-learn`)"
        ) from None
    bunch = _sklearn_load_digits()
    pixels = bunch.images if images else bunch.data
    return (np.asarray(pixels, dtype=np.float32) / np.float32(16.0),
            np.asarray(bunch.target, dtype=np.int64))

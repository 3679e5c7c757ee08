"""Small generated data sets for first experiments."""

from __future__ import annotations

import numpy as np

from ...random import get_rng

_XOR_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
_XOR_TARGETS = np.array([[0], [1], [1], [0]], dtype=np.float32)


def make_xor(n_samples: int | None = None, *, noise: float = 0.0,
             rng: np.random.Generator | int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The XOR problem a single perceptron cannot solve: :math:`y = x_1 \\oplus x_2`.

    With ``n_samples=None`` the four rows of the truth table, ``X`` of shape (4, 2) and ``y`` of
    shape (4, 1) (float32, ready for a 2-4-1 sigmoid network and binary cross-entropy).  With
    ``n_samples`` the four corners are repeated in equal shares (shuffled) and Gaussian ``noise``
    of that standard deviation is added to the inputs; labels stay those of the corners.

    >>> X, y = make_xor()
    >>> y.ravel()
    array([0., 1., 1., 0.], dtype=float32)
    """
    if noise < 0:
        raise ValueError(f"make_xor expected a non-negative `noise`, got {noise}")
    gen = get_rng(rng)
    if n_samples is None:
        X, y = _XOR_INPUTS.copy(), _XOR_TARGETS.copy()
    else:
        if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) \
                or n_samples < 1:
            raise ValueError(f"make_xor expected a positive integer `n_samples`, "
                             f"got {n_samples!r}")
        corner = gen.permutation(np.arange(n_samples) % 4)
        X, y = _XOR_INPUTS[corner], _XOR_TARGETS[corner]
    if noise > 0:
        X += gen.normal(0.0, noise, size=X.shape).astype(np.float32)
    return X, y

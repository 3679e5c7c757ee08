"""What the checks compare with: the student's value as an array of the right shape, closeness
with a message that says where and by how much (never how to compute it), central differences."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..autograd import numerical_gradient
from .core import Fail


def as_array(value: Any, what: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """``value`` as a float64 array, or :class:`Fail` naming what it is instead."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise Fail(f"{what} should be an array of numbers, got a {type(value).__name__}"
                   ) from None
    if shape is not None and arr.shape != tuple(shape):
        raise Fail(f"{what} has shape {arr.shape}, expected {tuple(shape)}")
    return arr


def expect_close(actual: Any, expected: np.ndarray, what: str, *, atol: float = 1e-8,
                 rtol: float = 1e-6) -> np.ndarray:
    """Fail unless ``actual`` has ``expected``'s shape and is close to it everywhere (NaN and
    infinity are never close)."""
    expected = np.asarray(expected, dtype=np.float64)
    arr = as_array(actual, what, expected.shape)
    if not np.all(np.isfinite(arr)):
        bad = int(np.sum(~np.isfinite(arr)))
        raise Fail(f"{what} has {bad} non-finite value(s) (nan or inf) of {arr.size}")
    wrong = np.abs(arr - expected) > atol + rtol * np.abs(expected)
    if np.any(wrong):
        i = np.unravel_index(int(np.argmax(np.abs(arr - expected) * wrong)), arr.shape)
        where = f" at index {tuple(int(j) for j in i)}" if arr.ndim else ""
        raise Fail(f"{what} is off at {int(wrong.sum())} of {arr.size} entries{where}: "
                   f"yours {arr[i]:.6g}, expected {expected[i]:.6g}")
    return arr


def central_differences(f: Callable[..., float], *arrays: np.ndarray, eps: float = 1e-6
                        ) -> list[np.ndarray]:
    """d f(*arrays) / d each array by neuralab's central differences, in float64."""
    xs = [np.array(a, dtype=np.float64) for a in arrays]
    return numerical_gradient(lambda: float(f(*xs)), xs, eps)


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)

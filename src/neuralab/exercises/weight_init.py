"""weight-init: shapes, ranges and spreads of many draws against neuralab.nn.init's, and
reproducibility from the given Generator.  With 120,000 draws the sample standard deviation is
within 0.5% of the true one; the checks allow 3%, and the wrong formulas are 29% or more off."""

from __future__ import annotations

import numpy as np

from ..nn import init
from .compare import as_array
from .core import Exercise, Fail, Student

exercise = Exercise("weight-init", "Xavier and He initialization", "가중치 초기화", 1,
                    ("xavier_uniform", "he_normal"))
FAN_IN, FAN_OUT = 400, 300


def _draw(s: Student, name: str, seed: int) -> np.ndarray:
    return as_array(s.call(name, FAN_IN, FAN_OUT, np.random.default_rng(seed)), f"{name}(...)")


def _spread(w: np.ndarray, expected_std: float, what: str) -> None:
    if abs(float(w.mean())) > 0.05 * expected_std:
        raise Fail(f"{what} has mean {w.mean():.3g}; it should be centred at 0")
    ratio = float(w.std()) / expected_std
    if not 0.97 < ratio < 1.03:
        raise Fail(f"{what} has standard deviation {w.std():.4g}, {ratio:.2f} times the "
                   f"expected one for fan_in={FAN_IN}, fan_out={FAN_OUT}")


@exercise.check("xavier-shape", "xavier_uniform gives a (fan_in, fan_out) array",
                "a transposed weight: a Dense layer's W is (fan_in, fan_out), inputs by outputs")
def _xavier_shape(s: Student) -> None:
    w = _draw(s, "xavier_uniform", 90)
    if w.shape != (FAN_IN, FAN_OUT):
        raise Fail(f"xavier_uniform({FAN_IN}, {FAN_OUT}, rng) has shape {w.shape}")


@exercise.check("xavier-limit", "xavier_uniform's range and spread match nn.init.xavier_uniform",
                "Xavier's limit uses both fans, sqrt(6 / (fan_in + fan_out)), and the draw is "
                "uniform within it", requires=("xavier-shape",))
def _xavier(s: Student) -> None:
    w = _draw(s, "xavier_uniform", 91)
    ref = init.xavier_uniform((FAN_IN, FAN_OUT), rng=0, dtype=np.float64)
    limit = float(np.abs(ref).max())
    if float(np.abs(w).max()) > limit * 1.001:
        raise Fail(f"xavier_uniform draws values up to {np.abs(w).max():.4g}, outside the "
                   "limit for these fans")
    _spread(w, float(ref.std()), "xavier_uniform")


@exercise.check("he-std", "he_normal's spread matches nn.init.he_normal",
                "He's standard deviation is the square root of 2 / fan_in (the variance is "
                "2 / fan_in), with fan_in the number of inputs")
def _he(s: Student) -> None:
    w = _draw(s, "he_normal", 92)
    if w.shape != (FAN_IN, FAN_OUT):
        raise Fail(f"he_normal({FAN_IN}, {FAN_OUT}, rng) has shape {w.shape}")
    ref = init.he_normal((FAN_IN, FAN_OUT), rng=0, dtype=np.float64)
    _spread(w, float(ref.std()), "he_normal")


@exercise.check("uses-rng", "the same seed gives the same weights",
                "draw from the rng argument (rng.uniform, rng.normal), not from np.random: "
                "then a seed reproduces the network")
def _rng(s: Student) -> None:
    for name in ("xavier_uniform", "he_normal"):
        a, b = _draw(s, name, 93), _draw(s, name, 93)
        if a.shape != b.shape or not np.array_equal(a, b):
            raise Fail(f"two calls of {name} with np.random.default_rng(93) gave different "
                       "weights")

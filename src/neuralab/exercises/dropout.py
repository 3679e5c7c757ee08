"""dropout: the drop rate and the kept expectation over 100,000 draws (binomial spread 0.3%,
tolerance 3%), the identity at evaluation, reproducibility, and the backward pass against
central differences of the student's own forward."""

from __future__ import annotations

import numpy as np

from .compare import as_array, central_differences, expect_close, rng
from .core import Exercise, Fail, Student

exercise = Exercise("dropout", "inverted dropout, forward and backward", "드롭아웃", 2,
                    ("dropout_forward", "dropout_backward"))
BIG = (400, 250)


def _forward(s: Student, x: np.ndarray, p: float, seed: int, training: bool = True
             ) -> tuple[np.ndarray, np.ndarray]:
    y, mask = s.call("dropout_forward", x, p, np.random.default_rng(seed), training=training,
                     returns=2)
    return as_array(y, "y", x.shape), as_array(mask, "mask")


@exercise.check("drop-rate", "a fraction p of the outputs is zero (p = 0.2 and 0.7)",
                "p is the probability to *drop* a unit: keep it where the uniform draw is "
                "at least p")
def _rate(s: Student) -> None:
    for p in (0.2, 0.7):
        y, _ = _forward(s, np.ones(BIG), p, 100)
        zero = float(np.mean(y == 0))
        if abs(zero - p) > 0.03:
            raise Fail(f"with p={p} a fraction {zero:.3f} of the outputs is zero")


@exercise.check("dropout-rescale", "the mean output equals the mean input (inverted dropout)",
                "dropout not rescaled: divide the kept units by (1 - p), so that the expected "
                "output is the input and evaluation needs no change")
def _rescale(s: Student) -> None:
    y, _ = _forward(s, np.ones(BIG), 0.5, 101)
    if abs(float(y.mean()) - 1.0) > 0.03:
        raise Fail(f"for an input of ones and p=0.5 the mean output is {y.mean():.3f}, not 1")


@exercise.check("eval-identity", "at evaluation (training=False) y is x",
                "at evaluation dropout does nothing: no units dropped and no scaling")
def _eval(s: Student) -> None:
    x = rng(102).normal(size=(6, 5))
    y, _ = _forward(s, x, 0.5, 103, training=False)
    expect_close(y, x, "y at evaluation", atol=0, rtol=0)


@exercise.check("uses-rng", "the same seed drops the same units",
                "draw from the rng argument (rng.random), not from np.random: then a seed "
                "reproduces the mask")
def _rng(s: Student) -> None:
    x = np.ones((20, 10))
    if not np.array_equal(_forward(s, x, 0.5, 104)[0], _forward(s, x, 0.5, 104)[0]):
        raise Fail("two calls with np.random.default_rng(104) dropped different units")


@exercise.check("backward-mask", "dropout_backward against central differences of the forward",
                "the gradient flows only through the kept units, scaled as in the forward "
                "pass: multiply dy by the same mask", requires=("uses-rng",))
def _backward(s: Student) -> None:
    r = rng(105)
    x, dy = r.normal(size=(6, 5)), r.normal(size=(6, 5))
    _, mask = _forward(s, x, 0.4, 106)

    def objective(a: np.ndarray) -> float:
        return float(np.sum(_forward(s, a, 0.4, 106)[0] * dy))

    (numeric,) = central_differences(objective, x)
    expect_close(s.call("dropout_backward", dy, mask), numeric, "dropout_backward(dy, mask)",
                 atol=1e-7)

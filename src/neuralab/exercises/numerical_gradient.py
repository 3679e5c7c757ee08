"""numerical-gradient: central differences against exact derivatives and against
neuralab.numerical_gradient."""

from __future__ import annotations

import numpy as np

from ..autograd import numerical_gradient as reference_gradient
from .compare import as_array, expect_close, rng
from .core import Exercise, Fail, Student

exercise = Exercise("numerical-gradient", "numerical differentiation by central differences",
                    "수치 미분", 1, ("numerical_diff", "numerical_gradient"))
W = rng(50).normal(size=(3, 4))


def _separable(x: np.ndarray) -> float:
    """sum(sin(x) * W): each element's derivative depends on that element alone."""
    return float(np.sum(np.sin(x) * W))


@exercise.check("central-difference", "numerical_diff(x^3, 2) is 12 to within 1e-6",
                "use the central difference: f at x + h and at x - h, divided by the distance "
                "between them, 2h; the one-sided difference is off by about 3 x h")
def _diff(s: Student) -> None:
    got = as_array(s.call("numerical_diff", lambda t: t ** 3, 2.0, h=1e-4), "numerical_diff")
    if got.size != 1:
        raise Fail(f"numerical_diff should return one number, got shape {got.shape}")
    expect_close(got.reshape(()), 12.0, "numerical_diff(lambda x: x**3, 2.0)", atol=1e-6, rtol=0)


@exercise.check("gradient-every-element", "numerical_gradient of a (3, 4) array against "
                "neuralab.numerical_gradient", "perturb one element at a time: on a 2-d "
                "array x[i] is a whole row; iterate over x.reshape(-1) (a view) or np.nditer")
def _gradient(s: Student) -> None:
    x = rng(51).normal(size=(3, 4))
    reference = x.copy()
    (expected,) = reference_gradient(lambda: _separable(reference), [reference], eps=1e-4)
    assert np.allclose(expected, np.cos(x) * W, atol=1e-6)  # neuralab's, against the exact one
    got = s.call("numerical_gradient", _separable, x, h=1e-4)
    expect_close(got, np.cos(x) * W, "numerical_gradient(f, x)", atol=1e-6, rtol=1e-5)


@exercise.check("restores-input", "numerical_gradient leaves x as it found it",
                "after evaluating f at x + h and x - h, put the element back to its original "
                "value", requires=("gradient-every-element",))
def _restores(s: Student) -> None:
    x = rng(52).normal(size=(3, 4))
    original = x.copy()
    s.call("numerical_gradient", _separable, x, h=1e-4, copy=False)
    changed = int(np.sum(x != original))
    if changed:
        raise Fail(f"{changed} of {x.size} elements of x differ after the call")

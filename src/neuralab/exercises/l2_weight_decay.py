"""l2-weight-decay: the penalty against nn.regularizers.L2, its gradient against central
differences, the decayed step against neuralab.optim.SGD(weight_decay)."""

from __future__ import annotations

import numpy as np

import neuralab as nl

from ..nn import Parameter
from ..nn.regularizers import L2
from ..optim import SGD
from .compare import as_array, central_differences, expect_close, rng
from .core import Exercise, Fail, Student

exercise = Exercise("l2-weight-decay", "L2 penalty and weight decay", "L2 규제, 가중치 감소", 1,
                    ("l2_penalty", "l2_grad", "sgd_weight_decay_step"))
LAM = 0.01


def _penalty(s: Student, weights: list[np.ndarray]) -> float:
    got = as_array(s.call("l2_penalty", weights, LAM), "l2_penalty(weights, lam)")
    if got.size != 1:
        raise Fail(f"l2_penalty should return one number, got shape {got.shape}")
    return float(got.reshape(()))


def _reference(w: np.ndarray) -> float:
    return float(L2(LAM)(nl.tensor(w, dtype=np.float64)).data)


@exercise.check("penalty-value", "l2_penalty of one matrix against nn.regularizers.L2",
                "L2 penalizes the *squares* of the weights (L1 would take absolute values)")
def _value(s: Student) -> None:
    w = rng(120).normal(size=(4, 3))
    expect_close(_penalty(s, [w]), _reference(w), "l2_penalty([W], lam)", atol=1e-12)


@exercise.check("penalty-all-layers", "l2_penalty of several matrices adds their penalties",
                "sum over every weight matrix in the list; a return inside the loop stops at "
                "the first", requires=("penalty-value",))
def _all(s: Student) -> None:
    r = rng(121)
    ws = [r.normal(size=(4, 3)), r.normal(size=(3, 2)), r.normal(size=(2, 5))]
    expect_close(_penalty(s, ws), sum(_reference(w) for w in ws), "l2_penalty of 3 matrices",
                 atol=1e-12)


@exercise.check("penalty-gradient", "l2_grad against central differences of the penalty",
                "the derivative of lam w^2 is 2 lam w: keep the factor 2 of the square")
def _grad(s: Student) -> None:
    w = rng(122).normal(size=(4, 3))
    (numeric,) = central_differences(_reference, w)
    expect_close(s.call("l2_grad", w, LAM), numeric, "l2_grad(w, lam)", atol=1e-8)


@exercise.check("weight-decay-step", "one step against optim.SGD(weight_decay=wd)",
                "weight decay shrinks the weights towards 0: the decay term goes with the "
                "gradient, against w")
def _step(s: Student) -> None:
    r = rng(123)
    w, g = r.normal(size=(4, 3)), r.normal(size=(4, 3))
    p = Parameter(w.copy(), dtype=np.float64)
    p.grad = g.copy()
    SGD([p], lr=0.1, weight_decay=0.05).step()
    expect_close(s.call("sgd_weight_decay_step", w, g, 0.1, 0.05), p.data,
                 "sgd_weight_decay_step(w, grad, lr, wd)", atol=1e-12)

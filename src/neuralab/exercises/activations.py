"""activations: step, sigmoid, tanh, ReLU against neuralab's ops; derivatives against central
differences and neuralab's autograd."""

from __future__ import annotations

import functools
from typing import Callable

import numpy as np

import neuralab as nl

from .compare import central_differences, expect_close, rng
from .core import Exercise, Student

exercise = Exercise("activations", "step, sigmoid, tanh, ReLU and their derivatives",
                    "활성화 함수", 1,
                    ("step", "sigmoid", "sigmoid_grad", "tanh", "tanh_grad", "relu", "relu_grad"))


def _inputs(seed: int) -> np.ndarray:
    x = rng(seed).normal(scale=2.0, size=(3, 5))
    x[0, :3] = (-25.0, 0.0, 25.0)
    return x


def _values(s: Student, name: str, op: Callable[..., nl.Tensor], seed: int) -> None:
    x = _inputs(seed)
    expect_close(s.call(name, x), op(nl.tensor(x, dtype=np.float64)).data, f"{name}(x)",
                 atol=1e-12)


def _derivative(s: Student, name: str, op: Callable[..., nl.Tensor], seed: int) -> None:
    x = _inputs(seed)
    x = x[np.abs(x) > 1e-3].reshape(-1)  # away from ReLU's kink, where the difference lies
    t = nl.tensor(x, requires_grad=True, dtype=np.float64)
    op(t).sum().backward()
    (numeric,) = central_differences(lambda a: np.sum(op(nl.tensor(a, dtype=np.float64)).data), x)
    assert np.allclose(t.grad, numeric, atol=1e-7)  # neuralab's own backward, checked
    with s.using_reference("step", "sigmoid", "tanh", "relu"):
        got = s.call(f"{name}_grad", x)
    expect_close(got, t.grad, f"{name}_grad(x)", atol=1e-8, rtol=1e-5)


# (check id, what it checks, hint, function, neuralab's op, values or derivative, seed)
_TABLE = [
    ("step-values", "step(x) is 1 for x > 0, 0 elsewhere (also at 0)",
     "the step is 0 at x = 0 and below; compare with > rather than >=", "step", nl.step, False),
    ("sigmoid-values", "sigmoid(x) against neuralab.sigmoid",
     "look at the sign in the exponent: sigmoid(x) goes to 1 for large positive x", "sigmoid",
     nl.sigmoid, False),
    ("sigmoid-derivative-factor", "sigmoid_grad(x) against central differences",
     "a factor is missing: the sigmoid's derivative is sigmoid(x) times one more term in "
     "sigmoid(x)", "sigmoid", nl.sigmoid, True),
    ("tanh-values", "tanh(x) against neuralab.tanh",
     "tanh(x) = (e^x - e^-x) / (e^x + e^-x); np.tanh computes it", "tanh", nl.tanh, False),
    ("tanh-derivative", "tanh_grad(x) against central differences",
     "tanh's derivative is 1 minus the *square* of tanh(x)", "tanh", nl.tanh, True),
    ("relu-elementwise", "relu(x) against neuralab.relu, on a matrix",
     "Python's max() compares whole arrays; ReLU needs the elementwise maximum of 0 and each "
     "entry (np.maximum)", "relu", nl.relu, False),
    ("relu-derivative", "relu_grad(x) against central differences",
     "the derivative of ReLU is a slope, 1 or 0, not the value of ReLU itself", "relu", nl.relu,
     True),
]
for _seed, (_id, _title, _hint, _name, _op, _grad) in enumerate(_TABLE, start=30):
    exercise.check(_id, _title, _hint)(
        functools.partial(_derivative if _grad else _values, name=_name, op=_op, seed=_seed))

"""sgd-momentum: one step by its two equations, then a trajectory against neuralab.optim.SGD
(PyTorch's form, the same numbers at a constant learning rate)."""

from __future__ import annotations

import numpy as np

from ..nn import Parameter
from ..optim import SGD
from .compare import as_array, expect_close, rng
from .core import Exercise, Student

exercise = Exercise("sgd-momentum", "SGD with momentum", "모멘텀, 경사하강법", 2,
                    ("sgd_momentum_step",))
A = np.diag([1.0, 10.0, 0.5])  # f(w) = w A w / 2, gradient A w


def _step(s: Student, w: np.ndarray, g: np.ndarray, v: np.ndarray, lr: float, mu: float
          ) -> tuple[np.ndarray, np.ndarray]:
    w_new, v_new = s.call("sgd_momentum_step", w, g, v, lr=lr, momentum=mu, returns=2)
    return as_array(w_new, "w_new", w.shape), as_array(v_new, "v_new", w.shape)


@exercise.check("plain-sgd", "with momentum 0 and v = 0 a step is w - lr grad",
                "step against the gradient: the velocity gets minus lr times the gradient")
def _plain(s: Student) -> None:
    r = rng(70)
    w, g = r.normal(size=3), r.normal(size=3)
    w_new, _ = _step(s, w, g, np.zeros(3), 0.1, 0.0)
    expect_close(w_new, w - 0.1 * g, "w_new", atol=1e-12)


@exercise.check("velocity-update", "v_new = momentum v - lr grad",
                "momentum: the new velocity keeps momentum times the old one, plus the new "
                "gradient step", requires=("plain-sgd",))
def _velocity(s: Student) -> None:
    r = rng(71)
    w, g, v = r.normal(size=3), r.normal(size=3), r.normal(size=3)
    _, v_new = _step(s, w, g, v, 0.1, 0.9)
    expect_close(v_new, 0.9 * v - 0.1 * g, "v_new", atol=1e-12)


@exercise.check("position-update", "w moves by the new velocity",
                "w moves by the velocity computed in this step, not by the one it was given",
                requires=("plain-sgd",))
def _position(s: Student) -> None:
    r = rng(72)
    w, g, v = r.normal(size=3), r.normal(size=3), r.normal(size=3)
    w_new, v_new = _step(s, w, g, v, 0.1, 0.9)
    expect_close(w_new, w + v_new, "w_new - w (against your v_new)", atol=1e-12)


@exercise.check("matches-optim-sgd", "30 steps on a quadratic match neuralab.optim.SGD(momentum)",
                "start v at zeros, feed each step the v it returned, and compute the gradient "
                "at the current w", requires=("velocity-update", "position-update"))
def _trajectory(s: Student) -> None:
    w0 = np.array([1.0, -1.0, 2.0])
    p = Parameter(w0.copy(), dtype=np.float64)
    opt = SGD([p], lr=0.05, momentum=0.9)
    w, v = w0.copy(), np.zeros(3)
    for t in range(30):
        p.grad = A @ p.data
        opt.step()
        w, v = _step(s, w, A @ w, v, 0.05, 0.9)
        expect_close(w, p.data, f"w after step {t + 1}", atol=1e-10, rtol=1e-8)

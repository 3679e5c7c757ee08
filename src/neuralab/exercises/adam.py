"""adam: the two moments, the bias correction on the first step, then a trajectory against
neuralab.optim.Adam."""

from __future__ import annotations

import numpy as np

from ..nn import Parameter
from ..optim import Adam
from .compare import as_array, expect_close, rng
from .core import Exercise, Student

exercise = Exercise("adam", "Adam with bias correction", "아담 옵티마이저", 3, ("adam_step",))
A = np.diag([1.0, 10.0, 0.1])  # f(w) = w A w / 2, gradient A w


def _step(s: Student, w: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, t: int,
          lr: float = 0.01) -> tuple[np.ndarray, ...]:
    got = s.call("adam_step", w, g, m, v, t, lr=lr, beta1=0.9, beta2=0.999, eps=1e-8, returns=3)
    return tuple(as_array(a, name, w.shape) for a, name in zip(got, ("w_new", "m_new", "v_new")))


def _state(seed: int) -> tuple[np.ndarray, ...]:
    r = rng(seed)
    return r.normal(size=4), r.normal(size=4), r.normal(size=4), r.uniform(0.1, 1.0, size=4)


@exercise.check("first-moment", "m_new = beta1 m + (1 - beta1) grad",
                "the first moment is a weighted average: the new gradient gets the weight "
                "(1 - beta1)")
def _m(s: Student) -> None:
    w, g, m, v = _state(80)
    expect_close(_step(s, w, g, m, v, 5)[1], 0.9 * m + 0.1 * g, "m_new", atol=1e-12)


@exercise.check("second-moment", "v_new = beta2 v + (1 - beta2) grad^2",
                "the second moment averages the *squared* gradient, weighted by (1 - beta2)")
def _v(s: Student) -> None:
    w, g, m, v = _state(81)
    expect_close(_step(s, w, g, m, v, 5)[2], 0.999 * v + 0.001 * g ** 2, "v_new", atol=1e-12)


@exercise.check("adam-bias-correction", "the first step moves each weight by about lr",
                "Adam without bias correction: m and v start at 0, so early on they are too "
                "small; divide each by (1 - beta^t) before the update",
                requires=("first-moment", "second-moment"))
def _first_step(s: Student) -> None:
    w, g, _, _ = _state(82)
    w_new = _step(s, w, g, np.zeros(4), np.zeros(4), 1)[0]
    expect_close(w - w_new, 0.01 * np.sign(g), "w - w_new on step 1", atol=1e-8, rtol=1e-5)


@exercise.check("matches-optim-adam", "50 steps on a quadratic match neuralab.optim.Adam",
                "the bias correction changes with the step: it divides by 1 - beta^t for step "
                "number t, not by a constant", requires=("adam-bias-correction",))
def _trajectory(s: Student) -> None:
    w0 = np.array([1.0, -1.0, 2.0])
    p = Parameter(w0.copy(), dtype=np.float64)
    opt = Adam([p], lr=0.01)
    w, m, v = w0.copy(), np.zeros(3), np.zeros(3)
    for t in range(1, 51):
        p.grad = A @ p.data
        opt.step()
        w, m, v = _step(s, w, A @ w, m, v, t)
        expect_close(w, p.data, f"w after step {t}", atol=1e-10, rtol=1e-8)

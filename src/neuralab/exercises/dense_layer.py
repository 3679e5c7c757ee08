"""dense-layer: forward against neuralab.linear (nn.Dense's op), each gradient of the backward
against neuralab.gradcheck's central differences and the op's backward."""

from __future__ import annotations

import numpy as np

import neuralab as nl

from .compare import expect_close, rng
from .core import Exercise, Student

exercise = Exercise("dense-layer", "Dense layer y = xW + b: forward and backward",
                    "밀집층, 가중합과 편향", 2, ("dense_forward", "dense_backward"))
N, IN, OUT = 5, 3, 4  # not square: a transposed weight cannot pass


def _data(seed: int) -> tuple[np.ndarray, ...]:
    r = rng(seed)
    return r.normal(size=(N, IN)), r.normal(size=(IN, OUT)), r.normal(size=OUT), \
        r.normal(size=(N, OUT))


def _reference(x: np.ndarray, W: np.ndarray, b: np.ndarray, dy: np.ndarray) -> list[np.ndarray]:
    """dx, dW, db of neuralab.linear, after neuralab.gradcheck confirmed its backward."""
    report = nl.gradcheck(lambda a, w, c: nl.linear(a, w, c), x, W, b)
    assert report.ok, str(report)
    ts = [nl.tensor(a, requires_grad=True, dtype=np.float64) for a in (x, W, b)]
    (nl.linear(*ts) * dy).sum().backward()
    return [t.grad for t in ts]


@exercise.check("forward-weighted-sum", "dense_forward(x, W, 0) is the weighted sum x W",
                "x is (N, in) and W is (in, out): their product needs no transpose")
def _forward(s: Student) -> None:
    x, W, _, _ = _data(60)
    b = np.zeros(OUT)
    expect_close(s.call("dense_forward", x, W, b), nl.linear(x, W, b).data, "dense_forward(x, W, 0)",
                 atol=1e-12)


@exercise.check("forward-bias", "dense_forward adds the bias to every row",
                "the bias: every output row gets b added (it broadcasts over the batch)",
                requires=("forward-weighted-sum",))
def _bias(s: Student) -> None:
    x, W, b, _ = _data(61)
    expect_close(s.call("dense_forward", x, W, b), nl.linear(x, W, b).data, "dense_forward(x, W, b)",
                 atol=1e-12)


def _backward(s: Student, seed: int, which: int, what: str) -> None:
    x, W, b, dy = _data(seed)
    expected = _reference(x, W, b, dy)
    got = s.call("dense_backward", dy, x, W, returns=3)
    expect_close(got[which], expected[which], what, atol=1e-10)


@exercise.check("backward-dx", "dx against central differences",
                "dx has x's shape (N, in): dy is (N, out), so it meets W transposed")
def _dx(s: Student) -> None:
    _backward(s, 62, 0, "dx")


@exercise.check("backward-dW", "dW against central differences",
                "a transposed weight gradient: dW must have W's shape (in, out), so x "
                "enters transposed, on the left", requires=("backward-dx",))
def _dw(s: Student) -> None:
    _backward(s, 63, 1, "dW")


@exercise.check("backward-db", "db against central differences",
                "the bias is used by every row of the batch, so its gradient adds up dy over "
                "the rows (a sum, shape (out,))", requires=("backward-dx",))
def _db(s: Student) -> None:
    _backward(s, 64, 2, "db")

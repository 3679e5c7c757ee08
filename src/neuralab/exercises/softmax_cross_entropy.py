"""softmax-cross-entropy: against neuralab.softmax and the fused neuralab.cross_entropy (and its
backward), at moderate and at large logits."""

from __future__ import annotations

import numpy as np

import neuralab as nl

from .compare import as_array, central_differences, expect_close, rng
from .core import Exercise, Fail, Student

exercise = Exercise("softmax-cross-entropy", "softmax + cross-entropy and its gradient",
                    "소프트맥스, 교차 엔트로피", 2,
                    ("softmax", "log_softmax", "cross_entropy", "cross_entropy_grad"))
REFERENCE_HELPERS = ("softmax", "log_softmax")


def _batch(seed: int, n: int = 5, c: int = 4, scale: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    r = rng(seed)
    return r.normal(scale=scale, size=(n, c)), r.integers(0, c, size=n)


def _reference_ce(z: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    t = nl.tensor(z, requires_grad=True, dtype=np.float64)
    loss = nl.cross_entropy(t, labels)
    loss.backward()
    return float(loss.data), t.grad


def _scalar(value: object, what: str) -> float:
    arr = as_array(value, what)
    if arr.size != 1:
        raise Fail(f"{what} should be one number (the mean over the batch), got shape {arr.shape}")
    return float(arr.reshape(()))


@exercise.check("softmax-rows", "softmax against neuralab.softmax; each row sums to 1",
                "normalize each row (one sample's classes), not each column: sum over axis=1 "
                "with keepdims=True")
def _softmax(s: Student) -> None:
    z, _ = _batch(40)
    expect_close(s.call("softmax", z), nl.softmax(nl.tensor(z, dtype=np.float64)).data,
                 "softmax(z)", atol=1e-12)


@exercise.check("softmax-overflow", "softmax stays finite at logits near 1000",
                "e^1000 overflows: subtract each row's maximum from it before the exponential "
                "(the softmax does not change)", requires=("softmax-rows",))
def _softmax_large(s: Student) -> None:
    z, _ = _batch(41)
    expect_close(s.call("softmax", z + 1000.0), nl.softmax(nl.tensor(z, dtype=np.float64)).data,
                 "softmax(z + 1000)", atol=1e-12)


@exercise.check("log-softmax-underflow", "log_softmax stays finite when a probability rounds to 0",
                "log(softmax(z)) takes the log of 0 once a class is far below the best one: "
                "write log softmax directly from the shifted logits (a log of a sum of "
                "exponentials)")
def _log_softmax(s: Student) -> None:
    z = np.array([[1000.0, 0.0, -1000.0], [0.5, -0.5, 2.0]])
    expected = nl.log_softmax(nl.tensor(z, dtype=np.float64)).data
    with s.using_reference("softmax"):
        expect_close(s.call("log_softmax", z), expected, "log_softmax(z)", atol=1e-9)


@exercise.check("cross-entropy-single", "cross_entropy of one sample against "
                "neuralab.cross_entropy", "the loss of a sample is minus the log-probability of "
                "its own label (index each row by its label)")
def _ce_single(s: Student) -> None:
    _loss_value(s, *_batch(42, n=1), "cross_entropy of one sample", atol=1e-10)


def _loss_value(s: Student, z: np.ndarray, labels: np.ndarray, what: str, **tolerance: float
                ) -> None:
    with s.using_reference(*REFERENCE_HELPERS):
        got = _scalar(s.call("cross_entropy", z, labels), "cross_entropy(z, labels)")
    expect_close(got, _reference_ce(z, labels)[0], what, **tolerance)


@exercise.check("cross-entropy-mean", "cross_entropy of a batch is the mean of its samples'",
                "a sum where a mean belongs: the batch loss averages over the N samples (1/N)",
                requires=("cross-entropy-single",))
def _ce_mean(s: Student) -> None:
    _loss_value(s, *_batch(43, n=6), "cross_entropy of a batch of 6", atol=1e-10)


@exercise.check("cross-entropy-large-logits", "cross_entropy is finite at logits near 1000",
                "log(softmax) of a probability that rounded to 0 is -inf: compute the loss "
                "from log_softmax", requires=("cross-entropy-mean",))
def _ce_large(s: Student) -> None:
    z = np.array([[1000.0, 0.0, -1000.0], [-1000.0, 1000.0, 0.0]])
    _loss_value(s, z, np.array([2, 0]), "cross_entropy at logits near 1000", rtol=1e-9)


@exercise.check("gradient-single", "cross_entropy_grad of one sample (central differences)",
                "for one sample the gradient of the loss by the logits is the predicted "
                "probabilities minus the one-hot label")
def _grad_single(s: Student) -> None:
    z, labels = _batch(44, n=1)
    (numeric,) = central_differences(lambda a: _reference_ce(a, labels)[0], z)
    with s.using_reference(*REFERENCE_HELPERS):
        got = s.call("cross_entropy_grad", z, labels)
    expect_close(got, numeric, "cross_entropy_grad of one sample", atol=1e-7)


@exercise.check("gradient-mean", "cross_entropy_grad of a batch against the fused backward",
                "the loss is a mean, so each sample's gradient is divided by N",
                requires=("gradient-single",))
def _grad_batch(s: Student) -> None:
    z, labels = _batch(45, n=6)
    with s.using_reference(*REFERENCE_HELPERS):
        got = s.call("cross_entropy_grad", z, labels)
    expect_close(got, _reference_ce(z, labels)[1], "cross_entropy_grad of a batch of 6",
                 atol=1e-10)

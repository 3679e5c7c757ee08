"""perceptron-rule: prediction, one update and training, against neuralab.nn.Perceptron."""

from __future__ import annotations

import numpy as np

from ..nn.classic import Perceptron
from .compare import as_array, expect_close, rng
from .core import Exercise, Fail, Student

exercise = Exercise("perceptron-rule", "perceptron learning rule w += eta (y - y_hat) x",
                    "퍼셉트론", 1, ("predict", "update", "train"))
X2 = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)


def _reference_predict(X: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    p = Perceptron(lr=0.1, epochs=1, shuffle=False)
    p.weights_, p.bias_ = w, b
    return p.predict(X)


@exercise.check("predict-step", "predict gives 0 or 1 by the threshold at 0",
                "a perceptron outputs a class, 0 or 1, through the step function; x . w + b "
                "is only its net input")
def _predict(s: Student) -> None:
    r = rng(20)
    X = r.normal(size=(12, 3))
    w, b = r.normal(size=3), 0.3
    expect_close(s.call("predict", X, w, b), _reference_predict(X, w, b), "predict(X, w, b)")


def _update(s: Student) -> tuple[np.ndarray, float, np.ndarray, float]:
    w, b = np.array([0.5, -0.25]), -0.5   # predicts 0 for x = (1, 1) (net input -0.25)
    x = np.array([1.0, 1.0])
    with s.using_reference("predict"):
        w_new, b_new = s.call("update", w, b, x, 1, 0.1, returns=2)
    return as_array(w_new, "w from update", (2,)), float(np.asarray(b_new)), w, b


@exercise.check("update-sign", "update moves w towards a missed positive sample",
                "the error is target minus prediction, y - y_hat: a missed 1 must add x to w")
def _update_sign(s: Student) -> None:
    w_new, _, w, _ = _update(s)
    expect_close(w_new, w + 0.1 * np.array([1.0, 1.0]), "w after one update")
    with s.using_reference("predict"):
        w_same, _ = s.call("update", w, 0.5, np.array([1.0, 1.0]), 1, 0.1, returns=2)
    expect_close(w_same, w, "w after a correctly classified sample")


@exercise.check("update-bias", "update changes the bias by eta (y - y_hat)",
                "the bias learns too: it is the weight of an input that is always 1",
                requires=("update-sign",))
def _update_bias(s: Student) -> None:
    _, b_new, _, b = _update(s)
    expect_close(b_new, b + 0.1, "b after one update")


@exercise.check("train-fits-separable", "train (with the reference update) learns AND and OR",
                "visit every sample in every epoch, and keep the (w, b) that update returns")
def _train(s: Student) -> None:
    for gate, y in (("AND", np.array([0, 0, 0, 1])), ("OR", np.array([0, 1, 1, 1]))):
        with s.using_reference("predict", "update"):
            w, b = s.call("train", X2, y, eta=0.1, epochs=20, returns=2)
        w = as_array(w, "w from train", (2,))
        got = _reference_predict(X2, w, float(np.asarray(b)))
        if np.any(got != y):
            raise Fail(f"after 20 epochs on {gate} the perceptron predicts {got.tolist()}, "
                       f"not {y.tolist()}")

"""xor-backprop: the lecture's XOR practical, forward and backward by hand in NumPy.

Every gradient is compared with neuralab's autograd (the same network as Tensors, float64) and
with central differences of the reference loss; the training loop is checked with the reference
forward and backward in place of the student's, so that it fails only for its own mistakes."""

from __future__ import annotations

import numpy as np

import neuralab as nl

from .compare import as_array, central_differences, expect_close, rng
from .core import Exercise, Fail, Student

exercise = Exercise(
    "xor-backprop", "XOR by hand-written backpropagation", "오차 역전파, 연쇄법칙", 3,
    ("sigmoid", "sigmoid_grad", "forward", "loss", "loss_grad", "backward", "train"),
)
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
Y = np.array([[0], [1], [1], [0]], dtype=np.float64)
H = 3  # hidden units in the checks: W1 (2, 3) is not square, so a transposed weight shows


def _params(seed: int) -> tuple[np.ndarray, ...]:
    r = rng(seed)
    return (r.normal(size=(2, H)), r.normal(size=H), r.normal(size=(H, 1)), r.normal(size=1))


def _autograd(params: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """(h, y_hat, gradients) of neuralab's autograd on the same network."""
    ps = [nl.tensor(p, requires_grad=True, dtype=np.float64) for p in params]
    W1, b1, W2, b2 = ps
    h = nl.sigmoid(nl.tensor(X, dtype=np.float64) @ W1 + b1)
    y_hat = nl.sigmoid(h @ W2 + b2)
    ((y_hat - nl.tensor(Y, dtype=np.float64)) ** 2).mean().backward()
    return h.data, y_hat.data, [p.grad for p in ps]


@exercise.check("sigmoid", "sigmoid(z) = 1 / (1 + e^-z), also at |z| = 30",
                "look at the sign in the exponent: the sigmoid goes to 1 for large positive z")
def _sigmoid(s: Student) -> None:
    z = np.concatenate([rng(1).normal(scale=3, size=12), [-30.0, 0.0, 30.0]])
    expect_close(s.call("sigmoid", z), nl.sigmoid(nl.tensor(z, dtype=np.float64)).data,
                 "sigmoid(z)", atol=1e-12)


@exercise.check("sigmoid-derivative-factor", "sigmoid_grad(y) is d sigmoid / dz at y = sigmoid(z)",
                "a factor is missing: the sigmoid's derivative is a product of y and one more "
                "term in y; compare yours with (sigmoid(z + h) - sigmoid(z - h)) / 2h")
def _sigmoid_grad(s: Student) -> None:
    z = rng(2).normal(scale=2, size=10)
    y = 1.0 / (1.0 + np.exp(-z))
    (numeric,) = central_differences(lambda a: np.sum(1.0 / (1.0 + np.exp(-a))), z)
    expect_close(s.call("sigmoid_grad", y), numeric, "sigmoid_grad(y)", atol=1e-7, rtol=1e-5)


@exercise.check("forward", "forward returns h and y_hat of the 2-H-1 network",
                "each layer is sigmoid(input @ W + b), with its bias; the shapes must chain: "
                "(4, 2) by (2, H), then (4, H) by (H, 1), no transpose")
def _forward(s: Student) -> None:
    params = _params(3)
    h, y_hat, _ = _autograd(params)
    with s.using_reference("sigmoid"):
        got = s.call("forward", X, *params, returns=2)
    expect_close(got[0], h, "h", atol=1e-10)
    expect_close(got[1], y_hat, "y_hat", atol=1e-10)


@exercise.check("loss-mean", "loss is the mean squared error",
                "a sum where a mean belongs: the loss averages over the samples (1/N)")
def _loss(s: Student) -> None:
    y_hat = rng(4).uniform(size=(4, 1))
    got = as_array(s.call("loss", y_hat, Y), "loss(y_hat, y)")
    expect_close(got.reshape(()) if got.size == 1 else got, np.mean((y_hat - Y) ** 2),
                 "loss(y_hat, y)", atol=1e-12)


@exercise.check("loss-grad-mean", "loss_grad is d loss / d y_hat (central differences)",
                "the loss is a mean, so its gradient carries the 1/N too (and the 2 of the "
                "square)")
def _loss_grad(s: Student) -> None:
    y_hat = rng(5).uniform(size=(4, 1))
    (numeric,) = central_differences(lambda a: np.mean((a - Y) ** 2), y_hat)
    expect_close(s.call("loss_grad", y_hat, Y), numeric, "loss_grad(y_hat, y)", atol=1e-8)


def _backward(s: Student, seed: int) -> tuple[list[np.ndarray], tuple[np.ndarray, ...]]:
    params = _params(seed)
    h, y_hat, grads = _autograd(params)
    numeric = central_differences(
        lambda W1, b1, W2, b2: np.mean((_sig(_sig(X @ W1 + b1) @ W2 + b2) - Y) ** 2), *params)
    for g, n in zip(grads, numeric):  # neuralab's autograd and central differences agree
        if not np.allclose(g, n, atol=1e-7):
            raise AssertionError("neuralab's autograd disagrees with central differences")
    with s.using_reference("sigmoid", "sigmoid_grad"):
        got = s.call("backward", X, h, y_hat, 2.0 * (y_hat - Y) / Y.size, params[2], returns=4)
    return grads, got


def _layer(s: Student, seed: int, which: dict[str, int]) -> None:
    grads, got = _backward(s, seed)
    for name, k in which.items():
        expect_close(got[k], grads[k], name, atol=1e-9)


def _sig(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


@exercise.check("backward-output-layer", "backward's dW2 and db2 (autograd, central differences)",
                "output layer: the upstream gradient d_y_hat times the output sigmoid's local "
                "derivative; dW2 must have W2's shape (H, 1) (which of h and h.T?); the bias "
                "is used by every row, so its gradient adds over the batch")
def _backward_output(s: Student) -> None:
    _layer(s, 6, {"dW2": 2, "db2": 3})


@exercise.check("backward-hidden-layer", "backward's dW1 and db1 (autograd, central differences)",
                "hidden layer: the gradient reaching h comes through W2 (transposed) and must "
                "then be multiplied by the hidden sigmoid's local derivative before X and the "
                "bias get theirs", requires=("backward-output-layer",))
def _backward_hidden(s: Student) -> None:
    _layer(s, 7, {"dW1": 0, "db1": 1})


@exercise.check("train-fits-xor", "train (with the reference forward/backward) learns XOR",
                "gradient descent steps against the gradient (a minus sign), for every "
                "parameter, the biases too, in every epoch")
def _train(s: Student) -> None:
    with s.using_reference("sigmoid", "sigmoid_grad", "forward", "loss", "loss_grad", "backward"):
        got = s.call("train", X, Y, hidden=4, lr=2.0, epochs=3000, seed=0, returns=4)
    W1, b1, W2, b2 = (as_array(p, name) for p, name in zip(got, ("W1", "b1", "W2", "b2")))
    try:
        y_hat = _sig(_sig(X @ W1 + b1) @ W2 + b2)
    except ValueError as err:
        raise Fail(f"the parameters train returned do not fit together: {err}") from None
    mse = float(np.mean((y_hat - Y) ** 2))
    if not np.isfinite(mse) or mse > 0.01 or np.any(np.round(y_hat) != Y):
        raise Fail(f"after 3000 steps the loss is {mse:.3g} (should fall below 0.01) and the "
                   f"network outputs {np.round(y_hat.ravel(), 2).tolist()} for XOR's 0, 1, 1, 0")

"""The perceptron learning rule (퍼셉트론 학습 규칙).

A perceptron predicts y_hat = 1 if x . w + b >= 0 else 0, and learns from one sample (x, y) at a
time by the rule  w <- w + eta (y - y_hat) x,  b <- b + eta (y - y_hat):  nothing changes when
the sample is right.  Write the prediction, one update and the training loop.

Check it: neuralab exercise check FILE
"""

import numpy as np

EXERCISE = "perceptron-rule"


def predict(X, w, b):
    """Predictions 0 or 1 (integers) for the rows of X (N, d)."""
    return (X @ w + b >= 0).astype(int)


def update(w, b, x, y, eta):
    """One application of the rule for the sample x (d,) with label y; return (w, b)."""
    error = y - predict(x[None, :], w, b)[0]
    return w + eta * error * x, b + eta * error


def train(X, y, eta=0.1, epochs=20):
    """Start from w = 0, b = 0; visit the samples in order, `epochs` times; return (w, b)."""
    w = np.zeros(X.shape[1])
    b = 0.0
    for _ in range(epochs):
        for x_i, y_i in zip(X, y):
            w, b = update(w, b, x_i, y_i, eta)
    return w, b

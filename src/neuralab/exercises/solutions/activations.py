"""Activation functions and their derivatives (활성화 함수와 도함수).

Write step, sigmoid, tanh and ReLU, elementwise on NumPy arrays of any shape, and the derivative
of each of the last three with respect to its input x (the step's derivative is 0 wherever it
exists, so it needs none).  step(x) is 1 where x > 0, else 0.

Check it: neuralab exercise check FILE
"""

import numpy as np

EXERCISE = "activations"


def step(x):
    """1.0 where x > 0, else 0.0."""
    return (x > 0).astype(float)


def sigmoid(x):
    """1 / (1 + e^(-x))."""
    return 1.0 / (1.0 + np.exp(-x))


def sigmoid_grad(x):
    """d sigmoid(x) / dx."""
    y = sigmoid(x)
    return y * (1.0 - y)


def tanh(x):
    """The hyperbolic tangent (np.tanh is allowed)."""
    return np.tanh(x)


def tanh_grad(x):
    """d tanh(x) / dx."""
    return 1.0 - np.tanh(x) ** 2


def relu(x):
    """max(0, x), elementwise."""
    return np.maximum(0.0, x)


def relu_grad(x):
    """d relu(x) / dx: take 0 at x = 0."""
    return np.where(x > 0, 1.0, 0.0)

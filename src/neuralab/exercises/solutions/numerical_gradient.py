"""Numerical differentiation by central differences (수치 미분).

The derivative of f at x is about (f(x + h) - f(x - h)) / (2 h): the central difference, whose
error shrinks like h^2 (the one-sided (f(x + h) - f(x)) / h only like h).  Write it for a
function of one number, then the gradient of a function of an array: perturb one element at a
time, in place, and put it back.

Check it: neuralab exercise check FILE
"""

import numpy as np

EXERCISE = "numerical-gradient"


def numerical_diff(f, x, h=1e-4):
    """The central difference of f (a float -> float function) at the float x."""
    return (f(x + h) - f(x - h)) / (2 * h)


def numerical_gradient(f, x, h=1e-4):
    """The gradient of f (array -> float) at the float array x (any shape), an array of x's
    shape; x must hold its original values afterwards."""
    grad = np.zeros_like(x)
    flat, g = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + h
        up = f(x)
        flat[i] = original - h
        down = f(x)
        flat[i] = original
        g[i] = (up - down) / (2 * h)
    return grad

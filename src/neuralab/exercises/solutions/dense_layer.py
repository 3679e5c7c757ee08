"""A Dense layer's forward and backward pass (밀집층, 가중합과 편향).

A Dense layer computes the weighted sum plus bias y = x W + b for a batch x (N, in), weights
W (in, out) and bias b (out,), as neuralab's nn.Dense.  Its backward pass gets the upstream
gradient dy = dL/dy (N, out) and returns dL/dx, dL/dW and dL/db, each of its variable's shape.

Check it: neuralab exercise check FILE
"""

import numpy as np

EXERCISE = "dense-layer"


def dense_forward(x, W, b):
    """y = x W + b, of shape (N, out)."""
    return x @ W + b


def dense_backward(dy, x, W):
    """(dx, dW, db): the gradients of the loss by x, W and b, from dy = dL/dy."""
    return dy @ W.T, x.T @ dy, dy.sum(axis=0)

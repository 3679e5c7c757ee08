"""Batch normalization, forward and backward, in training and in evaluation (배치 정규화).

For a batch x (N, D), training mode normalizes each feature (column) by the batch's statistics:

    mu = mean of x over the batch,  var = mean of (x - mu)^2 (biased),
    x_hat = (x - mu) / sqrt(var + eps),  y = gamma x_hat + beta

and moves the running statistics in `state` (a dict with "mean" and "var", each (D,)) towards
the batch's:  state["mean"] = (1 - momentum) state["mean"] + momentum mu, the same for "var"
with the unbiased variance var N / (N - 1) (as PyTorch and neuralab).  Evaluation mode uses
state's statistics instead of the batch's and leaves state alone.  The forward pass returns y
and a cache of what the backward pass needs; the backward pass (training mode) returns
(dx, dgamma, dbeta).

Check it: neuralab exercise check FILE
"""

import numpy as np

EXERCISE = "batch-norm"


def batchnorm_forward(x, gamma, beta, state, training=True, momentum=0.1, eps=1e-5):
    """Return (y, cache); in training, update state["mean"] and state["var"] in place."""
    if training:
        mu = x.mean(axis=0)
        var = x.var(axis=0)
        n = x.shape[0]
        state["mean"] = (1 - momentum) * state["mean"] + momentum * mu
        state["var"] = (1 - momentum) * state["var"] + momentum * var * n / (n - 1)
    else:
        mu, var = state["mean"], state["var"]
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mu) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)


def batchnorm_backward(dy, cache):
    """(dx, dgamma, dbeta) from dy = d loss / d y of a training-mode forward pass."""
    x_hat, gamma, inv_std = cache
    dgamma = (dy * x_hat).sum(axis=0)
    dbeta = dy.sum(axis=0)
    dx_hat = dy * gamma
    dx = inv_std * (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0))
    return dx, dgamma, dbeta

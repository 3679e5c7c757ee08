"""Xavier (Glorot) and He initialization (가중치 초기화).

A weight matrix of a Dense layer has shape (fan_in, fan_out).  Xavier's uniform initialization
draws from U(-limit, limit) with limit = sqrt(6 / (fan_in + fan_out)), which keeps the variance
of activations and gradients about equal through sigmoid and tanh layers; He's normal
initialization draws from N(0, 2 / fan_in) (standard deviation sqrt(2 / fan_in)), made for ReLU,
which zeroes half its inputs.  Draw from the Generator `rng` you are given, so that one seed
gives the same weights.

Check it: neuralab exercise check FILE
"""

import numpy as np

EXERCISE = "weight-init"


def xavier_uniform(fan_in, fan_out, rng):
    """A (fan_in, fan_out) array from U(-limit, limit)."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out))


def he_normal(fan_in, fan_out, rng):
    """A (fan_in, fan_out) array from N(0, 2 / fan_in)."""
    return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))

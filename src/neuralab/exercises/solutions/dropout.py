"""Inverted dropout, forward and backward (드롭아웃).

In training, dropout zeroes each activation with probability p and scales the survivors by
1 / (1 - p), so that the expected output equals the input and nothing changes at evaluation;
at evaluation it is the identity.  The forward pass returns the output and the mask it used
(the factor each input was multiplied by); the backward pass multiplies the upstream gradient by
that mask.  Draw the random numbers from the Generator `rng` you are given.

Check it: neuralab exercise check FILE
"""

import numpy as np

EXERCISE = "dropout"


def dropout_forward(x, p, rng, training=True):
    """Return (y, mask): y = x * mask in training; y = x (and a mask of ones) in evaluation."""
    if not training:
        return x, np.ones_like(x)
    mask = (rng.random(x.shape) >= p) / (1.0 - p)
    return x * mask, mask


def dropout_backward(dy, mask):
    """d loss / d x from dy = d loss / d y."""
    return dy * mask

"""Softmax and cross-entropy, and the gradient of the two together (소프트맥스, 교차 엔트로피).

For logits z of shape (N, C) and integer labels of shape (N,):

    softmax(z)[i, j] = e^(z[i, j]) / sum_k e^(z[i, k])        each row sums to 1
    cross_entropy(z, labels) = mean over i of -log softmax(z)[i, labels[i]]

and cross_entropy_grad(z, labels) is d cross_entropy / d z, of z's shape.  They must stay
finite for logits as large as 1000 (e^1000 overflows float64).

Check it: neuralab exercise check FILE
"""

import numpy as np

EXERCISE = "softmax-cross-entropy"


def softmax(z):
    """The softmax of each row of z (N, C)."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def log_softmax(z):
    """log softmax(z), computed without taking the log of a probability that rounded to 0."""
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def cross_entropy(z, labels):
    """The mean cross-entropy of the logits z (N, C) for the integer labels (N,)."""
    return -np.mean(log_softmax(z)[np.arange(len(labels)), labels])


def cross_entropy_grad(z, labels):
    """d cross_entropy(z, labels) / d z, an array of z's shape."""
    one_hot = np.zeros_like(z)
    one_hot[np.arange(len(labels)), labels] = 1.0
    return (softmax(z) - one_hot) / len(labels)

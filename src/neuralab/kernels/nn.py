"""Compiled loops of the dense layer (``autograd/ops/linalg.py``): the bias and ReLU around its
matrix product, forward and backward, each in one pass over the (N, C) array.

Each kernel's NumPy reference is written beside the op that calls it; the loops below make the
same float operations in the same order (NumPy's ``sum(axis=0)`` of a C-ordered array adds the
rows one after the other, starting from the first row), so the results are bitwise equal, signed
zeros and NaN included.  Scalars come in as the arrays' dtype (``one``, ``zero``): a Python float
would make numba compute a float32 loop in float64.
"""

from __future__ import annotations

import numpy as np

from . import kernel


@kernel
def bias_relu(out, bias, zero):  # pragma: no cover - compiled
    """In place: out = maximum(out + bias, 0) row by row, as NumPy's maximum gives it: NaN
    propagates, and -0.0 becomes +0.0 (the zero operand; checked in the tests on several lengths,
    so that a NumPy whose maximum kept -0.0 would be noticed)."""
    n, c = out.shape
    for i in range(n):
        for j in range(c):
            v = out[i, j] + bias[j]
            out[i, j] = v if (v > zero or v != v) else zero


@kernel
def relu(out, zero):  # pragma: no cover - compiled
    """In place: out = maximum(out, 0) (as :func:`bias_relu` without the bias)."""
    n, c = out.shape
    for i in range(n):
        for j in range(c):
            v = out[i, j]
            out[i, j] = v if (v > zero or v != v) else zero


@kernel
def relu_grad_bias(grad, out, masked, gbias, one, zero):  # pragma: no cover - compiled
    """masked = grad * (out > 0) (the mask as 1.0 or 0.0, as NumPy multiplies by a boolean) and
    gbias = masked.sum(axis=0), the rows added in order from the first."""
    n, c = grad.shape
    if n == 0:
        for j in range(c):
            gbias[j] = zero
        return
    for j in range(c):
        v = grad[0, j] * (one if out[0, j] > zero else zero)
        masked[0, j] = v
        gbias[j] = v
    for i in range(1, n):
        for j in range(c):
            v = grad[i, j] * (one if out[i, j] > zero else zero)
            masked[i, j] = v
            gbias[j] += v


@kernel
def relu_grad(grad, out, masked, one, zero):  # pragma: no cover - compiled
    """masked = grad * (out > 0), as :func:`relu_grad_bias` without the bias gradient."""
    n, c = grad.shape
    for i in range(n):
        for j in range(c):
            masked[i, j] = grad[i, j] * (one if out[i, j] > zero else zero)

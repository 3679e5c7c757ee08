"""Reductions: sum, mean, max, min, var over ``axis`` (None, int or tuple) with ``keepdims``."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..tensor import Tensor
from ._util import expand_reduced, float_operand, normalize_axis, operand


def _count(shape: tuple[int, ...], axis: Any) -> int:
    return int(np.prod([shape[i] for i in normalize_axis(axis, len(shape))], dtype=np.int64))


class Sum(Function):
    """z = sum a over axis;  dz/da = 1 (the gradient is broadcast back)."""

    def forward(self, a, axis=None, keepdims=False):
        self.shape, self.axis, self.keepdims = a.shape, axis, keepdims
        return np.sum(a, axis=axis, keepdims=keepdims)

    def backward(self, grad):
        g = expand_reduced(grad, self.shape, self.axis, self.keepdims)
        return (np.broadcast_to(g, self.shape),)


class Mean(Function):
    """z = sum a / N over axis;  dz/da = 1 / N."""

    def forward(self, a, axis=None, keepdims=False):
        self.shape, self.axis, self.keepdims = a.shape, axis, keepdims
        return np.mean(a, axis=axis, keepdims=keepdims)

    def backward(self, grad):
        g = expand_reduced(grad, self.shape, self.axis, self.keepdims)
        g = g / _count(self.shape, self.axis)
        return (np.broadcast_to(g, self.shape),)


class _Extreme(Function):
    """Max or min over axis; the gradient goes to the extreme elements, split evenly between ties
    (as ``torch.amax``/``torch.amin``)."""

    reducer = staticmethod(np.max)

    def forward(self, a, axis=None, keepdims=False):
        self.a, self.axis, self.keepdims = a, axis, keepdims
        self.out = self.reducer(a, axis=axis, keepdims=True)
        if keepdims:
            return self.out
        return np.squeeze(self.out, axis=axis) if axis is not None else self.out.reshape(())

    def backward(self, grad):
        mask = (self.a == self.out).astype(grad.dtype)
        mask /= mask.sum(axis=self.axis, keepdims=True)
        return (mask * expand_reduced(grad, self.a.shape, self.axis, self.keepdims),)


class Max(_Extreme):
    reducer = staticmethod(np.max)


class Min(_Extreme):
    reducer = staticmethod(np.min)


class Var(Function):
    """z = sum (a - mean a)^2 / (N - ddof);  dz/da = 2 (a - mean a) / (N - ddof)."""

    def forward(self, a, axis=None, keepdims=False, ddof=0):
        self.shape, self.axis, self.keepdims = a.shape, axis, keepdims
        self.centered = a - a.mean(axis=axis, keepdims=True)
        self.denom = _count(a.shape, axis) - ddof
        return np.var(a, axis=axis, keepdims=keepdims, ddof=ddof)

    def backward(self, grad):
        g = expand_reduced(grad, self.shape, self.axis, self.keepdims)
        return (g * self.centered * (2.0 / self.denom),)


def sum(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return Sum.apply(operand(a), axis=axis, keepdims=keepdims)


def mean(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return Mean.apply(float_operand(a), axis=axis, keepdims=keepdims)


def max(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Largest element over ``axis`` (a reduction; for two tensors see :func:`maximum`)."""
    return Max.apply(operand(a), axis=axis, keepdims=keepdims)


def min(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Smallest element over ``axis`` (a reduction; for two tensors see :func:`minimum`)."""
    return Min.apply(operand(a), axis=axis, keepdims=keepdims)


def var(a: Any, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Variance over ``axis``; ``ddof=0`` (the population variance, NumPy's default)."""
    return Var.apply(float_operand(a), axis=axis, keepdims=keepdims, ddof=ddof)

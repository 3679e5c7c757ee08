"""Matrix products: ``matmul`` and the fused dense-layer op ``linear`` (x @ W + b)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..tensor import Tensor
from ._util import binary_operands, operand


class MatMul(Function):
    """z = a @ b (NumPy's matmul rules, 1-d and batched);  da = g @ b^T, db = a^T @ g."""

    def forward(self, a, b):
        a, b = np.asarray(a), np.asarray(b)
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("matmul: both operands need at least one dimension; use * for scalars")
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not align")
        self.a, self.b = a, b
        return a @ b

    def backward(self, grad):
        a, b = self.a, self.b
        if a.ndim == 1 and b.ndim == 1:
            return (grad * b if self.needs[0] else None, grad * a if self.needs[1] else None)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = grad
        if a.ndim == 1:
            g = np.expand_dims(g, -2)
        if b.ndim == 1:
            g = np.expand_dims(g, -1)
        ga = gb = None
        if self.needs[0]:
            ga = g @ np.swapaxes(b2, -1, -2)
            if a.ndim == 1:
                ga = ga.squeeze(-2)
        if self.needs[1]:
            gb = np.swapaxes(a2, -1, -2) @ g
            if b.ndim == 1:
                gb = gb.squeeze(-1)
        return ga, gb


class Linear(Function):
    """The dense layer fused into one op: z = x W + b with x (..., in), W (in, out), b (out,).

    dx = g W^T,  dW = x^T g (over all leading axes),  db = sum of g over all leading axes.
    """

    def forward(self, x, weight, bias=None):
        if np.ndim(x) == 0:
            raise ValueError(
                f"linear: the input needs a feature axis, got a scalar; pass shape (N, "
                f"{weight.shape[0]}) or ({weight.shape[0]},)"
            )
        if x.shape[-1] != weight.shape[0]:
            raise ValueError(
                f"linear: input has {x.shape[-1]} features but the weight expects "
                f"{weight.shape[0]} "
                f"(shapes {x.shape} and {weight.shape})"
            )
        self.x, self.weight = x, weight
        out = x @ weight
        if bias is not None:
            out += bias
        return out

    def backward(self, grad):
        x, w = self.x, self.weight
        g2 = grad.reshape(-1, grad.shape[-1])
        gx = (grad @ w.T) if self.needs[0] else None
        gw = (x.reshape(-1, x.shape[-1]).T @ g2) if self.needs[1] else None
        gb = g2.sum(axis=0) if len(self.needs) > 2 and self.needs[2] else None
        return gx, gw, gb


class LinearReLU(Linear):
    """The dense layer with ReLU fused into one op: z = max(x W + b, 0).

    The maximum is taken in place on the product, and backward masks the gradient with z > 0
    before :class:`Linear`'s backward: one op, one output array and no mask kept between the
    passes (the Dense layer uses it for ``activation="relu"``).
    """

    def forward(self, x, weight, bias=None):
        out = super().forward(x, weight, bias)
        np.maximum(out, 0, out=out)
        self.out = out
        return out

    def backward(self, grad):
        return super().backward(grad * (self.out > 0))


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with NumPy's rules (``a @ b``)."""
    return MatMul.apply(*binary_operands(a, b))


def linear(x: Any, weight: Any, bias: Any = None) -> Tensor:
    """x @ weight + bias as one op (the Dense layer's forward); weight has shape (in, out)."""
    x = operand(x, weight)
    if bias is None:
        return Linear.apply(x, weight)
    return Linear.apply(x, weight, bias)


def linear_relu(x: Any, weight: Any, bias: Any = None) -> Tensor:
    """max(x @ weight + bias, 0) as one op (a Dense layer with ReLU)."""
    x = operand(x, weight)
    if bias is None:
        return LinearReLU.apply(x, weight)
    return LinearReLU.apply(x, weight, bias)

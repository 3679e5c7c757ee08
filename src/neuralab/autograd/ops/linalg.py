"""Matrix products: ``matmul`` and the fused dense-layer op ``linear`` (x @ W + b)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import kernels
from ...kernels import nn as dense_kernels
from ..function import Function
from ..tensor import Tensor
from ._util import binary_operands, operand

def _compiled(*arrays: np.ndarray) -> bool:
    """The compiled dense kernels apply: they are on (:mod:`neuralab.kernels`) and every array
    is C-contiguous, of one float dtype (float32 or float64)."""
    if not kernels.enabled():
        return False
    dtype = arrays[0].dtype
    if dtype not in kernels.DTYPES:
        return False
    for a in arrays:  # a loop, not all(...): this runs twice per dense layer and step
        if a.dtype != dtype or not a.flags.c_contiguous:
            return False
    return True


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
        buffers = self.__dict__.get("buffers")  # a captured step's (Function docstring)
        if buffers is not None and buffers.output_free and x.dtype == weight.dtype:
            out = np.matmul(x, weight, out=buffers.take(
                "out", x.shape[:-1] + weight.shape[1:], np.result_type(x, weight)))
        else:
            out = x @ weight
        if bias is not None:
            out += bias
        return out

    def backward(self, grad):
        return self._grads(grad, None)

    def _grads(self, grad, gb):
        """(dx, dW, db) from the output's gradient; ``gb``: db when the caller has it already."""
        x, w = self.x, self.weight
        g2 = grad.reshape(-1, grad.shape[-1])
        x2 = x.reshape(-1, x.shape[-1])
        buffers = self.__dict__.get("buffers")
        # both gradients may end in a leaf (x too, when the input is a parameter): the captured
        # step's arrays only while no leaf still holds one of them (Buffers.grads_free)
        if (buffers is None or not buffers.grads_free or grad.dtype != x.dtype
                or grad.dtype != w.dtype):
            gx = (grad @ w.T) if self.needs[0] else None
            gw = (x2.T @ g2) if self.needs[1] else None
        else:  # the same products, into the captured step's arrays
            gx = (np.matmul(grad, w.T, out=buffers.take("gx", grad.shape[:-1] + w.shape[:1],
                                                        grad.dtype))
                  if self.needs[0] else None)
            gw = (np.matmul(x2.T, g2, out=buffers.take("gw", w.shape, w.dtype))
                  if self.needs[1] else None)
        if gb is None and len(self.needs) > 2 and self.needs[2]:
            gb = g2.sum(axis=0)
        return gx, gw, gb


class LinearReLU(Linear):
    """The dense layer with ReLU fused into one op: z = max(x W + b, 0).

    The maximum is taken in place on the product, and backward masks the gradient with z > 0
    before :class:`Linear`'s backward: one op, one output array and no mask kept between the
    passes (the Dense layer uses it for ``activation="relu"``).  With the compiled kernels
    (:mod:`neuralab.kernels`), the bias and the maximum are one pass over the product, and the
    mask and the bias gradient one pass over the incoming gradient; the NumPy lines are the
    reference they equal bit for bit.
    """

    def forward(self, x, weight, bias=None):
        out = super().forward(x, weight)
        if bias is None and out.ndim >= 2 and _compiled(out):
            dense_kernels.relu(out.reshape(-1, out.shape[-1]), out.dtype.type(0))
        elif bias is not None and out.ndim >= 2 and bias.ndim == 1 and _compiled(out, bias):
            dense_kernels.bias_relu(out.reshape(-1, out.shape[-1]), bias, out.dtype.type(0))
        else:
            if bias is not None:
                out += bias
            np.maximum(out, 0, out=out)
        self.out = out
        return out

    def backward(self, grad):
        out = self.out
        if grad.ndim < 2 or not _compiled(grad, out):
            return super().backward(grad * (out > 0))
        c = out.shape[-1]
        g2, o2 = grad.reshape(-1, c), out.reshape(-1, c)
        buffers = self.__dict__.get("buffers")
        masked = (np.empty_like(g2) if buffers is None
                  else buffers.take("masked", g2.shape, g2.dtype))
        one, zero = out.dtype.type(1), out.dtype.type(0)
        gb = None
        if len(self.needs) > 2 and self.needs[2]:
            gb = (buffers.take("gb", (c,), out.dtype) if buffers is not None and buffers.grads_free
                  else np.empty(c, dtype=out.dtype))
            dense_kernels.relu_grad_bias(g2, o2, masked, gb, one, zero)
        else:
            dense_kernels.relu_grad(g2, o2, masked, one, zero)
        return self._grads(masked.reshape(grad.shape), gb)


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

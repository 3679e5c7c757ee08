"""Activation functions and the softmax family, each with its derivative beside it."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..tensor import Tensor
from ._util import expand_reduced, float_operand, operand

_SQRT_2_OVER_PI = float(np.sqrt(2.0 / np.pi))


class Tanh(Function):
    """z = tanh(a);  dz/da = 1 - z^2."""

    elementwise = True

    def forward(self, a):
        self.out = np.tanh(a)
        return self.out

    def backward(self, grad):
        return (grad * (1 - self.out * self.out),)


class Sigmoid(Function):
    """z = 1 / (1 + e^-a), computed without overflow for large |a|;  dz/da = z (1 - z)."""

    elementwise = True

    def forward(self, a):
        e = np.exp(-np.abs(a))
        self.out = np.where(a >= 0, 1 / (1 + e), e / (1 + e))
        return self.out

    def backward(self, grad):
        return (grad * self.out * (1 - self.out),)


class ReLU(Function):
    """z = max(a, 0);  dz/da = 1 where a > 0, else 0."""

    elementwise = True

    def forward(self, a):
        self.mask = a > 0
        return np.maximum(a, 0)  # not a * mask, which turns negatives into -0.0

    def backward(self, grad):
        return (grad * self.mask,)


class LeakyReLU(Function):
    """z = a if a > 0 else alpha a;  dz/da = 1 or alpha."""

    elementwise = True

    def forward(self, a, alpha=0.01):
        self.slope = np.where(a > 0, 1, alpha).astype(a.dtype, copy=False)
        return a * self.slope

    def backward(self, grad):
        return (grad * self.slope,)


class ELU(Function):
    """z = a if a > 0 else alpha (e^a - 1);  dz/da = 1 or alpha e^a (= z + alpha)."""

    elementwise = True

    def forward(self, a, alpha=1.0):
        self.alpha = alpha
        self.pos = a > 0
        out = np.where(self.pos, a, alpha * np.expm1(np.minimum(a, 0)))
        self.out = out.astype(a.dtype, copy=False)
        return self.out

    def backward(self, grad):
        return (grad * np.where(self.pos, 1, self.out + self.alpha).astype(grad.dtype, copy=False),)


class GELU(Function):
    """Tanh form: z = a/2 (1 + tanh(u)), u = sqrt(2/pi) (a + 0.044715 a^3);
    dz/da = (1 + tanh u)/2 + a/2 (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 a^2)."""

    elementwise = True

    def forward(self, a):
        self.a = a
        self.t = np.tanh(_SQRT_2_OVER_PI * (a + 0.044715 * a**3))
        return 0.5 * a * (1 + self.t)

    def backward(self, grad):
        a, t = self.a, self.t
        du = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * a * a)
        return (grad * (0.5 * (1 + t) + 0.5 * a * (1 - t * t) * du),)


class Step(Function):
    """Heaviside step: z = 1 if a > 0 else 0 (the MCP neuron's activation);  dz/da = 0."""

    elementwise = True

    def forward(self, a):
        return (a > 0).astype(a.dtype if a.dtype.kind == "f" else np.float32)

    def backward(self, grad):
        return (np.zeros_like(grad),)


class Softmax(Function):
    """z_i = e^(a_i - max a) / sum_j e^(a_j - max a);  da = z * (g - sum(g * z))."""

    def forward(self, a, axis=-1):
        self.axis = axis
        e = np.exp(a - a.max(axis=axis, keepdims=True))
        self.out = e / e.sum(axis=axis, keepdims=True)
        return self.out

    def backward(self, grad):
        z = self.out
        return (z * (grad - (grad * z).sum(axis=self.axis, keepdims=True)),)


class LogSoftmax(Function):
    """z = a - logsumexp(a) (stable);  da = g - softmax(a) * sum(g)."""

    def forward(self, a, axis=-1):
        self.axis = axis
        shifted = a - a.max(axis=axis, keepdims=True)
        self.out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        return self.out

    def backward(self, grad):
        return (grad - np.exp(self.out) * grad.sum(axis=self.axis, keepdims=True),)


class LogSumExp(Function):
    """z = m + ln sum e^(a - m) with m = max a (stable);  dz/da = e^(a - z) = softmax(a)."""

    def forward(self, a, axis=None, keepdims=False):
        self.a, self.axis, self.keepdims = a, axis, keepdims
        m = a.max(axis=axis, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        self.out = m + np.log(np.exp(a - m).sum(axis=axis, keepdims=True))
        if keepdims:
            return self.out
        return np.squeeze(self.out, axis=axis) if axis is not None else self.out.reshape(())

    def backward(self, grad):
        g = expand_reduced(grad, self.a.shape, self.axis, self.keepdims)
        return (g * np.exp(self.a - self.out),)


def tanh(a: Any) -> Tensor:
    return Tanh.apply(float_operand(a))


def sigmoid(a: Any) -> Tensor:
    """Logistic function 1 / (1 + e^-a)."""
    return Sigmoid.apply(float_operand(a))


def relu(a: Any) -> Tensor:
    return ReLU.apply(operand(a))


def leaky_relu(a: Any, alpha: float = 0.01) -> Tensor:
    return LeakyReLU.apply(float_operand(a), alpha=alpha)


def elu(a: Any, alpha: float = 1.0) -> Tensor:
    return ELU.apply(float_operand(a), alpha=alpha)


def gelu(a: Any) -> Tensor:
    """GELU in its tanh approximation (PyTorch's ``approximate="tanh"``)."""
    return GELU.apply(float_operand(a))


def step(a: Any) -> Tensor:
    """Heaviside step (1 where a > 0); its gradient is zero everywhere."""
    return Step.apply(operand(a))


def softmax(a: Any, axis: int = -1) -> Tensor:
    return Softmax.apply(float_operand(a), axis=axis)


def log_softmax(a: Any, axis: int = -1) -> Tensor:
    return LogSoftmax.apply(float_operand(a), axis=axis)


def logsumexp(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return LogSumExp.apply(float_operand(a), axis=axis, keepdims=keepdims)

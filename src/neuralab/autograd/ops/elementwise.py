"""Arithmetic and element-wise math.  Each backward is written as if shapes matched; the engine
sums gradients back to each input's shape (broadcasting is undone in one place)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..tensor import Tensor
from ._util import binary_operands, division_operands, float_operand, operand


class Add(Function):
    """z = a + b;  dz/da = 1, dz/db = 1."""

    elementwise = True

    def forward(self, a, b):
        return a + b

    def backward(self, grad):
        return grad, grad


class Sub(Function):
    """z = a - b;  dz/da = 1, dz/db = -1."""

    elementwise = True

    def forward(self, a, b):
        return a - b

    def backward(self, grad):
        return grad, (-grad if self.needs[1] else None)


class Mul(Function):
    """z = a * b;  dz/da = b, dz/db = a."""

    elementwise = True

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, grad):
        return (
            grad * self.b if self.needs[0] else None,
            grad * self.a if self.needs[1] else None,
        )


class Div(Function):
    """z = a / b;  dz/da = 1 / b, dz/db = -a / b^2 = -z / b."""

    elementwise = True

    def forward(self, a, b):
        self.b = b
        self.out = a / b
        return self.out

    def backward(self, grad):
        ga = grad / self.b
        return (ga if self.needs[0] else None, -ga * self.out if self.needs[1] else None)


class Power(Function):
    """z = a ** b;  dz/da = b a^(b-1) (0 where b = 0, also at a = 0, as torch),
    dz/db = z ln a (defined where a > 0; 0 elsewhere)."""

    elementwise = True

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = np.power(a, b)
        return self.out

    def backward(self, grad):
        a, b = self.a, self.b
        ga = gb = None
        if self.needs[0]:
            if np.ndim(b) == 0 and b == 2:
                ga = grad * 2 * a
            elif np.ndim(b) == 0 and b == 0:
                ga = np.zeros_like(grad)  # a ** 0 is constant; b a^(b-1) would be 0 * inf at a = 0
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    ga = grad * b * np.power(a, b - 1)
                if np.ndim(b) != 0:
                    ga = np.where(b == 0, 0, ga)
        if self.needs[1]:
            # a Python or integer base (2 ** x) would make ln a float64 and upcast the gradient
            a = np.asarray(a, dtype=self.out.dtype)
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = grad * self.out * np.where(a > 0, np.log(np.where(a > 0, a, 1)), 0)
        return ga, gb


class Neg(Function):
    """z = -a;  dz/da = -1."""

    elementwise = True

    def forward(self, a):
        return -a

    def backward(self, grad):
        return (-grad,)


class Exp(Function):
    """z = e^a;  dz/da = z."""

    elementwise = True

    def forward(self, a):
        self.out = np.exp(a)
        return self.out

    def backward(self, grad):
        return (grad * self.out,)


class Log(Function):
    """z = ln a;  dz/da = 1 / a."""

    elementwise = True

    def forward(self, a):
        self.a = a
        return np.log(a)

    def backward(self, grad):
        return (grad / self.a,)


class Sqrt(Function):
    """z = sqrt(a);  dz/da = 1 / (2 z)."""

    elementwise = True

    def forward(self, a):
        self.out = np.sqrt(a)
        return self.out

    def backward(self, grad):
        return (grad / (2 * self.out),)


class Abs(Function):
    """z = |a|;  dz/da = sign(a) (0 at a = 0, as PyTorch)."""

    elementwise = True

    def forward(self, a):
        self.a = a
        return np.abs(a)

    def backward(self, grad):
        return (grad * np.sign(self.a),)


class Maximum(Function):
    """z = max(a, b) element-wise; the gradient goes to the larger input, split half and half on
    ties (as PyTorch)."""

    elementwise = True

    def forward(self, a, b):
        self.a, self.b = a, b
        return np.maximum(a, b)

    def backward(self, grad):
        return _split_by_mask(grad, self.a, self.b, np.greater, self.needs)


class Minimum(Function):
    """z = min(a, b) element-wise; the gradient goes to the smaller input, split on ties."""

    elementwise = True

    def forward(self, a, b):
        self.a, self.b = a, b
        return np.minimum(a, b)

    def backward(self, grad):
        return _split_by_mask(grad, self.a, self.b, np.less, self.needs)


def _split_by_mask(grad, a, b, wins, needs):
    share = wins(a, b) + 0.5 * np.equal(a, b)
    share = share.astype(grad.dtype, copy=False)
    return (grad * share if needs[0] else None, grad * (1 - share) if needs[1] else None)


class Where(Function):
    """z = cond ? a : b;  the gradient goes to a where cond holds and to b elsewhere."""

    elementwise = True

    def forward(self, cond, a, b):
        self.cond = np.asarray(cond, dtype=bool)
        return np.where(self.cond, a, b)

    def backward(self, grad):
        zero = np.zeros((), dtype=grad.dtype)
        return (
            None,
            np.where(self.cond, grad, zero) if self.needs[1] else None,
            np.where(self.cond, zero, grad) if self.needs[2] else None,
        )


class Clip(Function):
    """z = min(max(a, lo), hi);  dz/da = 1 where lo <= a <= hi, else 0 (as torch.clamp).
    A bound given as a tensor gets the gradient where it is the output:
    dz/dlo = [a < lo], dz/dhi = [a > hi]."""

    elementwise = True

    def forward(self, a, lo=None, hi=None):
        if lo is None and hi is None:
            raise ValueError("clip: give a_min, a_max or both")
        self.below = None if lo is None else a < lo
        self.above = None if hi is None else a > hi
        return np.clip(a, lo, hi)

    def backward(self, grad):
        below, above = self.below, self.above
        zero = np.zeros((), dtype=grad.dtype)
        if below is None:
            outside = above
        elif above is None:
            outside = below
        else:
            outside = below | above
        return (
            np.where(outside, zero, grad) if self.needs[0] else None,
            np.where(below, grad, zero) if self.needs[1] else None,
            np.where(above, grad, zero) if self.needs[2] else None,
        )


class AsType(Function):
    """z = a converted to another dtype; the gradient is converted back."""

    elementwise = True

    def forward(self, a, dtype=None):
        self.src = a.dtype
        return a.astype(dtype)

    def backward(self, grad):
        return (grad.astype(self.src),)


# ---------------------------------------------------------------------- functional surface
def add(a: Any, b: Any) -> Tensor:
    """a + b with broadcasting."""
    return Add.apply(*binary_operands(a, b))


def sub(a: Any, b: Any) -> Tensor:
    """a - b with broadcasting."""
    return Sub.apply(*binary_operands(a, b))


def mul(a: Any, b: Any) -> Tensor:
    """a * b with broadcasting."""
    return Mul.apply(*binary_operands(a, b))


def div(a: Any, b: Any) -> Tensor:
    """a / b with broadcasting."""
    return Div.apply(*division_operands(a, b))


def power(a: Any, b: Any) -> Tensor:
    """a ** b with broadcasting."""
    return Power.apply(*binary_operands(a, b))


def neg(a: Any) -> Tensor:
    return Neg.apply(operand(a))


def exp(a: Any) -> Tensor:
    """e ** a."""
    return Exp.apply(float_operand(a))


def log(a: Any) -> Tensor:
    """Natural logarithm."""
    return Log.apply(float_operand(a))


def sqrt(a: Any) -> Tensor:
    return Sqrt.apply(float_operand(a))


def abs(a: Any) -> Tensor:  # noqa: A001 - NumPy's name
    return Abs.apply(operand(a))


def maximum(a: Any, b: Any) -> Tensor:
    """Element-wise maximum of two tensors (not a reduction; see :func:`max`)."""
    return Maximum.apply(*binary_operands(a, b))


def minimum(a: Any, b: Any) -> Tensor:
    """Element-wise minimum of two tensors (not a reduction; see :func:`min`)."""
    return Minimum.apply(*binary_operands(a, b))


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """Pick ``x`` where ``condition`` is true and ``y`` elsewhere; ``condition`` gets no
    gradient."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    x, y = binary_operands(x, y)
    return Where.apply(cond, x, y)


def clip(a: Any, a_min: Any = None, a_max: Any = None) -> Tensor:
    """Limit values to [a_min, a_max]: z = min(max(a, a_min), a_max); either bound may be None.
    Bounds may be scalars, arrays or tensors (a tensor bound receives its share of the gradient)."""
    a = operand(a)
    # bounds follow a's dtype: a float64 bound would make np.clip return float64
    lo = None if a_min is None else operand(a_min, a)
    hi = None if a_max is None else operand(a_max, a)
    return Clip.apply(a, lo, hi)


def astype(a: Any, dtype: Any) -> Tensor:
    """``a`` converted to ``dtype``; only a cast to a floating dtype stays in the graph (an integer
    tensor cannot carry a gradient, as in torch)."""
    dtype, a = np.dtype(dtype), operand(a)
    if dtype.kind != "f":
        data = a.data if isinstance(a, Tensor) else np.asarray(a)
        return Tensor._from_op(data.astype(dtype), None)
    return AsType.apply(a, dtype=dtype)

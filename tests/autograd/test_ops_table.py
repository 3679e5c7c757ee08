"""The op table: one row per op (and per spelling of it) drives every per-op check.

A row names the op, its neuralab callable, a NumPy reference, the same op in PyTorch (used by
``test_torch_parity.py``) and how to draw its inputs.  From that row the tests here check

* the forward pass against the NumPy reference, in float32 (the output stays float32) and float64;
* the Tensor-method / operator spelling (``method``) against the same reference;
* the backward pass with ``neuralab.gradcheck`` (float64 central differences, random cotangent);
* that every gradient reaching an op's inputs is float32 and shaped like the input;
* for element-wise binary ops, every broadcast case (scalar, row, column, leading axes).

Adding an op means adding a row.  Input domains keep clear of kinks (``abs``/``relu`` at 0, ties
of ``max``/``maximum``, ``clip`` bounds) by at least 0.05, far more than gradcheck's eps = 1e-6.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import neuralab as nl

# ---------------------------------------------------------------------------- input domains


@dataclass(frozen=True)
class Arg:
    """One positional input: how to draw it and its shape."""

    draw: Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]
    shape: tuple[int, ...]


def _normal(rng, shape):
    return rng.standard_normal(shape)


def _positive(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


def _nonzero(rng, shape):
    # |x| >= 0.3: clear of the kink of abs, relu, leaky_relu, elu and of step's jump
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.3, 2.0, shape)


def _lattice(offset):
    # points k/5 + offset: two lattices with offsets 0.05 and 0.15 never come closer than 0.1, so
    # maximum/minimum have no ties; offset 0.05 keeps 0.05 away from the clip bounds +-0.5
    def draw(rng, shape):
        return rng.integers(-10, 10, shape) * 0.2 + offset

    return draw


def _lower_bound(rng, shape):
    # on the 0.15 lattice (0.1 away from _lattice(0.05)) and always below _upper_bound
    return rng.integers(-6, 0, shape) * 0.2 + 0.15


def _upper_bound(rng, shape):
    return rng.integers(0, 6, shape) * 0.2 + 0.15


def _distinct(rng, shape):
    # all values at least 0.1 apart: max/min reductions have no ties
    n = int(np.prod(shape, dtype=np.int64))
    return (rng.permutation(n) * 0.1 - 0.05 * n).reshape(shape)


def _mask(rng, shape):
    return rng.random(shape) < 0.5


def normal(*shape):
    return Arg(_normal, shape)


def positive(*shape):
    return Arg(_positive, shape)


def nonzero(*shape):
    return Arg(_nonzero, shape)


def lattice(offset, *shape):
    return Arg(_lattice(offset), shape)


def distinct(*shape):
    return Arg(_distinct, shape)


def mask(*shape):
    return Arg(_mask, shape)


# ---------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Op:
    """One row: ``fn`` is neuralab's top-level function (or the operator, for reflected forms),
    ``method`` the Tensor-method spelling if there is one; ``ref`` is NumPy on float64 arrays and
    ``torch`` the same op on torch tensors.  Non-float inputs (masks) are passed as arrays."""

    name: str
    fn: Callable[..., Any]
    ref: Callable[..., Any]
    torch: Callable[..., Any]
    args: tuple[Arg, ...]
    method: Callable[..., Any] | None = None
    broadcast: bool = False  # an element-wise binary op: also run BROADCAST_SHAPES

    def __str__(self) -> str:
        return self.name

    def draw(self, args: tuple[Arg, ...] | None = None) -> list[np.ndarray]:
        rng = np.random.default_rng(zlib.crc32(self.name.encode()))
        return [a.draw(rng, a.shape) for a in (args or self.args)]


SQRT_2_OVER_PI = np.sqrt(2 / np.pi)

# constant NumPy operands (float64 on purpose: they must not upcast float32 tensors)
C34 = np.linspace(-1.5, 1.5, 12).reshape(3, 4)
C34_POS = np.linspace(0.5, 2.0, 12).reshape(3, 4)
C34_NONZERO = np.where(C34 >= 0, C34 + 0.3, C34 - 0.3)
C34_INT = np.arange(-6, 6).reshape(3, 4)
M42 = np.linspace(-1.0, 1.0, 8).reshape(4, 2)
M23 = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
LO34 = np.full((3, 4), -0.5)
HI4 = np.array([0.5, 1.0, 1.5, 0.5])


def _t(arr: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    """A NumPy constant as a torch tensor in the dtype of the torch operand it meets."""
    return torch.from_numpy(arr).to(like.dtype)


def _gelu_ref(a):
    return 0.5 * a * (1 + np.tanh(SQRT_2_OVER_PI * (a + 0.044715 * a**3)))


def _softmax_ref(a, axis):
    e = np.exp(a)
    return e / e.sum(axis=axis, keepdims=True)


def _torch_step(a):
    # torch's heaviside has no derivative; (a > 0) plus 0 * a gives the same zero gradient
    return (a > 0).to(a.dtype) + 0 * a


def _dims(axis, ndim):
    return tuple(range(ndim)) if axis is None else axis


OPS: list[Op] = [
    # ---- arithmetic: function and operator spellings, with every broadcast case
    Op("add", nl.add, np.add, torch.add, (normal(3, 4), normal(3, 4)),
       method=lambda a, b: a + b, broadcast=True),
    Op("sub", nl.sub, np.subtract, torch.sub, (normal(3, 4), normal(3, 4)),
       method=lambda a, b: a - b, broadcast=True),
    Op("mul", nl.mul, np.multiply, torch.mul, (normal(3, 4), normal(3, 4)),
       method=lambda a, b: a * b, broadcast=True),
    Op("div", nl.div, np.divide, torch.div, (normal(3, 4), nonzero(3, 4)),
       method=lambda a, b: a / b, broadcast=True),
    Op("power", nl.power, np.power, torch.pow, (positive(3, 4), normal(3, 4)),
       method=lambda a, b: a**b, broadcast=True),
    Op("maximum", nl.maximum, np.maximum, torch.maximum,
       (lattice(0.05, 3, 4), lattice(0.15, 3, 4)),
       method=lambda a, b: a.maximum(b), broadcast=True),
    Op("minimum", nl.minimum, np.minimum, torch.minimum,
       (lattice(0.05, 3, 4), lattice(0.15, 3, 4)),
       method=lambda a, b: a.minimum(b), broadcast=True),
    # ---- with Python scalars, both sides (int and float scalars)
    Op("a + 2.5", lambda a: a + 2.5, lambda a: a + 2.5, lambda a: a + 2.5, (normal(3, 4),)),
    Op("2.5 + a", lambda a: 2.5 + a, lambda a: 2.5 + a, lambda a: 2.5 + a, (normal(3, 4),)),
    Op("a + 2", lambda a: a + 2, lambda a: a + 2, lambda a: a + 2, (normal(3, 4),)),
    Op("a - 1.5", lambda a: a - 1.5, lambda a: a - 1.5, lambda a: a - 1.5, (normal(3, 4),)),
    Op("1.5 - a", lambda a: 1.5 - a, lambda a: 1.5 - a, lambda a: 1.5 - a, (normal(3, 4),)),
    Op("3 - a", lambda a: 3 - a, lambda a: 3 - a, lambda a: 3 - a, (normal(3, 4),)),
    Op("a * -3.0", lambda a: a * -3.0, lambda a: a * -3.0, lambda a: a * -3.0, (normal(3, 4),)),
    Op("-3.0 * a", lambda a: -3.0 * a, lambda a: -3.0 * a, lambda a: -3.0 * a, (normal(3, 4),)),
    Op("2 * a", lambda a: 2 * a, lambda a: 2 * a, lambda a: 2 * a, (normal(3, 4),)),
    Op("a / 2.5", lambda a: a / 2.5, lambda a: a / 2.5, lambda a: a / 2.5, (normal(3, 4),)),
    Op("2.5 / a", lambda a: 2.5 / a, lambda a: 2.5 / a, lambda a: 2.5 / a, (nonzero(3, 4),)),
    Op("1 / a", lambda a: 1 / a, lambda a: 1 / a, lambda a: 1 / a, (nonzero(3, 4),)),
    Op("a ** 2", lambda a: a**2, lambda a: a**2, lambda a: a**2, (normal(3, 4),)),
    Op("a ** 3", lambda a: a**3, lambda a: a**3, lambda a: a**3, (normal(3, 4),)),
    Op("a ** 0.5", lambda a: a**0.5, lambda a: a**0.5, lambda a: a**0.5, (positive(3, 4),)),
    Op("a ** -1.5", lambda a: a**-1.5, lambda a: a**-1.5, lambda a: a**-1.5, (positive(3, 4),)),
    Op("2.0 ** a", lambda a: 2.0**a, lambda a: 2.0**a, lambda a: 2.0**a, (normal(3, 4),)),
    Op("2 ** a", lambda a: 2**a, lambda a: 2**a, lambda a: 2**a, (normal(3, 4),)),
    Op("a * np.float64(1.5)", lambda a: a * np.float64(1.5), lambda a: a * 1.5,
       lambda a: a * 1.5, (normal(3, 4),)),
    Op("np.float64(1.5) - a", lambda a: np.float64(1.5) - a, lambda a: 1.5 - a,
       lambda a: 1.5 - a, (normal(3, 4),)),
    # ---- with NumPy arrays (float64 and int), both sides
    Op("a + C", lambda a: a + C34, lambda a: a + C34, lambda a: a + _t(C34, a), (normal(3, 4),)),
    Op("C + a", lambda a: C34 + a, lambda a: C34 + a, lambda a: _t(C34, a) + a, (normal(4),)),
    Op("a - C", lambda a: a - C34, lambda a: a - C34, lambda a: a - _t(C34, a), (normal(3, 1),)),
    Op("C - a", lambda a: C34 - a, lambda a: C34 - a, lambda a: _t(C34, a) - a, (normal(3, 4),)),
    Op("a * C", lambda a: a * C34, lambda a: a * C34, lambda a: a * _t(C34, a), (normal(3, 4),)),
    Op("C * a", lambda a: C34 * a, lambda a: C34 * a, lambda a: _t(C34, a) * a, (normal(),)),
    Op("a / C", lambda a: a / C34_NONZERO, lambda a: a / C34_NONZERO,
       lambda a: a / _t(C34_NONZERO, a), (normal(3, 4),)),
    Op("C / a", lambda a: C34 / a, lambda a: C34 / a, lambda a: _t(C34, a) / a, (nonzero(3, 4),)),
    Op("a ** C", lambda a: a**C34, lambda a: a**C34, lambda a: a ** _t(C34, a), (positive(3, 4),)),
    Op("C ** a", lambda a: C34_POS**a, lambda a: C34_POS**a, lambda a: _t(C34_POS, a) ** a,
       (normal(3, 4),)),
    Op("a @ M", lambda a: a @ M42, lambda a: a @ M42, lambda a: a @ _t(M42, a), (normal(3, 4),)),
    Op("M @ a", lambda a: M23 @ a, lambda a: M23 @ a, lambda a: _t(M23, a) @ a, (normal(3, 4),)),
    Op("a * C_int", lambda a: a * C34_INT, lambda a: a * C34_INT,
       lambda a: a * torch.from_numpy(C34_INT), (normal(3, 4),)),
    Op("C_int - a", lambda a: C34_INT - a, lambda a: C34_INT - a,
       lambda a: torch.from_numpy(C34_INT) - a, (normal(3, 4),)),
    # ---- matmul in all of NumPy's shape rules
    Op("matmul 2d@2d", nl.matmul, np.matmul, torch.matmul, (normal(3, 4), normal(4, 2)),
       method=lambda a, b: a @ b),
    Op("matmul 1d@2d", nl.matmul, np.matmul, torch.matmul, (normal(4), normal(4, 2)),
       method=lambda a, b: a @ b),
    Op("matmul 2d@1d", nl.matmul, np.matmul, torch.matmul, (normal(3, 4), normal(4)),
       method=lambda a, b: a @ b),
    Op("matmul 1d@1d", nl.matmul, np.matmul, torch.matmul, (normal(4), normal(4)),
       method=lambda a, b: a @ b),
    Op("matmul batched@2d", nl.matmul, np.matmul, torch.matmul, (normal(2, 3, 4), normal(4, 2)),
       method=lambda a, b: a @ b),
    Op("matmul batched@batched", nl.matmul, np.matmul, torch.matmul,
       (normal(2, 3, 4), normal(2, 4, 2)), method=lambda a, b: a @ b),
    Op("matmul broadcast batch", nl.matmul, np.matmul, torch.matmul,
       (normal(2, 1, 3, 4), normal(3, 4, 2)), method=lambda a, b: a @ b),
    Op("matmul 1d@batched", nl.matmul, np.matmul, torch.matmul, (normal(4), normal(2, 4, 3)),
       method=lambda a, b: a @ b),
    Op("matmul batched@1d", nl.matmul, np.matmul, torch.matmul, (normal(2, 3, 4), normal(4)),
       method=lambda a, b: a @ b),
    # ---- element-wise math
    Op("neg", nl.neg, np.negative, torch.neg, (normal(3, 4),), method=lambda a: -a),
    Op("exp", nl.exp, np.exp, torch.exp, (normal(3, 4),), method=lambda a: a.exp()),
    Op("log", nl.log, np.log, torch.log, (positive(3, 4),), method=lambda a: a.log()),
    Op("sqrt", nl.sqrt, np.sqrt, torch.sqrt, (positive(3, 4),), method=lambda a: a.sqrt()),
    Op("abs", nl.abs, np.abs, torch.abs, (nonzero(3, 4),), method=lambda a: a.abs()),
    Op("abs builtin", lambda a: abs(a), np.abs, torch.abs, (nonzero(3, 4),)),
    Op("tanh", nl.tanh, np.tanh, torch.tanh, (normal(3, 4),), method=lambda a: a.tanh()),
    Op("sigmoid", nl.sigmoid, lambda a: 1 / (1 + np.exp(-a)), torch.sigmoid,
       (Arg(lambda rng, s: 4 * rng.standard_normal(s), (3, 4)),), method=lambda a: a.sigmoid()),
    Op("relu", nl.relu, lambda a: np.maximum(a, 0), torch.relu, (nonzero(3, 4),),
       method=lambda a: a.relu()),
    Op("leaky_relu", nl.leaky_relu, lambda a: np.where(a > 0, a, 0.01 * a), F.leaky_relu,
       (nonzero(3, 4),), method=lambda a: a.leaky_relu()),
    Op("leaky_relu alpha=0.2", lambda a: nl.leaky_relu(a, alpha=0.2),
       lambda a: np.where(a > 0, a, 0.2 * a), lambda a: F.leaky_relu(a, 0.2), (nonzero(3, 4),),
       method=lambda a: a.leaky_relu(0.2)),
    Op("elu", nl.elu, lambda a: np.where(a > 0, a, np.exp(a) - 1), F.elu, (nonzero(3, 4),),
       method=lambda a: a.elu()),
    Op("elu alpha=0.5", lambda a: nl.elu(a, alpha=0.5),
       lambda a: np.where(a > 0, a, 0.5 * (np.exp(a) - 1)), lambda a: F.elu(a, alpha=0.5),
       (nonzero(3, 4),), method=lambda a: a.elu(0.5)),
    Op("gelu", nl.gelu, _gelu_ref, lambda a: F.gelu(a, approximate="tanh"),
       (Arg(lambda rng, s: 2 * rng.standard_normal(s), (3, 4)),), method=lambda a: a.gelu()),
    Op("step", nl.step, lambda a: (a > 0).astype(a.dtype), _torch_step, (nonzero(3, 4),),
       method=lambda a: a.step()),
    Op("clip", lambda a: nl.clip(a, -0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5),
       lambda a: torch.clamp(a, -0.5, 0.5), (lattice(0.05, 3, 4),),
       method=lambda a: a.clip(-0.5, 0.5)),
    Op("clip a_min only", lambda a: nl.clip(a, a_min=-0.5), lambda a: np.maximum(a, -0.5),
       lambda a: torch.clamp(a, min=-0.5), (lattice(0.05, 3, 4),),
       method=lambda a: a.clip(-0.5)),
    Op("clip a_max only", lambda a: nl.clip(a, a_max=0.5), lambda a: np.minimum(a, 0.5),
       lambda a: torch.clamp(a, max=0.5), (lattice(0.05, 3, 4),),
       method=lambda a: a.clip(None, 0.5)),
    Op("clip array bounds", lambda a: nl.clip(a, LO34, HI4), lambda a: np.clip(a, LO34, HI4),
       lambda a: torch.clamp(a, _t(LO34, a), _t(HI4, a)), (lattice(0.05, 3, 4),),
       method=lambda a: a.clip(LO34, HI4)),
    Op("clip tensor bounds", nl.clip, np.clip, torch.clamp,
       (lattice(0.05, 3, 4), Arg(_lower_bound, (4,)), Arg(_upper_bound, (3, 1)))),
    Op("where", nl.where, np.where, torch.where, (mask(3, 4), normal(3, 4), normal(3, 4))),
    Op("where broadcast", nl.where, np.where, torch.where, (mask(3, 4), normal(3, 1), normal(4))),
    Op("where scalar", lambda c, a: nl.where(c, a, 0.0), lambda c, a: np.where(c, a, 0.0),
       lambda c, a: torch.where(c, a, 0.0), (mask(3, 4), normal(3, 4))),
    # ---- shapes
    Op("reshape", lambda a: nl.reshape(a, (4, 3)), lambda a: a.reshape(4, 3),
       lambda a: a.reshape(4, 3), (normal(3, 4),), method=lambda a: a.reshape(4, 3)),
    Op("reshape -1", lambda a: nl.reshape(a, (2, -1)), lambda a: a.reshape(2, -1),
       lambda a: a.reshape(2, -1), (normal(2, 3, 4),), method=lambda a: a.reshape((2, -1))),
    Op("transpose", nl.transpose, np.transpose, lambda a: a.permute(1, 0), (normal(3, 4),),
       method=lambda a: a.transpose()),
    Op("transpose axes", lambda a: nl.transpose(a, (1, 2, 0)),
       lambda a: np.transpose(a, (1, 2, 0)), lambda a: a.permute(1, 2, 0), (normal(2, 3, 4),),
       method=lambda a: a.transpose(1, 2, 0)),
    Op("transpose negative axes", lambda a: nl.transpose(a, (-1, 0, 1)),
       lambda a: np.transpose(a, (-1, 0, 1)), lambda a: a.permute(2, 0, 1), (normal(2, 3, 4),),
       method=lambda a: a.transpose((-1, 0, 1))),
    Op("permute", lambda a: nl.permute(a, (2, 0, 1)), lambda a: np.transpose(a, (2, 0, 1)),
       lambda a: a.permute(2, 0, 1), (normal(2, 3, 4),), method=lambda a: a.permute(2, 0, 1)),
    Op(".T", lambda a: a.T, lambda a: a.T, lambda a: a.T, (normal(3, 4),)),
    Op(".T 3d", lambda a: a.T, lambda a: a.T, lambda a: a.permute(2, 1, 0), (normal(2, 3, 4),)),
    Op("flatten", nl.flatten, lambda a: a.flatten(), torch.flatten, (normal(2, 3, 4),),
       method=lambda a: a.flatten()),
    Op("expand_dims", lambda a: nl.expand_dims(a, 1), lambda a: np.expand_dims(a, 1),
       lambda a: a.unsqueeze(1), (normal(3, 4),), method=lambda a: a.expand_dims(1)),
    Op("expand_dims tuple", lambda a: nl.expand_dims(a, (0, -1)),
       lambda a: np.expand_dims(a, (0, -1)), lambda a: a.unsqueeze(0).unsqueeze(-1),
       (normal(3, 4),), method=lambda a: a.expand_dims((0, -1))),
    Op("squeeze axis", lambda a: nl.squeeze(a, 1), lambda a: np.squeeze(a, 1),
       lambda a: a.squeeze(1), (normal(3, 1, 4),), method=lambda a: a.squeeze(1)),
    Op("squeeze all", nl.squeeze, np.squeeze, torch.squeeze, (normal(1, 3, 1),),
       method=lambda a: a.squeeze()),
    Op("broadcast_to", lambda a: nl.broadcast_to(a, (2, 3, 4)),
       lambda a: np.broadcast_to(a, (2, 3, 4)), lambda a: a.broadcast_to((2, 3, 4)),
       (normal(3, 1),), method=lambda a: a.broadcast_to((2, 3, 4))),
    Op("broadcast_to row", lambda a: nl.broadcast_to(a, (3, 4)),
       lambda a: np.broadcast_to(a, (3, 4)), lambda a: a.broadcast_to((3, 4)), (normal(4),),
       method=lambda a: a.broadcast_to((3, 4))),
    Op("concatenate axis 0", lambda a, b, c: nl.concatenate([a, b, c], axis=0),
       lambda a, b, c: np.concatenate([a, b, c], axis=0),
       lambda a, b, c: torch.cat([a, b, c], dim=0), (normal(2, 4), normal(3, 4), normal(1, 4))),
    Op("concatenate axis 1", lambda a, b: nl.concatenate([a, b], axis=1),
       lambda a, b: np.concatenate([a, b], axis=1), lambda a, b: torch.cat([a, b], dim=1),
       (normal(3, 2), normal(3, 4))),
    Op("concatenate axis -1 with array", lambda a: nl.concatenate([a, C34], axis=-1),
       lambda a: np.concatenate([a, C34], axis=-1),
       lambda a: torch.cat([a, _t(C34, a)], dim=-1), (normal(3, 2),)),
    Op("stack axis 0", lambda a, b: nl.stack([a, b]), lambda a, b: np.stack([a, b]),
       lambda a, b: torch.stack([a, b]), (normal(3, 4), normal(3, 4))),
    Op("stack axis 1", lambda a, b, c: nl.stack((a, b, c), axis=1),
       lambda a, b, c: np.stack((a, b, c), axis=1), lambda a, b, c: torch.stack((a, b, c), 1),
       (normal(3, 4), normal(3, 4), normal(3, 4))),
    Op("stack axis -1", lambda a, b: nl.stack([a, b], axis=-1),
       lambda a, b: np.stack([a, b], axis=-1), lambda a, b: torch.stack([a, b], dim=-1),
       (normal(3, 4), normal(3, 4))),
    # ---- softmax family and the fused dense op
    Op("softmax", nl.softmax, lambda a: _softmax_ref(a, -1), lambda a: torch.softmax(a, -1),
       (normal(3, 4),), method=lambda a: a.softmax()),
    Op("softmax axis 0", lambda a: nl.softmax(a, axis=0), lambda a: _softmax_ref(a, 0),
       lambda a: torch.softmax(a, 0), (normal(2, 3, 4),), method=lambda a: a.softmax(axis=0)),
    Op("log_softmax", nl.log_softmax, lambda a: np.log(_softmax_ref(a, -1)),
       lambda a: torch.log_softmax(a, -1), (normal(3, 4),), method=lambda a: a.log_softmax()),
    Op("log_softmax axis 1", lambda a: nl.log_softmax(a, axis=1),
       lambda a: np.log(_softmax_ref(a, 1)), lambda a: torch.log_softmax(a, 1),
       (normal(2, 3, 4),), method=lambda a: a.log_softmax(1)),
    Op("linear", nl.linear, lambda x, w, b: x @ w + b, lambda x, w, b: F.linear(x, w.T, b),
       (normal(5, 4), normal(4, 3), normal(3))),
    Op("linear no bias", nl.linear, lambda x, w: x @ w, lambda x, w: F.linear(x, w.T),
       (normal(5, 4), normal(4, 3))),
    Op("linear 3d input", nl.linear, lambda x, w, b: x @ w + b,
       lambda x, w, b: F.linear(x, w.T, b), (normal(2, 5, 4), normal(4, 3), normal(3))),
    Op("linear 1d input", nl.linear, lambda x, w, b: x @ w + b,
       lambda x, w, b: F.linear(x, w.T, b), (normal(4), normal(4, 3), normal(3))),
    Op("linear_relu", nl.linear_relu, lambda x, w, b: np.maximum(x @ w + b, 0),
       lambda x, w, b: torch.relu(F.linear(x, w.T, b)), (normal(5, 4), normal(4, 3), normal(3))),
    Op("linear_relu no bias", nl.linear_relu, lambda x, w: np.maximum(x @ w, 0),
       lambda x, w: torch.relu(F.linear(x, w.T)), (normal(5, 4), normal(4, 3))),
]

# ---- reductions: every axis form (None, int, negative int, tuple) with and without keepdims
_REDUCTIONS = {
    # name: (neuralab, NumPy, torch(a, dims, keepdim), domain)
    "sum": (nl.sum, np.sum, lambda a, d, k: torch.sum(a, dim=d, keepdim=k), normal),
    "mean": (nl.mean, np.mean, lambda a, d, k: torch.mean(a, dim=d, keepdim=k), normal),
    "max": (nl.max, np.max, lambda a, d, k: torch.amax(a, dim=d, keepdim=k), distinct),
    "min": (nl.min, np.min, lambda a, d, k: torch.amin(a, dim=d, keepdim=k), distinct),
    "var": (nl.var, np.var, lambda a, d, k: torch.var(a, dim=d, keepdim=k, correction=0), normal),
    "logsumexp": (
        nl.logsumexp,
        lambda a, axis, keepdims: np.log(np.sum(np.exp(a), axis=axis, keepdims=keepdims)),
        lambda a, d, k: torch.logsumexp(a, dim=d, keepdim=k),
        normal,
    ),
}


def _reduction_row(name, axis, keepdims):
    fn, ref, tfn, domain = _REDUCTIONS[name]
    return Op(
        f"{name}(axis={axis}, keepdims={keepdims})",
        lambda a: fn(a, axis=axis, keepdims=keepdims),
        lambda a: ref(a, axis=axis, keepdims=keepdims),
        lambda a: tfn(a, _dims(axis, a.ndim), keepdims),
        (domain(2, 3, 4),),
        method=lambda a: getattr(a, name)(axis=axis, keepdims=keepdims),
    )


OPS += [
    _reduction_row(name, axis, keepdims)
    for name in _REDUCTIONS
    for axis in (None, 0, -1, (0, 2), (1,))
    for keepdims in (False, True)
]
OPS += [
    Op("var ddof=1", lambda a: nl.var(a, axis=1, ddof=1), lambda a: np.var(a, axis=1, ddof=1),
       lambda a: torch.var(a, dim=1, correction=1), (normal(3, 4),),
       method=lambda a: a.var(axis=1, ddof=1)),
    Op("sum 1d", nl.sum, np.sum, torch.sum, (normal(5),), method=lambda a: a.sum()),
]

# ---- indexing: basic, boolean, integer-array with repeated indices (their gradients add up)
IDX_REPEAT = np.array([0, 2, 0, 0])
IDX_2D = np.array([[0, 1], [1, 1]])
MASK34 = np.array([[True, False, True, True], [False, False, True, False], [True] * 4])
_INDEXES = {
    # name: (neuralab/NumPy index, torch index)
    "[1]": (1, 1),
    "[-1]": (-1, -1),
    "[1, 2]": ((1, 2), (1, 2)),
    "[1:3]": (slice(1, 3), slice(1, 3)),
    "[:, ::2]": ((slice(None), slice(None, None, 2)), (slice(None), slice(None, None, 2))),
    "[..., 1]": ((Ellipsis, 1), (Ellipsis, 1)),
    "[None, 1:]": ((None, slice(1, None)), (None, slice(1, None))),
    "[[0, 2, 0]]": ([0, 2, 0], [0, 2, 0]),
    "[array repeated]": (IDX_REPEAT, torch.from_numpy(IDX_REPEAT)),
    "[[0, 0, 2], [1, 1, 3]]": (([0, 0, 2], [1, 1, 3]), ([0, 0, 2], [1, 1, 3])),
    "[:, [3, 3, 0]]": ((slice(None), [3, 3, 0]), (slice(None), [3, 3, 0])),
    "[[1, 1], 1:3]": (([1, 1], slice(1, 3)), ([1, 1], slice(1, 3))),
    "[2-d array]": (IDX_2D, torch.from_numpy(IDX_2D)),
    "[bool mask]": (MASK34, torch.from_numpy(MASK34)),
}


def _index_row(name):
    index, tindex = _INDEXES[name]
    return Op(
        f"getitem {name}",
        lambda a: nl.getitem(a, index),
        lambda a: a[index],
        lambda a: a[tindex],
        (normal(3, 4),),
        method=lambda a: a[index],
    )


OPS += [_index_row(name) for name in _INDEXES]
OPS += [
    Op("getitem [tensor index]", lambda a: a[nl.tensor([2, 2, 1])], lambda a: a[[2, 2, 1]],
       lambda a: a[torch.tensor([2, 2, 1])], (normal(3, 4),)),
]

# ---- broadcast cases for the element-wise binary ops
BROADCAST_SHAPES = {
    "scalar": ((3, 4), ()),
    "scalar left": ((), (3, 4)),
    "row": ((3, 4), (4,)),
    "row keepdims": ((3, 4), (1, 4)),
    "row left": ((4,), (3, 4)),
    "column": ((3, 4), (3, 1)),
    "column left": ((3, 1), (3, 4)),
    "outer": ((3, 1), (1, 4)),
    "leading axes": ((2, 3, 4), (3, 4)),
    "leading axes left": ((4,), (2, 3, 4)),
    "leading axes both": ((2, 1, 4), (3, 1)),
}
BINARY_OPS = [op for op in OPS if op.broadcast]
BROADCAST_CASES = [
    pytest.param(
        replace(op, name=f"{op.name} {case}", args=tuple(
            Arg(arg.draw, shape) for arg, shape in zip(op.args, shapes)
        )),
        id=f"{op.name}-{case}",
    )
    for op in BINARY_OPS
    for case, shapes in BROADCAST_SHAPES.items()
]
ALL_CASES = [pytest.param(op, id=op.name) for op in OPS] + BROADCAST_CASES
METHOD_CASES = [pytest.param(op, id=op.name) for op in OPS if op.method is not None]


# ---------------------------------------------------------------------------- helpers


def as_tensors(arrays: list[np.ndarray], dtype: Any = None) -> list[Any]:
    """Float arrays as tensors that require grad; masks stay arrays."""
    return [
        nl.tensor(a, requires_grad=True, dtype=dtype) if a.dtype.kind == "f" else a for a in arrays
    ]


def rounded_to_float32(arrays: list[np.ndarray]) -> list[np.ndarray]:
    """The float64 inputs that a float32 run actually sees, for the reference."""
    return [a.astype(np.float32).astype(np.float64) if a.dtype.kind == "f" else a for a in arrays]


class Probe(nl.Function):
    """Identity op that records the gradient reaching it, to see what an op sends its inputs."""

    seen: list[np.ndarray] = []

    def forward(self, a):
        return a

    def backward(self, grad):
        Probe.seen.append(grad)
        return (grad,)


# ---------------------------------------------------------------------------- the checks


def test_table_covers_every_op_function():
    """Every differentiable function of the core op families is called by some row of the table
    (the fused losses are tested with the losses)."""
    from neuralab.autograd.ops import activation, elementwise, linalg, reduce, shape

    source = Path(__file__).read_text()
    names = [
        name
        for module in (activation, elementwise, linalg, reduce, shape)
        for name, obj in vars(module).items()
        if name in nl.autograd.ops.__all__ and getattr(obj, "__module__", None) == module.__name__
        and name != "astype"
    ]
    assert len(names) > 40
    missing = [name for name in names if not re.search(rf"\bnl\.{name}\b", source)]
    assert not missing, f"ops without a row in the op table: {missing}"


@pytest.mark.parametrize("op", ALL_CASES)
def test_forward_float32_matches_numpy(op: Op):
    arrays = op.draw()
    out = op.fn(*as_tensors(arrays))
    assert isinstance(out, nl.Tensor)
    assert out.dtype == np.float32, f"{op}: float32 inputs gave {out.dtype}"
    expected = op.ref(*rounded_to_float32(arrays))
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("op", ALL_CASES)
def test_forward_float64_matches_numpy(op: Op):
    arrays = op.draw()
    out = op.fn(*as_tensors(arrays, dtype=np.float64))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.data, op.ref(*arrays), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("op", METHOD_CASES)
def test_method_spelling_matches_numpy_and_gradchecks(op: Op):
    arrays = op.draw()
    expected = op.ref(*rounded_to_float32(arrays))
    out = op.method(*as_tensors(arrays))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-6)
    report = nl.gradcheck(op.method, *arrays)
    assert report.ok, f"{op} (method): {report}"


@pytest.mark.parametrize("op", ALL_CASES)
def test_gradcheck(op: Op):
    arrays = op.draw()
    report = nl.gradcheck(op.fn, *arrays, seed=zlib.crc32(op.name.encode()))
    assert report.ok, f"{op}: {report}"
    float_arrays = [a for a in arrays if a.dtype.kind == "f"]
    for grad, a in zip(report.analytic, float_arrays):
        assert grad.shape == a.shape and grad.dtype == np.float64


@pytest.mark.parametrize("op", ALL_CASES)
def test_gradients_reaching_inputs_stay_float32_and_shaped(op: Op):
    """An op's backward must not upcast (float64 intermediates) nor return a wrongly shaped
    gradient; a Probe between each input and the op sees exactly what the op sends back."""
    arrays = op.draw()
    leaves = as_tensors(arrays)
    Probe.seen = []
    probed = [Probe.apply(x) if isinstance(x, nl.Tensor) else x for x in leaves]
    out = op.fn(*probed)
    out.backward(np.ones(out.shape, dtype=np.float32))
    assert len(Probe.seen) == len([x for x in leaves if isinstance(x, nl.Tensor)])
    for grad in Probe.seen:
        assert grad.dtype == np.float32, f"{op}: an input received a {grad.dtype} gradient"
    for x in leaves:
        if isinstance(x, nl.Tensor):
            assert x.grad is not None and x.grad.shape == x.shape and x.grad.dtype == np.float32


def _recorded_op(op: Op) -> Any:
    out = op.fn(*as_tensors(op.draw(), dtype=np.float64))
    return out.grad_fn


ELEMENTWISE_CASES = [case for case in ALL_CASES if getattr(_recorded_op(case.values[0]),
                                                           "elementwise", False)]


def test_every_op_marked_elementwise_has_a_row():
    from neuralab.autograd.ops import activation, elementwise

    marked = {cls for module in (activation, elementwise) for cls in vars(module).values()
              if isinstance(cls, type) and issubclass(cls, nl.Function) and cls.elementwise}
    assert len(marked) > 20
    # astype has no row (it is tested with the dtype rules): its promise is checked here
    cast = nl.tensor([1.0, -2.0], requires_grad=True).astype(np.float64).grad_fn
    g = np.array([0.5, 3.0])
    np.testing.assert_array_equal(cast.backward(g)[0], g * cast.backward(np.ones(2))[0])
    covered = {type(_recorded_op(case.values[0])) for case in ELEMENTWISE_CASES}
    assert marked == covered | {type(cast)}


@pytest.mark.parametrize("op", ELEMENTWISE_CASES)
def test_elementwise_ops_multiply_the_gradient_by_their_local_derivative(op: Op):
    """Function.elementwise promises backward(g) == g * backward(ones) for every input (before
    the engine sums broadcast axes): explain_backward prints backward(ones) as the local
    derivative."""
    fn = _recorded_op(op)
    shape = np.broadcast_shapes(*(np.shape(p.data) for p in fn.parents if p is not None))
    g = np.random.default_rng(0).standard_normal(shape)
    for with_g, with_ones in zip(fn.backward(g), fn.backward(np.ones(shape))):
        if with_g is not None:
            np.testing.assert_allclose(with_g, g * with_ones, rtol=1e-12, atol=1e-15)

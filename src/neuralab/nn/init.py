"""Weight initializers (가중치 초기화): each returns a new ndarray of the requested shape.

Every initializer is called the same way, ``fn(shape, rng=None, dtype=np.float32)`` plus its own
keyword settings, and is also reachable by name with :func:`get` (``get("he_normal")``).  Random
ones draw from ``rng`` (a Generator, an integer seed, or None for the library's generator set by
:func:`neuralab.seed`).

Fan-in and fan-out
------------------
The scaled initializers keep the variance of activations (Xavier/Glorot, LeCun) or of ReLU
activations (He) roughly constant from layer to layer.  They need the number of inputs and outputs
of one unit, computed from the weight's shape by :func:`fans`:

* dense weight, shape ``(in, out)`` (neuralab's and Keras' layout, y = x W + b):
  ``fan_in = in``, ``fan_out = out``;
* a convolution weight, shape ``(out, in, kh, kw)`` (``nn.Conv2D``'s and PyTorch's layout; any
  ndim >= 3 is read as ``(out, in, *kernel)``): ``r = prod(shape[2:])`` (the receptive field),
  ``fan_in = in * r``, ``fan_out = out * r``, as ``torch.nn.init._calculate_fan_in_and_fan_out``;
* a vector ``(n,)``: ``fan_in = fan_out = n``; a scalar: 1 and 1.

initializer     distribution                                      variance of w
zeros/constant  every entry equal                                 0
uniform         U(low, high), default U(-0.05, 0.05)              (high - low)^2 / 12
normal          N(mean, std^2), default std 0.05                  std^2
xavier_uniform  U(-a, a), a = gain sqrt(6 / (fan_in + fan_out))   gain^2 2 / (fan_in + fan_out)
xavier_normal   N(0, gain^2 2 / (fan_in + fan_out))               gain^2 2 / (fan_in + fan_out)
he_uniform      U(-a, a), a = sqrt(6 / fan_in)                    2 / fan_in
he_normal       N(0, 2 / fan_in)                                  2 / fan_in
lecun_uniform   U(-a, a), a = sqrt(3 / fan_in)                    1 / fan_in
lecun_normal    N(0, 1 / fan_in)                                  1 / fan_in

The normal variants are plain (untruncated) normals, as in PyTorch; Keras truncates at two standard
deviations.  ``glorot_*`` and ``kaiming_*`` are accepted as aliases by :func:`get`.

>>> w = neuralab.nn.init.he_normal((784, 256), rng=0)
>>> w.dtype, w.shape
(dtype('float32'), (784, 256))
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from ..random import get_rng
from ..registry import Registry

Shape = int | tuple[int, ...]
Initializer = Callable[..., np.ndarray]


def _shape(shape: Any, who: str) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError(
            f"{who} expected a shape (an int or a tuple of ints), got {shape!r}"
        ) from None
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 0:
            raise ValueError(f"{who} expected a shape of non-negative ints, got {shape!r}")
    return tuple(int(d) for d in dims)


def _float_dtype(dtype: Any, who: str) -> np.dtype:
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"{who} expected a floating dtype (float32 or float64), got {dt}")
    return dt


def fans(shape: Shape) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of ``shape``; see the module docstring for the rule."""
    dims = _shape(shape, "fans")
    if len(dims) == 0:
        return 1, 1
    if len(dims) == 1:
        return dims[0], dims[0]
    if len(dims) == 2:
        return dims[0], dims[1]
    receptive = math.prod(dims[2:])
    return dims[1] * receptive, dims[0] * receptive


def _uniform(shape: tuple[int, ...], low: float, high: float, rng: Any, dt: np.dtype) -> np.ndarray:
    # Generator.random draws float32 directly, so no float64 temporary is made for float32 weights
    out = get_rng(rng).random(shape, dtype=dt)
    out *= dt.type(high - low)
    out += dt.type(low)
    return out


def _normal(shape: tuple[int, ...], mean: float, std: float, rng: Any, dt: np.dtype) -> np.ndarray:
    out = get_rng(rng).standard_normal(shape, dtype=dt)
    if std != 1.0:
        out *= dt.type(std)
    if mean != 0.0:
        out += dt.type(mean)
    return out


def _positive_fan(shape: tuple[int, ...], who: str, which: str = "in") -> tuple[int, int]:
    fan_in, fan_out = fans(shape)
    if (fan_in if which == "in" else fan_in + fan_out) == 0:
        raise ValueError(f"{who} cannot scale a weight of shape {shape}: its fan is 0")
    return fan_in, fan_out


def zeros(shape: Shape, *, rng: Any = None, dtype: Any = np.float32) -> np.ndarray:
    """All zeros.  For weights this breaks learning: every unit of a layer stays identical."""
    return np.zeros(_shape(shape, "zeros"), dtype=_float_dtype(dtype, "zeros"))


def ones(shape: Shape, *, rng: Any = None, dtype: Any = np.float32) -> np.ndarray:
    """All ones (the usual start of a normalization layer's scale)."""
    return np.ones(_shape(shape, "ones"), dtype=_float_dtype(dtype, "ones"))


def constant(
    shape: Shape, value: float = 0.0, *, rng: Any = None, dtype: Any = np.float32
) -> np.ndarray:
    """Every entry equal to ``value``."""
    return np.full(_shape(shape, "constant"), value, dtype=_float_dtype(dtype, "constant"))


def uniform(
    shape: Shape,
    *,
    low: float = -0.05,
    high: float = 0.05,
    rng: Any = None,
    dtype: Any = np.float32,
) -> np.ndarray:
    """w ~ U(low, high): mean (low + high) / 2, variance (high - low)^2 / 12."""
    if not high > low:
        raise ValueError(f"uniform expected low < high, got low={low}, high={high}")
    return _uniform(_shape(shape, "uniform"), low, high, rng, _float_dtype(dtype, "uniform"))


def normal(
    shape: Shape,
    *,
    mean: float = 0.0,
    std: float = 0.05,
    rng: Any = None,
    dtype: Any = np.float32,
) -> np.ndarray:
    """w ~ N(mean, std^2)."""
    if not std >= 0:
        raise ValueError(f"normal expected a non-negative `std`, got {std}")
    return _normal(_shape(shape, "normal"), mean, std, rng, _float_dtype(dtype, "normal"))


def xavier_uniform(
    shape: Shape, *, gain: float = 1.0, rng: Any = None, dtype: Any = np.float32
) -> np.ndarray:
    """Glorot/Xavier uniform: w ~ U(-a, a), a = gain sqrt(6 / (fan_in + fan_out));
    Var w = gain^2 2 / (fan_in + fan_out).  Suits tanh and sigmoid layers; Keras' Dense default."""
    dims = _shape(shape, "xavier_uniform")
    fan_in, fan_out = _positive_fan(dims, "xavier_uniform", "sum")
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _uniform(dims, -a, a, rng, _float_dtype(dtype, "xavier_uniform"))


def xavier_normal(
    shape: Shape, *, gain: float = 1.0, rng: Any = None, dtype: Any = np.float32
) -> np.ndarray:
    """Glorot/Xavier normal: w ~ N(0, s^2), s = gain sqrt(2 / (fan_in + fan_out))."""
    dims = _shape(shape, "xavier_normal")
    fan_in, fan_out = _positive_fan(dims, "xavier_normal", "sum")
    s = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _normal(dims, 0.0, s, rng, _float_dtype(dtype, "xavier_normal"))


def he_uniform(shape: Shape, *, rng: Any = None, dtype: Any = np.float32) -> np.ndarray:
    """He/Kaiming uniform: w ~ U(-a, a), a = sqrt(6 / fan_in); Var w = 2 / fan_in.  For ReLU."""
    dims = _shape(shape, "he_uniform")
    fan_in, _ = _positive_fan(dims, "he_uniform")
    a = math.sqrt(6.0 / fan_in)
    return _uniform(dims, -a, a, rng, _float_dtype(dtype, "he_uniform"))


def he_normal(shape: Shape, *, rng: Any = None, dtype: Any = np.float32) -> np.ndarray:
    """He/Kaiming normal: w ~ N(0, 2 / fan_in).  For ReLU layers (keeps E[a^2] constant)."""
    dims = _shape(shape, "he_normal")
    fan_in, _ = _positive_fan(dims, "he_normal")
    return _normal(dims, 0.0, math.sqrt(2.0 / fan_in), rng, _float_dtype(dtype, "he_normal"))


def lecun_uniform(shape: Shape, *, rng: Any = None, dtype: Any = np.float32) -> np.ndarray:
    """LeCun uniform: w ~ U(-a, a), a = sqrt(3 / fan_in); Var w = 1 / fan_in."""
    dims = _shape(shape, "lecun_uniform")
    fan_in, _ = _positive_fan(dims, "lecun_uniform")
    a = math.sqrt(3.0 / fan_in)
    return _uniform(dims, -a, a, rng, _float_dtype(dtype, "lecun_uniform"))


def lecun_normal(shape: Shape, *, rng: Any = None, dtype: Any = np.float32) -> np.ndarray:
    """LeCun normal: w ~ N(0, 1 / fan_in).  For SELU networks."""
    dims = _shape(shape, "lecun_normal")
    fan_in, _ = _positive_fan(dims, "lecun_normal")
    return _normal(dims, 0.0, math.sqrt(1.0 / fan_in), rng, _float_dtype(dtype, "lecun_normal"))


_REGISTRY: Registry[Initializer] = Registry(
    "initializer",
    {"zeros": zeros, "ones": ones, "constant": constant, "uniform": uniform, "normal": normal,
     "xavier_uniform": xavier_uniform, "xavier_normal": xavier_normal,
     "he_uniform": he_uniform, "he_normal": he_normal,
     "lecun_uniform": lecun_uniform, "lecun_normal": lecun_normal},
    aliases={"glorot_uniform": "xavier_uniform", "glorot_normal": "xavier_normal",
             "kaiming_uniform": "he_uniform", "kaiming_normal": "he_normal",
             "random_uniform": "uniform", "random_normal": "normal"},
)


def names() -> list[str]:
    """The canonical initializer names accepted by :func:`get`."""
    return _REGISTRY.names()


def get(spec: str | Initializer) -> Initializer:
    """An initializer by name (``"he_normal"``, also ``"glorot_uniform"``...) or a callable as is.

    >>> nn.init.get("xavier_uniform")((4, 3), rng=0).shape
    (4, 3)
    """
    if callable(spec):
        return spec
    if not isinstance(spec, str):
        raise TypeError(
            f"expected an initializer name or a callable fn(shape, rng=..., dtype=...), "
            f"got {type(spec).__name__}"
        )
    return _REGISTRY.lookup(spec)


def name_of(fn: Any) -> str | None:
    """The canonical name of one of this module's initializers, or None for any other callable."""
    return _REGISTRY.name_of(fn)


__all__ = [
    "constant", "fans", "get", "he_normal", "he_uniform", "lecun_normal", "lecun_uniform",
    "name_of", "names", "normal", "ones", "uniform", "xavier_normal", "xavier_uniform", "zeros",
]

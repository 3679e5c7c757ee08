"""Helpers shared by the op families."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor


def operand(x: Any, like: Any = None) -> Any:
    """Pass tensors and Python scalars through; turn anything else into an array whose floating
    dtype follows the tensor it meets, so a float64 array never upcasts float32 work silently."""
    if isinstance(x, (Tensor, int, float, bool)):
        return x
    arr = np.asarray(x)
    if arr.dtype.kind == "O":
        raise TypeError(f"expected a tensor, number or array, got {type(x).__name__}")
    ref = like.data if isinstance(like, Tensor) else None
    if ref is not None and arr.dtype.kind == "f" and ref.dtype.kind == "f" and arr.dtype != ref.dtype:
        arr = arr.astype(ref.dtype)
    elif ref is None and arr.dtype.kind == "f" and arr.dtype != np.float32:
        arr = arr.astype(np.float32)
    return arr


def binary_operands(a: Any, b: Any) -> tuple[Any, Any]:
    if isinstance(a, Tensor):
        return a, operand(b, a)
    return operand(a, b), b


def normalize_axis(axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, int or tuple, negatives allowed) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for ax in axes:
        if not -ndim <= ax < max(ndim, 1):
            raise ValueError(f"axis {ax} is out of bounds for an array of dimension {ndim}")
        out.append(int(ax) % max(ndim, 1))
    return tuple(sorted(out))


def expand_reduced(g: np.ndarray, shape: tuple[int, ...], axis: Any, keepdims: bool) -> np.ndarray:
    """Put back the reduced axes of ``g`` (as length-1 axes) so it broadcasts against ``shape``."""
    if keepdims or axis is None and g.ndim == 0:
        return g
    return np.expand_dims(g, normalize_axis(axis, len(shape)))

"""Helpers shared by the op families."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import DEFAULT_FLOAT, Tensor

DEFAULT_FLOAT_DTYPE = np.dtype(DEFAULT_FLOAT)
_PYTHON_SCALARS = frozenset({int, float, bool})


def operand(x: Any, like: Any = None) -> Any:
    """Pass tensors and Python scalars through; turn anything else into an array whose dtype follows
    the floating tensor it meets, so that neither a float64 array or NumPy scalar nor an integer
    array upcasts float32 work silently (NumPy alone would give float64 for all three)."""
    # exact types: np.float64 subclasses float but, unlike a Python float, is not a weak scalar
    # in NumPy 2 (float32 * np.float64 is float64), so it takes the array path below
    if isinstance(x, Tensor) or type(x) in _PYTHON_SCALARS:
        return x
    arr = np.asarray(x)
    kind = arr.dtype.kind
    if kind == "O":
        raise TypeError(f"expected a tensor, number or array, got {type(x).__name__}")
    ref = like.data.dtype if isinstance(like, Tensor) else None
    if ref is not None and ref.kind == "f":
        if arr.dtype != ref and kind in "fiub":
            arr = arr.astype(ref)
    elif kind == "f" and arr.dtype != DEFAULT_FLOAT:
        arr = arr.astype(DEFAULT_FLOAT)
    return arr


def float_operand(x: Any) -> Any:
    """:func:`operand` for ops whose result is floating whatever the input (exp, tanh, mean...):
    integer and boolean data become float32, as in PyTorch.  NumPy would compute them in float64,
    and ``leaky_relu``/``elu`` would even cast their result back to integers."""
    if isinstance(x, Tensor) and x.data.dtype.kind == "f":
        return x
    if type(x) in _PYTHON_SCALARS:
        return np.asarray(x, dtype=DEFAULT_FLOAT)
    return cast_integers(operand(x), DEFAULT_FLOAT_DTYPE)


def binary_operands(a: Any, b: Any) -> tuple[Any, Any]:
    """Both operands of a binary op, in one dtype when one of them is floating.

    Integer and boolean data (labels, masks) meeting floating data takes its dtype (float32 for a
    Python float), as in PyTorch; NumPy alone would promote ``float32 op int64`` to float64.
    """
    if isinstance(a, Tensor):
        b = operand(b, a)
        if a.data.dtype.kind == "f" and not (isinstance(b, Tensor) and b.data.dtype.kind in "iub"):
            return a, b  # the common case: b is a scalar, an array in a's dtype or a float tensor
    elif isinstance(b, Tensor):
        a = operand(a, b)
        if b.data.dtype.kind == "f":
            return a, b
    else:
        a, b = operand(a), operand(b)
    fa, fb = _float_dtype(a), _float_dtype(b)
    if fa is not None and fb is None:
        b = cast_integers(b, fa)
    elif fb is not None and fa is None:
        a = cast_integers(a, fb)
    return a, b


def division_operands(a: Any, b: Any) -> tuple[Any, Any]:
    """:func:`binary_operands` for true division: integer / integer is float32 (NumPy: float64)."""
    a, b = binary_operands(a, b)
    if _float_dtype(a) is None and _float_dtype(b) is None:
        a, b = cast_integers(a, DEFAULT_FLOAT_DTYPE), cast_integers(b, DEFAULT_FLOAT_DTYPE)
    return a, b


def _float_dtype(x: Any) -> np.dtype | None:
    """The floating dtype ``x`` imposes on a binary op (a Python float imposes float32), or None."""
    data = x.data if isinstance(x, Tensor) else x
    if isinstance(data, np.ndarray):
        return data.dtype if data.dtype.kind == "f" else None
    return DEFAULT_FLOAT_DTYPE if isinstance(data, float) else None


def cast_integers(x: Any, dtype: np.dtype) -> Any:
    """Integer or boolean data as ``dtype``; such tensors never require grad, so no op is needed."""
    if isinstance(x, Tensor):
        return Tensor._from_op(x.data.astype(dtype), None) if x.data.dtype.kind in "iub" else x
    if isinstance(x, np.ndarray) and x.dtype.kind in "iub":
        return x.astype(dtype)
    return x


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

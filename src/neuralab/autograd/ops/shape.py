"""Shape ops: reshape, transpose, expand/squeeze, broadcast, indexing, concatenate, stack."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..function import Function
from ..tensor import Tensor
from ._util import cast_integers, operand


class Reshape(Function):
    """z = a viewed with another shape;  da = g reshaped back."""

    def forward(self, a, shape=None):
        self.shape = a.shape
        return np.reshape(a, shape)

    def backward(self, grad):
        return (grad.reshape(self.shape),)


class Transpose(Function):
    """z = a with its axes permuted;  da = g with the inverse permutation."""

    def forward(self, a, axes=None):
        if axes is None:
            self.axes = tuple(reversed(range(a.ndim)))
        else:
            self.axes = normalize_axes_perm(axes, a.ndim)
        return np.transpose(a, self.axes)

    def backward(self, grad):
        return (np.transpose(grad, np.argsort(self.axes)),)


def normalize_axes_perm(axes: Sequence[int], ndim: int) -> tuple[int, ...]:
    perm = tuple(int(ax) % ndim if ndim else 0 for ax in axes)
    if sorted(perm) != list(range(ndim)):
        raise ValueError(f"axes {tuple(axes)} are not a permutation of {ndim} axes")
    return perm


class ExpandDims(Function):
    def forward(self, a, axis=0):
        self.shape = a.shape
        return np.expand_dims(a, axis)

    def backward(self, grad):
        return (grad.reshape(self.shape),)


class Squeeze(Function):
    def forward(self, a, axis=None):
        self.shape = a.shape
        return np.squeeze(a, axis=axis)

    def backward(self, grad):
        return (grad.reshape(self.shape),)


class BroadcastTo(Function):
    """z = a repeated along broadcast axes;  da = g summed over them (by the engine)."""

    def forward(self, a, shape=None):
        return np.broadcast_to(a, shape)

    def backward(self, grad):
        return (grad,)


def _is_advanced(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, (list, np.ndarray)) and np.asarray(i).dtype != bool for i in items)


def _unwrap_index(index: Any) -> Any:
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


class GetItem(Function):
    """z = a[index] (basic, boolean or integer-array indexing);  da = g scattered back to the
    selected positions, summed where an integer index repeats."""

    def forward(self, a, index=None):
        self.shape, self.dtype, self.index = a.shape, a.dtype, index
        return a[index]

    def backward(self, grad):
        out = np.zeros(self.shape, dtype=grad.dtype)
        if _is_advanced(self.index):
            np.add.at(out, self.index, grad)
        else:
            out[self.index] = grad
        return (out,)


class Concatenate(Function):
    """z = [a1, a2, ...] joined along axis;  each da_i = its slice of g."""

    def forward(self, *arrays, axis=0):
        self.axis = axis
        self.splits = np.cumsum([np.shape(x)[axis] for x in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    def backward(self, grad):
        return tuple(np.split(grad, self.splits, axis=self.axis))


class Stack(Function):
    """z = [a1, a2, ...] stacked along a new axis;  each da_i = g taken at its index."""

    def forward(self, *arrays, axis=0):
        self.axis = axis
        return np.stack(arrays, axis=axis)

    def backward(self, grad):
        return tuple(np.moveaxis(grad, self.axis, 0))


def reshape(a: Any, shape: Any) -> Tensor:
    return Reshape.apply(operand(a), shape=tuple(shape) if not isinstance(shape, int) else (shape,))


def transpose(a: Any, axes: Any = None) -> Tensor:
    """Permute axes (reverse them when ``axes`` is None); ``permute`` is the same op."""
    return Transpose.apply(operand(a), axes=axes)


permute = transpose


def flatten(a: Any) -> Tensor:
    """The tensor's elements as a 1-d tensor (NumPy's ``flatten``, but a view when possible);
    ``nn.Flatten`` keeps the batch axis."""
    return reshape(a, (-1,))


def expand_dims(a: Any, axis: Any) -> Tensor:
    return ExpandDims.apply(operand(a), axis=axis)


def squeeze(a: Any, axis: Any = None) -> Tensor:
    return Squeeze.apply(operand(a), axis=axis)


def broadcast_to(a: Any, shape: Any) -> Tensor:
    return BroadcastTo.apply(operand(a), shape=tuple(shape))


def getitem(a: Any, index: Any) -> Tensor:
    return GetItem.apply(operand(a), index=_unwrap_index(index))


def _same_dtype(tensors: Sequence[Any]) -> list[Any]:
    if not isinstance(tensors, (list, tuple)) or not tensors:
        raise TypeError("expected a non-empty list or tuple of tensors")
    first = next((t for t in tensors if isinstance(t, Tensor)), None)
    floats = (t for t in tensors if isinstance(t, Tensor) and t.data.dtype.kind == "f")
    floating = next(floats, None)
    if floating is None:
        return [operand(t, first) for t in tensors]
    # integer pieces take the floating dtype: NumPy would make float32 + int64 a float64 result
    return [cast_integers(operand(t, floating), floating.data.dtype) for t in tensors]


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    return Concatenate.apply(*_same_dtype(tensors), axis=axis)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along a new axis."""
    return Stack.apply(*_same_dtype(tensors), axis=axis)

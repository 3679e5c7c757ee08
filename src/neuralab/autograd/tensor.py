"""Tensor: a NumPy array with an optional gradient and a link to the op that produced it."""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from . import engine

DEFAULT_FLOAT = np.float32


def _as_array(data: Any, dtype: Any = None) -> np.ndarray:
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.array(data, dtype=dtype)
    arr = np.array(data)
    if arr.dtype.kind == "f" and arr.dtype != DEFAULT_FLOAT:
        arr = arr.astype(DEFAULT_FLOAT)
    elif arr.dtype.kind == "O":
        raise TypeError(
            "tensor expected numbers (a scalar, a nested list or an ndarray), got "
            f"{type(data).__name__}"
        )
    return arr


class Tensor:
    """An ``np.ndarray`` (``.data``) that can record the ops applied to it and receive a gradient.

    Floating data is float32 unless ``dtype`` says otherwise; integer and boolean data keep their
    type (labels, masks).  ``.grad`` is an ndarray of the same shape after ``backward()``, or None.
    Gradients accumulate across backward calls until cleared (``x.grad = None``), as in PyTorch.
    """

    __slots__ = ("data", "grad", "requires_grad", "_ctx", "_retains_grad", "__weakref__")
    __array_ufunc__ = None  # ndarray (op) Tensor defers to Tensor's reflected method

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        self.data = _as_array(data, dtype)
        if requires_grad and self.data.dtype.kind not in "fc":
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {self.data.dtype}; "
                "pass floating data or dtype=np.float32"
            )
        self.grad: np.ndarray | None = None
        self.requires_grad = bool(requires_grad)
        self._ctx = None
        self._retains_grad = False

    @classmethod
    def _from_op(cls, data: np.ndarray, ctx: Any) -> "Tensor":
        t = object.__new__(Tensor)
        t.data = data if isinstance(data, np.ndarray) else np.asarray(data)
        t.grad = None
        t.requires_grad = ctx is not None
        t._ctx = ctx
        t._retains_grad = False
        return t

    # ----------------------------------------------------------------- properties
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def grad_fn(self) -> Any:
        return self._ctx

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def T(self) -> "Tensor":
        return _ops.transpose(self)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    # ----------------------------------------------------------------- conversions
    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self.data

    def item(self) -> Any:
        if self.data.size != 1:
            raise ValueError(
                f"item() needs a tensor with one element, got shape {self.data.shape}; "
                "index it first or reduce it with sum()/mean()"
            )
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def detach(self) -> "Tensor":
        """A tensor sharing this one's data but outside the graph (``requires_grad=False``)."""
        return Tensor._from_op(self.data, None)

    def astype(self, dtype: Any) -> "Tensor":
        return _ops.astype(self, dtype)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self.data.size} elements is ambiguous; "
                "use .any() or .all() on .data"
            )
        return bool(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extras = []
        if self.data.dtype != DEFAULT_FLOAT:
            extras.append(f"dtype={self.data.dtype}")
        if self._ctx is not None:
            extras.append(f"grad_fn=<{type(self._ctx).__name__}Backward>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # ----------------------------------------------------------------- autograd
    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Compute d self / d leaf for every leaf that requires a gradient; add it to its ``.grad``.

        ``grad`` is the gradient flowing into this tensor; it may be omitted only for a
        one-element tensor (a loss), where it is 1.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward: this tensor does not require grad and has no graph; create the inputs "
                "with requires_grad=True and compute it outside no_grad()"
            )
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward: grad can be omitted only for a one-element tensor, got shape "
                    f"{self.data.shape}; reduce it first (loss.mean().backward()) or pass "
                    "grad=<array of the same shape>"
                )
            g = np.ones(self.data.shape, dtype=self.data.dtype)
        else:
            g = np.array(grad.data if isinstance(grad, Tensor) else grad, dtype=self.data.dtype)
            if g.shape != self.data.shape:
                raise ValueError(
                    f"backward: grad has shape {g.shape} but the tensor has shape {self.data.shape}"
                )
        engine.backward(self, g, retain_graph=retain_graph)

    def retain_grad(self) -> "Tensor":
        """Keep ``.grad`` on this intermediate tensor too (leaves always keep theirs)."""
        self._retains_grad = True
        return self

    def zero_grad(self) -> None:
        self.grad = None

    def requires_grad_(self, flag: bool = True) -> "Tensor":
        if flag and self.data.dtype.kind not in "fc":
            raise TypeError(
                f"only floating-point tensors can require gradients, got {self.data.dtype}"
            )
        self.requires_grad = bool(flag)
        return self

    # ----------------------------------------------------------------- arithmetic
    def __add__(self, other: Any) -> "Tensor":
        return _ops.add(self, other)

    def __radd__(self, other: Any) -> "Tensor":
        return _ops.add(other, self)

    def __sub__(self, other: Any) -> "Tensor":
        return _ops.sub(self, other)

    def __rsub__(self, other: Any) -> "Tensor":
        return _ops.sub(other, self)

    def __mul__(self, other: Any) -> "Tensor":
        return _ops.mul(self, other)

    def __rmul__(self, other: Any) -> "Tensor":
        return _ops.mul(other, self)

    def __truediv__(self, other: Any) -> "Tensor":
        return _ops.div(self, other)

    def __rtruediv__(self, other: Any) -> "Tensor":
        return _ops.div(other, self)

    def __pow__(self, other: Any) -> "Tensor":
        return _ops.power(self, other)

    def __rpow__(self, other: Any) -> "Tensor":
        return _ops.power(other, self)

    def __matmul__(self, other: Any) -> "Tensor":
        return _ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> "Tensor":
        return _ops.matmul(other, self)

    def __neg__(self) -> "Tensor":
        return _ops.neg(self)

    def __pos__(self) -> "Tensor":
        return self

    def __abs__(self) -> "Tensor":
        return _ops.abs(self)

    def __getitem__(self, index: Any) -> "Tensor":
        return _ops.getitem(self, index)

    # comparisons give boolean tensors outside the graph; == and != keep identity semantics so
    # that tensors (parameters) stay hashable and usable in lists and sets
    def __lt__(self, other: Any) -> "Tensor":
        return Tensor._from_op(self.data < _data(other), None)

    def __le__(self, other: Any) -> "Tensor":
        return Tensor._from_op(self.data <= _data(other), None)

    def __gt__(self, other: Any) -> "Tensor":
        return Tensor._from_op(self.data > _data(other), None)

    def __ge__(self, other: Any) -> "Tensor":
        return Tensor._from_op(self.data >= _data(other), None)

    __hash__ = object.__hash__

    # ----------------------------------------------------------------- methods named as in NumPy
    def exp(self) -> "Tensor":
        return _ops.exp(self)

    def log(self) -> "Tensor":
        return _ops.log(self)

    def sqrt(self) -> "Tensor":
        return _ops.sqrt(self)

    def abs(self) -> "Tensor":
        return _ops.abs(self)

    def tanh(self) -> "Tensor":
        return _ops.tanh(self)

    def sigmoid(self) -> "Tensor":
        return _ops.sigmoid(self)

    def relu(self) -> "Tensor":
        return _ops.relu(self)

    def leaky_relu(self, alpha: float = 0.01) -> "Tensor":
        return _ops.leaky_relu(self, alpha)

    def elu(self, alpha: float = 1.0) -> "Tensor":
        return _ops.elu(self, alpha)

    def gelu(self) -> "Tensor":
        return _ops.gelu(self)

    def step(self) -> "Tensor":
        return _ops.step(self)

    def clip(self, a_min: Any = None, a_max: Any = None) -> "Tensor":
        return _ops.clip(self, a_min, a_max)

    def maximum(self, other: Any) -> "Tensor":
        return _ops.maximum(self, other)

    def minimum(self, other: Any) -> "Tensor":
        return _ops.minimum(self, other)

    def sum(self, axis: Any = None, keepdims: bool = False) -> "Tensor":
        return _ops.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> "Tensor":
        return _ops.mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> "Tensor":
        return _ops.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> "Tensor":
        return _ops.min(self, axis=axis, keepdims=keepdims)

    def var(self, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> "Tensor":
        return _ops.var(self, axis=axis, keepdims=keepdims, ddof=ddof)

    def softmax(self, axis: int = -1) -> "Tensor":
        return _ops.softmax(self, axis=axis)

    def log_softmax(self, axis: int = -1) -> "Tensor":
        return _ops.log_softmax(self, axis=axis)

    def logsumexp(self, axis: Any = None, keepdims: bool = False) -> "Tensor":
        return _ops.logsumexp(self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape: Any) -> "Tensor":
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _ops.reshape(self, shape)

    def transpose(self, *axes: Any) -> "Tensor":
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _ops.transpose(self, axes or None)

    def permute(self, *axes: Any) -> "Tensor":
        return self.transpose(*axes)

    def flatten(self) -> "Tensor":
        return _ops.flatten(self)

    def expand_dims(self, axis: Any) -> "Tensor":
        return _ops.expand_dims(self, axis)

    def squeeze(self, axis: Any = None) -> "Tensor":
        return _ops.squeeze(self, axis)

    def broadcast_to(self, shape: Iterable[int]) -> "Tensor":
        return _ops.broadcast_to(self, shape)


def _data(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Create a :class:`Tensor` (a copy of ``data``).

    >>> x = neuralab.tensor([[1.0, 2.0]], requires_grad=True)
    >>> (x * x).sum().backward(); x.grad
    array([[2., 4.]], dtype=float32)
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


from . import ops as _ops  # noqa: E402  (ops need the Tensor class defined above)

"""The base class of every differentiable op.

An op subclasses :class:`Function` and writes two methods on NumPy arrays, side by side::

    class Mul(Function):
        def forward(self, a, b):
            self.a, self.b = a, b
            return a * b

        def backward(self, grad):
            return grad * self.b, grad * self.a

``Mul.apply(x, y)`` unwraps tensors, runs ``forward`` and, when any input requires a gradient and
grad mode is on, records the op so that :func:`neuralab.autograd.engine.backward` can call
``backward`` later.  ``backward`` returns one gradient per positional input (``None`` where none is
needed; ``self.needs[i]`` says which are), shaped like the forward result if it likes: the engine
undoes broadcasting.  Keyword arguments of ``apply`` are non-differentiable settings (``axis``...).

An op whose ``backward(g)`` is ``g`` times an array of local derivatives, element by element (add,
mul, exp, tanh, ...), sets ``elementwise = True``: :func:`neuralab.explain_backward` then prints
that array as the local derivative.  Each recorded op also keeps the :class:`CallScope` it was made
in (``fn.scope``, set by ``nn.Module.__call__``), which :func:`neuralab.graph` uses to draw the ops
of one module call as one box.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .engine import GRAD_MODE


class CallScope:
    """One call of an owner (an ``nn.Module``) during which ops are recorded: ``owner`` is the
    module, ``parent`` the call it was made in (``None`` at the top).  ``nn.Module.__call__`` makes
    one per call and sets :data:`SCOPE` to it while ``forward`` runs; every op recorded meanwhile
    keeps it as ``fn.scope``.  Two calls of one module are two scopes (compared by identity)."""

    __slots__ = ("owner", "parent")

    def __init__(self, owner: Any, parent: "CallScope | None") -> None:
        self.owner = owner
        self.parent = parent


class _Scope:
    current: CallScope | None = None


#: the call being run (``SCOPE.current``), or None outside any module call
SCOPE = _Scope()


class Buffers(dict):
    """Arrays that one op of a captured step writes its results into, kept from one replay to
    the next (``fn.buffers``, set by :mod:`neuralab.autograd.capture` before ``forward`` and
    ``backward``).  A large array allocated afresh at every step costs page faults whenever the
    C allocator hands its memory back to the system in between; an op that takes buffers asks
    for them by name with :meth:`take` and computes into them with ``out=``.  ``output_free``
    is False for an op whose output leaves the step (the caller keeps it); ``grads_free`` is
    False while a leaf still holds last step's gradient (it may be one of these arrays)."""

    def __init__(self, output_free: bool = True) -> None:
        super().__init__()
        self.output_free = output_free
        self.grads_free = True

    def take(self, name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """The buffer ``name`` of this shape and dtype, made on first need."""
        buf = self.get(name)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = self[name] = np.empty(shape, dtype=dtype)
        return buf


class Function:
    """Base of all ops; see the module docstring for how to write one."""

    parents: tuple | None
    needs: tuple[bool, ...]
    #: backward(g) == g * backward(ones), element by element (see the module docstring)
    elementwise: bool = False

    @property
    def name(self) -> str:
        return type(self).__name__.lower()

    def forward(self, *arrays: Any, **params: Any) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:  # pragma: no cover
        raise NotImplementedError

    def release(self) -> None:
        """Drop the graph links and everything ``forward`` saved (called after backward)."""
        self.__dict__.clear()
        self.parents = None

    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> "Tensor":
        fn = cls()
        arrays = []
        record = False
        for x in inputs:
            if isinstance(x, Tensor):
                arrays.append(x.data)
                record = record or x.requires_grad
            else:
                arrays.append(x)
        try:
            out = fn.forward(*arrays, **params)
        except (ValueError, IndexError, TypeError) as err:
            if str(err).startswith(fn.name + ":"):
                raise
            shapes = ", ".join(str(np.shape(a)) for a in arrays)
            message = f"{fn.name}: {err} (input shapes {shapes})"
            try:
                wrapped = type(err)(message)
            except TypeError:  # NumPy's ufunc errors take structured arguments, not a message
                base = next(t for t in (ValueError, IndexError, TypeError) if isinstance(err, t))
                wrapped = base(message)
            raise wrapped from None
        if record and GRAD_MODE.enabled:
            fn.parents = tuple(x if isinstance(x, Tensor) else None for x in inputs)
            fn.needs = tuple(x is not None and x.requires_grad for x in fn.parents)
            scope = SCOPE.current
            if scope is not None:
                fn.scope = scope
            result = Tensor._from_op(out, fn)
        else:
            result = Tensor._from_op(out, None)
        recording = RECORDING.current
        if recording is not None:  # a CapturedStep is recording this step (autograd/capture.py)
            recording.append((cls, inputs, params, result,
                              fn.needs if result._ctx is not None else None))
        return result


from .capture import RECORDING  # noqa: E402  (capture replays Functions)
from .tensor import Tensor  # noqa: E402  (circular: Tensor's methods call ops built on Function)

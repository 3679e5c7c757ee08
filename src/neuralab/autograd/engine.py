"""The backward pass: topological order without recursion, gradient accumulation, and the one
place where broadcasting is undone.

Every op's ``backward`` may return a gradient shaped like the broadcast result; :func:`unbroadcast`
sums it back down to the input's shape, so no op has to think about broadcasting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .tensor import Tensor


class _GradMode:
    enabled: bool = True


GRAD_MODE = _GradMode()


class no_grad:
    """Context manager (and decorator) that records no graph: ops inside it produce tensors with
    ``requires_grad=False``.  Use it for evaluation and for in-place parameter updates.

    >>> with neuralab.no_grad():
    ...     y = model(x)        # no graph, no saved activations
    """

    def __enter__(self) -> "no_grad":
        self._previous = GRAD_MODE.enabled
        GRAD_MODE.enabled = False
        return self

    def __exit__(self, *exc: object) -> None:
        GRAD_MODE.enabled = self._previous

    def __call__(self, func):
        import functools

        mode = type(self)  # enable_grad inherits this: its wrapper must enable, not disable

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with mode():
                return func(*args, **kwargs)

        return wrapper


class enable_grad(no_grad):
    """Turn graph recording back on inside a :class:`no_grad` block (context manager or
    decorator, as :class:`no_grad`)."""

    def __enter__(self) -> "enable_grad":
        self._previous = GRAD_MODE.enabled
        GRAD_MODE.enabled = True
        return self


def is_grad_enabled() -> bool:
    return GRAD_MODE.enabled


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving an array of
    ``shape``."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra < 0:
        return np.broadcast_to(grad, shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def _count_consumers(root: "Tensor") -> dict["Tensor", int]:
    """For every tensor reachable from ``root`` through recorded ops, how many graph edges lead
    into it (how many gradients it will receive before its own backward can run).  Tensors hash
    by identity, so they key the dict directly."""
    pending: dict[Tensor, int] = {root: 0}
    stack = [root]
    while stack:
        fn = stack.pop()._ctx
        if fn is None:
            continue
        parents = fn.parents
        if parents is None:
            raise RuntimeError(
                f"backward: the graph through {fn.name} was already released by an earlier "
                "backward(); run the forward pass again, or call backward(retain_graph=True) "
                "the first time"
            )
        for parent in parents:
            if parent is not None and parent.requires_grad:
                count = pending.get(parent)
                if count is None:
                    pending[parent] = 1
                    stack.append(parent)
                else:
                    pending[parent] = count + 1
    return pending


def _accumulate_leaf(leaf: "Tensor", grad: np.ndarray, handed_out: set[int]) -> None:
    if grad.dtype != leaf.data.dtype:
        grad = grad.astype(leaf.data.dtype)
    elif (
        id(grad) in handed_out
        or grad.base is not None
        or not grad.flags.writeable
        or not grad.flags.c_contiguous
    ):
        # the array may be shared with another leaf or be a view of something else: own a copy
        grad = np.array(grad, order="C")
    if leaf.grad is None:
        leaf.grad = grad
        handed_out.add(id(grad))
    else:
        leaf.grad = leaf.grad + grad


def backward(root: "Tensor", grad: np.ndarray, retain_graph: bool = False) -> None:
    """Propagate ``grad`` (d output / d root) from ``root`` to every leaf that requires a gradient.

    Kahn's algorithm in reverse: a tensor's backward runs once all the tensors computed from it
    have sent their gradient, so shared sub-expressions (diamonds) sum before they propagate,
    and no recursion is involved however long the graph.  Leaves accumulate into ``.grad``
    (adding to what is already there, as PyTorch does); intermediate tensors keep no gradient
    unless ``retain_grad()`` was called on them.  Unless ``retain_graph`` is true, the graph is
    released on the way: saved arrays are dropped.
    """
    pending = _count_consumers(root)
    grads: dict[Tensor, np.ndarray] = {root: grad}
    handed_out: set[int] = set()
    ready = [root]
    while ready:
        node = ready.pop()
        g = grads.pop(node, None)
        fn = node._ctx
        if g is not None and (fn is None or node._retains_grad):
            _accumulate_leaf(node, g, handed_out)
        if fn is None:
            continue
        parents = fn.parents
        parent_grads = fn.backward(g) if g is not None else (None,) * len(parents)
        if len(parent_grads) < len(parents):  # a custom op's mistake would lose gradients silently
            raise RuntimeError(
                f"{fn.name}.backward returned {len(parent_grads)} gradient(s) for "
                f"{len(parents)} input(s); return one per positional input (None where none)"
            )
        for parent, pg in zip(parents, parent_grads):
            if parent is None or not parent.requires_grad:
                continue
            if pg is not None:
                if pg.shape != parent.data.shape:
                    pg = unbroadcast(pg, parent.data.shape)
                previous = grads.get(parent)
                grads[parent] = pg if previous is None else previous + pg
            count = pending[parent] - 1
            pending[parent] = count
            if count == 0:
                ready.append(parent)
        if not retain_graph:
            fn.release()

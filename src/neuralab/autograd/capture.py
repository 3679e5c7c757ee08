"""A captured training step: the ops of one forward pass recorded, then replayed without the graph.

Every training step of a fixed model on batches of one shape makes the same ops in the same order.
The normal path pays, per op, for the module call, a :class:`Tensor`, the recorded graph, and
then the engine's walk over it; on a small network that bookkeeping costs more than the
arithmetic.  :class:`CapturedStep` runs a step function normally while it records every op
(:meth:`Function.apply` reports to :data:`RECORDING`), and once two recordings on two different
batches agree, it replays the recorded ops straight on NumPy arrays: each op's own ``forward`` and
``backward`` (the same code, so the same numbers bit for bit), in the order in which the engine
would have run the backward pass, the gradients added into the leaves exactly as the engine adds
them.

What makes a recording replayable: every input of every op is the output of an earlier op, a
leaf tensor (a parameter, read again at every replay), one of the step's input arrays itself, or
a constant that is the very same object (or an equal number or string) in both recordings.  An
array made from the batch outside an op (a converted copy, a random mask) is different in the two
recordings, so the step is not captured and runs the normal way.  Python code of the step
function other than ops (checks, side effects such as running statistics) does not run in a
replay: callers capture only functions made of modules that declare that their forward is ops
alone (``nn.Module.capturable``), and give :class:`CapturedStep` a ``check`` for the validation
that a replay must still do (a loss checks its class labels).
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Sequence

import numpy as np

from .engine import GRAD_MODE, _accumulate_leaf, unbroadcast
from .function import Buffers
from .tensor import Tensor


class _Recording(threading.local):
    #: the list that :meth:`Function.apply` appends ``(cls, inputs, params, out, needs)`` to while
    #: a step is recorded, else None; per thread, so that a training in another thread never
    #: lands in this one's recording
    current: list | None = None


RECORDING = _Recording()

_SLOT, _LEAF, _INPUT, _CONST = 0, 1, 2, 3
_IMMUTABLE = (type(None), bool, int, float, complex, str, bytes, np.generic, np.dtype)


def _same_constant(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same_constant(x, y) for x, y in zip(a, b))
    if isinstance(a, _IMMUTABLE) and type(a) is type(b):
        return bool(a == b) or (a != a and b != b)  # NaN settings compare equal to themselves
    return False


class _Program:
    """A recording resolved into references: per op, its class, the references of its inputs,
    its keyword settings, which inputs need a gradient (None: made outside the graph) and
    whether its output requires a gradient."""

    def __init__(self, raw: list, inputs: Sequence[np.ndarray], outputs: Sequence[Tensor]) -> None:
        slot_of = {id(entry[3]): k for k, entry in enumerate(raw)}
        self.ops = []
        self.leaves: list[Tensor] = []
        leaf_index: dict[int, int] = {}
        for cls, args, params, out, needs in raw:
            refs = []
            for a in args:
                if isinstance(a, Tensor) and id(a) in slot_of:
                    refs.append((_SLOT, slot_of[id(a)]))
                elif isinstance(a, Tensor) and a._ctx is None and a.requires_grad:
                    if id(a) not in leaf_index:
                        leaf_index[id(a)] = len(self.leaves)
                        self.leaves.append(a)
                    refs.append((_LEAF, leaf_index[id(a)]))
                else:
                    data = a.data if isinstance(a, Tensor) else a
                    position = next((i for i, x in enumerate(inputs) if x is data), None)
                    refs.append((_INPUT, position) if position is not None else (_CONST, a))
            self.ops.append((cls, tuple(refs), params, needs, out.requires_grad))
        self.outputs = tuple(slot_of.get(id(t)) for t in outputs)
        #: (shape, dtype) of each output of the recorded call
        self.output_meta = tuple((t.data.shape, t.data.dtype) for t in outputs)
        self.valid = all(k is not None for k in self.outputs) and bool(self.ops)
        if self.valid:
            root = self.outputs[-1]
            self.loss_shape, self.loss_dtype = outputs[-1].data.shape, outputs[-1].data.dtype
            self._plan_backward()
            self.order = self._engine_order(root)
            # per op, the arrays it may reuse from one replay to the next (Function.Buffers);
            # an output that leaves the step is made afresh each time
            self.buffers = [Buffers(output_free=k not in self.outputs)
                            for k in range(len(self.ops))]

    def same_as(self, other: "_Program") -> bool:
        """Both recordings made the same ops on the same kinds of inputs."""
        if len(self.ops) != len(other.ops) or self.outputs != other.outputs:
            return False
        if len(self.leaves) != len(other.leaves) or any(
                a is not b for a, b in zip(self.leaves, other.leaves)):
            return False
        for (c1, r1, p1, n1, g1), (c2, r2, p2, n2, g2) in zip(self.ops, other.ops):
            if c1 is not c2 or n1 != n2 or g1 != g2 or len(r1) != len(r2):
                return False
            if p1.keys() != p2.keys() or not all(_same_constant(p1[k], p2[k]) for k in p1):
                return False
            for (k1, v1), (k2, v2) in zip(r1, r2):
                if k1 != k2:
                    return False
                if k1 == _CONST:
                    if not _same_constant(v1, v2):
                        return False
                elif v1 != v2:
                    return False
        return True

    def _engine_order(self, root: int) -> list[tuple[int, int]]:
        """The nodes in the order :func:`neuralab.autograd.engine.backward` visits them: its
        consumer counts and its last-in-first-out ready list, run on the recording's structure
        (nodes are ``(_SLOT, k)`` and ``(_LEAF, j)``); the edges are :meth:`_plan_backward`'s
        receivers, in input order as the engine walks them."""
        def parents(node: tuple[int, int]) -> list[tuple[int, int]]:
            if node[0] != _SLOT:
                return []
            return [(kind, v) for _, kind, v in self.receivers[node[1]]]

        start = (_SLOT, root)
        pending: dict[tuple[int, int], int] = {start: 0}
        stack = [start]
        while stack:
            for parent in parents(stack.pop()):
                if parent in pending:
                    pending[parent] += 1
                else:
                    pending[parent] = 1
                    stack.append(parent)
        order = []
        ready = [start]
        while ready:
            node = ready.pop()
            order.append(node)
            for parent in parents(node):
                pending[parent] -= 1
                if pending[parent] == 0:
                    ready.append(parent)
        return order

    def _plan_backward(self) -> None:
        """Per op, the inputs that receive a gradient: (position, kind, index) with kind _SLOT
        (an op's output that requires one) or _LEAF."""
        self.receivers = []
        for _, refs, _, needs, _ in self.ops:
            keep = []
            if needs is not None:
                for pos, (kind, v) in enumerate(refs):
                    if kind == _LEAF or (kind == _SLOT and self.ops[v][4]):
                        keep.append((pos, kind, v))
            self.receivers.append(tuple(keep))

    def run(self, inputs: Sequence[np.ndarray]) -> tuple[np.ndarray, ...]:
        """Forward and backward once on ``inputs``: the leaves receive their gradients; returns
        the values of the step function's outputs."""
        ops = self.ops
        values: list[Any] = [None] * len(ops)
        fns: list[Any] = [None] * len(ops)
        leaves = self.leaves
        buffers = self.buffers
        # a gradient left in a leaf (no zero_grad since the last step) may be one of the
        # buffers: then the gradients of this step go to new arrays
        grads_free = True
        for leaf in leaves:
            if leaf.grad is not None:
                grads_free = False
                break
        for k, (cls, refs, params, needs, _) in enumerate(ops):
            args = []
            for kind, v in refs:
                if kind == _SLOT:
                    args.append(values[v])
                elif kind == _LEAF:
                    args.append(leaves[v].data)
                elif kind == _INPUT:
                    args.append(inputs[v])
                else:
                    args.append(v.data if isinstance(v, Tensor) else v)
            fn = cls()
            fn.buffers = buffers[k]
            buffers[k].grads_free = grads_free
            values[k] = fn.forward(*args, **params)
            if needs is not None:
                fn.needs = needs
            fns[k] = fn
        results = tuple(values[k] for k in self.outputs)
        slot_grads: list[Any] = [None] * len(ops)
        leaf_grads: list[Any] = [None] * len(leaves)
        slot_grads[self.outputs[-1]] = np.ones(self.loss_shape, dtype=self.loss_dtype)
        handed_out: set[int] = set()
        receivers = self.receivers
        for kind, k in self.order:
            if kind == _LEAF:
                g = leaf_grads[k]
                if g is not None:
                    _accumulate_leaf(leaves[k], g, handed_out)
                continue
            g = slot_grads[k]
            slot_grads[k] = None
            fn = fns[k]
            fns[k] = None  # as the engine releases each op after its backward
            if g is None:
                continue
            parent_grads = fn.backward(g)
            for pos, rkind, v in receivers[k]:
                pg = parent_grads[pos]
                if pg is None:
                    continue
                if rkind == _SLOT:
                    shape = values[v].shape
                    grads = slot_grads
                else:
                    shape = leaves[v].data.shape
                    grads = leaf_grads
                if pg.shape != shape:
                    pg = unbroadcast(pg, shape)
                previous = grads[v]
                grads[v] = pg if previous is None else previous + pg
            values[k] = None
        return results


class CapturedStep:
    """``step(*arrays)`` runs ``fn(*arrays)`` (which returns tensors, the last one a loss) and
    the loss's backward pass; returns the outputs' arrays.  Per shape and dtype of the arrays,
    the first two calls run normally and are recorded; when the two recordings agree, later
    calls replay them (see the module docstring).  ``check(arrays, outputs)``, if given, runs
    before every replay with the arrays and the (shape, dtype) of each recorded output: the
    validation that the skipped Python code would have done.

    >>> step = CapturedStep(lambda x, y: (lambda out: (out, loss_fn(out, y)))(model(x)))
    >>> out, loss = step(xb, yb)           # gradients are in the parameters' .grad
    """

    def __init__(self, fn: Callable[..., Sequence[Tensor]],
                 check: Callable[[Sequence[np.ndarray], tuple], None] | None = None) -> None:
        self.fn = fn
        self.check = check
        self._programs: dict[tuple, Any] = {}
        #: how many calls were replayed (the rest ran normally)
        self.replays = 0

    def captured(self, *arrays: np.ndarray) -> bool:
        """Whether calls on arrays like these are replayed."""
        return isinstance(self._programs.get(self._key(arrays)), _Program)

    @staticmethod
    def _key(arrays: Sequence[np.ndarray]) -> tuple:
        return tuple((a.shape, a.dtype) for a in arrays) + (GRAD_MODE.enabled,)

    def __call__(self, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
        if not all(type(a) is np.ndarray for a in arrays):
            return self._plain(arrays)
        key = self._key(arrays)
        program = self._programs.get(key)
        if isinstance(program, _Program):
            if not all(p.requires_grad for p in program.leaves):  # frozen since the recording
                return self._plain(arrays)
            if self.check is not None:
                self.check(arrays, program.output_meta)
            self.replays += 1
            return program.run(arrays)
        if program is False or not GRAD_MODE.enabled or RECORDING.current is not None:
            return self._plain(arrays)
        raw: list = []
        RECORDING.current = raw
        try:
            outputs = tuple(self.fn(*arrays))
        finally:
            RECORDING.current = None
        new = _Program(raw, arrays, outputs)
        del raw
        outputs[-1].backward()
        if not new.valid:
            self._programs[key] = False
        elif program is None:
            self._programs[key] = ("first", new)
        else:
            self._programs[key] = new if new.same_as(program[1]) else False
        return tuple(t.data for t in outputs)

    def _plain(self, arrays: Sequence[np.ndarray]) -> tuple[np.ndarray, ...]:
        outputs = tuple(self.fn(*arrays))
        outputs[-1].backward()
        return tuple(t.data for t in outputs)

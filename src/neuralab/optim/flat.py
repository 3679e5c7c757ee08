"""The flat update path of the optimizers: a whole parameter group updated by one call.

A small network has few values per tensor, so the cost of an update is NumPy's per-call overhead
(about a dozen ufunc calls per tensor for Adam).  Here the parameters' ``.data`` become views into
one flat array per group, the state arrays too, and a step costs one gradient copy per tensor plus
one update of the flat arrays (or, for a large group, :mod:`.blocked`'s multi-threaded update by
pieces of them).  Numbers are identical to the per-parameter loop (the update is element-wise).
A group qualifies when every parameter has a gradient of its shape, all share one dtype and one
step count; otherwise the optimizer's per-parameter loop runs.

The update of the flat arrays is the optimizer's compiled one-pass kernel when
``Optimizer._compiled_update`` gives one (numba installed, :func:`neuralab.kernels.enabled`,
float32 or float64; asked at every step, so ``with neuralab.kernels.disabled():`` holds from the
next step on), else its NumPy ``_update``, the reference; both give the same bits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd import Tensor
from . import blocked

if TYPE_CHECKING:  # the base class calls into this module; it needs the type only
    from .optimizer import Optimizer


def step_flat(opt: Optimizer, index: int, group: dict[str, Any]) -> bool:
    """One step of group ``index`` of ``opt`` on its flat buffers; False when the group does
    not qualify this time (then the optimizer's per-parameter loop runs)."""
    params = group["params"]
    flat = opt._flat.get(index)
    if flat is None or flat.params != params:
        flat = FlatGroup.create(opt, params, group)
        if flat is None:
            return False
        opt._flat[index] = flat
    if not flat.ready(opt.state):
        return False
    # the compiled update (None: the reference), chosen at every step (kernels.disabled() holds)
    compiled = opt._compiled_update(group, flat.data.dtype)
    fast = opt._blocked_update and blocked.usable(opt, flat, group, compiled is not None)
    grads = []
    for p, view, gview in zip(params, flat.views, flat.grad_views):
        grad = p.grad
        if grad.shape != view.shape:
            return False
        if p.data is not view:  # .data was replaced (p.data = ...): adopt the new values
            if p.data.shape != view.shape or p.data.dtype != view.dtype:
                del opt._flat[index]
                return False
            view[...] = p.data
            p.data = view
        if fast and blocked.direct(view.size):
            # read where backward left it when it is already an array of the group's dtype
            if grad.dtype != view.dtype or not grad.flags.c_contiguous:
                np.copyto(gview, grad, casting="same_kind")
                grad = gview
            grads.append(grad.reshape(-1))
        else:
            np.copyto(gview, grad, casting="same_kind")
            grads.append(gview)
    flat.state["step"] += 1
    for st in flat.param_states:
        st["step"] += 1
    if fast:
        blocked.update_blocked(opt, flat, group, grads, compiled)
    else:
        (compiled or opt._update)(flat.data, flat.grad, flat.state, group, flat.scratch)
        flat.adopt_new_state()
    return True


class FlatGroup:
    """One parameter group's values, gradients and state laid out in flat arrays; each
    parameter's ``.data`` and each state entry is a view into them."""

    def __init__(self, opt: Optimizer, params: list[Tensor], group: dict[str, Any]) -> None:
        dtype = params[0].data.dtype
        sizes = [p.data.size for p in params]
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        total = int(offsets[-1])
        self.params = list(params)
        self.slices = [
            (int(a), int(b), p.data.shape) for a, b, p in zip(offsets, offsets[1:], params)
        ]
        self.data = np.empty(total, dtype=dtype)
        self.grad = np.empty(total, dtype=dtype)
        self.scratch = [np.empty(total, dtype=dtype) for _ in range(opt._n_scratch)]
        self.views = self._split(self.data)
        #: the blocks of the blocked update (see :mod:`.blocked`), made on its first step
        self.plan: blocked.Plan | None = None
        self.grad_views = self._split(self.grad)
        for p, view in zip(params, self.views):
            view[...] = p.data
            p.data = view
        old = [opt.state.get(p) for p in params]
        if old[0] is None:
            self.state = {"step": 0, **opt._init_state(self.data, group)}
        else:
            self.state = {"step": old[0]["step"]}
            for key in old[0]:
                if key != "step":
                    self.state[key] = np.concatenate([st[key].reshape(-1) for st in old])
        self.param_states = []
        for p in params:
            entry = {"step": self.state["step"]}
            opt.state[p] = entry
            self.param_states.append(entry)
        self.adopt_new_state()

    @classmethod
    def create(
        cls, opt: Optimizer, params: list[Tensor], group: dict[str, Any]
    ) -> "FlatGroup | None":
        first = params[0].data
        if first.dtype.kind != "f" or any(
            p.data.dtype != first.dtype or p.grad is None for p in params
        ):
            return None
        states = [opt.state.get(p) for p in params]
        if any(st is None for st in states):
            if any(st is not None for st in states):
                return None
        else:
            keys = set(states[0])
            if any(set(st) != keys or st["step"] != states[0]["step"] for st in states):
                return None
            if any(
                not isinstance(v, np.ndarray) or v.shape != p.data.shape
                for p, st in zip(params, states)
                for k, v in st.items()
                if k != "step"
            ):
                return None
        return cls(opt, params, group)

    def _split(self, flat: np.ndarray) -> list[np.ndarray]:
        return [flat[a:b].reshape(shape) for a, b, shape in self.slices]

    def ready(self, state: dict[Tensor, dict[str, Any]]) -> bool:
        """Every parameter has a gradient and its state is still this group's (not replaced or
        advanced by a per-parameter step)."""
        step = self.state["step"]
        for p, entry in zip(self.params, self.param_states):
            if p.grad is None or state.get(p) is not entry or entry["step"] != step:
                return False
        return True

    def adopt_new_state(self) -> None:
        """Give every parameter views of the flat state arrays it does not have yet."""
        for key, value in self.state.items():
            if key == "step" or key in self.param_states[0]:
                continue
            for entry, view in zip(self.param_states, self._split(value)):
                entry[key] = view

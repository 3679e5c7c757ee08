"""The optimizer base class (가중치 업데이트) and gradient clipping.

An optimizer holds *parameter groups* (lists of tensors with their hyperparameters) and, per
tensor, a *state* created on the first ``step()`` that finds a gradient for it (momentum buffers,
running averages, a step count).  A subclass writes only ``_init_state`` and ``_update``, the
update rule on NumPy arrays, in place.

State and hyperparameters round-trip through :meth:`Optimizer.state_dict` as plain dicts of
NumPy arrays and Python numbers, so a checkpoint can be written as JSON plus safetensors::

    {"state": {"0": {"step": 12, "exp_avg": ndarray, ...}, ...},
     "param_groups": [{"lr": 0.001, "betas": [0.9, 0.999], ..., "params": [0, 1, 2]}]}

Parameters are numbered in the order the groups list them, as in PyTorch.
"""

from __future__ import annotations

import math
from typing import Any, Callable, ClassVar, Iterable

import numpy as np

from .. import kernels
from ..autograd import Tensor, enable_grad
from .flat import FlatGroup, step_flat

ParamsLike = Iterable[Tensor] | Iterable[dict[str, Any]]

_EMPTY_HINT = (
    "pass the tensors to optimize (a model whose layers are built lazily has no parameters "
    "before its first call: call it once on a batch, or give the first layer input_dim)"
)


class Optimizer:
    """Base class: parameter groups, lazy per-parameter state, ``zero_grad``/``step``, state dicts.

    Subclasses set ``defaults`` (the hyperparameters and their default values) by passing them to
    ``__init__``, validate them in ``_check_group``, and implement

    * ``_init_state(data, group) -> dict`` giving the state arrays (zeros, preallocated) and
    * ``_update(data, grad, state, group)`` applying one step in place to the array ``data``.

    ``state["step"]`` (the number of updates this parameter has received) is kept by the base
    class and already incremented when ``_update`` runs.

    ``_update`` is the reference.  A subclass may also give a compiled one-pass update through
    ``_kernel`` (see :meth:`_compiled_update`); every path of :meth:`step` (per parameter, flat
    group, blocks) runs it instead of ``_update`` when :func:`neuralab.kernels.enabled` (read at
    each step), with the same numbers bit for bit.
    """

    #: how many scratch arrays the size of the largest parameter ``_update`` may use
    _n_scratch: ClassVar[int] = 1
    #: True when ``_init_state`` gives only arrays shaped like the parameter, so that a whole
    #: group can be updated at once on flat buffers (see ``_step_flat``)
    _flat_update: ClassVar[bool] = False
    #: True to update a large flat group block by block and across threads (see
    #: :mod:`neuralab.optim.blocked`; the same numbers as one ``_update`` on the whole group)
    _blocked_update: ClassVar[bool] = True

    def __init__(self, params: ParamsLike, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Tensor, dict[str, Any]] = {}
        # scratch buffers shared by all parameters of one dtype; views cached per parameter
        self._pool: dict[np.dtype, list[np.ndarray]] = {}
        self._views: dict[Tensor, list[np.ndarray]] = {}
        self._flat: dict[int, FlatGroup] = {}
        self._check_group(self.defaults)
        for group in _as_param_groups(params, type(self).__name__):
            self.add_param_group(group)

    # ------------------------------------------------------------------ groups and lr
    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group ``{"params": [...], "lr": ..., ...}``; missing hyperparameters take the
        optimizer's defaults.  Used for layer-wise learning rates or for fine-tuning."""
        name = type(self).__name__
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(
                f"{name} expected a param group as a dict with a 'params' key, got {group!r}"
            )
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        if not params:
            raise ValueError(f"{name} got an empty parameter list; {_EMPTY_HINT}")
        unknown = set(group) - set(self.defaults) - {"params", "initial_lr"}
        if unknown:
            raise ValueError(
                f"{name} got unknown hyperparameters {sorted(unknown)} in a param group; "
                f"expected some of {sorted(self.defaults)}"
            )
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            _check_param(p, i, name)
            if id(p) in seen:
                raise ValueError(
                    f"{name}: parameter {i} (shape {p.shape}) appears more than once across the "
                    "param groups; each tensor may belong to one group only"
                )
            seen.add(id(p))
        full = {**self.defaults, **{k: v for k, v in group.items() if k != "params"}}
        if isinstance(full.get("betas"), list):
            full["betas"] = tuple(full["betas"])
        self._check_group(full)
        full["params"] = params
        self.param_groups.append(full)

    @property
    def lr(self) -> float:
        """The learning rate (of the first group).  Setting it sets every group's rate."""
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        _check_lr(value, type(self).__name__)
        for group in self.param_groups:
            group["lr"] = float(value)

    @property
    def params(self) -> list[Tensor]:
        """Every parameter, in group order (the numbering used by :meth:`state_dict`)."""
        return [p for group in self.param_groups for p in group["params"]]

    # ------------------------------------------------------------------ the step
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient: ``None`` (the default, as PyTorch) or zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.fill(0)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient (those whose ``.grad`` is None are skipped
        and get no state).  ``closure``, if given, recomputes the loss (with gradients) first and
        its value is returned."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for index, group in enumerate(self.param_groups):
            if self._flat_update and self._step_flat(index, group):
                continue
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                data = p.data
                if grad.shape != data.shape:
                    raise ValueError(
                        f"{type(self).__name__}: gradient of shape {grad.shape} does not match its "
                        f"parameter of shape {data.shape}"
                    )
                if grad.dtype != data.dtype:  # e.g. a float64 gradient set by hand
                    grad = grad.astype(data.dtype)
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = {"step": 0, **self._init_state(data, group)}
                state["step"] += 1
                update = self._compiled_update(group, data.dtype) or self._update
                update(data, grad, state, group, self._scratch(p, data))
        return loss

    def _compiled_update(
        self, group: dict[str, Any], dtype: np.dtype
    ) -> Callable[..., None] | None:
        """The compiled update for ``group`` on arrays of ``dtype``, called as ``_update``
        (``(data, grad, state, group, scratch)``), or None for the reference ``_update``: when the
        kernels are switched off or numba is missing (:func:`neuralab.kernels.enabled`, read here
        at every step), for dtypes other than float32 and float64, when a hyperparameter is not a
        plain Python number (a NumPy scalar would change the reference's rounding), or when the
        optimizer has no kernel for the group's options (``_kernel``), or when a subclass
        redefines ``_update`` below the class that gives ``_kernel`` (the kernel would not be its
        rule).  The compiled update itself runs the reference when a state array it reads does
        not exist yet (an option switched on after the first steps) or an array is not
        C-contiguous."""
        if dtype not in kernels.DTYPES or not kernels.enabled() or not _kernel_is_current(
                type(self)):
            return None
        for key, value in group.items():
            if key != "params" and not _plain_number(value):
                return None
        return self._kernel(group)

    def _reference_update(self, data, grad, state, group, scratch) -> None:
        """``_update``, for a compiled update that cannot run: with scratch arrays of its own
        when the caller has none (the compiled path's pieces in :mod:`.blocked`)."""
        if len(scratch) < self._n_scratch:
            scratch = [np.empty_like(data) for _ in range(self._n_scratch)]
        self._update(data, grad, state, group, scratch)

    def _kernel(self, group: dict[str, Any]) -> Callable[..., None] | None:
        """Subclasses: the compiled update for ``group``'s options (see
        :meth:`_compiled_update`), or None when there is none."""
        return None

    def _step_flat(self, index: int, group: dict[str, Any]) -> bool:
        """Update a whole group with one call of ``_update`` on flat buffers (see
        :mod:`neuralab.optim.flat`); False when the group does not qualify this time (then the
        per-parameter loop runs)."""
        return step_flat(self, index, group)

    def _init_state(self, data: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        return {}

    def _state_keys(self, group: dict[str, Any], dtype: np.dtype) -> tuple[str, ...]:
        """The state arrays that ``_update`` reads for ``group``: those of ``_init_state``
        (a subclass whose ``_update`` creates one lazily names it here too)."""
        return tuple(self._init_state(np.empty(0, dtype=dtype), group))

    def _update(
        self,
        data: np.ndarray,
        grad: np.ndarray,
        state: dict[str, Any],
        group: dict[str, Any],
        scratch: list[np.ndarray],
    ) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_group(self, group: dict[str, Any]) -> None:
        """Refuse bad hyperparameters where they enter (construction, ``add_param_group``,
        ``load_state_dict``): ``lr`` must be a non-negative number and every number finite (an
        ``inf`` rate or weight decay would turn every weight into inf/nan on the first step).
        Subclasses check their own ranges after calling this."""
        name = type(self).__name__
        _check_lr(group["lr"], name)
        for key, value in group.items():
            if key != "params":
                _check_finite(value, key, name)

    def _scratch(self, p: Tensor, data: np.ndarray) -> list[np.ndarray]:
        """Temporary arrays shaped like ``data``: views into a pool sized to the largest
        parameter, so a step allocates nothing once every parameter has been seen."""
        views = self._views.get(p)
        if views is not None and views[0].shape == data.shape and views[0].dtype == data.dtype:
            return views
        pool = self._pool.get(data.dtype)
        if pool is None or pool[0].size < data.size:
            largest = max(
                (q.data.size for q in self.params if q.data.dtype == data.dtype), default=0
            )
            size = max(largest, data.size)
            pool = [np.empty(size, dtype=data.dtype) for _ in range(self._n_scratch)]
            self._pool[data.dtype] = pool
            self._views.clear()
        views = [buf[: data.size].reshape(data.shape) for buf in pool]
        self._views[p] = views
        return views

    # ------------------------------------------------------------------ state dicts
    def state_dict(self) -> dict[str, Any]:
        """A snapshot of the state (copied arrays) and hyperparameters as plain dicts, lists,
        numbers and NumPy arrays; parameters are referred to by their index in group order."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index[id(p)] = len(index)
                ids.append(index[id(p)])
            packed = {k: _plain(v) for k, v in group.items() if k != "params"}
            packed["params"] = ids
            groups.append(packed)
        state = {}
        for p, s in self.state.items():
            if id(p) in index:
                state[str(index[id(p)])] = {
                    k: (v.copy() if isinstance(v, np.ndarray) else _plain(v)) for k, v in s.items()
                }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (possibly after a JSON/safetensors round trip:
        arrays may come back as nested lists, indices as strings).  The parameters stay this
        optimizer's own; they must match the saved ones in number and shape."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError(
                f"{name}.load_state_dict expected a dict with keys 'state' and 'param_groups', "
                f"got {sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict)}"
            )
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the saved state has {len(saved_groups)} param groups, "
                f"this optimizer has {len(self.param_groups)}"
            )
        by_index: dict[int, Tensor] = {}
        new_groups = []
        for k, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: param group {k} was saved with "
                    f"{len(saved['params'])} parameters, this optimizer's has "
                    f"{len(group['params'])}"
                )
            for i, p in zip(saved["params"], group["params"]):
                by_index[int(i)] = p
            hyper = {key: v for key, v in saved.items() if key != "params"}
            if isinstance(hyper.get("betas"), list):
                hyper["betas"] = tuple(hyper["betas"])
            unknown = set(hyper) - set(self.defaults) - {"initial_lr"}
            if unknown:
                raise ValueError(
                    f"{name}.load_state_dict: param group {k} has unknown hyperparameters "
                    f"{sorted(unknown)}; was it saved by another optimizer?"
                )
            new_group = {**group, **hyper}
            self._check_group(new_group)
            new_groups.append(new_group)
        new_state: dict[Tensor, dict[str, Any]] = {}
        for key, saved in state_dict["state"].items():
            p = by_index.get(int(key))
            if p is None:
                raise ValueError(f"{name}.load_state_dict: state for unknown parameter index {key}")
            entry: dict[str, Any] = {}
            for k, v in saved.items():
                if k == "step":
                    entry[k] = int(v)
                    continue
                arr = np.array(v, dtype=p.data.dtype)
                if arr.shape != p.data.shape:
                    raise ValueError(
                        f"{name}.load_state_dict: state {k!r} of parameter {key} has shape "
                        f"{arr.shape}, the parameter has shape {p.data.shape}"
                    )
                entry[k] = arr
            new_state[p] = entry
        for group, new_group in zip(self.param_groups, new_groups):
            group.update(new_group)
        self.state = new_state
        self._flat.clear()

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            hyper = ", ".join(f"{k}={v}" for k, v in group.items() if k != "params")
            sizes = sum(p.data.size for p in group["params"])
            lines.append(f"  group {i}: {len(group['params'])} tensors, {sizes} values; {hyper}")
        return "\n".join(lines) + "\n)"


# ---------------------------------------------------------------------- validation helpers
def _as_param_groups(params: Any, name: str) -> list[dict[str, Any]]:
    if isinstance(params, Tensor):
        raise TypeError(
            f"{name} expected an iterable of tensors or of param-group dicts, got a single Tensor "
            f"of shape {params.shape}; wrap it in a list: [tensor]"
        )
    if isinstance(params, dict):
        raise TypeError(
            f"{name} expected an iterable of tensors or of param-group dicts, got one dict; "
            "wrap it in a list"
        )
    try:
        items = list(params)
    except TypeError:
        raise TypeError(
            f"{name} expected an iterable of tensors or of param-group dicts, got "
            f"{type(params).__name__}"
        ) from None
    if not items:
        raise ValueError(f"{name} got an empty parameter list; {_EMPTY_HINT}")
    if all(isinstance(item, dict) for item in items):
        return items
    if any(isinstance(item, dict) for item in items):
        raise TypeError(f"{name} expected either tensors or param-group dicts, not a mix of both")
    return [{"params": items}]


def _check_param(p: Any, i: int, name: str) -> None:
    if not isinstance(p, Tensor):
        raise TypeError(
            f"{name} expected tensors to optimize, got {type(p).__name__} at position {i}"
        )
    if not p.requires_grad:
        raise ValueError(
            f"{name}: parameter {i} (shape {p.shape}) does not require a gradient; create it with "
            "requires_grad=True or leave it out"
        )
    if not p.is_leaf:
        raise ValueError(
            f"{name}: parameter {i} (shape {p.shape}) is the result of an op, not a leaf tensor; "
            "optimize the tensors you created, not values computed from them"
        )
    if p.data.dtype.kind != "f":
        raise TypeError(f"{name}: parameter {i} has dtype {p.data.dtype}; expected floating point")


def _check_lr(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"{name} expected a non-negative number for `lr`, got {value!r}")
    _check_finite(value, "lr", name)


def _check_finite(value: Any, what: str, name: str) -> None:
    """Every number in a hyperparameter (also inside a tuple such as ``betas``) is finite."""
    if isinstance(value, (tuple, list)):
        for i, v in enumerate(value):
            _check_finite(v, f"{what}[{i}]", name)
    elif isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ValueError(f"{name} expected a finite number for `{what}`, got {value!r}")


_UNUSED: dict[np.dtype, np.ndarray] = {}
_KERNEL_IS_CURRENT: dict[type, bool] = {}


def _kernel_is_current(cls: type) -> bool:
    """``cls._kernel`` is defined by the class that defines ``cls._update`` or by a subclass of
    it (so the kernel implements the update rule that ``cls`` uses)."""
    ok = _KERNEL_IS_CURRENT.get(cls)
    if ok is None:
        owner = {name: next(c for c in cls.__mro__ if name in vars(c))
                 for name in ("_kernel", "_update")}
        ok = _KERNEL_IS_CURRENT[cls] = issubclass(owner["_kernel"], owner["_update"])
    return ok


def _plain_number(value: Any) -> bool:
    if type(value) is tuple or type(value) is list:
        return all(_plain_number(v) for v in value)
    return type(value) in (float, int, bool)


def kernel_views(data: np.ndarray, grad: np.ndarray,
                 *states: np.ndarray | None) -> list[np.ndarray] | None:
    """``data``, ``grad`` and the state arrays as 1-D views for a compiled kernel, or None when
    the reference must run instead: a state array is missing (``None``) or one of them is not a
    writable C-contiguous array of ``data``'s shape and dtype.  A gradient that is not
    C-contiguous is copied (it is only read)."""
    dtype, shape = data.dtype, data.shape
    for a in (data, *states):
        if (a is None or a.dtype != dtype or a.shape != shape or not a.flags.c_contiguous
                or not a.flags.writeable):
            return None
    if grad.dtype != dtype or grad.shape != shape:
        return None
    if not grad.flags.c_contiguous:
        grad = np.ascontiguousarray(grad)
    return [data.reshape(-1), grad.reshape(-1), *(a.reshape(-1) for a in states)]


def unused(dtype: np.dtype) -> np.ndarray:
    """An empty array of ``dtype``: the argument of a kernel for a state array that the
    group's options do not use."""
    empty = _UNUSED.get(dtype)
    if empty is None:
        empty = _UNUSED[dtype] = np.empty(0, dtype=dtype)
    return empty


def sqrt_plus_eps(s: np.ndarray, eps: float, inside: bool, out: np.ndarray) -> np.ndarray:
    """``sqrt(s) + eps`` (PyTorch's placement) or, with ``inside``, ``sqrt(s + eps)`` (Keras'), into
    ``out`` (which may be ``s``): RMSProp's and AdaGrad's denominator."""
    if inside:
        np.add(s, eps, out=out)
        return np.sqrt(out, out=out)
    np.sqrt(s, out=out)
    out += eps
    return out


def check_non_negative(value: Any, what: str, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"{name} expected a non-negative number for `{what}`, got {value!r}")


def check_unit_interval(value: Any, what: str, name: str) -> None:
    """0 <= value < 1 (a decay rate or momentum)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"{name} expected a number in [0, 1) for `{what}`, got {value!r}")


def _plain(value: Any) -> Any:
    """Hyperparameters as JSON-friendly Python values (tuples become lists)."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


# ---------------------------------------------------------------------- gradient clipping
def _grads(params: Iterable[Tensor] | Tensor) -> list[np.ndarray]:
    if isinstance(params, Tensor):
        params = [params]
    grads = []
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"expected tensors, got {type(p).__name__} at position {i}")
        if p.grad is not None:
            grads.append(p.grad)
    return grads


def clip_grad_norm(
    params: Iterable[Tensor] | Tensor,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> float:
    """Scale all gradients together so that their joint norm is at most ``max_norm``; in place.

    The norm is taken over all gradients as if concatenated into one vector,
    ``total = (sum_i ||g_i||_p^p)^(1/p)`` (``p = inf``: the largest ``|g|``), and every gradient is
    multiplied by ``min(1, max_norm / (total + 1e-6))``, as ``torch.nn.utils.clip_grad_norm_``.
    Parameters without a gradient are ignored.  Returns the total norm before clipping.

    >>> total = clip_grad_norm(model.parameters(), max_norm=1.0)   # between backward and step
    """
    check_non_negative(max_norm, "max_norm", "clip_grad_norm")
    norm_type = float(norm_type)
    if not norm_type > 0:
        raise ValueError(
            f"clip_grad_norm expected a positive `norm_type` (or inf), got {norm_type}"
        )
    grads = _grads(params)
    if not grads:
        return 0.0
    if math.isinf(norm_type):
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    elif norm_type == 2.0:
        # per-tensor sums of squares by a BLAS dot product: no temporary the size of the gradient
        total = math.sqrt(sum(float(np.dot(g.ravel(), g.ravel())) for g in grads))
    else:
        total = sum(float(np.sum(np.abs(g) ** norm_type)) for g in grads) ** (1.0 / norm_type)
    if not math.isfinite(total) and error_if_nonfinite:
        raise RuntimeError(
            f"clip_grad_norm: the total {norm_type}-norm of the gradients is {total}; "
            "the loss or a gradient is not finite"
        )
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for g in grads:
            g *= coef
    return total


def clip_grad_value(params: Iterable[Tensor] | Tensor, clip_value: float) -> None:
    """Clamp every gradient element to ``[-clip_value, clip_value]``, in place
    (``torch.nn.utils.clip_grad_value_``).  Parameters without a gradient are ignored."""
    check_non_negative(clip_value, "clip_value", "clip_grad_value")
    for g in _grads(params):
        np.clip(g, -clip_value, clip_value, out=g)

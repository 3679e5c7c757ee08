"""Module and Parameter: the containers of weights that layers and models are built from.

A :class:`Module` finds its parameters by walking its own attributes (in the order they were set),
descending into sub-modules and into lists, tuples and dicts of them, so a layer only has to assign
``self.weight = Parameter(...)``; nothing needs registering.  Names are dotted paths:
``"0.weight"`` (first layer of a Sequential), ``"block.norm.bias"``, ``"heads.1.weight"``.

Order: each module lists its own parameters (attribute order) before those of its sub-modules,
pre-order, as PyTorch does.  A parameter or module reachable twice (shared) is listed once.

Buffers are arrays that belong to the state but are not trained (BatchNorm's running statistics):
``self.register_buffer("running_mean", np.zeros(n, np.float32))``.  They appear in
:meth:`Module.state_dict` and in a model's saved file, never in :meth:`Module.parameters`.

Architectures are saved as JSON (see :mod:`neuralab.io`): every layer class is registered by name
with :func:`register` and describes its constructor arguments with ``get_config()``;
:func:`serialize` and :func:`deserialize` turn a model into such a dict and back, no pickle.
"""

from __future__ import annotations

import re
from typing import Any, Iterator, NamedTuple, TypeVar

import numpy as np

from ..autograd.function import SCOPE, CallScope
from ..autograd.tensor import Tensor


class Parameter(Tensor):
    """A tensor that a module trains: a leaf with ``requires_grad=True``, float32 unless ``dtype``
    says otherwise.  ``data`` is copied.

    >>> w = Parameter(np.zeros((4, 3)))
    >>> w.dtype, w.requires_grad
    (dtype('float32'), True)
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: Any = None) -> None:
        super().__init__(
            data, requires_grad=requires_grad, dtype=np.float32 if dtype is None else dtype
        )
        if self.data.dtype.kind != "f":
            raise TypeError(f"Parameter expected floating-point data, got dtype {self.data.dtype}")

    def __repr__(self) -> str:
        return "Parameter" + super().__repr__()[len("tensor"):]


class LoadResult(NamedTuple):
    """What :meth:`Module.load_state_dict` did not match (empty lists when ``strict=True``)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


_CAMEL_SPLIT = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _snake_case(name: str) -> str:
    # acronyms would split badly ("ReLU" -> "re_lu"), so they are lower-cased first
    for acronym in ("ReLU", "GELU", "ELU", "MLP", "MSE", "2D"):
        name = name.replace(acronym, acronym.capitalize())  # "Conv2D" -> "conv2d"
    return _CAMEL_SPLIT.sub("_", name).lower()


def _collect(name: str, value: Any, out: list[tuple[str, Any]]) -> None:
    """Append the (dotted name, Parameter or Module) pairs found in ``value``, through lists,
    tuples and dicts.  (A plain function filling a list: walking runs on every parameters() call
    and generators would double its cost.)"""
    if isinstance(value, (Parameter, Module)):
        out.append((name, value))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            if isinstance(item, _WALKED):
                _collect(f"{name}.{i}", item, out)
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, _WALKED):
                _collect(f"{name}.{key}", item, out)


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


class Module:
    """Base class of layers and models.

    Subclasses set parameters and sub-modules as attributes in ``__init__`` (calling
    ``super().__init__()`` is optional) and define ``forward``; ``module(x)`` calls ``forward``.

    >>> class TwoLayer(nn.Module):
    ...     def __init__(self):
    ...         self.hidden = nn.Dense(8, activation="tanh")
    ...         self.out = nn.Dense(1)
    ...     def forward(self, x):
    ...         return self.out(self.hidden(x))
    """

    training: bool = True
    #: True for a layer whose output holds its input's values, at most reshaped, in evaluation
    #: mode (Dropout, Flatten, Identity): activation statistics leave such layers out.
    passes_values_through: bool = False
    #: True for a layer of (N, C, H, W) images (Conv2D, the pooling layers, BatchNorm2D): its
    #: channel count does not tell ``summary()`` the input shape, which needs H and W too.
    spatial: bool = False
    #: True for a layer whose forward is ops alone, with no other Python work whose effect
    #: matters at every step (no check of the data, no state updated, no random draw outside an
    #: op): a Trainer may then replay its recorded ops (:mod:`neuralab.autograd.capture`)
    capturable: bool = False
    _name: str | None = None
    _buffer_names: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.training = True

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # the ops recorded during this call remember it (fn.scope): neuralab.graph draws them as
        # one box with collapse="module"
        outer = SCOPE.current
        SCOPE.current = CallScope(self, outer)
        try:
            return self.forward(*args, **kwargs)
        finally:
            SCOPE.current = outer

    # ----------------------------------------------------------------- naming
    @property
    def name(self) -> str:
        """The layer's name in summaries and listings: set explicitly, by a container
        (``"dense"``, ``"dense_1"``), or the class name in snake case."""
        return self._name if self._name is not None else _snake_case(type(self).__name__)

    @name.setter
    def name(self, value: str) -> None:
        if not isinstance(value, str) or not value:
            raise ValueError(f"a module name must be a non-empty string, got {value!r}")
        self._name = value

    # ----------------------------------------------------------------- walking the tree
    def _direct_members(self) -> list[tuple[str, Any]]:
        """Parameters and sub-modules held directly by this module, in attribute order
        (containers override it)."""
        out: list[tuple[str, Any]] = []
        for key, value in vars(self).items():
            if isinstance(value, _WALKED) and key != "_buffer_names":
                _collect(key, value, out)
        return out

    def _tree(self, prefix: str = "") -> list[tuple[str, "Module", list[tuple[str, Any]]]]:
        """(name, module, its direct members) for this module and every sub-module, pre-order,
        each module once (shared modules and cycles are visited once)."""
        out = []
        memo: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in memo:
                continue
            memo.add(id(module))
            members = module._direct_members()
            out.append((name, module, members))
            kids = [(_join(name, n), m) for n, m in members if isinstance(m, Module)]
            stack.extend(reversed(kids))
        return out

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        """Direct sub-modules with their names."""
        seen: set[int] = set()
        for name, value in self._direct_members():
            if isinstance(value, Module) and id(value) not in seen:
                seen.add(id(value))
                yield name, value

    def children(self) -> Iterator["Module"]:
        for _, child in self.named_children():
            yield child

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        """This module (named ``prefix``, "" by default) and every sub-module, pre-order, once."""
        for name, module, _ in self._tree(prefix):
            yield name, module

    def modules(self) -> Iterator["Module"]:
        for _, module, _ in self._tree():
            yield module

    def is_capturable(self) -> bool:
        """Whether this module and every sub-module may be replayed from recorded ops: the class
        that defines each one's ``forward`` declares ``capturable`` itself (a subclass that
        overrides ``forward`` must declare it again) and it is true for the instance."""
        for module in self.modules():
            owner = next((k for k in type(module).__mro__
                          if "forward" in vars(k) or "__call__" in vars(k)), Module)
            if "capturable" not in vars(owner) or not module.capturable:
                return False
        return True

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, Parameter)`` for every parameter, in the stable order described in the
        module docstring."""
        seen: set[int] = set()
        for module_name, _, members in self._tree(prefix):
            for name, param in members:
                if isinstance(param, Parameter) and id(param) not in seen:
                    seen.add(id(param))
                    yield _join(module_name, name), param

    def parameters(self) -> list[Parameter]:
        """All parameters (trainable or frozen), in the order of :meth:`named_parameters`."""
        seen: set[int] = set()
        out = []
        for _, _, members in self._tree():
            for _, param in members:
                if isinstance(param, Parameter) and id(param) not in seen:
                    seen.add(id(param))
                    out.append(param)
        return out

    def register_buffer(self, name: str, value: np.ndarray | None) -> None:
        """Store ``value`` as attribute ``name`` and include it in the state (not trained)."""
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"register_buffer expected an identifier for `name`, got {name!r}")
        if value is not None and not isinstance(value, np.ndarray):
            raise TypeError(
                f"register_buffer expected an ndarray (or None) for {name!r}, "
                f"got {type(value).__name__}"
            )
        setattr(self, name, value)
        if name not in self._buffer_names:
            self._buffer_names = (*self._buffer_names, name)

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        for module_name, module in self.named_modules(prefix):
            for name in module._buffer_names:
                value = getattr(module, name)
                if value is not None:
                    yield _join(module_name, name), value

    def buffers(self) -> list[np.ndarray]:
        return [b for _, b in self.named_buffers()]

    # ----------------------------------------------------------------- modes and gradients
    def train(self, mode: bool = True) -> "Module":
        """Put this module and all sub-modules in training mode (``mode=False``: evaluation)."""
        for module in self.modules():
            module.training = bool(mode)
        return self

    def eval(self) -> "Module":
        """Evaluation mode: Dropout is off, BatchNorm uses its running statistics."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (``grad = None``; the next backward assigns it)."""
        for param in self.parameters():
            param.grad = None

    def _penalties(self) -> Iterator[Tensor]:
        """This module's own regularization terms (layers with regularizers override it)."""
        return iter(())

    def regularization_loss(self) -> Tensor:
        """Sum of the penalties of every layer's regularizers (``kernel_regularizer=...``), a
        scalar Tensor to add to the data loss; a 0 tensor when there are none.

        >>> loss = criterion(model(x), y) + model.regularization_loss()
        """
        total: Tensor | None = None
        for module in self.modules():
            for penalty in module._penalties():
                total = penalty if total is None else total + penalty
        return total if total is not None else Tensor(np.zeros((), dtype=np.float32))

    # ----------------------------------------------------------------- state
    def _state_items(self) -> Iterator[tuple[str, Module, str | None, Any]]:
        """(name, owning module, buffer attribute or None, Parameter or buffer array)."""
        seen: set[int] = set()
        for module_name, module, members in self._tree():
            for name, param in members:
                if isinstance(param, Parameter) and id(param) not in seen:
                    seen.add(id(param))
                    yield _join(module_name, name), module, None, param
            for name in module._buffer_names:
                value = getattr(module, name)
                if value is not None:
                    yield _join(module_name, name), module, name, value

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and buffer array, by dotted name (parameters of a module
        first, then its buffers)."""
        return {
            name: (value.data if buf is None else value).copy()
            for name, _, buf, value in self._state_items()
        }

    def _build_from_state(self, local_state: dict[str, np.ndarray]) -> None:
        """Lazy layers override this to create their weights from a state's shapes before
        loading (``local_state`` holds this module's own entries, by local name)."""

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> LoadResult:
        """Copy arrays from ``state`` (as made by :meth:`state_dict`) into the parameters and
        buffers, in place.  Every shape is checked before anything is copied, so a failed load
        leaves the model unchanged.  With ``strict`` (the default) missing or unexpected names are
        an error; otherwise they are returned.  Unbuilt lazy layers are built from the shapes."""
        if not isinstance(state, dict):
            raise TypeError(
                f"load_state_dict expected a dict of arrays, got {type(state).__name__}"
            )
        for module_name, module in self.named_modules():
            local = _local_entries(state, module_name)
            if local:
                module._build_from_state(local)

        items = list(self._state_items())
        expected = {name for name, *_ in items}
        missing = [name for name, *_ in items if name not in state]
        unexpected = [name for name in state if name not in expected]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing from the state_dict: {', '.join(missing)}")
            if unexpected:
                parts.append(f"not in the model: {', '.join(unexpected)}")
            raise ValueError(
                f"load_state_dict: the names do not match ({'; '.join(parts)}). The model has "
                f"{', '.join(sorted(expected)) or 'no parameters'}"
            )

        updates = []
        for name, module, buf, target in items:
            if name not in state:
                continue
            value = state[name]
            arr = value.data if isinstance(value, Tensor) else np.asarray(value)
            current = target.data if buf is None else target
            if arr.shape != current.shape:
                raise ValueError(
                    f"load_state_dict: shape mismatch for {name!r}: the model has "
                    f"{current.shape}, the state_dict has {arr.shape}"
                )
            if arr.dtype.kind not in "fiub":
                raise TypeError(
                    f"load_state_dict: {name!r} must hold numbers, got dtype {arr.dtype}"
                )
            updates.append((current, arr))
        for current, arr in updates:
            current[...] = arr
        return LoadResult(missing if not strict else [], unexpected if not strict else [])

    def get_weights(self) -> list[np.ndarray]:
        """Copies of this module's arrays in state order (Keras' ``layer.get_weights()``): for a
        Dense layer ``[weight, bias]``, for BatchNorm
        ``[weight, bias, running_mean, running_var]``."""
        return list(self.state_dict().values())

    def set_weights(self, weights: list[Any]) -> None:
        """Load arrays given in the order of :meth:`get_weights` (shapes must match)."""
        names = list(self.state_dict())
        if len(weights) != len(names):
            raise ValueError(
                f"set_weights: {self.name} has {len(names)} arrays ({', '.join(names)}), "
                f"got {len(weights)}"
            )
        self.load_state_dict(dict(zip(names, weights)))

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Number of scalar parameters (buffers not included)."""
        return sum(p.data.size for p in self.parameters() if p.requires_grad or not trainable_only)

    # ----------------------------------------------------------------- configuration
    def get_config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this module, as JSON-able values."""
        raise NotImplementedError(
            f"{type(self).__name__} does not define get_config(); define it (returning the "
            "constructor arguments as plain numbers, strings, lists and dicts) and decorate the "
            "class with @neuralab.nn.register so that save() and load() can rebuild it"
        )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Module":
        return cls(**config)

    def extra_repr(self) -> str:
        try:
            config = self.get_config()
        except NotImplementedError:
            return ""
        return ", ".join(f"{k}={v!r}" for k, v in config.items() if v is not None)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


# what attribute walking looks into (Tensor: a quick first test, then Parameter is checked)
_WALKED = (Tensor, Module, list, tuple, dict)


def _local_entries(state: dict[str, Any], module_name: str) -> dict[str, Any]:
    prefix = module_name + "." if module_name else ""
    out = {}
    for key, value in state.items():
        if key.startswith(prefix):
            rest = key[len(prefix):]
            if "." not in rest:
                out[rest] = value.data if isinstance(value, Tensor) else np.asarray(value)
    return out


# ----------------------------------------------------------------- registry and (de)serialization
_REGISTRY: dict[str, type[Module]] = {}
M = TypeVar("M", bound=type[Module])


def register(cls: M | None = None, *, name: str | None = None) -> Any:
    """Class decorator: make a Module subclass loadable by :func:`neuralab.load` under its class
    name (or ``name``).  Re-registering the same name replaces the entry (re-run notebook cells).

    >>> @nn.register
    ... class Scale(nn.Module): ...
    """

    def decorate(klass: M) -> M:
        if not (isinstance(klass, type) and issubclass(klass, Module)):
            raise TypeError(f"register expects a Module subclass, got {klass!r}")
        _REGISTRY[name or klass.__name__] = klass
        klass._registered_name = name or klass.__name__
        return klass

    return decorate if cls is None else decorate(cls)


def registered_name(module: Module) -> str:
    cls = type(module)
    key = cls.__dict__.get("_registered_name")
    if key is None or _REGISTRY.get(key) is not cls:
        raise TypeError(
            f"{cls.__name__} is not registered; decorate it with @neuralab.nn.register (and give "
            "it get_config()) so that saved models can be rebuilt"
        )
    return key


def serialize(module: Module) -> dict[str, Any]:
    """``{"class": ..., "config": {...}}`` (plus ``"name"`` when one was set), JSON-able."""
    spec: dict[str, Any] = {"class": registered_name(module), "config": module.get_config()}
    if module._name is not None:
        spec["name"] = module._name
    return spec


def deserialize(spec: dict[str, Any]) -> Module:
    """Rebuild a module from :func:`serialize`'s dict (looks the class up in the registry)."""
    if not isinstance(spec, dict) or "class" not in spec:
        raise ValueError(f"expected a layer spec {{'class': ..., 'config': {{...}}}}, got {spec!r}")
    cls_name = spec["class"]
    cls = _REGISTRY.get(cls_name)
    if cls is None:
        raise ValueError(
            f"unknown layer class {cls_name!r}; known: {', '.join(sorted(_REGISTRY))}. A custom "
            "layer must be defined and decorated with @neuralab.nn.register before loading"
        )
    config = spec.get("config", {})
    if not isinstance(config, dict):
        raise ValueError(f"the config of {cls_name} must be a dict, got {config!r}")
    try:
        module = cls.from_config(config)
    except TypeError as err:
        raise ValueError(
            f"could not rebuild {cls_name} from its config {config!r}: {err}"
        ) from None
    if spec.get("name") is not None:
        module.name = spec["name"]
    return module


def registered() -> dict[str, type[Module]]:
    """A copy of the registry: class name -> Module subclass."""
    return dict(_REGISTRY)


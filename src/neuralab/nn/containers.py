"""Containers: Sequential (a stack of layers, with ``summary()``, a layer-by-layer forward trace and
a weight listing) and Residual (잔차 연결, y = x + F(x))."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from ..autograd.engine import no_grad
from ..autograd.ops.elementwise import add
from ..autograd.tensor import Tensor
from .module import Module, _collect, deserialize, register, serialize


@dataclass
class TraceStep:
    """One layer of a forward trace (순전파, layer by layer): the layer's output and, for a Dense
    layer with an activation, the weighted sum z = x W + b before it (``pre_activation``).

    ``index`` counts the steps of the trace; ``path`` is the layer's module path in the model
    (``"2"``, or ``"1.0"`` inside a nested ``Sequential``), the prefix of its parameter names."""

    index: int
    name: str
    layer: Module
    output: Any
    pre_activation: Any = None
    path: str = ""

    def __repr__(self) -> str:
        shape = np.shape(self.output.data if isinstance(self.output, Tensor) else self.output)
        return f"TraceStep({self.index}, {self.name!r}, output shape {shape})"


@register
class Sequential(Module):
    """Layers applied one after the other: ``model(x) = layers[-1](...layers[0](x))``.

    Build from a list (``Sequential([a, b])``), from arguments (``Sequential(a, b)``) or with
    ``add()``.  Indexable (``model[0]``, slices give a new Sequential sharing the layers),
    iterable, ``len()``.  Unnamed layers are named on insertion as Keras does: ``dense``,
    ``dense_1``, ...; parameter names are ``"0.weight"``, ``"0.bias"``, ``"1.weight"``...

    >>> model = nn.Sequential([nn.Dense(64, activation="relu"), nn.Dense(3, activation="softmax")])
    >>> model.summary(input_shape=(4,))          # 320 + 195 = 515 parameters
    >>> probs = model(np.zeros((2, 4)))
    """

    capturable = True  # its forward calls its layers, nothing else (nn.Module.capturable)

    def __init__(self, *layers: Module | Iterable[Module]) -> None:
        super().__init__()
        self._layers: list[Module] = []
        if len(layers) == 1 and not isinstance(layers[0], Module):
            if isinstance(layers[0], (str, bytes)) or not isinstance(layers[0], Iterable):
                raise TypeError(
                    f"Sequential expected a list of layers, got {type(layers[0]).__name__}"
                )
            layers = tuple(layers[0])
        for layer in layers:
            self.add(layer)

    def add(self, layer: Module) -> "Sequential":
        """Append ``layer`` (naming it uniquely in this model if it has no name yet)."""
        if not isinstance(layer, Module):
            raise TypeError(
                f"Sequential.add expected a layer (a Module such as nn.Dense(64)), got "
                f"{type(layer).__name__}"
            )
        if layer._name is None:
            taken = {other.name for other in self._layers}
            base, k = layer.name, 0
            candidate = base
            while candidate in taken:
                k += 1
                candidate = f"{base}_{k}"
            layer.name = candidate
        self._layers.append(layer)
        if getattr(layer, "built", True) is False:
            # as in Keras, a model whose input size is known builds each layer as it is added,
            # so its weights can be inspected before the first call
            input_shape = _known_input_shape(self)
            if input_shape is not None:
                try:
                    _dummy_forward(self, input_shape)
                except Exception:  # noqa: BLE001 - the layer stays lazy; the real call will tell
                    pass
        return self

    @property
    def layers(self) -> list[Module]:
        """The layers in order (a new list; use ``add`` to change the model)."""
        return list(self._layers)

    def __len__(self) -> int:
        return len(self._layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._layers)

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return Sequential(self._layers[index])
        return self._layers[index]

    def _direct_members(self) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = [(str(i), layer) for i, layer in enumerate(self._layers)]
        for key, value in vars(self).items():
            if key not in ("_layers", "_buffer_names"):
                _collect(key, value, out)
        return out

    def forward(self, x: Any) -> Any:
        for layer in self._layers:
            x = layer(x)
        return x

    def trace(self, x: Any) -> list[TraceStep]:
        """Run the forward pass layer by layer and keep every intermediate output; a nested
        ``Sequential`` is opened up, so every step is one layer.  The one walk over a model's
        layers: activation statistics (``train.collect_activations``) are built on it.

        >>> for step in model.trace(x):
        ...     print(step.name, step.output.shape)
        """
        steps: list[TraceStep] = []
        self._trace_into(x, steps, "")
        return steps

    def _trace_into(self, x: Any, steps: list[TraceStep], prefix: str) -> Any:
        for i, layer in enumerate(self._layers):
            path = f"{prefix}{i}"
            if isinstance(layer, Sequential):
                x = layer._trace_into(x, steps, path + ".")
                continue
            z = None
            if getattr(layer, "activation", None) is not None and hasattr(layer, "forward_steps"):
                z, x = layer.forward_steps(x)
            else:
                x = layer(x)
            steps.append(TraceStep(len(steps), layer.name, layer, x, z, path))
        return x

    def summary(self, input_shape: Any = None, print_fn: Callable[[str], Any] = print) -> None:
        """Print a Keras-style table: layer name and type, output shape, parameter count, and the
        total, trainable and non-trainable counts with their size.  ``input_shape`` excludes the
        batch axis, e.g. ``(4,)``; it builds lazy layers and is optional when the first layer
        knows its input size.  :func:`summarize` returns the same table as an object."""
        print_fn(summarize(self, input_shape).text)

    def weights_text(self) -> str:
        """Every layer's weights and biases as text (see :meth:`print_weights`)."""
        return format_weights(self)

    def print_weights(self, print_fn: Callable[[str], Any] = print) -> None:
        """Print each layer's name, then each of its arrays with its shape (the lecture's
        ``for layer in model.layers: weights, biases = layer.get_weights()`` loop)."""
        print_fn(format_weights(self))

    def get_config(self) -> dict[str, Any]:
        return {"layers": [serialize(layer) for layer in self._layers]}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Sequential":
        return cls([deserialize(spec) for spec in config.get("layers", [])])

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}("]
        for i, layer in enumerate(self._layers):
            body = repr(layer).replace("\n", "\n  ")
            lines.append(f"  ({i}) {layer.name}: {body}")
        return "\n".join(lines) + "\n)" if self._layers else f"{type(self).__name__}()"


@register
class Residual(Module):
    """Residual (skip) connection: y = x + F(x), with F the wrapped module.  F must keep the shape
    of its input.  The identity path lets the gradient reach early layers unattenuated.

    >>> block = nn.Residual(nn.Sequential([nn.Dense(64, activation="relu"), nn.Dense(64)]))
    >>> block(np.zeros((8, 64))).shape
    (8, 64)
    """

    def __init__(self, module: Module) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"Residual expected a Module to wrap, got {type(module).__name__}")
        self.module = module

    def forward(self, x: Any) -> Tensor:
        y = self.module(x)
        if np.shape(y.data if isinstance(y, Tensor) else y) != np.shape(
            x.data if isinstance(x, Tensor) else x
        ):
            raise ValueError(
                f"Residual: the wrapped {type(self.module).__name__} changed the shape from "
                f"{np.shape(x)} to {np.shape(y)}; x + F(x) needs F to keep the shape"
            )
        return add(x, y)

    def get_config(self) -> dict[str, Any]:
        return {"module": serialize(self.module)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Residual":
        return cls(deserialize(config["module"]))

    def __repr__(self) -> str:
        return f"Residual(\n  {repr(self.module).replace(chr(10), chr(10) + '  ')}\n)"


# --------------------------------------------------------------------- summary


@dataclass
class SummaryRow:
    name: str
    type: str
    output_shape: tuple[int | None, ...] | None
    params: int
    trainable: int
    non_trainable: int


@dataclass
class Summary:
    """What ``summary()`` prints, as data; ``str(summary)`` is the table."""

    model_name: str
    rows: list[SummaryRow]
    total_params: int
    trainable_params: int
    non_trainable_params: int
    total_bytes: int
    trainable_bytes: int
    non_trainable_bytes: int
    text: str = field(repr=False, default="")

    def __str__(self) -> str:
        return self.text


def readable_size(nbytes: float) -> str:
    """Bytes in B, KB, MB, GB (powers of 1024) with two decimals, as Keras prints them."""
    for unit in ("B", "KB", "MB", "GB"):
        if nbytes < 1024 or unit == "GB":
            return f"{nbytes:.2f} {unit}"
        nbytes /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def _counts(module: Module) -> tuple[int, int, int, int]:
    """(trainable count, non-trainable count, trainable bytes, non-trainable bytes); buffers such
    as BatchNorm's running statistics count as non-trainable, as in Keras."""
    tr = ntr = tr_b = ntr_b = 0
    for p in module.parameters():
        if p.requires_grad:
            tr += p.data.size
            tr_b += p.data.nbytes
        else:
            ntr += p.data.size
            ntr_b += p.data.nbytes
    for b in module.buffers():
        ntr += b.size
        ntr_b += b.nbytes
    return tr, ntr, tr_b, ntr_b


def _known_input_shape(module: Module) -> tuple[int, ...] | None:
    if isinstance(module, Sequential):
        return _known_input_shape(module[0]) if len(module) else None
    if isinstance(module, Residual):
        return _known_input_shape(module.module)
    if module.spatial:
        return None  # C is known at most, H and W are not
    for attr in ("in_features", "num_features"):
        n = getattr(module, attr, None)
        if isinstance(n, int):
            return (n,)
    shape = getattr(module, "normalized_shape", None)
    return tuple(shape) if isinstance(shape, tuple) else None


def _shape_of(value: Any) -> tuple[int | None, ...]:
    shape = np.shape(value.data if isinstance(value, Tensor) else value)
    return (None, *shape[1:])


def _format_shape(shape: tuple[int | None, ...] | None) -> str:
    if shape is None:
        return "?"
    dims = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({dims},)" if len(shape) == 1 else f"({dims})"


def _dummy_forward(model: Module, input_shape: tuple[int, ...]) -> list[tuple[int | None, ...]]:
    """Run a zero batch of shape (1, *input_shape) through the model in evaluation mode without
    a graph (building lazy layers, updating no statistics, restoring every module's mode) and
    return the output shape after each top-level layer."""
    layers = list(model) if isinstance(model, Sequential) else [model]
    shapes = []
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with no_grad():
            x: Any = np.zeros((1, *input_shape), dtype=np.float32)
            for layer in layers:
                x = layer(x)
                shapes.append(_shape_of(x))
    finally:
        for m, mode in modes:
            m.training = mode
    return shapes


def summarize(model: Module, input_shape: Any = None) -> Summary:
    """The data and text of :meth:`Sequential.summary` (any Module: a non-Sequential model is
    listed as one row).  A dummy batch of zeros of ``(1, *input_shape)`` goes through the model in
    evaluation mode without a graph to find the output shapes (and build lazy layers)."""
    if input_shape is not None:
        if isinstance(input_shape, (int, np.integer)):
            input_shape = (input_shape,)
        try:
            input_shape = tuple(int(d) for d in input_shape)
        except (TypeError, ValueError):
            raise ValueError(
                f"summary expected input_shape as a tuple of ints without the batch axis, e.g. "
                f"(4,), got {input_shape!r}"
            ) from None
        if any(d <= 0 for d in input_shape):
            raise ValueError(f"summary expected positive sizes in input_shape, got {input_shape}")
    else:
        input_shape = _known_input_shape(model)

    layers = list(model) if isinstance(model, Sequential) else [model]
    shapes: list[tuple[int | None, ...] | None] = [None] * len(layers)
    if input_shape is not None:
        shapes = _dummy_forward(model, input_shape)
    elif any(getattr(m, "built", True) is False for m in model.modules()):
        raise ValueError(
            "summary cannot count the parameters of layers that are not built yet; pass "
            "input_shape without the batch axis, e.g. model.summary(input_shape=(4,)), or give "
            "the first layer input_dim"
        )

    rows = []
    for layer, shape in zip(layers, shapes):
        tr, ntr, _, _ = _counts(layer)
        rows.append(SummaryRow(layer.name, type(layer).__name__, shape, tr + ntr, tr, ntr))
    tr, ntr, tr_b, ntr_b = _counts(model)
    summary = Summary(model.name, rows, tr + ntr, tr, ntr, tr_b + ntr_b, tr_b, ntr_b)
    summary.text = _render(summary)
    return summary


def _render(s: Summary) -> str:
    cells = [
        (f"{r.name} ({r.type})", _format_shape(r.output_shape), f"{r.params:,}") for r in s.rows
    ]
    header = ("Layer (type)", "Output Shape", "Param #")
    w1 = max([28] + [len(c[0]) + 2 for c in cells])
    w2 = max([25] + [len(c[1]) + 2 for c in cells])
    w3 = max([10] + [len(c[2]) for c in cells])
    width = 1 + w1 + w2 + w3

    def line(a: str, b: str, c: str) -> str:
        return f" {a:<{w1}}{b:<{w2}}{c:>{w3}}"

    out = io.StringIO()
    out.write(f'Model: "{s.model_name}"\n')
    out.write("_" * width + "\n")
    out.write(line(*header) + "\n")
    out.write("=" * width + "\n")
    for c in cells:
        out.write(line(*c) + "\n")
    out.write("=" * width + "\n")
    out.write(f"Total params: {s.total_params:,} ({readable_size(s.total_bytes)})\n")
    out.write(f"Trainable params: {s.trainable_params:,} ({readable_size(s.trainable_bytes)})\n")
    out.write(
        f"Non-trainable params: {s.non_trainable_params:,} "
        f"({readable_size(s.non_trainable_bytes)})\n"
    )
    out.write("_" * width)
    return out.getvalue()


def format_weights(model: Module) -> str:
    """Each layer's arrays (weights, biases, and buffers) with their shapes, as text."""
    layers = list(model) if isinstance(model, Sequential) else [model]
    blocks = []
    for i, layer in enumerate(layers, start=1):
        head = f"Layer {i}: {layer.name} ({type(layer).__name__})"
        if getattr(layer, "built", True) is False:
            blocks.append(f"{head}\n  not built yet (call the model once or give input_dim)")
            continue
        state = layer.state_dict()
        if not state:
            blocks.append(f"{head}\n  no weights")
            continue
        parts = [head]
        for name, arr in state.items():
            parts.append(f"{name} (shape: {arr.shape}):\n{arr}")
        blocks.append("\n".join(parts))
    return "\n\n".join(blocks)


__all__ = [
    "Residual", "Sequential", "Summary", "SummaryRow", "TraceStep", "format_weights",
    "readable_size", "summarize",
]

"""``neuralab.save`` and ``neuralab.load``: a model as one safetensors file, no pickle.

The file holds the weights (every entry of ``model.state_dict()``: parameters and buffers such as
BatchNorm's running statistics, under their dotted names) and, in the header's ``__metadata__``,
the architecture as JSON (``"neuralab.architecture"``) together with the format version and the
library version.  One file keeps the write atomic and the two parts from drifting apart, and any
safetensors reader (``safetensors.numpy.load_file``, PyTorch) can read the weights.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..version import __version__
from .safetensors import SafetensorsError, read_safetensors, write_safetensors

ARCHITECTURE_KEY = "neuralab.architecture"
FORMAT_KEY = "neuralab.format"
VERSION_KEY = "neuralab.version"
FORMAT_VERSION = "1"


def save(model: Any, path: str | os.PathLike, *, metadata: dict[str, str] | None = None) -> Path:
    """Write ``model`` (weights and architecture) to ``path`` atomically; returns the path.

    ``metadata``: more strings to keep in the file's header (read them back with
    ``neuralab.io.read_safetensors(path)[1]``), e.g. the preprocessing a model needs; the keys
    of neuralab's own entries (``neuralab.format``...) cannot be used.

    Every layer must be registered and define ``get_config()`` (all built-in layers do; see
    :func:`neuralab.nn.register` for custom ones).  The conventional suffix is ``.safetensors``.

    >>> neuralab.save(model, "iris.safetensors")
    >>> model2 = neuralab.load("iris.safetensors")
    """
    from ..nn.module import Module, serialize

    if not isinstance(model, Module):
        raise TypeError(f"save expected a neuralab.nn.Module, got {type(model).__name__}")
    try:
        architecture = json.dumps({"model": serialize(model)}, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"save: the architecture of {model.name} cannot be written as JSON ({err}); "
            "get_config() must return plain numbers, strings, lists, dicts and None"
        ) from None
    own = {
        FORMAT_KEY: FORMAT_VERSION,
        VERSION_KEY: __version__,
        ARCHITECTURE_KEY: architecture,
    }
    extra = dict(metadata or {})
    taken = sorted(set(extra) & set(own))
    if taken:
        raise ValueError(f"save: the metadata keys {taken} are neuralab's own; use other names")
    bad = [k for k, v in extra.items() if not (isinstance(k, str) and isinstance(v, str))]
    if bad:
        raise TypeError(f"save: metadata maps strings to strings; {bad[:3]} do not")
    return write_safetensors(path, model.state_dict(), {**extra, **own})


def load(path: str | os.PathLike) -> Any:
    """Rebuild the model saved by :func:`save` at ``path``: the architecture from its JSON (no
    code is run, layer classes are looked up by name), then the weights, bit for bit.

    The model comes back in training mode, as a newly built one; call ``model.eval()`` to
    predict.  Every problem with the file (truncated, corrupted, not a neuralab model, an
    architecture that does not fit the weights) raises :class:`SafetensorsError` naming the file.

    The sizes in the architecture are checked against the stored tensors *before* any layer is
    built, so a small file cannot make ``load`` allocate more than about its own size: a header
    that says ``Dense(20000, input_dim=20000)`` over 2x3 weights is refused, not initialized.
    """
    from ..nn.module import deserialize

    path = Path(path)
    arrays, metadata = read_safetensors(path)
    text = metadata.get(ARCHITECTURE_KEY)
    if text is None:
        raise SafetensorsError(
            f"{path}: a safetensors file without a neuralab architecture (it was not written by "
            f"neuralab.save); read its {len(arrays)} arrays with neuralab.io.read_safetensors"
        )
    version = metadata.get(FORMAT_KEY)
    if version != FORMAT_VERSION:
        raise SafetensorsError(
            f"{path}: saved in neuralab model format {version!r}, this version reads "
            f"{FORMAT_VERSION!r}"
        )
    try:
        spec = json.loads(text)["model"]
    except RecursionError:
        raise SafetensorsError(f"{path}: corrupted architecture JSON (nested too deeply)") from None
    except (ValueError, KeyError, TypeError) as err:
        raise SafetensorsError(f"{path}: corrupted architecture JSON ({err})") from None
    plan = _Plan(path, arrays)
    lazy_spec = plan.visit(spec, "", 0)
    try:
        model = deserialize(lazy_spec)
        model.load_state_dict(arrays, strict=True)
        modules = dict(model.named_modules())
        for module_path, shape in plan.shapes_to_set:
            modules[module_path].build(shape)
    except (ValueError, TypeError) as err:
        raise SafetensorsError(f"{path}: the saved model cannot be rebuilt: {err}") from None
    except Exception as err:  # noqa: BLE001 - a custom layer's constructor fed the file's config
        raise SafetensorsError(
            f"{path}: the saved model cannot be rebuilt: {type(err).__name__}: {err}"
        ) from err
    return model


# ---------------------------------------------------------------------- shapes before allocation
_MAX_DEPTH = 100  # modules nested in modules; real models stay far below


def _size(value: Any) -> int | None:
    """A size as the layers accept it (a positive int, not a bool), else None."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


class _Plan:
    """Walks an architecture spec before anything is built and

    * lists the state entries each built-in layer will own, with the shapes its config gives
      (``None`` for a size the layer takes from its input), and compares them with the stored
      tensors, refusing a mismatch;
    * returns the spec with every built-in layer made lazy (``input_dim``, ``in_channels``,
      ``num_features`` and ``normalized_shape`` set to None), so that constructing it allocates
      nothing: the layers are then built by ``load_state_dict`` from the stored tensors' shapes,
      whose sizes the file's own size bounds.  (A ``Sequential`` whose first layer knows its
      input size would otherwise also build the following lazy layers at construction.)

    A LayerNorm without weights has no tensor to take its shape from: the shape is put back
    after loading (``shapes_to_set``).  Layers of custom registered classes are built as their
    constructors decide: their code is the user's, and so is the validation of their config.
    """

    def __init__(self, path: Path, arrays: dict[str, Any]) -> None:
        from ..nn import BatchNorm, BatchNorm2D, Conv2D, Dense, LayerNorm, Residual, Sequential

        self.path = path
        self.arrays = arrays
        self.shapes_to_set: list[tuple[str, tuple[int, ...]]] = []
        self._visitors = {Sequential: self._sequential, Residual: self._residual,
                          Dense: self._dense, Conv2D: self._conv2d,
                          BatchNorm: self._batch_norm, BatchNorm2D: self._batch_norm_2d,
                          LayerNorm: self._layer_norm}

    def _fail(self, problem: str) -> SafetensorsError:
        return SafetensorsError(f"{self.path}: the saved model cannot be rebuilt: {problem}")

    def visit(self, spec: Any, prefix: str, depth: int) -> Any:
        """The lazy form of ``spec`` (a layer spec at state prefix ``prefix``)."""
        from ..nn.module import registered

        if depth > _MAX_DEPTH:
            raise self._fail(f"the architecture nests modules more than {_MAX_DEPTH} deep")
        if not isinstance(spec, dict) or not isinstance(spec.get("config", {}), dict):
            return spec  # deserialize reports it, before building anything
        cls = registered().get(spec.get("class")) if isinstance(spec.get("class"), str) else None
        visitor = self._visitors.get(cls)  # by identity: a re-registered name is a custom class
        if visitor is None:
            return spec
        config = dict(spec.get("config", {}))
        visitor(config, prefix, depth)
        return {**spec, "config": config}

    def _expect(self, owner: str, entries: dict[str, tuple[int | None, ...]]) -> None:
        """The layer ``owner`` will hold the state ``entries`` (name -> shape, None for a size it
        takes from its input).  A layer whose sizes are all given is built at once, so its
        entries must all be stored; a lazy one (never called before saving) may have none."""
        built = all(d is not None for shape in entries.values() for d in shape)
        for name, shape in entries.items():
            stored = self.arrays.get(name)
            if stored is None:
                if built:
                    raise self._fail(
                        f"the architecture gives {owner} a {name!r} of shape {shape}, which the "
                        "file does not hold"
                    )
                continue
            if stored.ndim != len(shape) or any(
                d is not None and d != s for d, s in zip(shape, stored.shape)
            ):
                wanted = tuple("?" if d is None else d for d in shape)
                raise self._fail(
                    f"the architecture gives {owner} a {name!r} of shape {wanted}, the file "
                    f"holds {stored.shape}"
                )

    def _sequential(self, config: dict[str, Any], prefix: str, depth: int) -> None:
        layers = config.get("layers", [])
        if isinstance(layers, list):
            config["layers"] = [self.visit(layer, f"{prefix}{i}.", depth + 1)
                                for i, layer in enumerate(layers)]

    def _residual(self, config: dict[str, Any], prefix: str, depth: int) -> None:
        if "module" in config:
            config["module"] = self.visit(config["module"], f"{prefix}module.", depth + 1)

    def _dense(self, config: dict[str, Any], prefix: str, depth: int) -> None:
        units, input_dim = _size(config.get("units")), config.get("input_dim")
        if isinstance(config.get("activation"), dict):  # an activation given as a layer spec
            config["activation"] = self.visit(config["activation"], f"{prefix}activation.",
                                              depth + 1)
        if units is None or (input_dim is not None and _size(input_dim) is None):
            return  # the constructor refuses it before it allocates anything
        entries: dict[str, tuple[int | None, ...]] = {f"{prefix}weight": (input_dim, units)}
        if bool(config.get("use_bias", True)):
            entries[f"{prefix}bias"] = (units,)
        self._expect(f"Dense(units={units}, input_dim={input_dim})", entries)
        config["input_dim"] = None

    def _conv2d(self, config: dict[str, Any], prefix: str, depth: int) -> None:
        filters, in_channels = _size(config.get("filters")), config.get("in_channels")
        kernel = config.get("kernel_size")
        kernel = [kernel, kernel] if isinstance(kernel, int) else kernel
        if isinstance(config.get("activation"), dict):
            config["activation"] = self.visit(config["activation"], f"{prefix}activation.",
                                              depth + 1)
        if (filters is None or not isinstance(kernel, list) or len(kernel) != 2
                or any(_size(k) is None for k in kernel)
                or (in_channels is not None and _size(in_channels) is None)):
            return  # the constructor refuses it before it allocates anything
        entries: dict[str, tuple[int | None, ...]] = {
            f"{prefix}weight": (filters, in_channels, *kernel)}
        if bool(config.get("use_bias", True)):
            entries[f"{prefix}bias"] = (filters,)
        self._expect(f"Conv2D(filters={filters}, kernel_size={kernel}, "
                     f"in_channels={in_channels})", entries)
        config["in_channels"] = None

    def _batch_norm(self, config: dict[str, Any], prefix: str, depth: int,
                    who: str = "BatchNorm") -> None:
        n = config.get("num_features")
        if n is not None and _size(n) is None:
            return
        names = ["running_mean", "running_var"]
        if bool(config.get("affine", True)):
            names = ["weight", "bias", *names]
        self._expect(f"{who}(num_features={n})", {f"{prefix}{name}": (n,) for name in names})
        config["num_features"] = None

    def _batch_norm_2d(self, config: dict[str, Any], prefix: str, depth: int) -> None:
        self._batch_norm(config, prefix, depth, "BatchNorm2D")

    def _layer_norm(self, config: dict[str, Any], prefix: str, depth: int) -> None:
        shape = config.get("normalized_shape")
        if shape is None:
            return
        dims = [shape] if isinstance(shape, int) else shape
        if not isinstance(dims, list) or not dims or any(_size(d) is None for d in dims):
            return  # refused by the constructor
        dims = tuple(dims)
        if bool(config.get("elementwise_affine", True)):
            self._expect(f"LayerNorm(normalized_shape={list(dims)})",
                         {f"{prefix}weight": dims, f"{prefix}bias": dims})
        else:
            self.shapes_to_set.append((prefix[:-1], dims))
        config["normalized_shape"] = None

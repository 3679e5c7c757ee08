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

from .safetensors import SafetensorsError, read_safetensors, write_safetensors

ARCHITECTURE_KEY = "neuralab.architecture"
FORMAT_KEY = "neuralab.format"
VERSION_KEY = "neuralab.version"
FORMAT_VERSION = "1"


def save(model: Any, path: str | os.PathLike) -> Path:
    """Write ``model`` (weights and architecture) to ``path`` atomically; returns the path.

    Every layer must be registered and define ``get_config()`` (all built-in layers do; see
    :func:`neuralab.nn.register` for custom ones).  The conventional suffix is ``.safetensors``.

    >>> neuralab.save(model, "iris.safetensors")
    >>> model2 = neuralab.load("iris.safetensors")
    """
    from .. import __version__
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
    metadata = {
        FORMAT_KEY: FORMAT_VERSION,
        VERSION_KEY: __version__,
        ARCHITECTURE_KEY: architecture,
    }
    return write_safetensors(path, model.state_dict(), metadata)


def load(path: str | os.PathLike) -> Any:
    """Rebuild the model saved by :func:`save` at ``path``: the architecture from its JSON (no
    code is run, layer classes are looked up by name), then the weights, bit for bit.

    The model comes back in training mode, as a newly built one; call ``model.eval()`` to
    predict.  Errors name the file and the problem (truncated, corrupted, not a neuralab model).
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
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise SafetensorsError(f"{path}: corrupted architecture JSON ({err})") from None
    try:
        model = deserialize(spec)
        model.load_state_dict(arrays, strict=True)
    except (ValueError, TypeError) as err:
        raise SafetensorsError(f"{path}: the saved model cannot be rebuilt: {err}") from None
    return model

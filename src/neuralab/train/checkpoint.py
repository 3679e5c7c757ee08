"""Training checkpoints: everything needed to continue an interrupted run bit for bit.

A checkpoint is one safetensors file (written atomically): the arrays (model weights and
buffers, optimizer state such as Adam's moments, arrays held by callbacks) are its tensors, and
everything else is JSON in its metadata under the key ``"neuralab.checkpoint"``::

    {"format": "neuralab-checkpoint", "version": 1,
     "epoch": 4,                                    # last completed epoch, 0-based
     "model": ["0.weight", "0.bias", ...],          # tensors "model/<name>"
     "optimizer": {...}, "scheduler": {...},        # their state_dict()s; arrays by reference
     "rng": {"library": {...}, "trainer": {...}},   # np.random.Generator bit_generator.state
     "history": {"history": {"loss": [...], ...}, "epoch": [...]},
     "callbacks": {"EarlyStopping#0": {...}, ...}}

Arrays inside nested states are replaced by ``{"__ndarray__": "<tensor name>"}``; NumPy scalars
keep their dtype (``{"__scalar__": "<f4", "value": ...}``) and dicts with non-string keys become
``{"__items__": [[key, value], ...]}``, so a state comes back exactly as it was saved.  Floats are
written with ``repr`` (shortest round-trip form): nothing is rounded.  No pickle: reading a
checkpoint never runs code.

Restoring the random generators is what makes a resumed run identical to an uninterrupted one:
the shuffles and dropout masks of the remaining epochs are drawn from the same states.  Saved:
the library generator (:func:`neuralab.seed`), the trainer's, a training ``DataLoader``'s own
generator, and any generator held by a layer.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .. import random as _random

__all__ = ["load_checkpoint", "read_checkpoint", "save_checkpoint"]

FORMAT = "neuralab-checkpoint"
VERSION = 1
_META_KEY = "neuralab.checkpoint"


# ---------------------------------------------------------------------- nested state <-> JSON
def _encode(obj: Any, key: str, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(obj, np.ndarray):
        arrays[key] = np.ascontiguousarray(obj)
        return {"__ndarray__": key}
    if isinstance(obj, np.generic):
        return {"__scalar__": obj.dtype.str, "value": obj.item()}
    if isinstance(obj, (bool, int, float, str)) or obj is None:
        return obj
    if isinstance(obj, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in obj):
            return {k: _encode(v, f"{key}.{k}", arrays) for k, v in obj.items()}
        return {"__items__": [[_encode(k, f"{key}.k{i}", arrays), _encode(v, f"{key}.{i}", arrays)]
                              for i, (k, v) in enumerate(obj.items())]}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, f"{key}.{i}", arrays) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, f"{key}.{i}", arrays) for i, v in enumerate(obj)]
    data = getattr(obj, "data", None)
    if isinstance(data, np.ndarray):  # a Tensor
        return _encode(data, key, arrays)
    raise TypeError(
        f"save_checkpoint cannot store a {type(obj).__name__} (at {key!r}); states must be made "
        "of dicts, lists, numbers, strings and NumPy arrays"
    )


def _decode(obj: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(obj, list):
        return [_decode(v, arrays) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__ndarray__" in obj:
        return arrays[obj["__ndarray__"]]
    if "__scalar__" in obj:
        return np.dtype(obj["__scalar__"]).type(obj["value"])
    if "__tuple__" in obj:
        return tuple(_decode(v, arrays) for v in obj["__tuple__"])
    if "__items__" in obj:
        return {_hashable(_decode(k, arrays)): _decode(v, arrays) for k, v in obj["__items__"]}
    return {k: _decode(v, arrays) for k, v in obj.items()}


def _hashable(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key


# ---------------------------------------------------------------------- generators
def _generators(trainer: Any) -> dict[str, np.random.Generator]:
    """The generators a run draws from, by role.  One generator may have several roles."""
    gens: dict[str, np.random.Generator] = {"library": _random.get_rng(None)}
    rng = getattr(trainer, "rng", None)
    if isinstance(rng, np.random.Generator):
        gens["trainer"] = rng
    loader = getattr(getattr(trainer, "train_data", None), "loader", None)
    loader_rng = getattr(loader, "rng", None)
    if isinstance(loader_rng, np.random.Generator):
        gens["loader"] = loader_rng
    model = trainer.model
    if hasattr(model, "named_modules"):
        for path, module in model.named_modules():
            for attr, value in vars(module).items():
                if isinstance(value, np.random.Generator):
                    gens[f"model.{path}.{attr}" if path else f"model.{attr}"] = value
    return gens


def _callback_keys(callbacks: list[Any]) -> list[tuple[str, Any]]:
    """``ClassName#k`` (k-th callback of that class) for every callback except History."""
    from .callbacks import History

    counts: dict[str, int] = {}
    keyed = []
    for cb in callbacks:
        if isinstance(cb, History):
            continue
        name = type(cb).__name__
        k = counts.get(name, 0)
        counts[name] = k + 1
        keyed.append((f"{name}#{k}", cb))
    return keyed


# ---------------------------------------------------------------------- save / read / load
def save_checkpoint(path: str | os.PathLike[str], trainer: Any, epoch: int) -> Path:
    """Write the full training state after ``epoch`` (0-based, completed) to ``path``
    atomically: model weights and buffers, optimizer state, scheduler state, random generator
    states, history so far and callback states.  Returns the path.

    >>> save_checkpoint("run/ckpt.safetensors", trainer, epoch=9)
    >>> trainer.fit(x, y, epochs=20, resume_from="run/ckpt.safetensors")   # epochs 10..19
    """
    from ..io import write_safetensors

    arrays: dict[str, np.ndarray] = {}
    model_state = trainer.model.state_dict()
    for name, value in model_state.items():
        arrays[f"model/{name}"] = np.ascontiguousarray(value)
    meta: dict[str, Any] = {"format": FORMAT, "version": VERSION, "epoch": int(epoch),
                            "model": list(model_state),
                            "stop_training": bool(getattr(trainer, "stop_training", False))}
    optimizer = trainer.optimizer
    meta["optimizer"] = _encode(optimizer.state_dict(), "optimizer", arrays) \
        if optimizer is not None and hasattr(optimizer, "state_dict") else None
    meta["optimizer_class"] = type(optimizer).__name__ if optimizer is not None else None
    scheduler = getattr(trainer, "scheduler", None)
    meta["scheduler"] = _encode(scheduler.state_dict(), "scheduler", arrays) \
        if scheduler is not None else None
    meta["rng"] = {role: _encode(gen.bit_generator.state, f"rng.{role}", arrays)
                   for role, gen in _generators(trainer).items()}
    history = getattr(trainer, "history", None)
    meta["history"] = history.state_dict() if history is not None else None
    meta["callbacks"] = {}
    for key, cb in _callback_keys(list(getattr(trainer, "callbacks", []) or [])):
        state = cb.state_dict()
        if state:
            meta["callbacks"][key] = _encode(state, f"callbacks.{key}", arrays)
    text = json.dumps(meta, allow_nan=True)
    path = Path(path)
    if str(path.parent):
        path.parent.mkdir(parents=True, exist_ok=True)
    write_safetensors(path, arrays, {_META_KEY: text})
    return path


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The content of a checkpoint as plain Python: ``{"epoch", "model" (name -> array),
    "optimizer", "scheduler", "rng", "history", "callbacks", ...}`` with arrays restored."""
    from ..io import read_safetensors

    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {os.fspath(path)!r}")
    arrays, metadata = read_safetensors(path)
    text = (metadata or {}).get(_META_KEY)
    if text is None:
        raise ValueError(
            f"{os.fspath(path)!r} is a safetensors file but not a neuralab training checkpoint "
            f"(no {_META_KEY!r} metadata); model files are read with neuralab.load"
        )
    meta = json.loads(text)
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise ValueError(
            f"{os.fspath(path)!r}: unsupported checkpoint format {meta.get('format')!r} version "
            f"{meta.get('version')!r}; expected {FORMAT!r} version {VERSION}"
        )
    content = {k: _decode(v, arrays) for k, v in meta.items() if k != "model"}
    content["model"] = {name: arrays[f"model/{name}"] for name in meta["model"]}
    return content


def load_checkpoint(path: str | os.PathLike[str], trainer: Any) -> int:
    """Restore a checkpoint into ``trainer`` and return its (0-based) epoch.

    Model weights, optimizer and scheduler states, random generators and history are restored
    at once; callback states are applied to the callbacks of the next ``fit`` (or of the running
    one, when called from ``fit(resume_from=...)`` or ``BackupAndRestore``), matched by class
    and position.  After ``load_checkpoint``, ``trainer.fit(x, y, epochs=N)`` continues with the
    epoch after the saved one.  Prefer ``fit(..., resume_from=path)``: it also restores the
    generator of a ``DataLoader`` passed to that ``fit``.
    """
    from .callbacks import History

    content = read_checkpoint(path)
    model = trainer.model
    model.load_state_dict(content["model"])
    trainer._ensure_built(None)  # creates an optimizer given by name, now that weights exist
    if content["optimizer"] is not None:
        if trainer.optimizer is None or not hasattr(trainer.optimizer, "load_state_dict"):
            raise ValueError(
                "the checkpoint holds an optimizer state but the trainer has no optimizer"
            )
        saved = content.get("optimizer_class")
        if saved is not None and saved != type(trainer.optimizer).__name__:
            raise ValueError(
                f"the checkpoint was saved with a {saved} optimizer, the trainer has a "
                f"{type(trainer.optimizer).__name__}"
            )
        trainer.optimizer.load_state_dict(content["optimizer"])
    scheduler = getattr(trainer, "scheduler", None)
    if content["scheduler"] is not None and scheduler is not None:
        scheduler.load_state_dict(content["scheduler"])
    elif (content["scheduler"] is None) != (scheduler is None):
        warnings.warn(
            "the checkpoint was saved " + ("with" if scheduler is None else "without")
            + " a learning-rate scheduler and the trainer has "
            + ("none" if scheduler is None else "one") + "; the resumed run will differ",
            RuntimeWarning,
            stacklevel=2,
        )
    current = _generators(trainer)
    for role, state in content["rng"].items():
        gen = current.get(role)
        if gen is None:
            continue
        try:
            gen.bit_generator.state = state
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"cannot restore the {role!r} random generator from the checkpoint ({err}); "
                f"it was saved from a {state.get('bit_generator')} generator"
            ) from None
    if content["history"] is not None:
        if trainer.history is None:
            trainer.history = History()
        trainer.history.load_state_dict(content["history"])
    epoch = int(content["epoch"])
    trainer._resume_state = {"epoch": epoch, "callbacks": content["callbacks"],
                             "stop_training": bool(content.get("stop_training", False))}
    return epoch


def apply_callback_states(states: dict[str, Any], callbacks: list[Any]) -> None:
    """Give each callback the state saved for the callback of the same class and position."""
    for key, cb in _callback_keys(callbacks):
        if key in states:
            cb.load_state_dict(states[key])

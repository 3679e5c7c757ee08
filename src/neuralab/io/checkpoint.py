"""The training-checkpoint format: a trainer's whole state in one safetensors file.

The arrays (model weights and buffers, optimizer state such as Adam's moments, arrays held by
callbacks) are the file's tensors, and everything else is JSON in its metadata under the key
``"neuralab.checkpoint"``::

    {"format": "neuralab-checkpoint", "version": 1,
     "epoch": 4,                                    # last completed epoch, 0-based
     "model": ["0.weight", "0.bias", ...],          # tensors "model/<name>"
     "optimizer": {...}, "optimizer_class": "Adam", # its state_dict(); arrays by reference
     "scheduler": {...} or null,
     "rng": {"library": {...}, "trainer": {...}},   # np.random.Generator bit_generator.state
     "history": {"history": {"loss": [...], ...}, "epoch": [...]},
     "callbacks": {"EarlyStopping#0": {...}, ...},
     "stop_training": false}

Arrays inside nested states are replaced by ``{"__ndarray__": "<tensor name>"}``; NumPy scalars
keep their dtype (``{"__scalar__": "<f4", "value": ...}``) and dicts with non-string keys become
``{"__items__": [[key, value], ...]}``, so a state comes back exactly as it was saved.  Floats are
written with ``repr`` (shortest round-trip form): nothing is rounded.  No pickle: reading a
checkpoint never runs code.

This module knows the file, not the trainer: :meth:`neuralab.train.Trainer.state_dict` gives the
state written here and :meth:`~neuralab.train.Trainer.load_state_dict` takes what
:func:`read_checkpoint` returns (``neuralab.train.save_checkpoint`` / ``load_checkpoint`` do
both steps).

Reading is strict, because a checkpoint may come from anywhere: every problem with the file
(truncated, corrupted, metadata that is not what :func:`write_checkpoint` writes, an epoch that
contradicts the history, a random generator state that cannot be set) raises
:class:`CheckpointError` (a ``ValueError``) whose message starts with the file's path.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .safetensors import SafetensorsError, read_safetensors, write_safetensors

__all__ = ["CheckpointError", "read_checkpoint", "write_checkpoint"]

FORMAT = "neuralab-checkpoint"
VERSION = 1
META_KEY = "neuralab.checkpoint"
#: the parts of a trainer state, as Trainer.state_dict() returns them
PARTS = ("epoch", "model", "optimizer", "optimizer_class", "scheduler", "rng", "history",
         "callbacks", "stop_training")
_MAX_EPOCH = 10**9  # far beyond any run; an epoch of 10**30 is damage, not a long run
_MAX_DEPTH = 64  # nesting of a saved state (an optimizer state is 4 deep)
# the bit generators a saved state may name; anything else is refused, never looked up
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


class CheckpointError(ValueError):
    """A checkpoint that cannot be read (truncated, corrupted, not a checkpoint, invalid
    metadata) or that does not fit the trainer it is loaded into.  The message starts with the
    file's path; the trainer is left unchanged."""


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
        f"a checkpoint cannot store a {type(obj).__name__} (at {key!r}); states must be made "
        "of dicts, lists, numbers, strings and NumPy arrays"
    )


class _Decoder:
    """The inverse of :func:`_encode`, for metadata that may have been tampered with: every
    reference, scalar dtype and key is checked, and a problem raises :class:`CheckpointError`
    naming the file and the place in the metadata (``optimizer.state.0.exp_avg``)."""

    def __init__(self, path: str, arrays: dict[str, np.ndarray]) -> None:
        self.path, self.arrays = path, arrays

    def fail(self, where: str, problem: str) -> CheckpointError:
        return CheckpointError(f"{self.path}: corrupted checkpoint metadata: {where}: {problem}")

    def __call__(self, obj: Any, where: str, depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            raise self.fail(where, f"nested more than {_MAX_DEPTH} deep")
        if isinstance(obj, list):
            return [self(v, f"{where}.{i}", depth + 1) for i, v in enumerate(obj)]
        if not isinstance(obj, dict):
            return obj
        if "__ndarray__" in obj:
            name = obj["__ndarray__"]
            if not isinstance(name, str) or name not in self.arrays:
                raise self.fail(where, f"refers to a tensor {name!r} that the file does not hold")
            return self.arrays[name]
        if "__scalar__" in obj:
            return self._scalar(obj, where)
        if "__tuple__" in obj:
            items = obj["__tuple__"]
            if not isinstance(items, list):
                raise self.fail(where, "a tuple must be stored as a list")
            return tuple(self(v, f"{where}.{i}", depth + 1) for i, v in enumerate(items))
        if "__items__" in obj:
            pairs = obj["__items__"]
            if not isinstance(pairs, list) or not all(
                isinstance(p, list) and len(p) == 2 for p in pairs
            ):
                raise self.fail(where, "a dict must be stored as a list of [key, value] pairs")
            out = {}
            for i, (k, v) in enumerate(pairs):
                key = self(k, f"{where}.k{i}", depth + 1)
                key = tuple(key) if isinstance(key, list) else key
                try:
                    hash(key)
                except TypeError:
                    raise self.fail(where, f"key {i} cannot be a dict key") from None
                out[key] = self(v, f"{where}.{i}", depth + 1)
            return out
        return {k: self(v, f"{where}.{k}", depth + 1) for k, v in obj.items()}

    def _scalar(self, obj: dict[str, Any], where: str) -> Any:
        code, value = obj["__scalar__"], obj.get("value")
        try:
            dtype = np.dtype(code) if isinstance(code, str) else None
        except TypeError:
            dtype = None
        # numbers only: a void or subarray dtype could be asked for a terabyte
        if dtype is None or dtype.kind not in "biuf" or dtype.itemsize > 16 or dtype.shape:
            raise self.fail(where, f"{code!r} is not the dtype of a NumPy number")
        if isinstance(value, bool) != (dtype.kind == "b") or not isinstance(
            value, (bool, int, float)
        ):
            raise self.fail(where, f"{value!r} is not a value of dtype {dtype}")
        try:
            return dtype.type(value)
        except (OverflowError, ValueError, TypeError) as err:
            raise self.fail(where, f"{value!r} does not fit dtype {dtype} ({err})") from None


def _decode(obj: Any, arrays: dict[str, np.ndarray]) -> Any:
    """Decode a state written by :func:`_encode` (see :class:`_Decoder`)."""
    return _Decoder("<state>", arrays)(obj, "state")


# ---------------------------------------------------------------------- checks of the content
def check_epoch(epoch: Any, history: Any, where: str) -> int:
    """``epoch`` as an int in [0, 10**9] that agrees with the last epoch the history recorded;
    raises ``ValueError`` (the caller adds the file's name)."""
    if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or not (
        0 <= epoch <= _MAX_EPOCH
    ):
        raise ValueError(f"{where}: the epoch must be an integer from 0 to {_MAX_EPOCH} (the last "
                         f"completed epoch, 0-based), got {epoch!r}")
    recorded = history.get("epoch") if isinstance(history, dict) else None
    if recorded and recorded[-1] != epoch:
        # -5 would run the recorded epochs again and duplicate them in the history; 10**30
        # would skip training without a word
        raise ValueError(f"{where}: the epoch {epoch} contradicts the history, whose last "
                         f"recorded epoch is {recorded[-1]}")
    return int(epoch)


def _check_history(state: Any, fail: Any) -> None:
    if state is None:
        return
    if not isinstance(state, dict) or not isinstance(state.get("history"), dict) or not all(
        isinstance(v, list) for v in state["history"].values()
    ):
        raise fail("history", "expected {'history': {name: [values]}, 'epoch': [epochs]}")
    epochs = state.get("epoch")
    if not isinstance(epochs, list) or not all(
        isinstance(e, int) and not isinstance(e, bool) and 0 <= e <= _MAX_EPOCH for e in epochs
    ):
        raise fail("history.epoch", f"expected a list of epochs from 0 to {_MAX_EPOCH}")


def _check_rng_state(role: str, state: Any, fail: Any) -> None:
    """Set ``state`` on a scratch generator of the saved kind: a state that cannot be restored
    is found before the trainer's generators are touched."""
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if name not in _BIT_GENERATORS:
        raise fail(f"rng.{role}", f"not the state of a NumPy bit generator ({name!r}; expected "
                                  f"one of {', '.join(_BIT_GENERATORS)})")
    try:
        getattr(np.random, name)().state = copy.deepcopy(state)
    except Exception as err:  # noqa: BLE001 - NumPy raises TypeError, ValueError, KeyError...
        raise fail(f"rng.{role}", f"an invalid {name} state ({type(err).__name__}: {err})") \
            from None


# ---------------------------------------------------------------------- write / read
def write_checkpoint(path: str | os.PathLike[str], state: dict[str, Any]) -> Path:
    """Write a trainer state (:meth:`neuralab.train.Trainer.state_dict`) to ``path`` atomically
    and return the path.  ``state["epoch"]`` must agree with the history: when the history has
    recorded epochs, it is the last of them."""
    missing = [k for k in PARTS if k not in state]
    if missing:
        raise ValueError(f"write_checkpoint: the state lacks {', '.join(missing)}; pass "
                         "Trainer.state_dict()")
    epoch = check_epoch(state["epoch"], state["history"], "write_checkpoint")
    arrays: dict[str, np.ndarray] = {}
    model_state = state["model"]
    for name, value in model_state.items():
        arrays[f"model/{name}"] = np.ascontiguousarray(value)
    meta: dict[str, Any] = {"format": FORMAT, "version": VERSION, "epoch": epoch,
                            "model": list(model_state),
                            "stop_training": bool(state["stop_training"])}
    meta["optimizer"] = _encode(state["optimizer"], "optimizer", arrays) \
        if state["optimizer"] is not None else None
    meta["optimizer_class"] = state["optimizer_class"]
    meta["scheduler"] = _encode(state["scheduler"], "scheduler", arrays) \
        if state["scheduler"] is not None else None
    meta["rng"] = {role: _encode(gen_state, f"rng.{role}", arrays)
                   for role, gen_state in state["rng"].items()}
    meta["history"] = state["history"]
    meta["callbacks"] = {key: _encode(cb_state, f"callbacks.{key}", arrays)
                         for key, cb_state in state["callbacks"].items() if cb_state}
    text = json.dumps(meta, allow_nan=True)
    path = Path(path)
    if str(path.parent):
        path.parent.mkdir(parents=True, exist_ok=True)
    write_safetensors(path, arrays, {META_KEY: text})
    return path


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The trainer state a checkpoint holds, as plain Python with its arrays: the dict of
    :meth:`neuralab.train.Trainer.state_dict` (``"epoch"``, ``"model"`` (name -> array),
    ``"optimizer"``, ``"scheduler"``, ``"rng"``, ``"history"``, ``"callbacks"``...).

    Everything is checked against what :func:`write_checkpoint` writes; any problem raises
    :class:`CheckpointError` naming the file (``FileNotFoundError`` when there is no file).
    """
    name = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {name!r}")
    try:
        arrays, metadata = read_safetensors(path)
    except SafetensorsError as err:
        raise CheckpointError(str(err)) from None
    text = metadata.get(META_KEY)
    if text is None:
        raise CheckpointError(
            f"{name!r} is a safetensors file but not a neuralab training checkpoint "
            f"(no {META_KEY!r} metadata); model files are read with neuralab.load"
        )
    try:
        meta = json.loads(text)
    except RecursionError:
        raise CheckpointError(f"{name}: corrupted checkpoint metadata (nested too deeply)") \
            from None
    except ValueError as err:
        raise CheckpointError(f"{name}: corrupted checkpoint metadata (not JSON: {err})") \
            from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT \
            or meta.get("version") != VERSION:
        found = (meta.get("format"), meta.get("version")) if isinstance(meta, dict) else (meta,)
        raise CheckpointError(
            f"{name!r}: unsupported checkpoint format {found!r}; expected {FORMAT!r} version "
            f"{VERSION}"
        )
    decode = _Decoder(name, arrays)
    fail = decode.fail
    missing = [key for key in ("epoch", "model", "optimizer", "scheduler", "rng", "history",
                               "callbacks") if key not in meta]
    if missing:
        raise fail("the top level", f"missing {', '.join(missing)}")

    _check_history(meta["history"], fail)
    try:
        epoch = check_epoch(meta["epoch"], meta["history"], "epoch")
    except ValueError as err:
        raise CheckpointError(f"{name}: corrupted checkpoint metadata: {err}") from None
    names = meta["model"]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names) \
            or len(set(names)) != len(names):
        raise fail("model", "expected a list of distinct parameter names")
    absent = [n for n in names if f"model/{n}" not in arrays]
    if absent:
        raise fail("model", f"the file holds no tensor for {', '.join(absent[:5])}")
    for key in ("optimizer", "scheduler"):
        if meta[key] is not None and not isinstance(meta[key], dict):
            raise fail(key, f"expected a state (an object) or null, got {meta[key]!r}")
    if not isinstance(meta.get("optimizer_class"), (str, type(None))):
        raise fail("optimizer_class", "expected a class name or null")
    if not isinstance(meta.get("stop_training", False), bool):
        raise fail("stop_training", "expected true or false")
    for key in ("rng", "callbacks"):
        if not isinstance(meta[key], dict):
            raise fail(key, "expected an object")

    content: dict[str, Any] = {k: decode(meta[k], k) for k in
                               ("optimizer", "scheduler", "rng", "history", "callbacks")}
    for role, state in content["rng"].items():
        _check_rng_state(role, state, fail)
    content["epoch"] = epoch
    content["optimizer_class"] = meta.get("optimizer_class")
    content["stop_training"] = bool(meta.get("stop_training", False))
    content["model"] = {n: arrays[f"model/{n}"] for n in names}
    return {k: content[k] for k in PARTS}

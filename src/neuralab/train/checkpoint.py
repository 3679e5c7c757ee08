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

Reading is strict, because a checkpoint may come from anywhere: every problem with the file
(truncated, corrupted, metadata that is not what :func:`save_checkpoint` writes, an epoch that
contradicts the history, a random generator state that cannot be set) raises
:class:`CheckpointError` (a ``ValueError``) whose message starts with the file's path.
:func:`load_checkpoint` checks everything it can before it changes the trainer, and if restoring
still fails (a state that does not fit this trainer's optimizer), it puts back what it had
changed: the trainer is restored whole or not at all.
"""

from __future__ import annotations

import copy
import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .. import random as _random

__all__ = ["CheckpointError", "load_checkpoint", "read_checkpoint", "save_checkpoint"]

FORMAT = "neuralab-checkpoint"
VERSION = 1
_META_KEY = "neuralab.checkpoint"
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
        f"save_checkpoint cannot store a {type(obj).__name__} (at {key!r}); states must be made "
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
    from .protocol import History

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


# ---------------------------------------------------------------------- checks of the content
def _check_epoch(epoch: Any, history: Any, where: str) -> int:
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


def _same_kind(saved: Any, current: Any) -> bool:
    """Whether a saved scheduler value can stand for the current one (numbers for numbers,
    lists of the same length, None for anything)."""
    if saved is None or current is None:
        return True
    if isinstance(current, bool) or isinstance(saved, bool):
        return isinstance(current, bool) and isinstance(saved, bool)
    if isinstance(current, (int, float, np.number)):
        return isinstance(saved, (int, float, np.number)) and (
            not isinstance(current, (int, np.integer)) or isinstance(saved, (int, np.integer))
        )
    if isinstance(current, (list, tuple)):
        return isinstance(saved, (list, tuple)) and len(saved) == len(current) and all(
            _same_kind(s, c) for s, c in zip(saved, current)
        )
    return type(saved) is type(current)


# ---------------------------------------------------------------------- save / read / load
def save_checkpoint(path: str | os.PathLike[str], trainer: Any, epoch: int) -> Path:
    """Write the full training state after ``epoch`` (0-based, completed) to ``path``
    atomically: model weights and buffers, optimizer state, scheduler state, random generator
    states, history so far and callback states.  Returns the path.

    ``epoch`` must agree with the history: when the trainer's history has recorded epochs, it is
    the last of them (as in ``on_epoch_end``).

    >>> save_checkpoint("run/ckpt.safetensors", trainer, epoch=9)
    >>> trainer.fit(x, y, epochs=20, resume_from="run/ckpt.safetensors")   # epochs 10..19
    """
    from ..io import write_safetensors

    history = getattr(trainer, "history", None)
    history_state = history.state_dict() if history is not None else None
    epoch = _check_epoch(epoch, history_state, "save_checkpoint")
    arrays: dict[str, np.ndarray] = {}
    model_state = trainer.model.state_dict()
    for name, value in model_state.items():
        arrays[f"model/{name}"] = np.ascontiguousarray(value)
    meta: dict[str, Any] = {"format": FORMAT, "version": VERSION, "epoch": epoch,
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
    meta["history"] = history_state
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


class _CallbackStates(dict):
    """The callback states of a checkpoint (key ``ClassName#k``), with the file they came from,
    so that a state that does not fit its callback is reported with the file's name."""

    def __init__(self, states: dict[str, Any], path: str) -> None:
        super().__init__(states)
        self.path = path


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The content of a checkpoint as plain Python: ``{"epoch", "model" (name -> array),
    "optimizer", "scheduler", "rng", "history", "callbacks", ...}`` with arrays restored.

    Everything is checked against what :func:`save_checkpoint` writes; any problem raises
    :class:`CheckpointError` naming the file (``FileNotFoundError`` when there is no file).
    """
    from ..io import SafetensorsError, read_safetensors

    name = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {name!r}")
    try:
        arrays, metadata = read_safetensors(path)
    except SafetensorsError as err:
        raise CheckpointError(str(err)) from None
    text = metadata.get(_META_KEY)
    if text is None:
        raise CheckpointError(
            f"{name!r} is a safetensors file but not a neuralab training checkpoint "
            f"(no {_META_KEY!r} metadata); model files are read with neuralab.load"
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
        epoch = _check_epoch(meta["epoch"], meta["history"], "epoch")
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

    content: dict[str, Any] = {k: decode(v, k) for k, v in meta.items() if k != "model"}
    for role, state in content["rng"].items():
        _check_rng_state(role, state, fail)
    content["epoch"] = epoch
    content["stop_training"] = bool(meta.get("stop_training", False))
    content["callbacks"] = _CallbackStates(content["callbacks"], name)
    content["model"] = {n: arrays[f"model/{n}"] for n in names}
    return content


class _Snapshot:
    """What :func:`load_checkpoint` may change in a trainer, copied before it changes anything,
    so that a failure part-way can put everything back."""

    def __init__(self, trainer: Any) -> None:
        self.trainer = trainer
        self.model = trainer.model.state_dict()
        self.optimizer_object = trainer.optimizer
        opt = trainer.optimizer
        self.optimizer = copy.deepcopy(opt.state_dict()) if hasattr(opt, "state_dict") else None
        sched = getattr(trainer, "scheduler", None)
        self.scheduler = copy.deepcopy(sched.state_dict()) if sched is not None else None
        self.rng = {role: copy.deepcopy(gen.bit_generator.state)
                    for role, gen in _generators(trainer).items()}
        self.history_object = getattr(trainer, "history", None)
        self.history = self.history_object.state_dict() if self.history_object else None

    def restore(self) -> None:
        trainer = self.trainer
        trainer.model.load_state_dict(self.model, strict=False)
        trainer.optimizer = self.optimizer_object
        if self.optimizer is not None:
            trainer.optimizer.load_state_dict(self.optimizer)
        if self.scheduler is not None:
            trainer.scheduler.load_state_dict(self.scheduler)
        for role, gen in _generators(trainer).items():
            if role in self.rng:
                gen.bit_generator.state = self.rng[role]
        trainer.history = self.history_object
        if self.history_object is not None:
            self.history_object.load_state_dict(self.history)


def _check_fits_trainer(content: dict[str, Any], trainer: Any, name: str) -> None:
    """The checks that need the trainer but change nothing in it."""
    opt = trainer.optimizer
    saved = content.get("optimizer_class")
    if content["optimizer"] is not None and opt is not None:
        if not hasattr(opt, "load_state_dict"):
            raise CheckpointError(f"{name}: the checkpoint holds an optimizer state but the "
                                  "trainer's optimizer cannot load one")
        if saved is not None and saved != type(opt).__name__:
            raise CheckpointError(
                f"{name}: the checkpoint was saved with a {saved} optimizer, the trainer has a "
                f"{type(opt).__name__}"
            )
    scheduler = getattr(trainer, "scheduler", None)
    if content["scheduler"] is not None and scheduler is not None:
        current = scheduler.state_dict()
        wrong = [k for k, v in content["scheduler"].items()
                 if k not in current or not _same_kind(v, current[k])]
        if wrong:
            raise CheckpointError(
                f"{name}: the checkpoint's {', '.join(map(repr, wrong))} do not fit the trainer's "
                f"{type(scheduler).__name__} schedule (another schedule, or damaged metadata)"
            )
    current_gens = _generators(trainer)
    for role, state in content["rng"].items():
        gen = current_gens.get(role)
        if gen is not None and type(gen.bit_generator).__name__ != state["bit_generator"]:
            raise CheckpointError(
                f"{name}: cannot restore the {role!r} random generator: the checkpoint holds a "
                f"{state['bit_generator']} state, the generator is a "
                f"{type(gen.bit_generator).__name__}"
            )


def load_checkpoint(path: str | os.PathLike[str], trainer: Any) -> int:
    """Restore a checkpoint into ``trainer`` and return its (0-based) epoch.

    Model weights, optimizer and scheduler states, random generators and history are restored
    at once, all or nothing: the file is read and checked whole first (:func:`read_checkpoint`),
    then against the trainer, and if restoring still fails the trainer gets its previous state
    back before :class:`CheckpointError` is raised.  (Lazy layers built from the checkpoint's
    shapes stay built.)  Callback states are applied to the callbacks of the next ``fit`` (or of
    the running one, when called from ``fit(resume_from=...)`` or ``BackupAndRestore``), matched
    by class and position.  After ``load_checkpoint``, ``trainer.fit(x, y, epochs=N)``
    continues with the epoch after the saved one.  Prefer ``fit(..., resume_from=path)``: it
    also restores the generator of a ``DataLoader`` passed to that ``fit``.
    """
    from .protocol import History

    name = os.fspath(path)
    content = read_checkpoint(path)
    _check_fits_trainer(content, trainer, name)
    snapshot = _Snapshot(trainer)
    try:
        _restore(content, trainer)
        if content["history"] is not None:
            if trainer.history is None:
                trainer.history = History()
            trainer.history.load_state_dict(content["history"])
    except BaseException as err:
        snapshot.restore()
        if isinstance(err, CheckpointError) or not isinstance(err, Exception):
            raise
        raise CheckpointError(
            f"{name}: cannot be restored into this trainer ({type(err).__name__}: {err}); the "
            "trainer was left as it was"
        ) from err
    epoch = content["epoch"]
    trainer._resume_state = {"epoch": epoch, "callbacks": content["callbacks"],
                             "stop_training": content["stop_training"]}
    return epoch


def _restore(content: dict[str, Any], trainer: Any) -> None:
    trainer.model.load_state_dict(content["model"])
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
            stacklevel=3,
        )
    current = _generators(trainer)
    for role, state in content["rng"].items():
        gen = current.get(role)
        if gen is not None:
            gen.bit_generator.state = state


def apply_callback_states(states: dict[str, Any], callbacks: list[Any]) -> None:
    """Give each callback the state saved for the callback of the same class and position.

    All or nothing: if one callback refuses its state, those already given theirs get their
    previous state back and :class:`CheckpointError` names the file and the callback."""
    applied: list[tuple[Any, dict[str, Any]]] = []
    for key, cb in _callback_keys(callbacks):
        if key not in states:
            continue
        before = copy.deepcopy(cb.state_dict())
        try:
            cb.load_state_dict(states[key])
        except Exception as err:  # noqa: BLE001 - a callback's own loader, fed the file's data
            for done, state in reversed(applied + [(cb, before)]):
                try:
                    done.load_state_dict(state)
                except Exception:  # noqa: BLE001 - best effort: report the original problem
                    pass
            source = getattr(states, "path", "the checkpoint")
            raise CheckpointError(
                f"{source}: the saved state of callback {key} does not fit it "
                f"({type(err).__name__}: {err})"
            ) from err
        applied.append((cb, before))

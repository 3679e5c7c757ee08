"""Dataclass configs: defaults in code, overrides from a TOML file and ``--set key=value``.

Every lab has a ``Config`` dataclass.  :func:`apply_overrides` turns strings from the command line
into the field's type (int, float, bool, str, tuples and lists of those), checks the values a TOML
file gives (``points = 1.5`` for an ``int`` is refused, not truncated), refuses non-finite
numbers and unknown keys (with the list of valid ones), so a typo is an error instead of a
silently ignored setting.  A ``Config`` may check the meaning of its values in ``__post_init__``
(raising ``ValueError``); the error then names the overrides that caused it.

Every problem is a :class:`ConfigError` (a ``ValueError``) whose message says where the value came
from, worded as the user wrote it::

    --set points=1.5: expected an integer (int)
    config file lab.toml: points = 1.5: expected an integer (int)
"""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib
import types
import typing
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A bad configuration value or key; the message says which and what is expected."""


class CommandLineValue(str):
    """A ``--set`` value as typed (a ``str``): errors about it are worded as ``--set key=value``."""


class TomlSettings(dict):
    """The top-level settings of a TOML file (a ``dict``) that remembers the file: errors about
    its values are worded as TOML and name the file.  Values put in later by ``update`` (from
    ``--set``) keep their own wording."""

    def __init__(self, values: dict[str, Any], source: str) -> None:
        super().__init__(values)
        self.source = source


_TYPE_NAMES = {int: "an integer (int)", float: "a number (float)", bool: "true or false (bool)",
               str: "a string (str)"}


def _toml_repr(value: Any) -> str:
    """``value`` written as in a TOML file (strings in double quotes, lowercase booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_repr(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_repr(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _where(key: str, value: Any, source: str | None) -> str:
    """How the user wrote ``key`` = ``value``: on the command line, in a TOML file, in Python."""
    if isinstance(value, CommandLineValue):
        return f"--set {key}={value}"
    if source is not None:
        return f"config file {source}: {key} = {_toml_repr(value)}"
    return f"setting {key}={value!r}"


def _type_name(kind: Any) -> str:
    if kind in _TYPE_NAMES:
        return _TYPE_NAMES[kind]
    return getattr(kind, "__name__", str(kind))


def _union_args(kind: Any) -> list[Any] | None:
    origin = typing.get_origin(kind)
    if origin is typing.Union or origin is types.UnionType:
        return [a for a in typing.get_args(kind) if a is not type(None)]
    return None


def _sequence_args(kind: Any) -> list[Any] | None:
    """The item types of a ``tuple[...]``/``list[...]`` field: one type for any length
    (``tuple[int, ...]``, ``list[str]``), or one per position (``tuple[float, float]``)."""
    origin = typing.get_origin(kind)
    if origin not in (tuple, list):
        return None
    args = list(typing.get_args(kind) or (str, Ellipsis))
    if origin is list or Ellipsis in args:
        return [args[0], Ellipsis]
    return args


def _items(values: list[Any], kind: Any, convert: Any) -> Any:
    """``values`` converted item by item (``convert(value, item type)``) into the sequence type
    ``kind``; a fixed-length tuple also needs the right number of items."""
    item_types = _sequence_args(kind) or [str, Ellipsis]
    if item_types[-1] is Ellipsis:
        out = [convert(v, item_types[0]) for v in values]
    else:
        if len(values) != len(item_types):
            raise _Bad(f"{len(item_types)} values")
        out = [convert(v, t) for v, t in zip(values, item_types)]
    return tuple(out) if typing.get_origin(kind) is tuple else out


class _Bad(Exception):
    """Internal: the value does not fit the type; ``expected`` says what would."""

    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self.expected = expected


def _finite(number: float) -> float:
    if not math.isfinite(number):
        raise _Bad("a finite number (not nan or inf)")
    return number


def _from_text(text: str, kind: Any) -> Any:
    """A ``--set`` string as a value of type ``kind``."""
    union = _union_args(kind)
    if union is not None:
        if text.strip().lower() in ("none", "null"):
            return None
        return _from_text(text, union[0])
    if _sequence_args(kind) is not None:
        items = [s.strip() for s in text.strip().strip("()[]").split(",") if s.strip()]
        return _items(items, kind, _from_text)
    text = text.strip()
    if kind is bool:
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise _Bad(_TYPE_NAMES[bool])
    if kind is int:
        try:
            return int(text)
        except ValueError:
            raise _Bad(_TYPE_NAMES[int]) from None
    if kind is float:
        try:
            return _finite(float(text))
        except ValueError:
            raise _Bad(_TYPE_NAMES[float]) from None
    return text


def _from_value(value: Any, kind: Any) -> Any:
    """A value from TOML (or Python) checked against the field's type ``kind``; ints are
    accepted for floats, lists for tuples."""
    union = _union_args(kind)
    if union is not None:
        if value is None:
            return None
        return _from_value(value, union[0])
    item_types = _sequence_args(kind)
    if item_types is not None:
        if not isinstance(value, (list, tuple)):
            raise _Bad(f"an array of {_type_name(item_types[0])} values, e.g. [1, 2]")
        return _items(list(value), kind, _from_value)
    if kind is bool:
        if not isinstance(value, bool):
            raise _Bad(_TYPE_NAMES[bool])
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Bad(_TYPE_NAMES[int])
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Bad(_TYPE_NAMES[float])
        return _finite(float(value))
    if kind is str:
        if not isinstance(value, str):
            raise _Bad(_TYPE_NAMES[str] + " in quotes")
        return value
    return value


def field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def apply_overrides(config: Any, overrides: dict[str, Any]) -> Any:
    """A copy of the dataclass ``config`` with ``overrides`` applied.

    Strings are converted to each field's type (``"0.1"`` -> 0.1 for a float, ``"1,2"`` ->
    ``(1, 2)`` for a ``tuple[int, ...]``); other values must already have the field's type
    (an int is taken for a float, a list for a tuple).  Floats must be finite.  Raises
    :class:`ConfigError` naming the setting as the user wrote it (``--set``, a TOML file from
    :func:`load_toml`, or Python), also for a ``ValueError``/``TypeError`` raised by the
    config's own ``__post_init__`` checks.
    """
    kinds = field_types(type(config))
    source = getattr(overrides, "source", None)
    changes = {}
    for key, value in overrides.items():
        if key not in kinds:
            where = f"config file {source}: " if source and not isinstance(
                value, CommandLineValue) else ""
            raise ConfigError(
                f"{where}unknown setting {key!r} for {type(config).__qualname__}; valid "
                "settings: " + ", ".join(sorted(kinds))
            )
        try:
            if isinstance(value, str) and (isinstance(value, CommandLineValue) or kinds[key]
                                           is not str):
                # command-line text, or a TOML string for a non-string field ("0.1")
                changes[key] = _from_text(str(value), kinds[key])
            else:
                changes[key] = _from_value(value, kinds[key])
        except _Bad as bad:
            raise ConfigError(f"{_where(key, value, source)}: expected {bad.expected}") from None
    try:
        return dataclasses.replace(config, **changes)
    except (ValueError, TypeError) as err:  # the config's own __post_init__ checks
        given = ", ".join(_where(k, overrides[k], source) for k in changes)
        raise ConfigError(f"{err} (from {given})" if given else str(err)) from None


def parse_set_options(items: list[str]) -> dict[str, str]:
    """``["lr=0.1", "epochs=5"]`` -> ``{"lr": "0.1", "epochs": "5"}`` (the values are
    :class:`CommandLineValue` strings, so that errors are worded as ``--set``)."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects key=value, got {item!r}")
        out[key.strip()] = CommandLineValue(value.strip())
    return out


def load_toml(path: str | Path) -> dict[str, Any]:
    """The top-level settings of a TOML file, as a :class:`TomlSettings` dict."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        line = path.read_bytes()[: err.start].count(b"\n") + 1
        raise ConfigError(f"config file {path} is not UTF-8 text (line {line}); TOML files are "
                          "UTF-8") from None
    except OSError as err:
        raise ConfigError(f"config file {path} cannot be read: {err.strerror or err}") from None
    try:
        return TomlSettings(tomllib.loads(text), str(path))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"config file {path} is not valid TOML: {err}") from None
    except RecursionError:  # arrays nested thousands deep
        raise ConfigError(f"config file {path} is not valid TOML: nested too deeply") from None


def to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


def to_toml(config: Any, header: str = "") -> str:
    """The dataclass ``config`` as a TOML file that :func:`load_toml` + :func:`apply_overrides`
    read back to an equal config (``None`` fields are left out: TOML has no null, and the field's
    default applies).  ``header`` lines become comments at the top."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    for key, value in to_dict(config).items():
        if value is not None:
            lines.append(f"{key} = {_toml_repr(value)}")
    return "\n".join(lines) + "\n"

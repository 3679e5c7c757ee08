"""Dataclass configs: defaults in code, overrides from a TOML file and ``--set key=value``.

Every lab has a ``Config`` dataclass.  :func:`apply_overrides` turns strings from the command line
into the field's type (int, float, bool, str, tuples and lists of those) and refuses unknown keys
with the list of valid ones, so a typo is an error instead of a silently ignored setting.
"""

from __future__ import annotations

import dataclasses
import tomllib
import typing
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A bad configuration value or key; the message says which and what is expected."""


def _convert(text: str, kind: Any, key: str) -> Any:
    origin = typing.get_origin(kind)
    if origin is typing.Union or str(origin) == "types.UnionType":
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        if text.lower() in ("none", "null"):
            return None
        return _convert(text, args[0], key)
    if origin in (tuple, list):
        (inner, *_) = typing.get_args(kind) or (str,)
        items = [s.strip() for s in text.strip("()[]").split(",") if s.strip()]
        values = [_convert(s, inner, key) for s in items]
        return tuple(values) if origin is tuple else values
    try:
        if kind is bool:
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if kind in (int, float, str):
            return kind(text)
    except ValueError:
        raise ConfigError(f"--set {key}={text}: expected a value of type {kind.__name__}") from None
    return text


def field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def apply_overrides(config: Any, overrides: dict[str, Any]) -> Any:
    """A copy of the dataclass ``config`` with ``overrides`` applied (strings are converted to
    each field's type; other values are used as they are)."""
    types = field_types(type(config))
    changes = {}
    for key, value in overrides.items():
        if key not in types:
            raise ConfigError(
                f"unknown setting {key!r} for {type(config).__qualname__}; valid settings: "
                + ", ".join(sorted(types))
            )
        if isinstance(value, str):
            value = _convert(value, types[key], key)
        elif isinstance(value, list) and typing.get_origin(types[key]) is tuple:
            value = tuple(value)  # TOML arrays for tuple fields
        changes[key] = value
    return dataclasses.replace(config, **changes)


def parse_set_options(items: list[str]) -> dict[str, str]:
    """``["lr=0.1", "epochs=5"]`` -> ``{"lr": "0.1", "epochs": "5"}``."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects key=value, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def load_toml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"config file {path} is not valid TOML: {err}") from None


def to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)

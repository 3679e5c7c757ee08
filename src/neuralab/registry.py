"""Look-up by name, one way for every kind of thing: activations, initializers, regularizers,
losses, metrics, optimizers, schedules.

Names are matched without regard to case, spaces, ``-`` or ``_`` (``"leaky_relu"``, ``"LeakyReLU"``
and ``"leaky-relu"`` are one name), a misspelt name gets a suggestion, and the error lists what
is known.

>>> shapes = Registry("shape", {"square": 4, "triangle": 3}, aliases={"tri": "triangle"})
>>> shapes.lookup("Tri")
3
>>> shapes.lookup("sqare")
Traceback (most recent call last):
ValueError: unknown shape 'sqare' (did you mean 'square'?); expected one of square, triangle
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Generic, TypeVar

T = TypeVar("T")


def normalize(name: str) -> str:
    """The form in which names are compared: lower case, without spaces, ``-`` and ``_``."""
    return "".join(ch for ch in name.strip().lower() if ch not in " -_")


class Registry(Generic[T]):
    """Named entries of one ``kind``; canonical names plus aliases.

    Args:
        kind: what the entries are, for messages ("activation", "loss", ...).
        entries: canonical name -> entry.
        aliases: other name -> canonical name.
    """

    def __init__(self, kind: str, entries: Mapping[str, T] | None = None,
                 aliases: Mapping[str, str] | None = None) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._keys: dict[str, str] = {}  # normalized name or alias -> canonical name
        for name, entry in (entries or {}).items():
            self.register(name, entry)
        for alias, name in (aliases or {}).items():
            self.alias(alias, name)

    def register(self, name: str, entry: T, aliases: Iterable[str] = ()) -> None:
        """Add (or replace) ``entry`` under the canonical ``name`` and its ``aliases``."""
        if not isinstance(name, str) or not normalize(name):
            raise ValueError(f"a {self.kind} name must be a non-empty string, got {name!r}")
        self._entries[name] = entry
        self._keys[normalize(name)] = name
        for alias in aliases:
            self.alias(alias, name)

    def alias(self, alias: str, name: str) -> None:
        if name not in self._entries:
            raise KeyError(f"cannot alias {alias!r} to unknown {self.kind} {name!r}")
        self._keys.setdefault(normalize(alias), name)

    def canonical(self, name: str) -> str:
        """The canonical name that ``name`` stands for; ValueError with the known names and a
        suggestion when there is none."""
        if not isinstance(name, str):
            raise TypeError(f"expected a {self.kind} name (a string), got {type(name).__name__}")
        key = normalize(name)
        if key in self._keys:
            return self._keys[key]
        close = difflib.get_close_matches(key, list(self._keys), n=1)
        hint = f" (did you mean {self._keys[close[0]]!r}?)" if close else ""
        raise ValueError(
            f"unknown {self.kind} {name!r}{hint}; expected one of {', '.join(self.names())}")

    def lookup(self, name: str) -> T:
        """The entry called ``name`` (any spelling of it or of an alias)."""
        return self._entries[self.canonical(name)]

    def names(self) -> list[str]:
        """The canonical names, sorted."""
        return sorted(self._entries)

    def aliases(self) -> list[str]:
        """The other accepted names (as normalized), sorted."""
        return sorted(k for k, name in self._keys.items() if k != normalize(name))

    def name_of(self, entry: object) -> str | None:
        """The canonical name of ``entry`` (compared by identity), or None."""
        for name, candidate in self._entries.items():
            if candidate is entry:
                return name
        return None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and normalize(name) in self._keys

    def items(self) -> list[tuple[str, T]]:
        return list(self._entries.items())

    def copy(self) -> Registry[T]:
        """An independent registry with the same entries and aliases."""
        new: Registry[T] = Registry(self.kind)
        new._entries, new._keys = dict(self._entries), dict(self._keys)
        return new

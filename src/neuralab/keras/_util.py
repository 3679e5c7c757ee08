"""What the adapter's modules share: the error for a Keras feature neuralab does not have, and the
check that a Keras argument was left at the value neuralab supports."""

from __future__ import annotations

from typing import Any


class UnsupportedKerasFeature(NotImplementedError):
    """A Keras feature that ``neuralab.keras`` does not map; the message names the feature and the
    neuralab way to get it."""


def unsupported(feature: str, instead: str) -> UnsupportedKerasFeature:
    return UnsupportedKerasFeature(f"neuralab.keras does not support {feature}; {instead}")


def check_defaults(who: str, given: dict[str, Any], supported: dict[str, Any],
                   instead: dict[str, str] | None = None) -> None:
    """Raise :class:`UnsupportedKerasFeature` for every argument in ``given`` whose value differs
    from the only one neuralab supports (``supported[name]``)."""
    for name, value in given.items():
        if name not in supported:
            raise TypeError(f"{who} got an unexpected keyword argument {name!r}")
        default = supported[name]
        same = value is default or (
            not hasattr(value, "__len__") or isinstance(value, str)) and value == default
        if not same:
            hint = (instead or {}).get(name, "leave it at its default")
            raise unsupported(f"{who}({name}={value!r})", hint)


def missing_name(module: str, name: str, supported: list[str], instead: str) -> AttributeError:
    """The AttributeError of a submodule's ``__getattr__`` for a Keras name it does not map."""
    return AttributeError(
        f"{module} has no {name!r}: neuralab.keras does not support this Keras feature "
        f"(supported: {', '.join(sorted(supported))}); {instead}"
    )

"""Keras' weight initializers (가중치 초기화) by their Keras names, drawn by ``neuralab.nn.init``.

``initializers.GlorotUniform()`` and ``"glorot_uniform"`` are ``nn.init.xavier_uniform``,
``HeNormal()`` / ``"he_normal"`` are ``nn.init.he_normal``, and so on.  Each object is called
as a neuralab initializer, ``init(shape, rng=None, dtype=np.float32)``; ``seed=`` gives it its own
generator (the same values at every call, as Keras' seeded initializers).

What differs from Keras: its ``GlorotNormal``, ``HeNormal`` and ``LecunNormal`` draw from a normal
truncated at two standard deviations (rescaled so that the variance is the same); neuralab's are
plain normals with that variance.  Same mean and variance, other tails; the random numbers differ
anyway (another generator), so copy weights with ``set_weights`` to compare with Keras.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn import init as _init
from ._util import missing_name

_KERAS_TO_NEURALAB = {
    "zeros": "zeros", "ones": "ones", "constant": "constant",
    "random_uniform": "uniform", "random_normal": "normal",
    "glorot_uniform": "xavier_uniform", "glorot_normal": "xavier_normal",
    "he_uniform": "he_uniform", "he_normal": "he_normal",
    "lecun_uniform": "lecun_uniform", "lecun_normal": "lecun_normal",
}


class Initializer:
    """A Keras initializer: the neuralab initializer ``_name`` with Keras' argument names."""

    _name = ""

    def __init__(self, seed: int | None = None) -> None:
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise TypeError(f"{type(self).__name__} expected an integer seed or None, got {seed!r}")
        self.seed = seed

    def _kwargs(self) -> dict[str, Any]:
        return {}

    def __call__(self, shape: Any, dtype: Any = None, rng: Any = None) -> np.ndarray:
        if self.seed is not None:
            rng = np.random.default_rng(self.seed)
        fn = _init.get(self._name)
        return fn(shape, rng=rng, dtype=np.float32 if dtype is None else dtype, **self._kwargs())

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed, **self._kwargs()}

    def neuralab_spec(self) -> Any:
        """What a neuralab layer gets: the initializer's name when it has no settings (so that
        the layer's config records it), else this object."""
        return self._name if self.seed is None and not self._kwargs() else self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if v is not None)
        return f"{type(self).__name__}({args})"


def _simple(cls_name: str, name: str, doc: str) -> type[Initializer]:
    return type(cls_name, (Initializer,), {"_name": name, "__doc__": doc})


GlorotUniform = _simple("GlorotUniform", "xavier_uniform",
                        "U(-a, a), a = sqrt(6 / (fan_in + fan_out)): nn.init.xavier_uniform.")
GlorotNormal = _simple("GlorotNormal", "xavier_normal",
                       "N(0, 2 / (fan_in + fan_out)), untruncated: nn.init.xavier_normal.")
HeUniform = _simple("HeUniform", "he_uniform", "U(-a, a), a = sqrt(6 / fan_in): nn.init.he_uniform.")
HeNormal = _simple("HeNormal", "he_normal", "N(0, 2 / fan_in), untruncated: nn.init.he_normal.")
LecunUniform = _simple("LecunUniform", "lecun_uniform",
                       "U(-a, a), a = sqrt(3 / fan_in): nn.init.lecun_uniform.")
LecunNormal = _simple("LecunNormal", "lecun_normal",
                      "N(0, 1 / fan_in), untruncated: nn.init.lecun_normal.")


class Zeros(Initializer):
    """All zeros: nn.init.zeros."""

    _name = "zeros"

    def __init__(self) -> None:
        super().__init__(None)


class Ones(Initializer):
    """All ones: nn.init.ones."""

    _name = "ones"

    def __init__(self) -> None:
        super().__init__(None)


class Constant(Initializer):
    """Every entry ``value``: nn.init.constant."""

    _name = "constant"

    def __init__(self, value: float = 0.0) -> None:
        super().__init__(None)
        self.value = float(value)

    def _kwargs(self) -> dict[str, Any]:
        return {"value": self.value}


class RandomUniform(Initializer):
    """U(minval, maxval), Keras' default U(-0.05, 0.05): nn.init.uniform."""

    _name = "uniform"

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.minval, self.maxval = float(minval), float(maxval)

    def _kwargs(self) -> dict[str, Any]:
        return {"low": self.minval, "high": self.maxval}

    def neuralab_spec(self) -> Any:
        return self


class RandomNormal(Initializer):
    """N(mean, stddev^2), Keras' default stddev 0.05: nn.init.normal."""

    _name = "normal"

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def _kwargs(self) -> dict[str, Any]:
        return {"mean": self.mean, "std": self.stddev}

    def neuralab_spec(self) -> Any:
        return self


_CLASSES = {cls.__name__: cls for cls in (
    GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal, Zeros, Ones,
    Constant, RandomUniform, RandomNormal)}


def get(identifier: Any) -> Any:
    """What a neuralab layer's ``kernel_initializer=`` gets for a Keras identifier: a Keras name
    (``"glorot_uniform"``, ``"he_normal"``, ``"zeros"``...), a class name (``"HeNormal"``), an
    initializer object, or anything neuralab accepts itself (its names, a callable)."""
    if identifier is None:
        return None
    if isinstance(identifier, Initializer):
        return identifier.neuralab_spec()
    if isinstance(identifier, str):
        if identifier in _CLASSES:
            return _CLASSES[identifier]().neuralab_spec()
        key = identifier.lower()
        if key in _KERAS_TO_NEURALAB:
            return _KERAS_TO_NEURALAB[key]
        if key in _init.names():
            return key  # a neuralab name ("xavier_uniform"): a reloaded layer's config
        raise ValueError(
            f"unknown initializer {identifier!r}; Keras names: {', '.join(sorted(_KERAS_TO_NEURALAB))}"
            " (TruncatedNormal, Orthogonal, Identity and VarianceScaling are not supported: pass a "
            "neuralab initializer, a function fn(shape, rng=None, dtype=np.float32), instead)"
        )
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier().neuralab_spec()
    if callable(identifier):
        return identifier
    raise TypeError(f"expected an initializer name or object, got {identifier!r}")


def __getattr__(name: str) -> Any:
    raise missing_name(
        "neuralab.keras.initializers", name, list(_CLASSES),
        "pass a neuralab initializer instead: any function fn(shape, rng=None, dtype=np.float32) "
        "returning an array (see neuralab.nn.init)",
    )


__all__ = ["Initializer", "get", *sorted(_CLASSES)]

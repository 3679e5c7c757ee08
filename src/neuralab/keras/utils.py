"""Keras' ``utils`` that the lecture's practicals use, on neuralab's functions."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn import one_hot
from ..random import seed
from ._util import missing_name


def to_categorical(x: Any, num_classes: int | None = None) -> np.ndarray:
    """Class indices -> one-hot rows (float32): ``nn.one_hot``."""
    labels = np.asarray(x)
    if labels.ndim > 1 and labels.shape[-1] == 1:  # Keras squeezes a trailing axis of 1
        labels = labels.reshape(labels.shape[:-1])
    return one_hot(labels, num_classes)


def set_random_seed(value: int) -> None:
    """``neuralab.seed(value)``: weights, dropout masks and shuffles (Keras also seeds Python's
    and NumPy's global generators; neuralab draws from its own generator only)."""
    seed(value)


def __getattr__(name: str) -> Any:
    if name == "plot_model":
        raise missing_name("neuralab.keras.utils", name, ["set_random_seed", "to_categorical"],
                           "draw the computational graph with neuralab.graph(model.module(x))")
    raise missing_name("neuralab.keras.utils", name, ["set_random_seed", "to_categorical"],
                       "see neuralab.data for splits and scalers")


__all__ = ["set_random_seed", "to_categorical"]

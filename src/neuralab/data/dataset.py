"""Datasets: indexable collections of samples.

A dataset is anything with ``len(ds)`` and ``ds[i]`` returning one sample as a tuple of arrays
(inputs, targets, ...).  :class:`ArrayDataset` is the common case: a few arrays sharing their first
dimension, e.g. ``ArrayDataset(X, y)`` with ``X`` of shape (N, D) and ``y`` of shape (N,).
"""

from __future__ import annotations

from typing import Any

import numpy as np


class Dataset:
    """Base class of map-style datasets: subclasses define ``__len__`` and ``__getitem__``.

    ``__getitem__(i)`` returns one sample as a tuple of arrays.  :class:`~neuralab.data.DataLoader`
    stacks the samples of a batch along a new first axis.
    """

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index: int) -> tuple[np.ndarray, ...]:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


class ArrayDataset(Dataset):
    """Arrays indexed together along their first dimension.

    Sample ``i`` is ``(arrays[0][i], arrays[1][i], ...)``.  The arrays are kept as given (no copy,
    no dtype change), so pass float32 inputs to avoid a conversion per batch later.

    >>> ds = ArrayDataset(np.zeros((150, 4), np.float32), np.arange(150))
    >>> len(ds), int(ds[3][1])
    (150, 3)

    Indexing with a slice or an integer array returns a tuple of batches (one gather per array).
    """

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("ArrayDataset expected at least one array, got none")
        converted = []
        for position, array in enumerate(arrays):
            a = np.asarray(array)
            if a.ndim == 0:
                raise ValueError(
                    f"ArrayDataset expected arrays with a first (sample) dimension, got a scalar "
                    f"at position {position}"
                )
            converted.append(a)
        lengths = [len(a) for a in converted]
        if len(set(lengths)) != 1:
            shapes = ", ".join(str(a.shape) for a in converted)
            raise ValueError(
                f"ArrayDataset expected arrays with the same first dimension, got shapes {shapes}"
            )
        self.arrays: tuple[np.ndarray, ...] = tuple(converted)

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: Any) -> tuple[np.ndarray, ...]:
        return tuple(a[index] for a in self.arrays)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{a.shape} {a.dtype}" for a in self.arrays)
        return f"ArrayDataset({shapes})"

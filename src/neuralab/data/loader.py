"""Mini-batches: :class:`DataLoader` cuts a dataset into batches, reshuffled every epoch.

The batch size picks the flavour of gradient descent the lecture compares:

- ``batch_size = N`` (the whole training set): batch gradient descent, one update per epoch;
- ``batch_size = 1``: stochastic gradient descent, N updates per epoch;
- anything in between: mini-batch gradient descent (32 by default, as Keras).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..random import get_rng
from .dataset import ArrayDataset, Dataset


def _as_dataset(data: Any) -> Any:
    if isinstance(data, ArrayDataset):
        return data
    if isinstance(data, Dataset):
        return data
    if isinstance(data, (tuple, list)):
        return ArrayDataset(*data)
    if hasattr(data, "__len__") and hasattr(data, "__getitem__") and not hasattr(data, "shape"):
        return data  # any map-style dataset (duck typed)
    return ArrayDataset(data)


class DataLoader:
    """Iterate over a dataset in batches of ``batch_size`` samples.

    Args:
        dataset_or_arrays: an :class:`ArrayDataset`, any map-style dataset (``len`` and
            ``ds[i]`` returning a tuple), one array, or a tuple/list of arrays sharing their first
            dimension (wrapped in an :class:`ArrayDataset`).
        batch_size: samples per batch; ``len(dataset)`` gives batch gradient descent, 1 gives
            stochastic gradient descent.
        shuffle: draw a new permutation of the samples at the start of every epoch.
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        rng: a ``np.random.Generator`` or integer seed for the shuffles.  An integer seeds a
            private generator once, so the sequence of epochs is reproducible and each epoch gets
            a different order.  ``None`` draws from the library generator (``neuralab.seed``) at
            the start of each epoch.
        copy: ``False`` yields views of the dataset's rows instead of copies when the batches are
            contiguous (no shuffle, an :class:`ArrayDataset`): no copy at all, for evaluation and
            prediction, where nothing changes a batch.  Shuffled batches are always gathered.

    Each batch is a tuple with one array per dataset array, gathered with one fancy-indexing
    copy per array (the batch owns its memory; changing it never changes the dataset).  For an
    :class:`ArrayDataset` samples are never fetched one by one.  The number of batches is
    ``ceil(N / batch_size)``, or ``floor(N / batch_size)`` with ``drop_last``.

    >>> loader = DataLoader((X, y), batch_size=32, shuffle=True, rng=0)
    >>> for xb, yb in loader:
    ...     loss = train_step(xb, yb)
    """

    def __init__(
        self,
        dataset_or_arrays: Any,
        batch_size: int = 32,
        shuffle: bool = False,
        drop_last: bool = False,
        rng: np.random.Generator | int | None = None,
        copy: bool = True,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise ValueError(f"DataLoader expected a positive integer for `batch_size`, "
                             f"got {batch_size!r}")
        self.dataset = _as_dataset(dataset_or_arrays)
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.copy = bool(copy)
        # Resolved once so that an integer seed gives one stream across epochs, not the same
        # permutation every epoch.
        self._rng = None if rng is None else get_rng(rng)
        n = len(self.dataset)
        if n == 0:
            raise ValueError("DataLoader expected a non-empty dataset, got 0 samples")
        if self.drop_last and self.batch_size > n:
            raise ValueError(
                f"DataLoader with drop_last=True and batch_size={self.batch_size} larger than the "
                f"{n} samples would yield no batch; lower batch_size or set drop_last=False"
            )

    @property
    def rng(self) -> np.random.Generator:
        """The generator the next epoch's shuffle is drawn from (save its
        ``bit_generator.state`` to resume a run exactly)."""
        return self._rng if self._rng is not None else get_rng(None)

    @property
    def num_samples(self) -> int:
        return len(self.dataset)

    def __len__(self) -> int:
        n = len(self.dataset)
        if self.drop_last:
            return n // self.batch_size
        return math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[tuple[np.ndarray, ...]]:
        n = len(self.dataset)
        bs = self.batch_size
        stop = (n // bs) * bs if self.drop_last else n
        order = self.rng.permutation(n) if self.shuffle else None
        if isinstance(self.dataset, ArrayDataset):
            arrays = self.dataset.arrays
            for start in range(0, stop, bs):
                if order is None and not self.copy:
                    # the fast path for evaluation: views of contiguous rows, no copy at all
                    yield tuple(a[start:start + bs] for a in arrays)
                elif order is None:
                    # contiguous rows: a slice copy is the cheapest gather
                    yield tuple(a[start:start + bs].copy() for a in arrays)
                else:
                    idx = order[start:start + bs]
                    yield tuple(a[idx] for a in arrays)
        else:
            for start in range(0, stop, bs):
                idx = order[start:start + bs] if order is not None else range(start,
                                                                               min(start + bs, n))
                yield _collate([self.dataset[int(i)] for i in idx])

    def __repr__(self) -> str:
        return (f"DataLoader({len(self.dataset)} samples, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, batches={len(self)})")


def _collate(samples: Sequence[Any]) -> tuple[np.ndarray, ...]:
    """Stack per-sample tuples field by field along a new first axis."""
    first = samples[0]
    if not isinstance(first, tuple):
        return (np.stack([np.asarray(s) for s in samples]),)
    return tuple(np.stack([np.asarray(s[k]) for s in samples]) for k in range(len(first)))

"""Mini-batches with fresh augmentation every epoch: :class:`AugmentedLoader`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ...random import get_rng
from ..loader import DataLoader


class AugmentedLoader:
    """A :class:`~neuralab.data.DataLoader` whose input batches pass through ``transform``.

    Every epoch draws new random parameters, so the network never sees exactly the same image
    twice: this is how augmentation enlarges a small training set without storing the variants.
    Only the inputs (the first array) are transformed; targets pass unchanged.  Use it for the
    training data only and give validation and test data to the trainer unaugmented.

    Args:
        data: arrays ``(X, y)`` (as :class:`~neuralab.data.DataLoader` accepts) or an existing
            ``DataLoader``.
        transform: ``transform(images, rng) -> images``, e.g. a
            :class:`~neuralab.data.augment.Compose` of random transforms.
        batch_size, shuffle, drop_last: as ``DataLoader`` (ignored when ``data`` is a loader).
        rng: integer seed or generator used for both the shuffles and the augmentation, so one
            seed reproduces the whole stream (and a checkpoint saves one state).  ``None``: the
            library generator (:func:`neuralab.seed`), or the given loader's own generator.
        image_shape: the image shape of flattened rows, e.g. ``(28, 28)`` for Fashion-MNIST
            rows of 784: batches are reshaped to images, transformed and flattened back, so an
            MLP can train on augmented images.

    >>> augment = Compose([RandomRotation(10), RandomCrop(padding=2)])
    >>> loader = AugmentedLoader((X_train, y_train), augment, batch_size=64, rng=0,
    ...                          image_shape=(28, 28))
    >>> trainer.fit(loader, validation_data=(X_val, y_val), epochs=30)
    """

    def __init__(
        self,
        data: Any,
        transform: Callable[..., np.ndarray],
        batch_size: int = 32,
        shuffle: bool = True,
        drop_last: bool = False,
        rng: np.random.Generator | int | None = None,
        image_shape: tuple[int, ...] | None = None,
    ) -> None:
        if not callable(transform):
            raise TypeError(f"AugmentedLoader expected a callable transform(images, rng), got "
                            f"{type(transform).__name__}")
        self.transform = transform
        self._rng = None if rng is None else get_rng(rng)
        if isinstance(data, DataLoader):
            self.loader = data
        else:
            self.loader = DataLoader(data, batch_size=batch_size, shuffle=shuffle,
                                     drop_last=drop_last, rng=self._rng)
        if image_shape is not None:
            image_shape = tuple(int(d) for d in image_shape)
            if not image_shape or min(image_shape) < 1:
                raise ValueError(f"AugmentedLoader expected `image_shape` as positive sizes such "
                                 f"as (28, 28), got {image_shape!r}")
        self.image_shape = image_shape

    @property
    def rng(self) -> np.random.Generator:
        """The generator the augmentation draws from (the shuffles too, unless an existing
        loader with its own generator was given)."""
        if self._rng is not None:
            return self._rng
        return self.loader.rng

    @property
    def dataset(self) -> Any:
        return self.loader.dataset

    @property
    def num_samples(self) -> int:
        return self.loader.num_samples

    @property
    def batch_size(self) -> int:
        return self.loader.batch_size

    def __len__(self) -> int:
        return len(self.loader)

    def augment(self, inputs: np.ndarray) -> np.ndarray:
        """Transform one batch of inputs (reshaped to ``image_shape`` and back if set)."""
        x = np.asarray(inputs)
        if self.image_shape is None:
            return np.asarray(self.transform(x, self.rng))
        size = int(np.prod(self.image_shape))
        if x[0].size != size:
            raise ValueError(f"AugmentedLoader: samples of shape {x.shape[1:]} cannot be viewed "
                             f"as images of shape {self.image_shape}")
        images = x.reshape((len(x),) + self.image_shape)
        out = np.asarray(self.transform(images, self.rng))
        if out[0].size == x[0].size:
            return out.reshape(x.shape)
        return out.reshape(len(x), -1)   # a transform that changed the size (a smaller crop)

    def __iter__(self) -> Iterator[tuple[np.ndarray, ...]]:
        for batch in self.loader:
            yield (self.augment(batch[0]),) + tuple(batch[1:])

    def __repr__(self) -> str:
        return (f"AugmentedLoader({self.loader!r}, transform={self.transform!r}, "
                f"image_shape={self.image_shape})")

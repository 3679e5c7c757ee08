"""Data augmentation (데이터 증강): random variants of the training data, drawn afresh every epoch.

Images (floats in [0, 1], batches (N, H, W) or (N, H, W, C)): rotation, zoom, translation, crop
with padding, flips, brightness, contrast, saturation and Gaussian noise, each drawing its
parameters per image from an explicit ``rng``; :class:`Compose` chains them and
:class:`AugmentedLoader` applies them to every training batch.  Text: the EDA operations
(synonym replacement, random insertion, deletion and swap) on strings or token lists.

>>> from neuralab.data.augment import AugmentedLoader, Compose, RandomCrop, RandomRotation
>>> augment = Compose([RandomRotation(10), RandomCrop(padding=2)])
>>> loader = AugmentedLoader((X_train, y_train), augment, batch_size=64, rng=0,
...                          image_shape=(28, 28))
>>> trainer.fit(loader, validation_data=(X_val, y_val), epochs=30)
"""

from .image import (
    Compose,
    GaussianNoise,
    RandomAffine,
    RandomBrightness,
    RandomContrast,
    RandomCrop,
    RandomHorizontalFlip,
    RandomRotation,
    RandomSaturation,
    RandomTranslation,
    RandomVerticalFlip,
    RandomZoom,
    Transform,
    adjust_brightness,
    adjust_contrast,
    adjust_saturation,
    affine_matrices,
    affine_warp,
    rgb_to_grayscale,
    rotate,
    translate,
    zoom,
)
from .loader import AugmentedLoader
from .text import eda, random_deletion, random_insertion, random_swap, synonym_replacement

__all__ = [
    "AugmentedLoader", "Compose", "GaussianNoise", "RandomAffine", "RandomBrightness",
    "RandomContrast", "RandomCrop", "RandomHorizontalFlip", "RandomRotation", "RandomSaturation",
    "RandomTranslation", "RandomVerticalFlip", "RandomZoom", "Transform", "adjust_brightness",
    "adjust_contrast", "adjust_saturation", "affine_matrices", "affine_warp", "eda",
    "random_deletion", "random_insertion", "random_swap", "rgb_to_grayscale", "rotate",
    "synonym_replacement", "translate", "zoom",
]

"""Data sets: loaders for files on disk (CSV, IDX/Fashion-MNIST), iris, and small generated sets."""

from .digits import load_digits
from .fashion_mnist import (
    FASHION_MNIST_CLASSES,
    FASHION_MNIST_DIR,
    load_fashion_mnist,
    make_synthetic_like_fashion_mnist,
)
from .idx import read_idx
from .iris import IRIS_CLASS_NAMES, IRIS_FEATURE_NAMES, load_iris
from .tabular import load_csv
from .toy import make_xor
from .wine import WINE_QUALITY_FILE, load_wine_quality, wine_quality_path

__all__ = [
    "FASHION_MNIST_CLASSES", "FASHION_MNIST_DIR", "IRIS_CLASS_NAMES", "IRIS_FEATURE_NAMES",
    "WINE_QUALITY_FILE", "load_csv", "load_digits", "load_fashion_mnist", "load_iris",
    "load_wine_quality", "make_synthetic_like_fashion_mnist", "make_xor", "read_idx",
    "wine_quality_path",
]

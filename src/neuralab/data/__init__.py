"""The data pipeline: datasets, mini-batches, splits, preprocessing and bundled data sets.

>>> from neuralab.data import load_iris, train_test_split, StandardScaler, DataLoader
>>> X, y = load_iris()
>>> X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, rng=0)
>>> scaler = StandardScaler().fit(X_train)                 # training statistics only
>>> X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
>>> for xb, yb in DataLoader((X_train, y_train), batch_size=16, shuffle=True, rng=0): ...
"""

from . import augment
from .augment import AugmentedLoader
from .dataset import ArrayDataset, Dataset
from .datasets import (
    FASHION_MNIST_CLASSES,
    IRIS_CLASS_NAMES,
    IRIS_FEATURE_NAMES,
    load_csv,
    load_digits,
    load_fashion_mnist,
    load_iris,
    load_wine_quality,
    make_synthetic_like_fashion_mnist,
    make_xor,
    read_idx,
    wine_quality_path,
)
from .loader import DataLoader
from .preprocessing import (
    LabelEncoder,
    MinMaxScaler,
    NotFittedError,
    OneHotEncoder,
    StandardScaler,
    from_state_dict,
)
from .split import KFold, StratifiedKFold, cross_validate, train_test_split, train_val_test_split
from .table import Table, TablePreprocessor, read_table

__all__ = [
    "ArrayDataset", "DataLoader", "Dataset", "FASHION_MNIST_CLASSES", "IRIS_CLASS_NAMES",
    "IRIS_FEATURE_NAMES", "KFold", "LabelEncoder", "MinMaxScaler", "NotFittedError",
    "OneHotEncoder", "StandardScaler", "StratifiedKFold", "cross_validate", "from_state_dict",
    "load_csv", "load_digits", "load_fashion_mnist", "load_iris", "load_wine_quality",
    "make_synthetic_like_fashion_mnist", "make_xor", "read_idx", "train_test_split",
    "train_val_test_split", "wine_quality_path",
    "AugmentedLoader", "augment", "Table", "TablePreprocessor", "read_table",
]

"""Built-in data sets by name, as tables: what ``neuralab datasets`` lists and what
``neuralab train NAME`` reads instead of a CSV file.

Each entry says where the data comes from and its licence; :func:`load_table` returns it as a
:class:`~neuralab.data.table.Table` of strings (the same form a CSV file is read into), so that a
built-in set and a user's file take exactly the same path through ``neuralab train``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..table import Table, read_table

__all__ = ["DATASETS", "BuiltinDataset", "is_builtin", "load_table"]


@dataclass(frozen=True)
class BuiltinDataset:
    name: str
    target: str
    rows: int
    description: str
    source: str
    load: Callable[[], Table]


def _from_arrays(X: np.ndarray, y: np.ndarray, names: list[str], target: str,
                 path: str) -> Table:
    """Numeric features stay numbers (a column per feature), the target becomes text."""
    columns = {name: np.ascontiguousarray(X[:, j], dtype=np.float64)
               for j, name in enumerate(names)}
    columns[target] = np.array([str(v) for v in y])
    return Table(columns, np.arange(2, len(y) + 2), path)


def _iris() -> Table:
    from .iris import IRIS_CLASS_NAMES, IRIS_FEATURE_NAMES, load_iris

    X, y = load_iris()
    labels = np.array(IRIS_CLASS_NAMES)[y]
    names = [n.replace(" (cm)", "").replace(" ", "_") for n in IRIS_FEATURE_NAMES]
    return _from_arrays(X, labels, names, "species", "iris")


def _wine() -> Table:
    from .wine import wine_quality_path

    return read_table(wine_quality_path())


def _digits() -> Table:
    from .digits import load_digits

    X, y = load_digits()
    X = np.rint(X * 16).astype(np.int64)  # the original 0-16 counts
    return _from_arrays(X, y, [f"pixel_{i}" for i in range(X.shape[1])], "digit", "digits")


def _fashion_mnist() -> Table:
    from .fashion_mnist import FASHION_MNIST_CLASSES, load_fashion_mnist

    (x_train, t_train), (x_test, t_test) = load_fashion_mnist(normalize=False)
    X = np.concatenate([x_train, x_test])
    labels = np.array(FASHION_MNIST_CLASSES)[np.concatenate([t_train, t_test])]
    return _from_arrays(X, labels, [f"pixel_{i}" for i in range(X.shape[1])], "item",
                        "fashion-mnist")


DATASETS: dict[str, BuiltinDataset] = {
    d.name: d for d in (
        BuiltinDataset("iris", "species", 150,
                       "Fisher's iris: 4 flower measurements, 3 species (the lecture's example)",
                       "Fisher 1936 / UCI Machine Learning Repository, CC BY 4.0; shipped",
                       _iris),
        BuiltinDataset("wine-quality", "quality", 4898,
                       "white Vinho Verde wines: 11 physico-chemical tests, quality 3-9 "
                       "(the lecture's practical)",
                       "Cortez et al. 2009, UCI Machine Learning Repository, CC BY 4.0; shipped",
                       _wine),
        BuiltinDataset("digits", "digit", 1797,
                       "8x8 handwritten digits: 64 pixel counts 0-16, ten classes",
                       "UCI Optical Recognition of Handwritten Digits (Alpaydin & Kaynak 1998), "
                       "CC BY 4.0; read from scikit-learn ([lab] extra)",
                       _digits),
        BuiltinDataset("fashion-mnist", "item", 70000,
                       "Zalando's 28x28 clothing images: 784 pixels 0-255, ten kinds (the "
                       "60,000 training and 10,000 test images together; train splits them)",
                       "Xiao, Rasul & Vollgraf 2017, MIT licence; Debian package "
                       "dataset-fashion-mnist",
                       _fashion_mnist),
    )
}


def is_builtin(name: str) -> bool:
    return name in DATASETS


def load_table(name: str) -> tuple[Table, str]:
    """The built-in data set ``name`` as a table, and the name of its usual target column."""
    try:
        entry = DATASETS[name]
    except KeyError:
        raise ValueError(f"no built-in data set {name!r}; the built-in ones are "
                         f"{', '.join(DATASETS)} (or give a CSV file)") from None
    return entry.load(), entry.target

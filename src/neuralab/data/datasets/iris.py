"""Fisher's iris data: 150 flowers, 4 measurements (cm), 3 species, 50 of each."""

from __future__ import annotations

import numpy as np

IRIS_FEATURE_NAMES = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)",
                      "petal width (cm)"]
IRIS_CLASS_NAMES = ["setosa", "versicolor", "virginica"]


def load_iris() -> tuple[np.ndarray, np.ndarray]:
    """The iris data set as ``(X, y)``: X float32 of shape (150, 4), y int64 class codes 0, 1, 2
    (``IRIS_CLASS_NAMES``), with the columns named by ``IRIS_FEATURE_NAMES``.

    The rows are sorted by class, so shuffle (``train_test_split`` does) before splitting.
    The data comes from scikit-learn, an optional dependency (``pip install neuralab[lab]``).

    >>> X, y = load_iris()
    >>> X.shape, np.bincount(y)
    ((150, 4), array([50, 50, 50]))
    """
    try:
        from sklearn.datasets import load_iris as _sklearn_load_iris
    except ImportError:
        raise ImportError(
            "load_iris reads the data bundled with scikit-learn, which is not installed; "
            "install the optional extra with `pip install neuralab[lab]` (or `pip install "
            "scikit-learn`)"
        ) from None
    bunch = _sklearn_load_iris()
    return np.asarray(bunch.data, dtype=np.float32), np.asarray(bunch.target, dtype=np.int64)

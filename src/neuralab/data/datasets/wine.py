"""The UCI Wine Quality data (white vinho verde), shipped with the package.

4,898 wines, 11 physicochemical inputs, target ``quality`` (an integer grade, 3 to 9 in this file).
Licence CC BY 4.0; cite P. Cortez, A. Cerdeira, F. Almeida, T. Matos and J. Reis, "Modeling wine
preferences by data mining from physicochemical properties", *Decision Support Systems*
47(4):547-553, 2009 (``files/README.md`` beside this module).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np

from .tabular import load_csv

WINE_QUALITY_FILE = "winequality-white.csv"


def wine_quality_path() -> Path:
    """The path of the shipped CSV (header row, comma-separated), e.g. for ``neuralab train``.

    >>> wine_quality_path().name
    'winequality-white.csv'
    """
    path = Path(str(resources.files(__package__).joinpath("files", WINE_QUALITY_FILE)))
    if not path.is_file():
        raise FileNotFoundError(
            f"the wine-quality data should ship with neuralab at {path}, but it is missing; "
            f"reinstall neuralab (pip install --force-reinstall neuralab)")
    return path


def load_wine_quality() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The white wines as ``(X, y, feature_names)``: X float32 (4898, 11), y int64 grades.

    >>> X, y, names = load_wine_quality()
    >>> X.shape, y.dtype, names[-1], int(y.min()), int(y.max())
    ((4898, 11), dtype('int64'), 'alcohol', 3, 9)
    """
    return load_csv(wine_quality_path(), target="quality")

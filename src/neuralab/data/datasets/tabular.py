"""CSV files with a header row: numeric feature columns and one target column."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

_DELIMITERS = (",", ";", "\t")


def _guess_delimiter(header_line: str) -> str:
    counts = [header_line.count(d) for d in _DELIMITERS]
    return _DELIMITERS[int(np.argmax(counts))] if max(counts) > 0 else ","


def _column_as_float(cells: np.ndarray, name: str, path: str) -> np.ndarray:
    try:
        return cells.astype(np.float64)
    except ValueError:
        for row, cell in enumerate(cells.tolist(), start=2):  # line 1 is the header
            try:
                float(cell)
            except ValueError:
                what = "is empty" if not cell.strip() else f"holds {cell!r}"
                raise ValueError(f"load_csv: column {name!r} of {path} must be numeric, but line "
                                 f"{row} {what}") from None
        raise


def _target_values(cells: np.ndarray, target_dtype: Any) -> np.ndarray:
    if target_dtype is not None:
        return cells.astype(target_dtype)
    try:
        return cells.astype(np.int64)
    except ValueError:
        pass
    try:
        return cells.astype(np.float64).astype(np.float32)
    except ValueError:
        return np.char.strip(cells)


def load_csv(
    path: str | os.PathLike[str],
    target: str,
    *,
    features: Sequence[str] | None = None,
    delimiter: str | None = None,
    dtype: Any = np.float32,
    target_dtype: Any = None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Load a CSV file whose first line names the columns.

    Args:
        path: the file, e.g. ``winequality-white.csv``.
        target: name of the column to predict (e.g. ``"quality"``).
        features: names of the input columns, in this order; default every other column.
        delimiter: ``","``, ``";"`` or tab; by default guessed from the header line (the
            original UCI wine files use ``";"``).
        dtype: dtype of ``X`` (float32 by default).
        target_dtype: dtype of ``y``; by default int64 when every value is an integer,
            float32 when numeric, else strings (encode them with ``LabelEncoder``).

    Returns:
        ``(X, y, feature_names)`` with ``X`` of shape (N, len(feature_names)) and ``y`` of shape
        (N,).

    >>> X, y, names = load_csv("winequality-white.csv", target="quality")
    >>> X.shape, y.dtype, names[-1]
    ((4898, 11), dtype('int64'), 'alcohol')
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_csv: no such file {path!r}")
    with open(path, newline="", encoding="utf-8-sig") as f:
        first_line = f.readline()
        if not first_line.strip():
            raise ValueError(f"load_csv: {path} is empty or starts with a blank line; expected "
                             f"a header row naming the columns")
        sep = delimiter if delimiter is not None else _guess_delimiter(first_line)
        f.seek(0)
        reader = csv.reader(f, delimiter=sep)
        header = [name.strip() for name in next(reader)]
        rows = [row for row in reader if row and any(cell.strip() for cell in row)]
    width = len(header)
    for line, row in enumerate(rows, start=2):
        if len(row) != width:
            raise ValueError(f"load_csv: line {line} of {path} has {len(row)} fields, the header "
                             f"has {width} (delimiter {sep!r})")
    if not rows:
        raise ValueError(f"load_csv: {path} has a header but no data rows")
    if target not in header:
        raise ValueError(f"load_csv: no column {target!r} in {path}; the columns are {header}")
    if features is None:
        feature_names = [name for name in header if name != target]
    else:
        feature_names = list(features)
        unknown = [name for name in feature_names if name not in header]
        if unknown:
            raise ValueError(f"load_csv: no column(s) {unknown} in {path}; the columns are "
                             f"{header}")
        if target in feature_names:
            raise ValueError(f"load_csv: the target {target!r} is also listed in `features`")
    table = np.array(rows, dtype=str)
    columns = [header.index(name) for name in feature_names]
    X = np.empty((len(rows), len(columns)), dtype=dtype)
    for j, (name, col) in enumerate(zip(feature_names, columns)):
        X[:, j] = _column_as_float(table[:, col], name, path)
    target_cells = table[:, header.index(target)]
    empty = np.flatnonzero(np.char.strip(target_cells) == "")
    if empty.size:
        # a missing target would otherwise become a class "" (and turn numbers into text)
        raise ValueError(f"load_csv: the target column {target!r} of {path} is empty on line "
                         f"{empty[0] + 2}; fill in or remove the rows without a target")
    y = _target_values(target_cells, target_dtype)
    return X, y, feature_names

"""CSV files with a header row: numeric feature columns and one target column.

The file is read in chunks of rows and each chunk is converted to NumPy right away, so the peak
memory is the arrays returned plus one chunk, not the whole file as Python strings (the test
``test_load_csv_peak_memory_is_a_small_multiple_of_the_file`` bounds it).  Every problem with the
file is a ``ValueError`` (or ``FileNotFoundError``) whose message names the file, the line and
the column.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Sequence
from typing import IO, Any

import numpy as np

from ..table import _decode_error, _records, check_source

_DELIMITERS = (",", ";", "\t")
# rows converted at a time: large enough for NumPy to amortize the Python overhead, small enough
# that the lists of cell strings of one chunk stay a few MB
_CHUNK_ROWS = 8192
# a target cell longer than this is refused: text targets become a fixed-width NumPy string
# array, so one huge cell (an unclosed quote swallowing lines) would make every row that wide
MAX_TARGET_CELL = 1024


def _guess_delimiter(header_line: str) -> str:
    counts = [header_line.count(d) for d in _DELIMITERS]
    return _DELIMITERS[int(np.argmax(counts))] if max(counts) > 0 else ","


def _non_finite(cell: str, value: float, name: str, path: str, line: int, dtype: Any) -> str:
    if np.isfinite(value):
        what = f"which is too large for {np.dtype(dtype).name}"
    else:
        what = "which is not a finite number (nan and inf are refused)"
    return (f"load_csv: column {name!r} of {path} must hold finite numbers, but line {line} "
            f"holds {cell.strip()!r}, {what}; fill in or remove that row")


def _column_as_float(cells: list[str], name: str, path: str, lines: list[int],
                     dtype: Any) -> np.ndarray:
    """``cells`` as ``dtype``, every value finite (also after the cast from float64)."""
    try:
        values = np.fromiter(map(float, cells), dtype=np.float64, count=len(cells))
    except ValueError:
        for cell, line in zip(cells, lines):
            try:
                float(cell)
            except ValueError:
                what = "is empty" if not cell.strip() else f"holds {cell!r}"
                if "\n" in cell or "\r" in cell:
                    what += ", over several lines: is a quote (\") not closed?"
                raise ValueError(f"load_csv: column {name!r} of {path} must be numeric, but "
                                 f"line {line} {what}") from None
        raise
    with np.errstate(over="ignore"):
        cast = values.astype(dtype)
    if not np.isfinite(cast).all():
        i = int(np.flatnonzero(~np.isfinite(cast))[0])
        raise ValueError(_non_finite(cells[i], values[i], name, path, lines[i], dtype))
    return cast


def _target_values(cells: np.ndarray, target_dtype: Any) -> np.ndarray:
    if target_dtype is not None:
        return cells.astype(target_dtype)
    try:
        return cells.astype(np.int64)
    except (ValueError, OverflowError):
        pass
    try:
        with np.errstate(over="ignore"):  # too large for float32: refused by the caller
            return cells.astype(np.float64).astype(np.float32)
    except ValueError:
        return np.char.strip(cells)


def _check_header(header: list[str], path: str, target: str,
                  features: Sequence[str] | None) -> list[str]:
    """The feature names, after checking that every name used is in the header once."""
    repeated = [name for name, count in Counter(header).items() if count > 1]
    if repeated:
        raise ValueError(f"load_csv: the header of {path} names the column(s) {repeated} more "
                         f"than once; rename them so that every column has its own name")
    if target not in header:
        raise ValueError(f"load_csv: no column {target!r} in {path}; the columns are {header}")
    if features is None:
        return [name for name in header if name != target]
    if isinstance(features, str):
        raise TypeError(f"load_csv: `features` is a list of column names, got the string "
                        f"{features!r}; write [{features!r}]")
    feature_names = list(features)
    unknown = [name for name in feature_names if name not in header]
    if unknown:
        raise ValueError(f"load_csv: no column(s) {unknown} in {path}; the columns are {header}")
    if target in feature_names:
        raise ValueError(f"load_csv: the target {target!r} is also listed in `features`")
    twice = [name for name, count in Counter(feature_names).items() if count > 1]
    if twice:
        raise ValueError(f"load_csv: `features` lists {twice} more than once")
    return feature_names


def load_csv(
    path: str | os.PathLike[str],
    target: str,
    *,
    features: Sequence[str] | None = None,
    delimiter: str | None = None,
    dtype: Any = np.float32,
    target_dtype: Any = None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Load a CSV file (UTF-8) whose first line names the columns.

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

    Blank lines are skipped (line numbers in messages still count them).  Refused with a
    ``ValueError`` naming the line: column names that appear twice, rows with another number of
    fields than the header, a feature cell that is not a number, ``nan``/``inf`` or a number too
    large for ``dtype`` (also in a numeric target), an empty target cell, a target cell over
    ``MAX_TARGET_CELL`` (1024) characters, a field over 128 KiB (the csv module's limit: in
    practice an unclosed quote) and bytes that are not UTF-8.

    >>> X, y, names = load_csv("winequality-white.csv", target="quality")
    >>> X.shape, y.dtype, names[-1]
    ((4898, 11), dtype('int64'), 'alcohol')
    """
    path = check_source(path, delimiter, "load_csv")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            return _read(f, path, target, features, delimiter, dtype, target_dtype)
    except UnicodeDecodeError:
        raise ValueError(_decode_error(path)) from None


def _read(f: IO[str], path: str, target: str, features: Sequence[str] | None,
          delimiter: str | None, dtype: Any, target_dtype: Any
          ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    first_line = f.readline()
    if not first_line.strip():
        raise ValueError(f"load_csv: {path} is empty or starts with a blank line; expected "
                         f"a header row naming the columns")
    sep = delimiter if delimiter is not None else _guess_delimiter(first_line)
    f.seek(0)
    records = _records(f, sep)  # raises csv.Error for a quote left open at the end
    line_num = 0
    x_parts: list[np.ndarray] = []
    y_parts: list[np.ndarray] = []
    line_parts: list[np.ndarray] = []
    try:
        _, line_num, first_record = next(records)
        header = [name.strip() for name in first_record]
        feature_names = _check_header(header, path, target, features)
        columns = [header.index(name) for name in feature_names]
        t_col = header.index(target)
        width = len(header)
        rows: list[list[str]] = []
        lines: list[int] = []

        def convert() -> None:
            X = np.empty((len(rows), len(columns)), dtype=dtype)
            for j, (name, col) in enumerate(zip(feature_names, columns)):
                X[:, j] = _column_as_float([r[col] for r in rows], name, path, lines, dtype)
            cells = [r[t_col] for r in rows]
            for cell, line in zip(cells, lines):
                if not cell.strip():
                    # a missing target would otherwise become a class "" (and turn numbers
                    # into text)
                    raise ValueError(f"load_csv: the target column {target!r} of {path} is "
                                     f"empty on line {line}; fill in or remove the rows "
                                     f"without a target")
                if len(cell) > MAX_TARGET_CELL:
                    raise ValueError(f"load_csv: the target column {target!r} of {path} holds "
                                     f"{len(cell)} characters on line {line} (at most "
                                     f"{MAX_TARGET_CELL}); is a quote (\") not closed?")
            x_parts.append(X)
            y_parts.append(np.array(cells, dtype=str))
            line_parts.append(np.array(lines, dtype=np.int64))
            rows.clear()
            lines.clear()

        for start, last, row in records:
            line_num = last
            if not row or not any(cell.strip() for cell in row):
                continue
            if len(row) != width:
                span = (f"; the record runs over lines {start}-{last}: is a quote (\") not "
                        "closed?" if last > start else "")
                raise ValueError(f"load_csv: line {start} of {path} has {len(row)} fields, the "
                                 f"header has {width} (delimiter {sep!r}){span}")
            rows.append(row)
            lines.append(start)
            if len(rows) == _CHUNK_ROWS:
                convert()
        if rows:
            convert()
    except csv.Error as err:
        hint = ("; a field this long usually means a quote (\") that is not closed"
                if "field limit" in str(err) else "")
        raise ValueError(f"load_csv: line {line_num + 1} of {path} cannot be read as CSV: "
                         f"{err}{hint}") from None
    if not x_parts:
        raise ValueError(f"load_csv: {path} has a header but no data rows")
    X = np.concatenate(x_parts) if len(x_parts) > 1 else x_parts[0]
    x_parts.clear()
    target_cells = np.concatenate(y_parts)
    try:
        y = _target_values(target_cells, target_dtype)
    except (ValueError, OverflowError, TypeError) as err:
        raise ValueError(f"load_csv: the target column {target!r} of {path} cannot be read as "
                         f"{getattr(target_dtype, '__name__', target_dtype)}: {err}") from None
    if y.dtype.kind in "fc" and not np.isfinite(y).all():
        i = int(np.flatnonzero(~np.isfinite(y))[0])
        line = int(np.concatenate(line_parts)[i])
        cell = str(target_cells[i])
        raise ValueError(_non_finite(cell, float(cell), target, path, line, y.dtype))
    return X, y, feature_names

"""Tables as they come: read any delimited text file, then turn its columns into network inputs.

:func:`read_table` reads a file with a header row into columns of strings, whatever the cells
hold (numbers, words, gaps); :class:`TablePreprocessor` learns from the training rows how to turn
those columns into a float32 matrix and applies the same rules to any later table::

    table = read_table("adult.csv")
    y = table.pop("income")
    prep = TablePreprocessor().fit(table.select(train_rows))
    X_train = prep.transform(table.select(train_rows))

The rules (all learned from the rows given to ``fit``, never from validation or test rows):

* **Missing cells** are those that are empty or hold ``NA``, ``N/A``, ``nan``, ``null``, ``None``
  or ``?`` (any case, spaces around ignored).  With ``missing="impute"`` (default) a numeric gap
  becomes the column's training median and a categorical gap its most frequent training category;
  the counts are reported (``prep.report``).  ``missing="error"`` refuses them naming the column
  and the count; dropping rows is the caller's choice (:meth:`Table.complete_rows`).
* **Numeric columns** are those whose every present cell is a number.  They are scaled with the
  training median and interquartile range, ``(x - median) / IQR`` (``scale="robust"``, default:
  one outlying row does not squeeze every other value, as a standard deviation would), or mean and
  standard deviation (``scale="standard"``); a constant column gives zeros.  Scaled values are
  clipped to +-``clip`` (default 10) so that a row far outside the training range cannot drive
  the network into a region it never saw.
* **Categorical columns** (any cell that is not a number) are one-hot encoded, one input per
  training category (``"colour=red"``), at most ``max_categories`` per column by frequency
  (rarer ones, and categories never seen in training, give all zeros in that column's inputs and
  are counted in ``prep.report``).

The preprocessor is plain data: :meth:`TablePreprocessor.state_dict` is JSON, stored with a
trained model, and :meth:`TablePreprocessor.from_state` rebuilds it exactly.
"""

from __future__ import annotations

import csv
import math
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np

__all__ = ["MISSING", "Table", "TablePreprocessor", "as_numbers", "is_missing", "numeric_column",
           "read_table"]

#: cell texts (lower case, stripped) that mean "no value"
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})
_DELIMITERS = (",", ";", "\t")
# a quoted field over several lines longer than this is taken for an unclosed quote
_MAX_SPANNING_CELL = 1024
#: a column whose present cells are numbers but for at most this share is a number column with
#: typos (refused, naming the line), not a column of categories
STRAY_TEXT_SHARE = 0.05


def is_missing(cells: np.ndarray) -> np.ndarray:
    """Boolean mask of the missing cells of a column: strings in :data:`MISSING`, or NaN in a
    column that is already numeric (built-in data sets give their pixels as numbers)."""
    if cells.dtype.kind in "fc":
        return np.isnan(cells)
    if cells.dtype.kind in "iub":
        return np.zeros(len(cells), dtype=bool)
    low = np.char.lower(np.char.strip(cells.astype(str)))
    return np.isin(low, list(MISSING))


@dataclass
class Table:
    """Named columns, all of one length, in file order: arrays of strings as read from a file,
    or of numbers (NaN: missing) for data that is numeric already; ``lines`` gives each row's
    line number in the file (for messages)."""

    columns: dict[str, np.ndarray]
    lines: np.ndarray
    path: str = "<table>"
    delimiter: str = ","

    def __post_init__(self) -> None:
        lengths = {len(v) for v in self.columns.values()} | {len(self.lines)}
        if len(lengths) > 1:
            raise ValueError(f"Table: columns of different lengths {sorted(lengths)}")

    @property
    def names(self) -> list[str]:
        return list(self.columns)

    def __len__(self) -> int:
        return len(self.lines)

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self.columns[name]
        except KeyError:
            raise KeyError(f"no column {name!r} in {self.path}; the columns are "
                           f"{self.names}") from None

    def pop(self, name: str) -> np.ndarray:
        """Remove the column ``name`` and return its cells."""
        values = self[name]
        del self.columns[name]
        return values

    def select(self, rows: np.ndarray | slice) -> Table:
        """The rows ``rows`` (indices, a mask or a slice) of every column."""
        return Table({k: v[rows] for k, v in self.columns.items()}, self.lines[rows], self.path,
                     self.delimiter)

    def keep(self, names: Sequence[str]) -> Table:
        """Only the columns ``names``, in that order (unknown names are a ``ValueError``)."""
        unknown = [n for n in names if n not in self.columns]
        if unknown:
            raise ValueError(f"no column(s) {unknown} in {self.path}; the columns are "
                             f"{self.names}")
        return Table({n: self.columns[n] for n in names}, self.lines, self.path, self.delimiter)

    def complete_rows(self) -> np.ndarray:
        """Mask of the rows without a missing cell."""
        mask = np.ones(len(self), dtype=bool)
        for cells in self.columns.values():
            mask &= ~is_missing(cells)
        return mask


# ---------------------------------------------------------------------- reading
def check_source(path: str | os.PathLike[str], delimiter: str | None, who: str) -> str:
    """The path as a string, after refusing a missing file and a delimiter that cannot be one
    (the checks shared by :func:`read_table` and ``load_csv``)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{who}: no such file {path!r}")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1
                                  or delimiter in "\"\r\n"):
        raise ValueError(f"{who}: `delimiter` must be one character such as ',' ';' a tab or "
                         f"' ' (whitespace; read_table only), not a quote or a line break, got "
                         f"{delimiter!r}")
    return path


def _physical_lines(f: IO[bytes]) -> Iterator[bytes]:
    """The lines of a binary file split as a text file with ``newline=""`` splits them (on
    ``\\n``, ``\\r\\n`` and ``\\r``), so that line numbers agree with the csv reader's."""
    for raw in f:
        yield from raw.splitlines() or [b""]


def _decode_error(path: str, who: str = "load_csv") -> str:
    """The message for a file that is not UTF-8: the first bad line and byte."""
    with open(path, "rb") as f:
        for number, raw in enumerate(_physical_lines(f), start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as err:
                return (f"{who}: {path}, line {number} is not UTF-8 text (byte "
                        f"{raw[err.start]:#04x} at column {err.start + 1}); save the file as "
                        "UTF-8, e.g. iconv -f latin1 -t utf-8")
    return f"{who}: {path} is not UTF-8 text; save the file as UTF-8"


def _detect(header_line: str) -> str:
    """The delimiter of a file from its header line: the most frequent of ``,`` ``;`` tab, or
    runs of whitespace (``" "``) when there is none of them."""
    counts = [header_line.count(d) for d in _DELIMITERS]
    if max(counts) > 0:
        return _DELIMITERS[int(np.argmax(counts))]
    if len(header_line.split()) > 1:
        return " "
    return ","


def _records(f: Any, sep: str) -> Iterable[tuple[int, int, list[str]]]:
    """(first line, last line, fields) of each record."""
    if sep == " ":
        for number, line in enumerate(f, start=1):
            yield number, number, line.split()
        return
    raw: list[str] = []  # the lines of the record being read

    def lines() -> Iterator[str]:
        for line in f:
            raw.append(line)
            yield line

    reader = csv.reader(lines(), delimiter=sep)
    last, start, tail = reader.line_num, 1, []
    for row in reader:
        start, last = last + 1, reader.line_num
        tail = raw[:]
        raw.clear()
        yield start, last, row
    # the csv reader ends a quoted field silently at the end of the file: a line after it
    # would still be inside the quote
    if tail and list(csv.reader([*tail, "\ue000"], delimiter=sep))[-1] != ["\ue000"]:
        raise csv.Error(f"the quote (\") of the record on line {start} is not closed by the end "
                        "of the file")


def read_table(path: str | os.PathLike[str], *, delimiter: str | None = None) -> Table:
    """Read a UTF-8 text table whose first line names the columns; every cell stays a string.

    Args:
        path: the file.
        delimiter: ``","``, ``";"``, a tab, ``" "`` (runs of spaces or tabs, as in
            whitespace-aligned files; no quoting) or ``None``: guessed from the header line (the
            most frequent of ``,`` ``;`` tab, else whitespace when the header has several
            words).

    Blank lines are skipped.  Refused with a ``ValueError`` naming the file and line: a header
    with repeated or empty names, a row with another number of fields than the header (with the
    delimiter used, and a hint about unclosed quotes), bytes that are not UTF-8, a file without
    data rows; a file whose header holds no delimiter at all is read as one column, and the
    message of a later problem says so.
    """
    path = check_source(path, delimiter, "read_table")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            return _read_table(f, path, delimiter)
    except UnicodeDecodeError:
        raise ValueError(_decode_error(path, "read_table")) from None
    except csv.Error as err:
        hint = ("; a field this long usually means a quote (\") that is not closed"
                if "field limit" in str(err) else "")
        raise ValueError(f"read_table: {path} cannot be read as CSV: {err}{hint}") from None


def _read_table(f: Any, path: str, delimiter: str | None) -> Table:
    first = f.readline()
    if not first.strip():
        raise ValueError(f"read_table: {path} is empty or starts with a blank line; expected a "
                         "header row naming the columns")
    sep = delimiter if delimiter is not None else _detect(first)
    f.seek(0)
    records = iter(_records(f, sep))
    _, _, header = next(records)
    header = [name.strip() for name in header]
    one_column = len(header) == 1
    shown = "whitespace" if sep == " " else repr(sep)
    if any(not name for name in header):
        raise ValueError(f"read_table: the header of {path} has an empty column name (column "
                         f"{header.index('') + 1}, delimiter {shown}); name every column")
    repeated = [name for name, count in Counter(header).items() if count > 1]
    if repeated:
        raise ValueError(f"read_table: the header of {path} names the column(s) {repeated} more "
                         "than once; rename them so that every column has its own name")
    width = len(header)
    rows: list[list[str]] = []
    lines: list[int] = []
    for start, last, row in records:
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) != width:
            span = (f"; the record runs over lines {start}-{last}: is a quote (\") not closed?"
                    if last > start else "")
            if one_column:
                span += (f"; no delimiter (',', ';', tab or spaces) was found in the header "
                         f"line, so the file was read as one column: pass the delimiter "
                         f"(--delimiter)")
            raise ValueError(f"read_table: line {start} of {path} has {len(row)} fields, the "
                             f"header has {width} (delimiter {shown}){span}")
        if last > start and any(len(cell) > _MAX_SPANNING_CELL for cell in row):
            raise ValueError(f"read_table: the record of line {start} of {path} runs over lines "
                             f"{start}-{last} with a field of over {_MAX_SPANNING_CELL} "
                             "characters: is a quote (\") not closed?")
        rows.append(row)
        lines.append(start)
    if not rows:
        raise ValueError(f"read_table: {path} has a header but no data rows")
    columns = {name: np.array([r[j].strip() for r in rows], dtype=str)
               for j, name in enumerate(header)}
    return Table(columns, np.array(lines, dtype=np.int64), path, sep)


# ---------------------------------------------------------------------- numbers
def as_numbers(cells: np.ndarray, name: str = "", table: Table | None = None
               ) -> np.ndarray | None:
    """The cells as float64 with NaN for the missing ones, or None when a present cell is not a
    number (the column is categorical).  A number that is not finite (``inf``, ``1e400``) is a
    ``ValueError`` naming the column and, with ``table``, the file and line: it would make every
    weight it touches infinite."""
    missing = is_missing(cells)
    out = np.full(len(cells), np.nan)
    present = cells[~missing]
    try:
        values = present.astype(np.float64)
    except (ValueError, TypeError):
        return None
    if not np.isfinite(values).all():
        i = int(np.flatnonzero(~missing)[np.flatnonzero(~np.isfinite(values))[0]])
        where = (f" of {table.path}, line {int(table.lines[i])}," if table is not None else "")
        raise ValueError(f"column {name!r}{where} holds {str(cells[i])!r}, which is not a finite "
                         "number; fill in or remove that row (missing cells may be left empty "
                         "or written NA)")
    out[~missing] = values
    return out


def numeric_column(cells: np.ndarray, name: str, table: Table) -> np.ndarray | None:
    """:func:`as_numbers` of a column, refusing a column of numbers with a few words among
    them (a typo, named by its line) instead of taking it for categories; None for a column of
    categories."""
    numbers = as_numbers(cells, name, table)
    if numbers is None:
        missing = is_missing(cells)
        _refuse_stray_text(cells[~missing], name, table, np.flatnonzero(~missing))
    return numbers


def _refuse_stray_text(present: np.ndarray, name: str, table: Table, index: np.ndarray) -> None:
    """A column of numbers with a few words among them (``12.5``, ``13,1``, ``x``) is a typo to
    fix, not a column of categories: refused naming the first line."""
    words = [i for i, cell in enumerate(present.tolist()) if not _is_number(cell)]
    if len(present) >= 20 and len(words) <= STRAY_TEXT_SHARE * len(present):
        i = words[0]
        line = int(table.lines[index[i]])
        raise ValueError(f"column {name!r} of {table.path} holds numbers, but line {line} holds "
                         f"{str(present[i])!r} ({len(words)} such cell(s)); correct it, or leave "
                         "it empty (or NA) to mark it missing")


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@dataclass
class _Column:
    name: str
    kind: str  # "numeric" or "categorical"
    fill: Any  # median (numeric) or most frequent category
    center: float = 0.0
    scale: float = 1.0
    categories: list[str] = field(default_factory=list)

    def outputs(self) -> list[str]:
        if self.kind == "numeric":
            return [self.name]
        return [f"{self.name}={c}" for c in self.categories]


class TablePreprocessor:
    """Learn from training rows how to turn a :class:`Table` into network inputs; apply it to any
    table with the same columns.  See the module docstring for the rules.

    Args:
        missing: ``"impute"`` (default) or ``"error"``.
        scale: ``"robust"`` (median and IQR, default) or ``"standard"`` (mean and std).
        clip: scaled numeric values are clipped to ``[-clip, clip]`` (``None``: no clipping).
        max_categories: one-hot inputs per categorical column at most (most frequent first).

    After :meth:`transform`, ``report`` holds what was done to that table:
    ``{"imputed": {column: count}, "unknown": {column: count}}``.
    """

    def __init__(self, missing: str = "impute", scale: str = "robust", clip: float | None = 10.0,
                 max_categories: int = 50) -> None:
        if missing not in ("impute", "error"):
            raise ValueError(f"TablePreprocessor: missing must be 'impute' or 'error', got "
                             f"{missing!r} (to drop incomplete rows use Table.complete_rows())")
        if scale not in ("robust", "standard"):
            raise ValueError(f"TablePreprocessor: scale must be 'robust' or 'standard', got "
                             f"{scale!r}")
        if clip is not None and not (isinstance(clip, (int, float)) and clip > 0):
            raise ValueError(f"TablePreprocessor: clip must be a positive number or None, got "
                             f"{clip!r}")
        if isinstance(max_categories, bool) or not isinstance(max_categories, int) \
                or max_categories < 1:
            raise ValueError(f"TablePreprocessor: max_categories must be a positive integer, got "
                             f"{max_categories!r}")
        self.missing, self.scale, self.clip = missing, scale, clip
        self.max_categories = max_categories
        self._columns: list[_Column] | None = None
        self.report: dict[str, dict[str, int]] = {"imputed": {}, "unknown": {}}

    # ------------------------------------------------------------------ fit
    def fit(self, table: Table) -> TablePreprocessor:
        if len(table) == 0:
            raise ValueError("TablePreprocessor.fit got a table without rows")
        columns = []
        for name, cells in table.columns.items():
            missing = is_missing(cells)
            if self.missing == "error" and missing.any():
                raise ValueError(self._missing_message(name, int(missing.sum()), table))
            numbers = numeric_column(cells, name, table)
            if numbers is not None and (~missing).any():
                present = numbers[~missing]
                if self.scale == "robust":
                    center = float(np.median(present))
                    q1, q3 = np.percentile(present, [25, 75])
                    scale = float(q3 - q1)
                    if not scale > 0:  # more than half the values equal: fall back to std
                        scale = float(present.std())
                else:
                    center, scale = float(present.mean()), float(present.std())
                columns.append(_Column(name, "numeric", float(np.median(present)), center,
                                       scale if scale > 0 else 1.0))
            else:
                counts = Counter(cells[~missing].tolist())
                ranked = sorted(counts, key=lambda c: (-counts[c], c))
                if not ranked:  # missing in every training row: it gives no input at all
                    columns.append(_Column(name, "categorical", ""))
                    continue
                columns.append(_Column(name, "categorical", ranked[0],
                                       categories=ranked[: self.max_categories]))
        self._columns = columns
        return self

    @staticmethod
    def _missing_message(name: str, count: int, table: Table) -> str:
        return (f"column {name!r} of {table.path} has {count} missing cell(s) (empty, NA, ?, "
                f"nan...); fill them in, impute them (missing='impute', --missing impute) or "
                f"drop those rows (--missing drop)")

    # ------------------------------------------------------------------ transform
    def _fitted(self) -> list[_Column]:
        if self._columns is None:
            raise RuntimeError("TablePreprocessor: call fit(table) (or from_state) first")
        return self._columns

    @property
    def feature_names(self) -> list[str]:
        """The input columns this preprocessor expects, in order."""
        return [c.name for c in self._fitted()]

    @property
    def output_names(self) -> list[str]:
        """The names of the columns of :meth:`transform`'s matrix (``"colour=red"``...)."""
        return [name for c in self._fitted() for name in c.outputs()]

    def transform(self, table: Table) -> np.ndarray:
        """The float32 matrix of ``table`` (which must hold every fitted column; extra columns
        are ignored).  Missing and unknown cells are counted in :attr:`report`."""
        columns = self._fitted()
        absent = [c.name for c in columns if c.name not in table.columns]
        if absent:
            raise ValueError(f"{table.path} lacks the column(s) {absent} that the model was "
                             f"trained on; its columns are {table.names}")
        parts: list[np.ndarray] = []
        report: dict[str, dict[str, int]] = {"imputed": {}, "unknown": {}}
        for col in columns:
            cells = table.columns[col.name]
            missing = is_missing(cells)
            if missing.any():
                if self.missing == "error":
                    raise ValueError(self._missing_message(col.name, int(missing.sum()), table))
                report["imputed"][col.name] = int(missing.sum())
            if col.kind == "numeric":
                values = as_numbers(cells, col.name, table)
                if values is None:
                    i = next(i for i, (c, m) in enumerate(zip(cells.tolist(), missing))
                             if not m and not _is_number(c))
                    raise ValueError(f"column {col.name!r} of {table.path} holds numbers in "
                                     f"training, but line {int(table.lines[i])} holds "
                                     f"{str(cells[i])!r}; correct it, or leave it empty (or NA) "
                                     "to mark it missing")
                values = np.where(missing, col.fill, values)
                scaled = (values - col.center) / col.scale
                if self.clip is not None:
                    scaled = np.clip(scaled, -self.clip, self.clip)
                parts.append(scaled.astype(np.float32).reshape(-1, 1))
            else:
                filled = np.where(missing, col.fill, cells)
                index = {c: i for i, c in enumerate(col.categories)}
                codes = np.fromiter((index.get(c, -1) for c in filled.tolist()), np.int64,
                                    len(filled))
                unknown = int((codes < 0).sum())
                if unknown:
                    report["unknown"][col.name] = unknown
                onehot = np.zeros((len(filled), len(col.categories)), np.float32)
                rows = np.flatnonzero(codes >= 0)
                onehot[rows, codes[rows]] = 1.0
                parts.append(onehot)
        self.report = report
        if not parts:
            return np.zeros((len(table), 0), np.float32)
        return np.concatenate(parts, axis=1)

    def fit_transform(self, table: Table) -> np.ndarray:
        return self.fit(table).transform(table)

    def describe(self) -> list[dict[str, Any]]:
        """One dict per input column: name, kind, and the fitted fill value, center and scale
        or categories."""
        out = []
        for c in self._fitted():
            row: dict[str, Any] = {"name": c.name, "kind": c.kind, "fill": c.fill}
            if c.kind == "numeric":
                row.update(center=c.center, scale=c.scale)
            else:
                row["categories"] = list(c.categories)
            out.append(row)
        return out

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """Everything the preprocessor learned and its settings, as JSON-ready values."""
        return {"missing": self.missing, "scale": self.scale, "clip": self.clip,
                "max_categories": self.max_categories, "columns": self.describe()}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> TablePreprocessor:
        """The preprocessor :meth:`state_dict` described; a damaged state is a ``ValueError``."""
        try:
            prep = cls(state["missing"], state["scale"], state["clip"], state["max_categories"])
            columns = []
            for c in state["columns"]:
                kind = c["kind"]
                if kind == "numeric":
                    center, scale = float(c["center"]), float(c["scale"])
                    fill = float(c["fill"])
                    if not (math.isfinite(center) and math.isfinite(scale) and scale > 0
                            and math.isfinite(fill)):
                        raise ValueError(f"column {c['name']!r}: fill/center/scale not finite")
                    columns.append(_Column(str(c["name"]), kind, fill, center, scale))
                elif kind == "categorical":
                    if not isinstance(c["categories"], list):
                        raise ValueError(f"column {c['name']!r}: categories are not a list")
                    cats = [str(v) for v in c["categories"]]
                    columns.append(_Column(str(c["name"]), kind, str(c["fill"]), categories=cats))
                else:
                    raise ValueError(f"column kind {kind!r}")
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"not a TablePreprocessor state ({type(err).__name__}: {err})") \
                from None
        prep._columns = columns
        return prep

    def __repr__(self) -> str:
        if self._columns is None:
            return f"TablePreprocessor(missing={self.missing!r}, scale={self.scale!r}, unfitted)"
        kinds = Counter(c.kind for c in self._columns)
        return (f"TablePreprocessor({kinds['numeric']} numeric, {kinds['categorical']} "
                f"categorical columns -> {len(self.output_names)} inputs)")

"""read_table against pandas, TablePreprocessor against scikit-learn, and the documented refusals
of both (src/neuralab/data/table.py: its docstrings are the spec)."""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import OneHotEncoder, RobustScaler, StandardScaler

from neuralab.data.table import (
    MISSING,
    STRAY_TEXT_SHARE,
    Table,
    TablePreprocessor,
    as_numbers,
    is_missing,
    numeric_column,
    read_table,
)


def _write(tmp_path, data: str | bytes, name: str = "t.csv"):
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def _cells(table: Table) -> dict[str, list[str]]:
    return {name: cells.tolist() for name, cells in table.columns.items()}


def _pandas(path, **kwargs) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", **kwargs)


def _pandas_cells(path, **kwargs) -> dict[str, list[str]]:
    """pandas' cells, stripped as read_table strips them."""
    frame = _pandas(path, **kwargs)
    return {str(name).strip(): [cell.strip() for cell in frame[name]] for name in frame.columns}


# ------------------------------------------------------------------------------ read_table
#: (file bytes, pandas arguments, the delimiter read_table should guess)
AWKWARD = {
    "quotes": (b'name,quote,n\n"Smith, J.","he said ""hi"", twice",1\n'
               b'"a;b",plain,2\n5",x""y,3\n', {}, ","),
    "bom-crlf-blank-lines": (b"\xef\xbb\xbfa,b\r\n1,2\r\n\r\n3,4\r\n\r\n", {}, ","),
    "cr-only": (b"a,b\r1,2\r3,4", {}, ","),
    "semicolons-decimal-commas": (b'x;y;z\n1,5;red;3\n2,25;"blue;green";-4\n', {"sep": ";"},
                                  ";"),
    "tabs": (b"x\ty y\tz\n1\t two words \t3\n\n-1e3\t\t\n", {"sep": "\t"}, "\t"),
    "whitespace-aligned": (b"  a    b     c\n  1.0  x   -3\n\n  2.5  yy   4\n   7 z 8",
                           {"sep": r"\s+"}, " "),
    "multiline-quoted-field": (b'a,b\n"line one\nline two",2\n\n3,4\n', {}, ","),
    "missing-tokens": (b"a,b,c\n1,,NA\n?,nan,x\nN/A,null,None\nNaN,NULL,n/a\n", {}, ","),
    "one-column": (b"value\n1\n\n2\n", {}, ","),
    "padded-cells-and-names": (b" a , b \n 1 ,  x y  \n", {}, ","),
}


@pytest.mark.parametrize("case", AWKWARD)
def test_read_table_cells_equal_pandas(tmp_path, case):
    data, kwargs, delimiter = AWKWARD[case]
    path = _write(tmp_path, data)
    table = read_table(path)
    assert table.delimiter == delimiter
    assert _cells(table) == _pandas_cells(path, **kwargs)
    assert all(cells.dtype.kind == "U" for cells in table.columns.values())
    # the delimiter given instead of guessed reads the same
    assert _cells(read_table(path, delimiter=delimiter)) == _cells(table)


def test_read_table_line_numbers_count_blank_lines_and_multiline_fields(tmp_path):
    path = _write(tmp_path, b'a,b\r\n\r\n1,"two\r\nlines"\r\n3,4\r\n\r\n,\r\n5,6\r\n')
    table = read_table(path)
    assert table.lines.tolist() == [3, 5, 8]
    assert table["b"].tolist() == ["two\r\nlines", "4", "6"]
    assert table.path == str(path)


def test_read_table_missing_mask_equals_pandas_na_values(tmp_path):
    tokens = ["", "NA", "na", "N/A", "n/a", "nan", "NaN", "NAN", "null", "NULL", "None", "none",
              "?"]
    not_missing = ["0", "n", "-", "NaNa", "?!", "nil", "0.0", "N", "A"]
    rng = np.random.default_rng(0)
    rows = rng.choice(tokens + not_missing, size=(40, 3))
    path = _write(tmp_path, "a;b;c\n" + "\n".join(";".join(r) for r in rows) + "\n")
    table = read_table(path)
    frame = _pandas(path, sep=";", na_values=tokens)
    assert len(table) == len(frame)  # no row is all empty cells (else read_table skips it)
    for name in table.names:
        np.testing.assert_array_equal(is_missing(table[name]), frame[name].isna().to_numpy())
    mask = frame.isna().any(axis=1).to_numpy()
    np.testing.assert_array_equal(table.complete_rows(), ~mask)


def test_is_missing_ignores_case_and_spaces():
    cells = np.array([" NA ", "\tnan", "  ", "None  ", " ? ", "N/A", "NULL", "x", "0", "nana"])
    assert is_missing(cells).tolist() == [True] * 7 + [False] * 3
    assert MISSING == {"", "na", "n/a", "nan", "null", "none", "?"}


def test_read_table_explicit_delimiter_beats_the_guess(tmp_path):
    path = _write(tmp_path, "a,b;c\n1,2;3\n4,5;6\n")
    assert read_table(path).names == ["a", "b;c"]  # ',' and ';' once each: the first wins
    table = read_table(path, delimiter=";")
    assert _cells(table) == _pandas_cells(path, sep=";") == {"a,b": ["1,2", "4,5"],
                                                              "c": ["3", "6"]}


def test_read_table_guesses_the_most_frequent_delimiter(tmp_path):
    path = _write(tmp_path, "a,b;c;d\n1,5;2;3\n")
    assert read_table(path).names == ["a,b", "c", "d"]
    path = _write(tmp_path, "a\tb\tc;d\n1\t2\t3;4\n")
    assert read_table(path).names == ["a", "b", "c;d"]


def test_whitespace_delimiter_splits_runs_of_spaces_and_tabs(tmp_path):
    path = _write(tmp_path, "a b c\n1 \t 2\t\t3\n")
    table = read_table(path, delimiter=" ")
    assert _cells(table) == {"a": ["1"], "b": ["2"], "c": ["3"]} == _pandas_cells(path,
                                                                                  sep=r"\s+")


@pytest.mark.parametrize("delimiter", ['"', "\n", "\r", "", ",,", 5])
def test_read_table_refuses_a_delimiter_that_cannot_be_one(tmp_path, delimiter):
    path = _write(tmp_path, "a,b\n1,2\n")
    with pytest.raises(ValueError, match="delimiter"):
        read_table(path, delimiter=delimiter)


# ---------------------------------------------------------------------- read_table refusals
def _refused(tmp_path, data, *fragments, delimiter=None):
    path = _write(tmp_path, data)
    with pytest.raises(ValueError) as info:
        read_table(path, delimiter=delimiter)
    message = str(info.value)
    assert message.startswith("read_table: ") and str(path) in message, message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


@pytest.mark.parametrize("data, repeated", [("a,b,a\n1,2,3\n", ["a"]),
                                             ("a, b ,b\n1,2,3\n", ["b"]),
                                             ("x;y;x;y\n1;2;3;4\n", ["x", "y"])])
def test_repeated_header_names_are_refused(tmp_path, data, repeated):
    _refused(tmp_path, data, f"column(s) {repeated} more than once")


def test_empty_header_name_is_refused_naming_its_column(tmp_path):
    _refused(tmp_path, "a,,c\n1,2,3\n", "empty column name", "column 2")
    _refused(tmp_path, "a;b; \n1;2;3\n", "empty column name", "column 3", "';'")


@pytest.mark.parametrize("data, fragments, sep", [
    ("a;b;c\n1;2;3\n\n4;5\n", ["line 4", "2 fields", "header has 3", "delimiter ';'"], None),
    ("a,b\n1,2\n3,4,5\n", ["line 3", "3 fields", "header has 2", "delimiter ','"], ","),
    ("a\tb\n1\t2\r\n3\t4\t\r\n", ["line 3", "3 fields", "delimiter '\\t'"], "\t"),
    ("a b c\n1 2 3\n4 5\n", ["line 3", "2 fields", "delimiter whitespace"], None),
    ("a b\n1 2\n\n3 4 5\n", ["line 4", "3 fields", "delimiter whitespace"], r"\s+"),
])
def test_a_row_of_another_width_is_refused_naming_line_and_delimiter(tmp_path, data, fragments,
                                                                     sep):
    message = _refused(tmp_path, data, *fragments)
    assert "one column" not in message  # the header had a delimiter
    if sep is not None:  # a row with more fields: pandas refuses it too (a short one it pads)
        with pytest.raises(pd.errors.ParserError, match=f"line {fragments[0][5:]}"):
            _pandas(tmp_path / "t.csv", sep=sep)


def test_a_header_without_delimiter_is_one_column_and_the_message_says_so(tmp_path):
    path = _write(tmp_path, "income\n1\n2\n")
    assert _cells(read_table(path)) == {"income": ["1", "2"]}
    _refused(tmp_path, "income\n1\n\n2,5\n", "line 4", "2 fields", "read as one column",
             "delimiter")


def test_non_utf8_bytes_are_refused_naming_the_line(tmp_path):
    _refused(tmp_path, b"a,b\r\n1,2\r\n\r\n3,caf\xe9\r\n", "line 4", "not UTF-8", "0xe9",
             "column 6")
    _refused(tmp_path, b"n\xf6m,b\n1,2\n", "line 1", "not UTF-8")


def test_an_unclosed_quote_that_shifts_the_fields_is_refused_with_the_span(tmp_path):
    _refused(tmp_path, 'a,b,c\n1,"x,2\n3,4,5\n6,7,8\n', "line 2", "runs over lines 2-4",
             "quote")


def test_a_long_quoted_field_over_several_lines_is_taken_for_an_unclosed_quote(tmp_path):
    body = "".join("y" * 60 + "\n" for _ in range(20))  # 1220 characters over 20 lines
    _refused(tmp_path, f'a,b\n1,2\n3,"{body}end"\n4,5\n', "line 3", "over 1024 characters",
             "quote")
    # a short one is a field over several lines, as pandas reads it
    path = _write(tmp_path, 'a,b\n3,"two\nlines"\n')
    assert _cells(read_table(path)) == _pandas_cells(path)


@pytest.mark.parametrize("data, line", [
    ('a,b\n1,2\n3,"x\n4,y\n5,z\n', 3),       # the quote swallows the rest of the file
    ('a,b\n1,2\n3,"x', 3),                    # on the last line
    ('"a,b\n1,2\n', 1),                       # in the header
])
def test_a_quote_still_open_at_the_end_of_the_file_is_refused(tmp_path, data, line):
    _refused(tmp_path, data, f"line {line}", "quote", "not closed")
    with pytest.raises(pd.errors.ParserError, match="EOF inside string"):
        _pandas(tmp_path / "t.csv")


def test_a_field_over_the_csv_limit_is_refused_with_the_quote_hint(tmp_path):
    _refused(tmp_path, 'a,b\n1,"' + "x" * 200_000 + '"\n', "cannot be read as CSV",
             "not closed")


@pytest.mark.parametrize("data, fragment", [
    ("a,b\n", "no data rows"),
    ("a,b\n\n\r\n", "no data rows"),
    ("a,b\n,\n , \n", "no data rows"),
    ("", "empty or starts with a blank line"),
    ("\na,b\n1,2\n", "empty or starts with a blank line"),
])
def test_a_file_without_data_rows_is_refused(tmp_path, data, fragment):
    _refused(tmp_path, data, fragment)


def test_a_row_of_empty_cells_is_skipped_like_a_blank_line(tmp_path):
    # read_table's choice (pandas keeps such a row as a row of gaps)
    path = _write(tmp_path, "a,b,c\n1,2,3\n,,\n , ,\n4,5,6\n")
    table = read_table(path)
    assert table.lines.tolist() == [2, 5]
    assert len(_pandas(path)) == 4


def test_a_missing_file_is_refused_naming_it(tmp_path):
    path = tmp_path / "nowhere.csv"
    with pytest.raises(FileNotFoundError, match="nowhere.csv"):
        read_table(path)
    with pytest.raises(FileNotFoundError):
        read_table(tmp_path)  # a folder is not a file


# ---------------------------------------------------------------------- round trip property
_WORDS = st.text(alphabet=st.sampled_from(list("abzXé ,;\t\"'\n\r-.:1")), max_size=8)
_NUMBERS = st.one_of(st.integers(-10**6, 10**6).map(str),
                     st.floats(allow_nan=False, allow_infinity=False).map(repr))
_CELLS = st.one_of(_NUMBERS, _WORDS, st.sampled_from(sorted(MISSING) + ["NA", "N/A", " ? "]))


@st.composite
def _tables(draw):
    width = draw(st.integers(1, 4))
    names = draw(st.lists(st.text(alphabet="abcxyz_019", min_size=1, max_size=5),
                          min_size=width, max_size=width, unique=True))
    rows = draw(st.lists(st.lists(_CELLS, min_size=width, max_size=width), min_size=1,
                         max_size=6))
    return names, rows


def _csv_line(cells: list[str], delimiter: str) -> str:
    """One record as the csv module writes it, except that a bare line break of either kind is
    quoted too (Python 3.11's csv.writer leaves a "\\r" unquoted under a "\\n" line end)."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerow(cells)
    return out.getvalue()[:-2]


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=_tables(), delimiter=st.sampled_from([",", ";", "\t"]),
       line_end=st.sampled_from(["\n", "\r\n"]), last_line_end=st.booleans(),
       bom=st.booleans(), guess=st.booleans())
def test_csv_written_by_the_csv_module_reads_back_cell_for_cell(tmp_path, table, delimiter,
                                                                line_end, last_line_end, bom,
                                                                guess):
    names, rows = table
    text = line_end.join(_csv_line(row, delimiter) for row in [names, *rows])
    text += line_end if last_line_end else ""
    path = _write(tmp_path, ("\ufeff" if bom else "") + text)
    kept = [[cell.strip() for cell in row] for row in rows if any(c.strip() for c in row)]
    # with one column the header holds no delimiter to guess from
    given_delimiter = None if guess and len(names) > 1 else delimiter
    if not kept:
        with pytest.raises(ValueError, match="no data rows"):
            read_table(path, delimiter=given_delimiter)
        return
    got = read_table(path, delimiter=given_delimiter)
    assert got.delimiter == delimiter
    assert got.names == names
    assert _cells(got) == {name: [row[j] for row in kept] for j, name in enumerate(names)}


# ------------------------------------------------------------------------------ Table
def _table(**columns) -> Table:
    n = len(next(iter(columns.values())))
    return Table({k: np.array(v, dtype=str) for k, v in columns.items()},
                 np.arange(2, n + 2, dtype=np.int64), "mem.csv")


def test_table_select_keep_pop_and_complete_rows():
    t = _table(a=["1", "2", "NA", "4"], b=["x", "", "z", "w"], c=["5", "6", "7", "8"])
    assert len(t) == 4 and t.names == ["a", "b", "c"]
    for rows in (np.array([3, 0]), np.array([False, True, False, True]), slice(1, 3)):
        s = t.select(rows)
        assert s.lines.tolist() == t.lines[rows].tolist()
        assert s["c"].tolist() == t["c"][rows].tolist() and s.path == "mem.csv"
    assert t.complete_rows().tolist() == [True, False, False, True]
    kept = t.keep(["c", "a"])
    assert kept.names == ["c", "a"] and t.names == ["a", "b", "c"]
    with pytest.raises(ValueError, match=r"\['zz'\]"):
        t.keep(["a", "zz"])
    assert t.pop("b").tolist() == ["x", "", "z", "w"] and t.names == ["a", "c"]
    with pytest.raises(KeyError, match="'b'.*columns are \\['a', 'c'\\]"):
        t["b"]
    with pytest.raises(ValueError, match="different lengths"):
        Table({"a": np.array(["1"]), "b": np.array(["1", "2"])}, np.array([2]))


# ------------------------------------------------------------------------------ numbers
def test_as_numbers_gives_nan_for_gaps_and_none_for_words():
    np.testing.assert_array_equal(as_numbers(np.array(["1.5", "NA", " -2e3 ", ""])),
                                  [1.5, np.nan, -2000.0, np.nan])
    assert as_numbers(np.array(["1", "two"])) is None


@pytest.mark.parametrize("bad", ["inf", "-Infinity", "1e400"])
def test_a_number_that_is_not_finite_is_refused_naming_the_line(tmp_path, bad):
    path = _write(tmp_path, f"a,b\n1,x\n\n2,y\n{bad},z\n")
    table = read_table(path)
    with pytest.raises(ValueError, match=rf"'a'.*line 5.*{bad!r}.*not a finite"):
        as_numbers(table["a"], "a", table)
    with pytest.raises(ValueError, match="line 5"):
        TablePreprocessor().fit(table)
    ok = read_table(_write(tmp_path, "a,b\n1,x\n2,y\n", "ok.csv"))
    prep = TablePreprocessor().fit(ok)
    with pytest.raises(ValueError, match=rf"line 5.*{bad!r}"):
        prep.transform(table)


def _column_file(tmp_path, numbers: int, words: int):
    cells = [str(i * 1.5) for i in range(numbers)]
    for k in range(words):
        cells.insert(3 + 2 * k, f"word{k}")
    text = "v,w\n\n" + "".join(f"{c},{i}\n" for i, c in enumerate(cells))  # line 3 is row 0
    return read_table(_write(tmp_path, text))


def test_a_stray_word_among_numbers_is_refused_naming_its_line(tmp_path):
    table = _column_file(tmp_path, numbers=20, words=1)
    with pytest.raises(ValueError, match=r"'v'.*line 6 holds 'word0' \(1 such"):
        numeric_column(table["v"], "v", table)
    with pytest.raises(ValueError, match="line 6"):
        TablePreprocessor().fit(table)


def test_the_stray_word_share_is_the_documented_boundary(tmp_path):
    assert STRAY_TEXT_SHARE == 0.05
    table = _column_file(tmp_path, numbers=38, words=2)  # 2 of 40 present cells: 5%
    with pytest.raises(ValueError, match="line 6 holds 'word0' \\(2 such"):
        numeric_column(table["v"], "v", table)
    table = _column_file(tmp_path, numbers=37, words=2)  # 2 of 39: over 5%, categories
    assert numeric_column(table["v"], "v", table) is None
    table = _column_file(tmp_path, numbers=18, words=1)  # under 20 present cells: categories
    assert numeric_column(table["v"], "v", table) is None


def test_a_column_with_many_words_is_categorical(tmp_path):
    table = _column_file(tmp_path, numbers=20, words=8)
    prep = TablePreprocessor().fit(table.keep(["v"]))
    assert prep.describe()[0]["kind"] == "categorical"
    assert len(prep.output_names) == 28 and "v=word0" in prep.output_names


# ------------------------------------------------------------------------------ preprocessor
def _mixed(n: int, seed: int, shift: float = 0.0, gaps: float = 0.1,
           colours=("red", "green", "blue", "grey")) -> tuple[Table, dict[str, np.ndarray]]:
    """A table of two numeric and one categorical column with gaps, and the same data as
    sklearn sees it (floats with NaN, objects with NaN)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(5.0 + shift, 2.0, n)
    y = rng.lognormal(1.0 + shift, 1.0, n)           # skewed: median and IQR matter
    weights = np.linspace(4, 1, len(colours))
    c = rng.choice(colours, n, p=weights / weights.sum())
    gap = {k: rng.random(n) < gaps for k in "xyc"}
    tokens = np.array(["", "NA", "?", "nan", " N/A "])
    cells = {}
    for key, values in (("x", x), ("y", y)):
        text = np.array([repr(float(v)) for v in values], dtype=object)
        text[gap[key]] = rng.choice(tokens, int(gap[key].sum()))
        cells[key] = text.astype(str)
    text = c.astype(object)
    text[gap["c"]] = rng.choice(tokens, int(gap["c"].sum()))
    cells["colour"] = text.astype(str)
    table = Table(cells, np.arange(2, n + 2), "mixed.csv")
    sk = {"num": np.column_stack([np.where(gap["x"], np.nan, x), np.where(gap["y"], np.nan, y)]),
          "cat": np.where(gap["c"], np.nan, c.astype(object)).reshape(-1, 1)}
    return table, sk


def _sklearn_reference(train_sk, test_sk, scaler):
    num_imp = SimpleImputer(strategy="median").fit(train_sk["num"])
    scaler = scaler.fit(train_sk["num"])              # NaN ignored, as the preprocessor does
    cat_imp = SimpleImputer(strategy="most_frequent").fit(train_sk["cat"])
    encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(
        cat_imp.transform(train_sk["cat"]))
    numbers = scaler.transform(num_imp.transform(test_sk["num"]))
    onehot = encoder.transform(cat_imp.transform(test_sk["cat"]))
    names = ["x", "y"] + [f"colour={c}" for c in encoder.categories_[0]]
    return np.column_stack([numbers, onehot]), names, num_imp, cat_imp, scaler


def _reordered(prep: TablePreprocessor, X: np.ndarray, names: list[str]) -> np.ndarray:
    return X[:, [prep.output_names.index(name) for name in names]]


@pytest.mark.parametrize("scale, scaler", [("robust", RobustScaler()),
                                           ("standard", StandardScaler())])
def test_preprocessor_equals_sklearn_fitted_on_the_training_rows(scale, scaler):
    train, train_sk = _mixed(300, seed=1)
    test, test_sk = _mixed(120, seed=2, shift=0.7, colours=("red", "green", "blue", "pink"))
    prep = TablePreprocessor(scale=scale, clip=None).fit(train)
    expected, names, num_imp, cat_imp, fitted = _sklearn_reference(train_sk, test_sk, scaler)
    X = prep.transform(test)
    assert X.dtype == np.float32 and X.shape == (120, len(names))
    assert sorted(prep.output_names) == sorted(names)
    np.testing.assert_allclose(_reordered(prep, X, names), expected, rtol=2e-6, atol=1e-6)
    # the fitted statistics are sklearn's, from the training rows
    x, y, colour = prep.describe()
    assert [x["fill"], y["fill"]] == pytest.approx(num_imp.statistics_, rel=1e-12)
    assert colour["fill"] == cat_imp.statistics_[0]
    center = fitted.center_ if scale == "robust" else fitted.mean_
    assert [x["center"], y["center"]] == pytest.approx(center, rel=1e-12)
    assert [x["scale"], y["scale"]] == pytest.approx(fitted.scale_, rel=1e-12)
    # unknown categories (pink) are all zeros, counted; gaps are counted per column
    pink = test["colour"] == "pink"
    assert pink.sum() > 0
    assert not X[pink][:, [prep.output_names.index(n) for n in names[2:]]].any()
    assert prep.report["unknown"] == {"colour": int(pink.sum())}
    assert prep.report["imputed"] == {name: int(is_missing(test[name]).sum())
                                      for name in ("x", "y", "colour")}


def test_statistics_come_from_the_training_rows_only():
    train, _ = _mixed(200, seed=3)
    test, _ = _mixed(200, seed=4, shift=3.0, colours=("blue", "pink", "teal", "red"))
    prep = TablePreprocessor().fit(train)
    before, X_train = prep.describe(), prep.transform(train)
    X_test = prep.transform(test)
    assert prep.describe() == before
    np.testing.assert_array_equal(prep.transform(train), X_train)
    # fitting on the test rows would have given other statistics and other inputs
    other = TablePreprocessor().fit(test)
    assert other.describe() != before
    assert not np.array_equal(other.transform(test), X_test)
    # the shifted test rows sit above the training center
    assert np.median(X_test[:, prep.output_names.index("x")]) > 1.0


def test_categories_are_ordered_by_frequency_then_name_and_capped():
    colours = ["b"] * 3 + ["a"] * 3 + ["d"] * 5 + ["c"] * 2 + ["e"]
    table = _table(colour=colours)
    assert TablePreprocessor().fit(table).output_names == [
        "colour=d", "colour=a", "colour=b", "colour=c", "colour=e"]
    prep = TablePreprocessor(max_categories=2).fit(table)
    assert prep.output_names == ["colour=d", "colour=a"]
    X = prep.transform(_table(colour=["d", "a", "b", "c", "e", "new", "NA"]))
    np.testing.assert_array_equal(X, [[1, 0], [0, 1], [0, 0], [0, 0], [0, 0], [0, 0], [1, 0]])
    assert prep.report == {"imputed": {"colour": 1}, "unknown": {"colour": 4}}
    # a tie for the most frequent: the first name fills the gaps
    assert TablePreprocessor(max_categories=1).fit(_table(k=["y", "x", "y", "x"])
                                                   ).describe()[0]["fill"] == "x"


def test_robust_scaling_is_clipped_and_an_outlier_does_not_squeeze_the_rest():
    values = [str(v) for v in range(1, 21)] + ["1000000"]
    table = _table(v=values)
    prep = TablePreprocessor(clip=None).fit(table)
    expected = RobustScaler().fit_transform(np.array(values, float).reshape(-1, 1))[:, 0]
    np.testing.assert_allclose(prep.transform(table)[:, 0], expected, rtol=1e-6)
    assert expected[-1] > 10 and abs(expected[:-1]).max() <= 1  # the rest keep their spread
    clipped = TablePreprocessor().fit(table).transform(_table(v=values + ["-1e9"]))[:, 0]
    np.testing.assert_array_equal(clipped, np.clip(np.r_[expected, -1e9], -10, 10)
                                  .astype(np.float32))
    assert clipped[-2] == 10.0 and clipped[-1] == -10.0
    three = TablePreprocessor(clip=3).fit(table).transform(table)[:, 0]
    assert three.max() == 3.0


@pytest.mark.parametrize("scale", ["robust", "standard"])
def test_a_constant_column_gives_zeros(scale):
    table = _table(k=["4.5"] * 8 + ["NA"], w=["z"] * 9)
    X = TablePreprocessor(scale=scale).fit_transform(table)
    np.testing.assert_array_equal(X, np.c_[np.zeros(9), np.ones(9)])


def test_a_column_missing_in_every_training_row_gives_no_input():
    train = _table(k=["NA"] * 4, w=["1", "2", "3", "4"])
    prep = TablePreprocessor().fit(train)
    assert prep.output_names == ["w"]
    later = _table(k=["7", "8"], w=["1", "2"])  # values that training never saw: not used
    assert prep.transform(later).shape == (2, 1) and prep.report["unknown"] == {"k": 2}


def test_robust_scaling_with_a_zero_iqr_falls_back_to_the_std():
    # undocumented in the module docstring, said in the code: more than half the values equal
    values = np.array([0.0] * 16 + [1.0, 2.0, 5.0, 9.0])
    prep = TablePreprocessor().fit(_table(v=[str(v) for v in values]))
    assert prep.describe()[0]["scale"] == pytest.approx(values.std())


def test_missing_error_refuses_a_gap_naming_the_column_and_count():
    gappy = _table(a=["1", "2", "3"], b=["x", "?", " "])
    with pytest.raises(ValueError, match=r"column 'b' of mem.csv has 2 missing"):
        TablePreprocessor(missing="error").fit(gappy)
    prep = TablePreprocessor(missing="error").fit(_table(a=["1", "2", "3"], b=["x", "y", "x"]))
    with pytest.raises(ValueError, match=r"column 'a' .* 1 missing"):
        prep.transform(_table(a=["1", "nan", "3"], b=["x", "y", "x"]))
    imputing = TablePreprocessor().fit(gappy)
    imputing.transform(gappy)
    assert imputing.report == {"imputed": {"b": 2}, "unknown": {}}


def test_transform_needs_the_fitted_columns_and_ignores_others():
    prep = TablePreprocessor().fit(_table(a=["1", "2", "3"], b=["x", "y", "x"]))
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['b'\]"):
        prep.transform(_table(a=["1"], c=["x"]))
    X = prep.transform(_table(z=["q"], b=["y"], a=["2"]))
    assert prep.output_names == ["a", "b=x", "b=y"]
    np.testing.assert_array_equal(X, [[0.0, 0.0, 1.0]])
    with pytest.raises(ValueError, match="holds numbers in training, but line 2 holds .many."):
        prep.transform(_table(a=["many"], b=["x"]))
    with pytest.raises(RuntimeError, match="fit"):
        TablePreprocessor().transform(_table(a=["1"]))
    with pytest.raises(ValueError, match="without rows"):
        TablePreprocessor().fit(_table(a=["1"]).select(slice(0, 0)))


@pytest.mark.parametrize("kwargs", [{"missing": "drop"}, {"scale": "minmax"}, {"clip": 0},
                                    {"clip": "10"}, {"max_categories": 0},
                                    {"max_categories": True}, {"max_categories": 2.0}])
def test_bad_settings_are_refused(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        TablePreprocessor(**kwargs)


@pytest.mark.parametrize("clip", [10.0, None])
def test_state_through_json_rebuilds_a_bit_identical_preprocessor(clip):
    train, _ = _mixed(150, seed=5)
    test, _ = _mixed(60, seed=6, shift=1.0, colours=("red", "pink"))
    prep = TablePreprocessor(scale="standard", clip=clip, max_categories=3).fit(train)
    text = json.dumps(prep.state_dict(), allow_nan=False)
    again = TablePreprocessor.from_state(json.loads(text))
    assert again.output_names == prep.output_names and again.describe() == prep.describe()
    assert again.state_dict() == prep.state_dict()
    a, b = prep.transform(test), again.transform(test)
    assert a.tobytes() == b.tobytes()
    assert again.report == prep.report


def _state():
    prep = TablePreprocessor().fit(_table(a=["1", "2", "4"], b=["x", "y", "x"]))
    return json.loads(json.dumps(prep.state_dict()))


def _damaged(change):
    state = _state()
    change(state)
    return state


DAMAGED = {
    "none": None, "list": [], "empty": {}, "text": "state",
    "no columns": _damaged(lambda s: s.pop("columns")),
    "update(columns=5)": _damaged(lambda s: s.update(columns=5)),
    "update(missing=drop)": _damaged(lambda s: s.update(missing="drop")),
    "update(max_categories=-1)": _damaged(lambda s: s.update(max_categories=-1)),
    "numeric pop(center)": _damaged(lambda s: s["columns"][0].pop("center")),
    "numeric update(kind=ordinal)": _damaged(lambda s: s["columns"][0].update(kind="ordinal")),
    "numeric update(scale=0.0)": _damaged(lambda s: s["columns"][0].update(scale=0.0)),
    "numeric update(scale=wide)": _damaged(lambda s: s["columns"][0].update(scale="wide")),
    "numeric update(center=nan)": _damaged(lambda s: s["columns"][0].update(center=math.nan)),
    "numeric update(fill=nan)": _damaged(lambda s: s["columns"][0].update(fill=math.nan)),
    "numeric update(fill=inf)": _damaged(lambda s: s["columns"][0].update(fill=math.inf)),
    "categorical pop(categories)": _damaged(lambda s: s["columns"][1].pop("categories")),
    "categorical update(categories=xy)":
        _damaged(lambda s: s["columns"][1].update(categories="xy")),
    "columns append(c)": _damaged(lambda s: s["columns"].append("c")),
}


@pytest.mark.parametrize("case", DAMAGED)
def test_a_damaged_state_is_a_value_error(case):
    with pytest.raises(ValueError, match="not a TablePreprocessor state"):
        TablePreprocessor.from_state(DAMAGED[case])


def test_load_csv_also_refuses_a_quote_left_open_at_the_end(tmp_path):
    # the same csv-module behaviour as read_table's: the field ran to the end of the file and
    # swallowed the rows after it (the target came back as '4\n5,6')
    from neuralab.data import load_csv

    path = tmp_path / "open.csv"
    path.write_text('a,y\n1,2\n3,"4\n5,6\n')
    with pytest.raises(ValueError, match="open.csv.*quote.*line 3 is not closed"):
        load_csv(path, target="y")

"""Data set loaders: iris (vs scikit-learn), CSV (wine), IDX files the tests write, Fashion-MNIST,
and the generated sets."""

from __future__ import annotations

import gzip
import os
import re
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from neuralab.data import (
    FASHION_MNIST_CLASSES,
    IRIS_CLASS_NAMES,
    load_csv,
    load_fashion_mnist,
    load_iris,
    make_synthetic_like_fashion_mnist,
    make_xor,
    read_idx,
    wine_quality_path,
)
from neuralab.data.datasets import FASHION_MNIST_DIR

WINE = wine_quality_path()  # shipped as package data


# ---------------------------------------------------------------------------- iris
def test_load_iris_matches_sklearn():
    from sklearn import datasets as sk_datasets
    X, y = load_iris()
    bunch = sk_datasets.load_iris()
    assert X.shape == (150, 4) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(X, bunch.data.astype(np.float32))
    np.testing.assert_array_equal(y, bunch.target)
    np.testing.assert_array_equal(np.bincount(y), [50, 50, 50])
    assert list(bunch.target_names) == IRIS_CLASS_NAMES


def test_load_iris_without_sklearn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # makes the import fail
    with pytest.raises(ImportError, match=r"pip install neuralab\[lab\]"):
        load_iris()


# ---------------------------------------------------------------------------- CSV
def test_load_csv_wine_quality():
    X, y, names = load_csv(WINE, target="quality")
    assert X.shape == (4898, 11) and X.dtype == np.float32
    assert y.shape == (4898,) and y.dtype == np.int64
    assert names[0] == "fixed acidity" and names[-1] == "alcohol" and "quality" not in names
    reference = np.loadtxt(WINE, delimiter=",", skiprows=1)  # independent parser
    np.testing.assert_array_equal(X, reference[:, :11].astype(np.float32))
    np.testing.assert_array_equal(y, reference[:, 11].astype(np.int64))
    assert y.min() == 3 and y.max() == 9


def test_load_csv_semicolons_quotes_subset_and_string_target(tmp_path):
    path = tmp_path / "flowers.csv"
    path.write_text('"petal length";"petal width";"species"\n'
                    '1.4;0.2;setosa\n4.7;1.4;versicolor\n\n6.0;2.5;virginica\n')
    X, y, names = load_csv(path, target="species")
    assert names == ["petal length", "petal width"]
    np.testing.assert_array_equal(X, np.array([[1.4, 0.2], [4.7, 1.4], [6.0, 2.5]], np.float32))
    assert y.tolist() == ["setosa", "versicolor", "virginica"]
    X, y, names = load_csv(path, target="petal length", features=["petal width"])
    assert names == ["petal width"] and X.shape == (3, 1)
    assert y.dtype == np.float32 and y[1] == np.float32(4.7)


def test_load_csv_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no-such.csv"):
        load_csv(tmp_path / "no-such.csv", target="y")
    path = tmp_path / "d.csv"
    path.write_text("a,b,y\n1,2,3\n4,,6\n")
    with pytest.raises(ValueError, match=r"no column 'quality'.*\['a', 'b', 'y'\]"):
        load_csv(path, target="quality")
    with pytest.raises(ValueError, match=r"no column\(s\) \['c'\]"):
        load_csv(path, target="y", features=["a", "c"])
    with pytest.raises(ValueError, match="column 'b' .* line 3 is empty"):
        load_csv(path, target="y")
    path.write_text("a,b,y\n1,2,3\n4,5\n")
    with pytest.raises(ValueError, match="line 3 .* 2 fields, the header has 3"):
        load_csv(path, target="y")


@pytest.mark.parametrize("cell, why", [
    ("nan", "not a finite number"), ("inf", "not a finite number"),
    ("-Infinity", "not a finite number"), ("1e400", "not a finite number"),
    ("1e39", "too large for float32"),
])
def test_load_csv_refuses_non_finite_cells_naming_column_and_line(tmp_path, cell, why):
    # issue 9.1: they passed, and training then failed or not depending on the seed
    path = tmp_path / "t.csv"
    path.write_text(f"a,b,y\n1,2,3\n\n4,{cell},5\n")
    with pytest.raises(ValueError, match=rf"column 'b' .* line 4 holds '{cell}', which is {why}"):
        load_csv(path, target="y")
    path.write_text(f"a,y\n1,3\n2,{cell}\n3,4.5\n")  # a numeric target
    with pytest.raises(ValueError, match=rf"column 'y' .* line 3 holds '{cell}'"):
        load_csv(path, target="y")


def test_load_csv_keeps_nan_as_a_class_name_of_a_text_target(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,label\n1,cat\n2,nan\n")
    assert load_csv(path, target="label")[1].tolist() == ["cat", "nan"]


@pytest.mark.parametrize("header, target, named", [
    ("a,a,label", "label", "['a']"),      # returned the first column twice
    ("a,label,label", "label", "['label']"),  # dropped a column
    ("a,b,,,y", "y", "['']"),
])
def test_load_csv_refuses_duplicate_column_names(tmp_path, header, target, named):
    path = tmp_path / "d.csv"
    path.write_text(header + "\n" + ",".join(["1"] * len(header.split(","))) + "\n")
    with pytest.raises(ValueError, match=re.escape(f"names the column(s) {named} more than once")):
        load_csv(path, target=target)
    path.write_text("a,b,y\n1,2,3\n")
    with pytest.raises(ValueError, match=r"lists \['a'\] more than once"):
        load_csv(path, target="y", features=["a", "a"])


def test_load_csv_line_numbers_count_blank_lines(tmp_path):
    # issue 9.11: blank lines were skipped before the rows were numbered
    path = tmp_path / "b.csv"
    path.write_text("a,y\n1,2\n\n\n\nx,3\n")
    with pytest.raises(ValueError, match="line 6 holds 'x'"):
        load_csv(path, target="y")
    path.write_text("a,y\r\n1,2\r\n\r\n1,2,3\r\n")
    with pytest.raises(ValueError, match="line 4 .* 3 fields"):
        load_csv(path, target="y")
    path.write_text("a,y\n1,2\n\n,\n4,\n")  # ",": a blank row; then an empty target
    with pytest.raises(ValueError, match="empty on line 5"):
        load_csv(path, target="y")
    path.write_text('a,y\n1,"2\n\n"\n5,x\n1,2,3\n')  # a quoted field over three lines
    with pytest.raises(ValueError, match="line 6 .* 3 fields"):
        load_csv(path, target="y")


def test_load_csv_a_non_utf8_file_names_the_file_and_line(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("a;y\n1;2\n\n3;caf\u00e9\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin1.csv, line 4 is not UTF-8 text \(byte 0xe9 at "
                                         r"column 6\)"):
        load_csv(path, target="y")


def test_load_csv_csv_module_errors_are_clear(tmp_path):
    # issue 9.6: _csv.Error reached the user as a traceback
    path = tmp_path / "long.csv"
    path.write_text("a,y\n1,2\n" + "1" * 140_000 + ",3\n")
    with pytest.raises(ValueError, match=r"line 3 of .*long.csv cannot be read as CSV: field "
                                         r"larger than field limit"):
        load_csv(path, target="y")
    path = tmp_path / "quote.csv"  # a stray quote in a large file swallows the rest
    path.write_text("a,y\n1,2\n3,\"4\n" + "5,6\n" * 30_000)
    with pytest.raises(ValueError, match=r"quote .* not closed"):
        load_csv(path, target="y")
    path.write_text("a,y\n1,2\n3,\"4\n5,6\n")  # in a small file: open to the end of the file
    with pytest.raises(ValueError, match=r"quote \(\"\) of the record on line 3 is not closed by "
                                         r"the end of the file"):
        load_csv(path, target="a")
    path.write_text("a,y\n1,2\n3,\"4\n5\",6\n")  # a ragged record over lines 3-4
    with pytest.raises(ValueError, match=r"line 3 .* lines 3-4: is a quote"):
        load_csv(path, target="a")
    with pytest.raises(ValueError, match="delimiter"):
        load_csv(path, target="y", delimiter="ab")


def test_load_csv_peak_memory_is_a_small_multiple_of_the_file(tmp_path):
    # issue 9.10: the whole file as Python strings and a fixed-width string array peaked at
    # ~15x the file size (measured: 15.1x on 100,000 x 10); now chunks are converted as read
    # (measured: 2.0x on this 50,000 x 10 file, 1.3x on 100,000 x 10)
    import tracemalloc

    rng = np.random.default_rng(0)
    path = tmp_path / "big.csv"
    table = np.column_stack([rng.normal(size=(50_000, 9)), rng.integers(0, 5, 50_000)])
    np.savetxt(path, table, fmt=["%.6g"] * 9 + ["%d"], delimiter=",",
               header=",".join([f"x{i}" for i in range(9)] + ["y"]), comments="")
    tracemalloc.start()
    try:
        X, y, _ = load_csv(path, target="y")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(X, np.loadtxt(path, delimiter=",", skiprows=1,
                                                usecols=range(9)).astype(np.float32))
    assert y.dtype == np.int64 and y.tolist() == table[:, 9].astype(int).tolist()
    assert peak < 4 * path.stat().st_size, peak / path.stat().st_size


# ---------------------------------------------------------------------------- IDX
_IDX_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D,
              np.float64: 0x0E}


def _write_idx(path: Path, array: np.ndarray, compress: bool) -> Path:
    """Write an IDX file by the format's definition: 0 0 type ndim, big-endian sizes and data."""
    header = struct.pack(">BBBB", 0, 0, _IDX_CODES[array.dtype.type], array.ndim)
    header += struct.pack(">" + "I" * array.ndim, *array.shape)
    payload = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(payload))
    else:
        path.write_bytes(payload)
    return path


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("dtype", list(_IDX_CODES))
def test_read_idx_round_trips_every_type(tmp_path, compress, dtype):
    rng = np.random.default_rng(0)
    array = (rng.normal(0, 50, size=(3, 4, 5))).astype(dtype)
    path = _write_idx(tmp_path / "a-idx3", array, compress)
    out = read_idx(path)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative and out.flags.writeable
    np.testing.assert_array_equal(out, array)


def test_read_idx_known_bytes(tmp_path):
    # a 1-D uint8 file written byte by byte: magic 0x00000801, size 3, labels 9 0 4
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 9, 0, 4]))
    np.testing.assert_array_equal(read_idx(path), [9, 0, 4])
    # int32 big-endian: 0x00000102 = 258
    path.write_bytes(bytes([0, 0, 0x0C, 1, 0, 0, 0, 1, 0, 0, 1, 2]))
    assert read_idx(path).tolist() == [258]


def test_read_idx_errors(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(bytes([1, 2, 3, 4]))
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(path)
    path.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]))
    with pytest.raises(ValueError, match="truncated"):
        read_idx(path)
    path.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 1, 1, 2]))
    with pytest.raises(ValueError, match="more data"):
        read_idx(path)
    with pytest.raises(FileNotFoundError, match="missing-file"):
        read_idx(tmp_path / "missing-file")


# ---------------------------------------------------------------------------- Fashion-MNIST
def _fake_fashion_dir(directory: Path, compress: bool) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (6, 28, 28)).astype(np.uint8),
        "train-labels-idx1-ubyte": np.array([0, 9, 3, 3, 1, 5], np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (4, 28, 28)).astype(np.uint8),
        "t10k-labels-idx1-ubyte": np.array([2, 2, 8, 7], np.uint8),
    }
    for name, array in arrays.items():
        _write_idx(directory / name, array, compress)
    return arrays


@pytest.mark.parametrize("compress", [False, True])
def test_load_fashion_mnist_from_directory(tmp_path, compress):
    arrays = _fake_fashion_dir(tmp_path, compress)
    (x_train, t_train), (x_test, t_test) = load_fashion_mnist(tmp_path)
    assert x_train.shape == (6, 784) and x_train.dtype == np.float32
    assert x_test.shape == (4, 784) and t_test.dtype == np.int64
    np.testing.assert_allclose(x_train, arrays["train-images-idx3-ubyte"].reshape(6, -1) / 255.0,
                               rtol=1e-6)
    np.testing.assert_array_equal(t_train, arrays["train-labels-idx1-ubyte"])
    (x_raw, t_onehot), _ = load_fashion_mnist(tmp_path, normalize=False, flatten=False,
                                              one_hot=True)
    assert x_raw.dtype == np.uint8 and x_raw.shape == (6, 1, 28, 28)
    np.testing.assert_array_equal(x_raw[:, 0], arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(t_onehot, np.eye(10, dtype=np.float32)[[0, 9, 3, 3, 1, 5]])


def test_load_fashion_mnist_missing_files_names_the_package(tmp_path):
    with pytest.raises(FileNotFoundError,
                       match=r"(?s)t10k-labels-idx1-ubyte.*apt-get install dataset-fashion-mnist"):
        load_fashion_mnist(tmp_path)


def test_load_fashion_mnist_real_files():
    try:
        (x_train, t_train), (x_test, t_test) = load_fashion_mnist()
    except FileNotFoundError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but Fashion-MNIST is missing: {exc}")
        pytest.skip(f"Fashion-MNIST files not in {FASHION_MNIST_DIR} (sudo apt-get install "
                    f"dataset-fashion-mnist); this test fails instead of skipping when CI is set")
    assert x_train.shape == (60000, 784) and x_test.shape == (10000, 784)
    assert x_train.dtype == np.float32 and x_train.min() >= 0.0 and x_train.max() <= 1.0
    # the published data set has 6,000 training and 1,000 test images of each class
    np.testing.assert_array_equal(np.bincount(t_train), np.full(10, 6000))
    np.testing.assert_array_equal(np.bincount(t_test), np.full(10, 1000))
    assert len(FASHION_MNIST_CLASSES) == 10


# ---------------------------------------------------------------------------- generated sets
def test_make_xor_truth_table_and_samples():
    X, y = make_xor()
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [[0], [1], [1], [0]])
    assert X.dtype == y.dtype == np.float32
    X, y = make_xor(100, noise=0.1, rng=0)
    assert X.shape == (100, 2) and y.shape == (100, 1)
    corners = np.rint(X).astype(int)
    np.testing.assert_array_equal(y[:, 0], corners[:, 0] ^ corners[:, 1])
    assert np.bincount(corners[:, 0] * 2 + corners[:, 1]).tolist() == [25, 25, 25, 25]
    with pytest.raises(ValueError, match="n_samples"):
        make_xor(0)


def test_synthetic_fashion_mnist_shapes_reproducible_and_learnable():
    x, t = make_synthetic_like_fashion_mnist(2000, rng=0)
    assert x.shape == (2000, 784) and x.dtype == np.float32 and t.dtype == np.int64
    assert x.min() >= 0.0 and x.max() <= 1.0
    np.testing.assert_array_equal(np.bincount(t), np.full(10, 200))
    x2, t2 = make_synthetic_like_fashion_mnist(2000, rng=0)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(t, t2)
    # class templates are shared across generators: a nearest-class-mean rule fitted on one draw
    # classifies another draw well above chance (10 %)
    means = np.stack([x[t == k].mean(0) for k in range(10)])
    x_new, t_new = make_synthetic_like_fashion_mnist(500, rng=1)
    pred = np.argmin(((x_new[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    assert np.mean(pred == t_new) > 0.8
    xu, _ = make_synthetic_like_fashion_mnist(5, rng=0, normalize=False, flatten=False)
    assert xu.dtype == np.uint8 and xu.shape == (5, 1, 28, 28)


@pytest.mark.parametrize("cells", [["1.5", "", "2"], ["cat", " ", "dog"]])
def test_load_csv_rejects_a_missing_target_value(tmp_path, cells):
    # an empty target cell must not become a class "" (or turn a numeric column into text)
    path = tmp_path / "t.csv"
    path.write_text("a,t\n" + "".join(f"{i},{c}\n" for i, c in enumerate(cells)))
    with pytest.raises(ValueError, match=r"'t'.*line 3"):
        load_csv(path, target="t")

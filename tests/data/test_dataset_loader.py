"""ArrayDataset and DataLoader: batch counts, coverage, shuffling, copies, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import neuralab as nl
from neuralab.data import ArrayDataset, DataLoader, Dataset


def _data(n: int = 10) -> tuple[np.ndarray, np.ndarray]:
    # column 0 is the sample id, so every batch can be traced back to its rows
    X = np.stack([np.arange(n), np.arange(n) * 10], axis=1).astype(np.float32)
    y = np.arange(n) * 2
    return X, y


# ---------------------------------------------------------------------------- ArrayDataset
def test_array_dataset_len_getitem_and_no_copy():
    X, y = _data(7)
    ds = ArrayDataset(X, y)
    assert len(ds) == 7
    sample = ds[3]
    assert isinstance(sample, tuple) and len(sample) == 2
    np.testing.assert_array_equal(sample[0], X[3])
    assert sample[1] == 6
    assert np.shares_memory(ds.arrays[0], X)  # kept as given


def test_array_dataset_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match=r"same first dimension.*\(5, 2\).*\(4,\)"):
        ArrayDataset(np.zeros((5, 2)), np.zeros(4))


def test_array_dataset_rejects_no_array_and_scalars():
    with pytest.raises(ValueError, match="at least one array"):
        ArrayDataset()
    with pytest.raises(ValueError, match="scalar at position 1"):
        ArrayDataset(np.zeros(3), np.float32(1.0))


# ---------------------------------------------------------------------------- batch counts
@pytest.mark.parametrize("n,batch_size,drop_last", [
    (10, 3, False), (10, 3, True), (10, 5, False), (10, 5, True), (10, 10, False),
    (10, 1, False), (10, 32, False), (1, 1, True), (97, 16, True), (97, 16, False),
])
def test_batch_counts_and_sizes(n, batch_size, drop_last):
    X, y = _data(n)
    loader = DataLoader((X, y), batch_size=batch_size, drop_last=drop_last)
    batches = list(loader)
    expected = n // batch_size if drop_last else math.ceil(n / batch_size)
    assert len(loader) == expected == len(batches)
    sizes = [len(xb) for xb, _ in batches]
    full = [batch_size] * (n // batch_size)
    assert sizes == (full if drop_last or n % batch_size == 0 else full + [n % batch_size])


def test_full_batch_is_batch_gradient_descent_and_size_one_is_stochastic():
    X, y = _data(12)
    (xb, yb), = list(DataLoader((X, y), batch_size=12, shuffle=True, rng=0))
    np.testing.assert_array_equal(np.sort(xb[:, 0]), np.arange(12))
    singles = list(DataLoader((X, y), batch_size=1, shuffle=True, rng=0))
    assert len(singles) == 12 and all(xb.shape == (1, 2) and yb.shape == (1,)
                                      for xb, yb in singles)


# ---------------------------------------------------------------------------- coverage and order
def test_unshuffled_batches_are_in_order():
    X, y = _data(10)
    out = np.concatenate([xb[:, 0] for xb, _ in DataLoader((X, y), batch_size=4)])
    np.testing.assert_array_equal(out, np.arange(10))


@pytest.mark.parametrize("batch_size", [1, 3, 7, 50])
def test_every_sample_exactly_once_per_epoch_and_rows_aligned(batch_size):
    X, y = _data(50)
    loader = DataLoader(ArrayDataset(X, y), batch_size=batch_size, shuffle=True, rng=1)
    for _ in range(3):
        ids, ys = [], []
        for xb, yb in loader:
            assert xb.dtype == np.float32 and yb.dtype == y.dtype
            ids.append(xb[:, 0])
            ys.append(yb)
            np.testing.assert_array_equal(xb[:, 1], xb[:, 0] * 10)
        ids, ys = np.concatenate(ids), np.concatenate(ys)
        np.testing.assert_array_equal(np.sort(ids), np.arange(50))
        np.testing.assert_array_equal(ys, ids * 2)  # targets travel with their inputs


def test_drop_last_with_shuffle_takes_distinct_samples():
    X, y = _data(23)
    ids = np.concatenate([xb[:, 0] for xb, _ in
                          DataLoader((X, y), batch_size=5, shuffle=True, drop_last=True, rng=2)])
    assert len(ids) == 20 and len(np.unique(ids)) == 20


def _epoch_orders(loader, epochs):
    return [np.concatenate([xb[:, 0] for xb, _ in loader]) for _ in range(epochs)]


def test_shuffle_reproducible_by_seed_and_new_each_epoch():
    X, y = _data(40)
    a = _epoch_orders(DataLoader((X, y), batch_size=8, shuffle=True, rng=123), 3)
    b = _epoch_orders(DataLoader((X, y), batch_size=8, shuffle=True, rng=123), 3)
    c = _epoch_orders(DataLoader((X, y), batch_size=8, shuffle=True, rng=124), 3)
    for ea, eb in zip(a, b):
        np.testing.assert_array_equal(ea, eb)
    assert not np.array_equal(a[0], a[1]) and not np.array_equal(a[1], a[2])
    assert not np.array_equal(a[0], c[0])
    assert not np.array_equal(a[0], np.arange(40))


def test_shuffle_with_library_generator_follows_neuralab_seed():
    X, y = _data(30)
    loader = DataLoader((X, y), batch_size=7, shuffle=True)
    nl.seed(5)
    first = _epoch_orders(loader, 2)
    nl.seed(5)
    second = _epoch_orders(loader, 2)
    for ea, eb in zip(first, second):
        np.testing.assert_array_equal(ea, eb)
    assert not np.array_equal(first[0], first[1])


def test_generator_is_used_as_given():
    X, y = _data(30)
    gen = np.random.default_rng(9)
    loader = DataLoader((X, y), batch_size=30, shuffle=True, rng=gen)
    assert loader.rng is gen
    (xb, _), = list(loader)
    np.testing.assert_array_equal(xb[:, 0], np.random.default_rng(9).permutation(30))


# ---------------------------------------------------------------------------- copies and inputs
@pytest.mark.parametrize("shuffle", [False, True])
def test_batches_own_their_memory(shuffle):
    X, y = _data(8)
    X_before = X.copy()
    for xb, _ in DataLoader((X, y), batch_size=3, shuffle=shuffle, rng=0):
        assert not np.shares_memory(xb, X)
        xb[...] = -1
    np.testing.assert_array_equal(X, X_before)


def test_array_dataset_is_gathered_without_per_sample_getitem():
    class NoPerSample(ArrayDataset):
        def __getitem__(self, index):
            raise AssertionError("DataLoader fetched a single sample")

    X, y = _data(9)
    batches = list(DataLoader(NoPerSample(X, y), batch_size=4, shuffle=True, rng=0))
    assert sum(len(xb) for xb, _ in batches) == 9


def test_single_array_and_tensor_inputs_yield_tuples():
    X, _ = _data(5)
    (xb,), = list(DataLoader(X, batch_size=5))
    np.testing.assert_array_equal(xb, X)
    (tb,), = list(DataLoader(nl.tensor(X), batch_size=5))
    np.testing.assert_array_equal(tb, X)


def test_generic_dataset_is_collated_sample_by_sample():
    class Squares(Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            return np.array([i, i * i], dtype=np.float32), i % 2

    batches = list(DataLoader(Squares(), batch_size=4))
    assert [xb.shape for xb, _ in batches] == [(4, 2), (2, 2)]
    np.testing.assert_array_equal(batches[1][0], [[4, 16], [5, 25]])
    np.testing.assert_array_equal(batches[0][1], [0, 1, 0, 1])


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize("bad", [0, -3, 2.5, True, None])
def test_bad_batch_size_is_named(bad):
    X, y = _data(5)
    with pytest.raises(ValueError, match="positive integer for `batch_size`"):
        DataLoader((X, y), batch_size=bad)


def test_drop_last_larger_than_dataset_and_empty_dataset_are_errors():
    X, y = _data(5)
    with pytest.raises(ValueError, match="would yield no batch"):
        DataLoader((X, y), batch_size=6, drop_last=True)
    with pytest.raises(ValueError, match="non-empty"):
        DataLoader((X[:0], y[:0]))

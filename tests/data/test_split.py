"""Splits and cross-validation: sizes as scikit-learn, stratification, disjoint and complete."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import model_selection as skms

from neuralab.data import (
    KFold,
    StandardScaler,
    StratifiedKFold,
    cross_validate,
    train_test_split,
    train_val_test_split,
)


def _imbalanced_labels(counts, seed=0):
    y = np.repeat(np.arange(len(counts)), counts)
    return np.random.default_rng(seed).permutation(y)


# ---------------------------------------------------------------------------- train_test_split
def test_returns_sklearn_order_and_keeps_rows_aligned():
    n = 40
    X = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n) * 7
    w = np.arange(n)[::-1].copy()
    X_tr, X_te, y_tr, y_te, w_tr, w_te = train_test_split(X, y, w, test_size=0.25, rng=0)
    assert X_tr.shape == (30, 3) and X_te.shape == (10, 3)
    for Xp, yp, wp in ((X_tr, y_tr, w_tr), (X_te, y_te, w_te)):
        ids = (Xp[:, 0] / 3).astype(int)
        np.testing.assert_array_equal(yp, ids * 7)
        np.testing.assert_array_equal(wp, n - 1 - ids)


@pytest.mark.parametrize("n,test_size", [(10, 0.25), (150, 0.2), (101, 0.33), (7, 0.5), (50, 12),
                                         (3, 1), (4898, 0.1)])
def test_sizes_match_sklearn(n, test_size):
    X = np.arange(n)
    sk_tr, sk_te = skms.train_test_split(X, test_size=test_size, random_state=0)
    tr, te = train_test_split(X, test_size=test_size, rng=0)
    assert (len(tr), len(te)) == (len(sk_tr), len(sk_te))


def test_no_overlap_union_is_all_and_shuffled():
    X = np.arange(100)
    tr, te = train_test_split(X, test_size=0.3, rng=3)
    assert len(np.intersect1d(tr, te)) == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([tr, te])), X)
    assert not np.array_equal(te, X[70:]) and not np.array_equal(tr, X[:70])


def test_seed_reproducible_and_seeds_differ():
    X = np.arange(60)
    a = train_test_split(X, rng=11)
    b = train_test_split(X, rng=11)
    c = train_test_split(X, rng=12)
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


def test_the_old_seed_keyword_is_refused():
    # the random source is spelled `rng`, as everywhere else in the library
    X = np.arange(20)
    with pytest.raises(TypeError, match="seed"):
        train_test_split(X, seed=0)
    with pytest.raises(TypeError, match="seed"):
        KFold(3, shuffle=True, seed=0)


def test_shuffle_false_cuts_in_order():
    tr, te = train_test_split(np.arange(10), test_size=3, shuffle=False)
    np.testing.assert_array_equal(tr, np.arange(7))
    np.testing.assert_array_equal(te, [7, 8, 9])


@pytest.mark.parametrize("counts,test_size", [([50, 50, 50], 0.2), ([90, 7, 3], 0.25),
                                              ([1457, 2198, 880, 175, 20, 163, 5], 0.2),
                                              ([11, 4, 6], 5)])
def test_stratified_proportions_within_one_of_exact(counts, test_size):
    y = _imbalanced_labels(counts)
    n = len(y)
    X = np.arange(n)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_size, stratify=y, rng=0)
    n_test = math.ceil(test_size * n) if isinstance(test_size, float) else test_size
    assert len(y_te) == n_test and len(y_tr) == n - n_test
    np.testing.assert_array_equal(np.sort(np.concatenate([X_tr, X_te])), X)
    np.testing.assert_array_equal(y[X_te], y_te)
    test_counts = np.bincount(y_te, minlength=len(counts))
    exact = np.asarray(counts) * n_test / n
    assert np.all(np.abs(test_counts - exact) < 1.0), (test_counts, exact)
    # the split of each class is a shuffle too, not the first members
    assert np.all(np.bincount(y_tr, minlength=len(counts)) + test_counts == counts)


def test_stratify_accepts_one_hot_rows():
    y = _imbalanced_labels([30, 10])
    onehot = np.eye(2, dtype=np.float32)[y]
    _, _, _, y_te = train_test_split(np.arange(40), y, test_size=0.2, stratify=onehot, rng=1)
    np.testing.assert_array_equal(np.bincount(y_te), [6, 2])


@pytest.mark.parametrize("bad,exc,msg", [
    (0.0, ValueError, "strictly between 0 and 1"), (1.0, ValueError, "strictly between 0 and 1"),
    (-0.2, ValueError, "strictly between"), (1.5, ValueError, "strictly between"),
    (0, ValueError, "between 1 and 9"), (10, ValueError, "between 1 and 9"),
    (True, TypeError, "float in"), ("0.2", TypeError, "float in"),
])
def test_test_size_errors(bad, exc, msg):
    with pytest.raises(exc, match=msg):
        train_test_split(np.arange(10), test_size=bad)


def test_stratify_errors():
    y = np.array([0] * 10 + [1] * 9 + [2])
    with pytest.raises(ValueError, match=r"class 2 has only 1 member"):
        train_test_split(np.arange(20), test_size=0.5, stratify=y, rng=0)
    y = np.repeat(np.arange(5), 4)
    with pytest.raises(ValueError, match="5 classes needs at least 5"):
        train_test_split(np.arange(20), test_size=3, stratify=y, rng=0)
    with pytest.raises(ValueError, match="20 labels"):
        train_test_split(np.arange(20), stratify=y[:10], rng=0)
    with pytest.raises(ValueError, match="same first dimension"):
        train_test_split(np.arange(20), np.arange(19))


# ---------------------------------------------------------------------------- three-way split
def test_train_val_test_split_sizes_disjoint_and_complete():
    X = np.arange(100)
    y = X % 3
    X_tr, X_va, X_te, y_tr, y_va, y_te = train_val_test_split(X, y, val_size=0.15, test_size=0.25,
                                                              rng=0)
    assert (len(X_tr), len(X_va), len(X_te)) == (60, 15, 25)
    np.testing.assert_array_equal(np.sort(np.concatenate([X_tr, X_va, X_te])), X)
    np.testing.assert_array_equal(y_va, X_va % 3)


def test_train_val_test_split_stratified():
    y = _imbalanced_labels([120, 60, 20])
    X = np.arange(len(y))
    parts = train_val_test_split(X, y, val_size=0.2, test_size=0.2, stratify=y, rng=4)
    X_tr, X_va, X_te, y_tr, y_va, y_te = parts
    for yp, n_part in ((y_va, 40), (y_te, 40)):
        assert len(yp) == n_part
        assert np.all(np.abs(np.bincount(yp, minlength=3) - np.array([120, 60, 20]) * 0.2) < 1)
    np.testing.assert_array_equal(np.sort(np.concatenate([X_tr, X_va, X_te])), X)


def test_train_val_test_split_needs_training_samples():
    with pytest.raises(ValueError, match="leaving none for training"):
        train_val_test_split(np.arange(10), val_size=0.5, test_size=0.5)


# ---------------------------------------------------------------------------- KFold
@pytest.mark.parametrize("n,k", [(10, 5), (11, 3), (150, 10), (7, 7)])
def test_kfold_unshuffled_equals_sklearn(n, k):
    X = np.zeros((n, 2))
    ours = list(KFold(k).split(X))
    theirs = list(skms.KFold(k).split(X))
    assert len(ours) == len(theirs) == k
    for (tr, va), (str_, sva) in zip(ours, theirs):
        np.testing.assert_array_equal(tr, str_)
        np.testing.assert_array_equal(va, sva)


@pytest.mark.parametrize("splitter", [KFold(4, shuffle=True, rng=0), KFold(3),
                                      StratifiedKFold(4, shuffle=True, rng=1),
                                      StratifiedKFold(3)])
def test_every_sample_validated_exactly_once(splitter):
    n = 37
    X = np.zeros((n, 1))
    y = _imbalanced_labels([20, 12, 5])
    seen = np.zeros(n, dtype=int)
    sizes = []
    for tr, va in splitter.split(X, y):
        assert len(np.intersect1d(tr, va)) == 0
        np.testing.assert_array_equal(np.sort(np.concatenate([tr, va])), np.arange(n))
        seen[va] += 1
        sizes.append(len(va))
    np.testing.assert_array_equal(seen, 1)
    assert max(sizes) - min(sizes) <= 1
    assert sorted(sizes) == sorted(len(va) for _, va in skms.KFold(splitter.n_splits).split(X))


def test_kfold_shuffle_reproducible_and_not_blocks():
    X = np.zeros(30)
    a = [va for _, va in KFold(3, shuffle=True, rng=7).split(X)]
    b = [va for _, va in KFold(3, shuffle=True, rng=7).split(X)]
    for fa, fb in zip(a, b):
        np.testing.assert_array_equal(fa, fb)
    assert not np.array_equal(a[0], np.arange(10))


def test_kfold_errors():
    with pytest.raises(ValueError, match="n_splits=6 folds from 5 samples"):
        list(KFold(6).split(np.zeros(5)))
    with pytest.raises(ValueError, match="at least 2"):
        KFold(1)
    with pytest.raises(ValueError, match="`rng` only matters with shuffle=True"):
        KFold(3, rng=0)


# ---------------------------------------------------------------------------- StratifiedKFold
@pytest.mark.parametrize("counts,k", [([10, 10], 5), ([20, 12, 5], 4), ([50, 50, 50], 10),
                                      ([7, 3, 9, 6], 3)])
def test_stratified_kfold_unshuffled_equals_sklearn(counts, k):
    y = _imbalanced_labels(counts, seed=k)
    X = np.zeros((len(y), 1))
    for (tr, va), (str_, sva) in zip(StratifiedKFold(k).split(X, y),
                                     skms.StratifiedKFold(k).split(X, y)):
        np.testing.assert_array_equal(tr, str_)
        np.testing.assert_array_equal(va, sva)


def test_stratified_kfold_class_counts_balanced_per_fold():
    counts = [1457, 2198, 880, 175, 20, 163, 5]
    y = _imbalanced_labels(counts)
    per_fold = np.array([np.bincount(y[va], minlength=len(counts))
                         for _, va in StratifiedKFold(5, shuffle=True, rng=0).split(y, y)])
    np.testing.assert_array_equal(per_fold.sum(axis=0), counts)
    assert np.all(per_fold.max(axis=0) - per_fold.min(axis=0) <= 1)


def test_stratified_kfold_string_labels_and_errors():
    y = np.array(["a", "b"] * 6)
    folds = list(StratifiedKFold(3).split(np.zeros(12), y))
    assert all(sorted(y[va].tolist()) == ["a", "a", "b", "b"] for _, va in folds)
    with pytest.raises(ValueError, match="expected labels `y`"):
        list(StratifiedKFold(3).split(np.zeros(12)))
    with pytest.warns(UserWarning, match="class 'c' has only 2 members"):
        list(StratifiedKFold(3).split(np.zeros(14), np.concatenate([y, ["c", "c"]])))
    with pytest.raises(ValueError, match="largest class"):
        list(StratifiedKFold(7).split(np.zeros(12), y))


# ---------------------------------------------------------------------------- cross_validate
def test_cross_validate_scores_and_summary():
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10)
    seen_val = []

    def fn(X_tr, y_tr, X_va, y_va):
        assert len(np.intersect1d(y_tr, y_va)) == 0
        seen_val.extend(y_va.tolist())
        return {"n_val": len(y_va), "first": float(y_va[0])}

    result = cross_validate(fn, X, y, cv=KFold(4))
    assert sorted(seen_val) == list(range(10))
    assert [f["n_val"] for f in result["folds"]] == [3, 3, 2, 2]
    assert result["mean"]["n_val"] == pytest.approx(2.5)
    assert result["std"]["n_val"] == pytest.approx(0.5)
    assert result["mean"]["first"] == pytest.approx(np.mean([0, 3, 6, 8]))


def test_cross_validate_scaler_fits_on_training_folds_only():
    rng = np.random.default_rng(0)
    X = rng.normal(3.0, 2.0, size=(30, 3)).astype(np.float32)
    y = np.arange(30)

    def fn(X_tr, y_tr, X_va, y_va):
        raw_tr, raw_va = X[y_tr], X[y_va]
        mu, sd = raw_tr.astype(np.float64).mean(0), raw_tr.astype(np.float64).std(0)
        np.testing.assert_allclose(X_tr, (raw_tr - mu) / sd, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(X_va, (raw_va - mu) / sd, rtol=1e-5, atol=1e-5)
        # statistics of the validation fold itself were not used
        assert np.abs(X_va.mean(0)).max() > 1e-3
        return 1.0

    result = cross_validate(fn, X, y, cv=3, scaler=StandardScaler, rng=0)
    assert result["mean"] == {"score": 1.0} and len(result["folds"]) == 3


def test_cross_validate_rejects_bad_cv_and_inconsistent_metrics():
    X, y = np.zeros((6, 1)), np.arange(6)
    with pytest.raises(TypeError, match="`cv`"):
        cross_validate(lambda *a: 1.0, X, y, cv="five")
    calls = iter([{"a": 1.0}, {"b": 2.0}])
    with pytest.raises(ValueError, match="fold 1 returned metrics"):
        cross_validate(lambda *a: next(calls), X, y, cv=KFold(2))


def test_cross_validate_and_the_search_walk_the_same_scaled_folds():
    from neuralab.data import StandardScaler
    from neuralab.data.split import KFold, cross_validate, fold_parts
    from neuralab.train import GridSearch

    rng = np.random.default_rng(3)
    X = rng.normal(5.0, 2.0, size=(30, 2))
    y = rng.normal(size=30)
    seen_cv, seen_search = [], []

    def score(X_tr, y_tr, X_va, y_va):
        seen_cv.append((X_tr.copy(), X_va.copy()))
        return 0.0

    class Recorder:
        def __init__(self, params):
            pass

        def fit(self, x, y, **kwargs):
            self.x_train = x.copy()

        def score(self, x, y):  # called on the held-out part
            seen_search.append((self.x_train, x.copy()))
            return 0.0

    cross_validate(score, X, y, cv=KFold(3, shuffle=True, rng=1), scaler=StandardScaler)
    GridSearch(Recorder, {"a": [1]}, refit=False).fit(
        X, y, cv=KFold(3, shuffle=True, rng=1), scaler=StandardScaler)
    expected = list(fold_parts(X, y, KFold(3, shuffle=True, rng=1), StandardScaler))
    assert len(seen_cv) == len(seen_search) == 3
    for (cv_tr, cv_va), (s_tr, s_va), (e_tr, _, e_va, _) in zip(seen_cv, seen_search, expected):
        np.testing.assert_array_equal(cv_tr, s_tr)
        np.testing.assert_array_equal(cv_va, s_va)
        np.testing.assert_array_equal(cv_tr, e_tr)
        # scaled on the training part only: mean 0 there, not on the held-out part
        np.testing.assert_allclose(e_tr.mean(axis=0), 0.0, atol=1e-6)  # float32 output
        assert np.all(np.abs(e_va.mean(axis=0)) > 1e-6)

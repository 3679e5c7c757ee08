"""Scalers and encoders against scikit-learn; fit-on-train-only; JSON state round trips."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn import preprocessing as skp

from neuralab.data import (
    LabelEncoder,
    MinMaxScaler,
    NotFittedError,
    OneHotEncoder,
    StandardScaler,
    from_state_dict,
    train_test_split,
)


def _features(n=200, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    X = np.column_stack([
        rng.normal(0.0, 1.0, n),
        rng.normal(138.0, 42.0, n),        # large mean, large spread
        rng.normal(0.994, 0.003, n),       # large mean, tiny spread (wine density)
        rng.uniform(-5.0, 20.0, n),
        np.full(n, 3.7),                    # constant column
        rng.integers(0, 3, n),
    ])
    return X.astype(dtype)


# ---------------------------------------------------------------------------- StandardScaler
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_standard_scaler_matches_sklearn(dtype):
    X = _features(dtype=dtype)
    ours = StandardScaler().fit(X)
    theirs = skp.StandardScaler().fit(X.astype(np.float64))
    np.testing.assert_allclose(ours.mean_, theirs.mean_, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.var_, theirs.var_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.scale_, theirs.scale_, rtol=1e-9)
    Z = ours.transform(X)
    assert Z.dtype == np.float32 and np.isfinite(Z).all()
    np.testing.assert_allclose(Z, theirs.transform(X.astype(np.float64)), rtol=1e-5, atol=2e-6)
    np.testing.assert_allclose(ours.inverse_transform(Z),
                               theirs.inverse_transform(Z.astype(np.float64)), rtol=1e-6,
                               atol=1e-5)
    assert ours.inverse_transform(Z).dtype == np.float32


def test_standard_scaler_constant_column_maps_to_zero_with_scale_one():
    X = _features()
    Z = StandardScaler().fit_transform(X)
    scaler = StandardScaler().fit(X)
    assert scaler.scale_[4] == 1.0 and scaler.var_[4] == 0.0
    np.testing.assert_array_equal(Z[:, 4], 0.0)


def test_standard_scaler_integer_input_and_options():
    X = np.arange(12).reshape(6, 2)
    np.testing.assert_allclose(StandardScaler().fit_transform(X),
                               skp.StandardScaler().fit_transform(X.astype(float)), rtol=1e-6)
    for kwargs in ({"with_mean": False}, {"with_std": False}):
        np.testing.assert_allclose(StandardScaler(**kwargs).fit_transform(X),
                                   skp.StandardScaler(**kwargs).fit_transform(X.astype(float)),
                                   rtol=1e-6)


# ---------------------------------------------------------------------------- MinMaxScaler
@pytest.mark.parametrize("feature_range", [(0, 1), (-1, 1), (2.0, 5.5)])
def test_minmax_scaler_matches_sklearn(feature_range):
    X = _features(seed=1)
    ours = MinMaxScaler(feature_range).fit(X)
    theirs = skp.MinMaxScaler(feature_range=feature_range).fit(X.astype(np.float64))
    np.testing.assert_allclose(ours.scale_, theirs.scale_, rtol=1e-12)
    np.testing.assert_allclose(ours.min_, theirs.min_, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.data_range_, theirs.data_range_, rtol=1e-12)
    Z = ours.transform(X)
    assert Z.dtype == np.float32 and np.isfinite(Z).all()
    np.testing.assert_allclose(Z, theirs.transform(X.astype(np.float64)), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(Z[:, 4], feature_range[0])  # constant column -> low end
    np.testing.assert_allclose(ours.inverse_transform(Z), X, rtol=1e-5, atol=1e-4)


# ---------------------------------------------------------------------------- no test leakage
@pytest.mark.parametrize("scaler_cls", [StandardScaler, MinMaxScaler])
def test_scalers_use_training_statistics_only(scaler_cls):
    X = _features(n=300, seed=2).astype(np.float64)
    y = np.arange(300)
    X_tr, X_te, _, _ = train_test_split(X, y, test_size=0.3, rng=0)
    scaler = scaler_cls().fit(X_tr)
    if scaler_cls is StandardScaler:
        mu, sd = X_tr.mean(0), X_tr.std(0)
        sd[sd == 0] = 1.0
        expected = (X_te - mu) / sd
    else:
        lo, hi = X_tr.min(0), X_tr.max(0)
        span = np.where(hi > lo, hi - lo, 1.0)
        expected = (X_te - lo) / span
    np.testing.assert_allclose(scaler.transform(X_te), expected, rtol=1e-5, atol=1e-5)
    # changing the test data changes nothing fitted
    before = json.dumps(scaler.state_dict())
    scaler.transform(X_te * 100)
    assert json.dumps(scaler.state_dict()) == before
    # the transformed test set is not exactly standardized/normalized by its own statistics
    assert not np.allclose(scaler_cls().fit_transform(X_te), scaler.transform(X_te), atol=1e-3)


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize("scaler_cls", [StandardScaler, MinMaxScaler])
def test_scaler_errors(scaler_cls):
    X = _features(n=20)
    with pytest.raises(NotFittedError, match=r"transform called before fit"):
        scaler_cls().transform(X)
    scaler = scaler_cls().fit(X)
    with pytest.raises(ValueError, match="expected 6 columns .*got 5"):
        scaler.transform(X[:, :5])
    with pytest.raises(ValueError, match=r"2-D array.*reshape\(-1, 1\)"):
        scaler_cls().fit(X[:, 0])
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        scaler_cls().fit(bad)
    with pytest.raises(TypeError, match="numeric"):
        scaler_cls().fit(np.array([["a"], ["b"]]))


def test_minmax_rejects_bad_range():
    with pytest.raises(ValueError, match="low < high"):
        MinMaxScaler((1, 0))
    with pytest.raises(ValueError, match=r"\(low, high\)"):
        MinMaxScaler(5)


# ---------------------------------------------------------------------------- state dicts
@pytest.mark.parametrize("make", [StandardScaler, lambda: StandardScaler(with_mean=False),
                                  lambda: MinMaxScaler((-1, 1))])
def test_scaler_state_dict_json_round_trip(make):
    X = _features(seed=3)
    scaler = make().fit(X)
    state = json.loads(json.dumps(scaler.state_dict()))
    by_class = type(scaler)(**scaler.get_config()).load_state_dict(state)
    for restored in (from_state_dict(state), by_class):
        assert restored.get_config() == scaler.get_config()
        np.testing.assert_array_equal(restored.transform(X), scaler.transform(X))
        np.testing.assert_array_equal(restored.inverse_transform(X), scaler.inverse_transform(X))


def test_state_dict_errors():
    with pytest.raises(NotFittedError):
        StandardScaler().state_dict()
    state = MinMaxScaler().fit(_features()).state_dict()
    with pytest.raises(ValueError, match="expected a state of type 'StandardScaler'"):
        StandardScaler().load_state_dict(state)
    with pytest.raises(ValueError, match="'type' is one of"):
        from_state_dict({"type": "Mystery"})


# ---------------------------------------------------------------------------- LabelEncoder
@pytest.mark.parametrize("labels", [
    np.array(["virginica", "setosa", "versicolor", "setosa", "virginica"]),
    np.array([7, 3, 3, 9, 7, 7]),
    np.array([2.5, -1.0, 2.5]),
])
def test_label_encoder_matches_sklearn(labels):
    ours, theirs = LabelEncoder().fit(labels), skp.LabelEncoder().fit(labels)
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    np.testing.assert_array_equal(ours.transform(labels), theirs.transform(labels))
    np.testing.assert_array_equal(LabelEncoder().fit_transform(labels),
                                  theirs.transform(labels))
    codes = np.array([0, len(theirs.classes_) - 1, 0])
    np.testing.assert_array_equal(ours.inverse_transform(codes), theirs.inverse_transform(codes))
    state = json.loads(json.dumps(ours.state_dict()))
    np.testing.assert_array_equal(from_state_dict(state).transform(labels), ours.transform(labels))


def test_label_encoder_errors():
    enc = LabelEncoder().fit(["cat", "dog"])
    with pytest.raises(ValueError, match=r"unknown label\(s\) 'emu'.*'cat', 'dog'"):
        enc.transform(["dog", "emu"])
    with pytest.raises(ValueError, match=r"codes in \[0, 1\]"):
        enc.inverse_transform([2])
    with pytest.raises(NotFittedError):
        LabelEncoder().transform(["cat"])


# ---------------------------------------------------------------------------- OneHotEncoder
@pytest.mark.parametrize("labels", [np.array([2, 0, 1, 2, 5]), np.array(["b", "a", "c", "a"])])
def test_one_hot_matches_sklearn_on_labels(labels):
    ours = OneHotEncoder().fit(labels)
    theirs = skp.OneHotEncoder(sparse_output=False).fit(labels.reshape(-1, 1))
    Z = ours.transform(labels)
    assert Z.dtype == np.float32 and Z.shape == (len(labels), len(np.unique(labels)))
    np.testing.assert_array_equal(Z, theirs.transform(labels.reshape(-1, 1)))
    assert len(ours.categories_) == 1
    np.testing.assert_array_equal(ours.categories_[0], theirs.categories_[0])
    np.testing.assert_array_equal(ours.inverse_transform(Z), labels)


def test_one_hot_matches_sklearn_on_columns():
    X = np.array([["red", "S"], ["blue", "M"], ["red", "L"], ["green", "M"]])
    ours = OneHotEncoder().fit(X)
    theirs = skp.OneHotEncoder(sparse_output=False).fit(X)
    np.testing.assert_array_equal(ours.transform(X), theirs.transform(X))
    np.testing.assert_array_equal(ours.inverse_transform(ours.transform(X)), X)


def test_one_hot_fixed_categories_unknown_and_state():
    enc = OneHotEncoder(categories=range(10)).fit(np.array([3, 1]))
    Z = enc.transform(np.array([3, 1, 9]))
    assert Z.shape == (3, 10)
    np.testing.assert_array_equal(Z, np.eye(10, dtype=np.float32)[[3, 1, 9]])
    with pytest.raises(ValueError, match=r"unknown label\(s\) 12"):
        enc.transform(np.array([12]))
    restored = from_state_dict(json.loads(json.dumps(enc.state_dict())))
    np.testing.assert_array_equal(restored.transform(np.array([3, 1, 9])), Z)
    with pytest.raises(ValueError, match="unknown"):
        OneHotEncoder().fit(np.array(["x", "y"])).transform(np.array(["z"]))

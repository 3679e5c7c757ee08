"""Metrics against scikit-learn and hand-derived values."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

import neuralab as nl
from neuralab.train import metrics as metrics_module
from neuralab.train.metrics import (
    accuracy,
    accuracy_within,
    available_metrics,
    confusion_matrix,
    f1,
    get_metric,
    mae,
    mse,
    precision,
    r2,
    recall,
    register_metric,
    rmse,
)


def _labels(n=300, k=5, seed=0, noise=0.35):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    pred = np.where(rng.random(n) < noise, rng.integers(0, k, n), y)
    return y, pred


# ---------------------------------------------------------------------------- classification
@pytest.mark.parametrize("seed,k", [(0, 5), (1, 2), (2, 10), (3, 3)])
def test_classification_metrics_match_sklearn(seed, k):
    y, pred = _labels(k=k, seed=seed)
    assert accuracy(y, pred) == pytest.approx(skm.accuracy_score(y, pred), abs=1e-15)
    for ours, theirs in ((precision, skm.precision_score), (recall, skm.recall_score),
                         (f1, skm.f1_score)):
        for average in ("macro", "weighted", "micro"):
            assert ours(y, pred, average=average) == pytest.approx(
                theirs(y, pred, average=average, zero_division=0), abs=1e-12)
        np.testing.assert_allclose(ours(y, pred, average=None),
                                   theirs(y, pred, average=None, zero_division=0), atol=1e-12)
    np.testing.assert_array_equal(confusion_matrix(y, pred), skm.confusion_matrix(y, pred))


def test_macro_metrics_with_missing_classes_match_sklearn():
    # class 3 never predicted, class 4 never true: undefined ratios count as 0 as zero_division=0
    y = np.array([0, 1, 2, 3, 3, 0, 1])
    pred = np.array([0, 2, 2, 0, 1, 4, 1])
    for ours, theirs in ((precision, skm.precision_score), (recall, skm.recall_score),
                         (f1, skm.f1_score)):
        assert ours(y, pred) == pytest.approx(theirs(y, pred, average="macro", zero_division=0))


def test_string_labels_and_confusion_matrix_labels():
    y = np.array(["cat", "dog", "dog", "emu", "cat"])
    pred = np.array(["cat", "cat", "dog", "emu", "emu"])
    np.testing.assert_array_equal(confusion_matrix(y, pred), skm.confusion_matrix(y, pred))
    assert f1(y, pred) == pytest.approx(skm.f1_score(y, pred, average="macro"))
    labels = ["emu", "cat"]
    np.testing.assert_array_equal(confusion_matrix(y, pred, labels=labels),
                                  skm.confusion_matrix(y, pred, labels=labels))


def test_confusion_matrix_by_hand():
    cm = confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2])
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    assert cm.dtype == np.int64


def test_accuracy_from_scores_one_hot_and_binary_probabilities():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 4, 50)
    logits = rng.normal(size=(50, 4)).astype(np.float32)
    expected = skm.accuracy_score(y, logits.argmax(1))
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    onehot = np.eye(4, dtype=np.float32)[y]
    for y_true in (y, onehot, y.astype(np.float32)):
        for y_pred in (logits, probs, logits.argmax(1)):
            assert accuracy(y_true, y_pred) == pytest.approx(expected)
    p = rng.random(50).astype(np.float32)
    yb = rng.integers(0, 2, 50)
    expected = skm.accuracy_score(yb, (p >= 0.5).astype(int))
    assert accuracy(yb, p) == pytest.approx(expected)
    assert accuracy(yb.reshape(-1, 1).astype(np.float32), p.reshape(-1, 1)) == \
        pytest.approx(expected)
    assert accuracy(nl.tensor(onehot), nl.tensor(logits)) == pytest.approx(
        skm.accuracy_score(y, logits.argmax(1)))


def test_classification_errors():
    with pytest.raises(ValueError, match="3 predictions for 2 targets"):
        accuracy([0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="average"):
        f1([0, 1], [0, 1], average="binary")


# ---------------------------------------------------------------------------- regression
@pytest.mark.parametrize("shape_true,shape_pred", [((200,), (200,)), ((200,), (200, 1)),
                                                   ((200, 1), (200,)), ((200, 3), (200, 3))])
def test_regression_metrics_match_sklearn(shape_true, shape_pred):
    rng = np.random.default_rng(5)
    y = rng.normal(2.0, 3.0, size=shape_true).astype(np.float32)
    pred = (y.reshape(shape_pred) + rng.normal(0.0, 1.0, size=shape_pred)).astype(np.float32)
    y2, p2 = y.reshape(200, -1).astype(np.float64), pred.reshape(200, -1).astype(np.float64)
    assert mse(y, pred) == pytest.approx(skm.mean_squared_error(y2, p2), rel=1e-12)
    assert rmse(y, pred) == pytest.approx(skm.root_mean_squared_error(y2, p2), rel=1e-12)
    assert mae(y, pred) == pytest.approx(skm.mean_absolute_error(y2, p2), rel=1e-12)
    assert r2(y, pred) == pytest.approx(skm.r2_score(y2, p2), rel=1e-12)


def test_r2_constant_target_follows_sklearn():
    y = np.full(5, 3.0)
    assert r2(y, y) == skm.r2_score(y, y) == 1.0
    assert r2(y, y + 0.1) == skm.r2_score(y, y + 0.1) == 0.0


def test_regression_by_hand_and_shape_errors():
    y = np.array([1.0, 2.0, 3.0])
    p = np.array([2.0, 2.0, 1.0])
    assert mse(y, p) == pytest.approx(5 / 3)
    assert rmse(y, p) == pytest.approx(np.sqrt(5 / 3))
    assert mae(y, p) == pytest.approx(1.0)
    assert r2(y, p) == pytest.approx(1 - 5 / 2)
    with pytest.raises(ValueError, match=r"predictions \(4,\) for targets \(3,\)"):
        mse(y, np.zeros(4))
    with pytest.raises(ValueError, match="matching"):
        mse(np.zeros((4, 2)), np.zeros(8))


def test_accuracy_within_tolerance_by_hand():
    y = np.array([5, 6, 7, 6])
    pred = np.array([5.4, 6.6, 6.0, 7.2], dtype=np.float32)
    # |error| = 0.4, 0.6, 1.0, 1.2
    assert accuracy_within(y, pred, tolerance=0.5) == pytest.approx(1 / 4)
    assert accuracy_within(y, pred, tolerance=1.0) == pytest.approx(3 / 4)
    assert accuracy_within(y, pred, tolerance=0.25) == pytest.approx(0.0)
    # rounded predictions 5, 7, 6, 7: exact grade once, within one grade always
    assert accuracy_within(y, pred, tolerance=0, rounded=True) == pytest.approx(1 / 4)
    assert accuracy_within(y, pred, tolerance=1, rounded=True) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="tolerance"):
        accuracy_within(y, pred, tolerance=-1)


def test_accuracy_within_half_equals_rounding_to_the_true_grade():
    rng = np.random.default_rng(7)
    y = rng.integers(3, 10, 500).astype(np.float64)
    pred = y + rng.normal(0, 0.8, 500)
    keep = np.abs(np.abs(pred - y) - 0.5) > 1e-3  # leave out exact ties of rounding
    y, pred = y[keep], pred[keep]
    assert accuracy_within(y, pred, 0.5) == pytest.approx(skm.accuracy_score(y, np.rint(pred)))


# ---------------------------------------------------------------------------- registry
def test_get_metric_registry(monkeypatch):
    monkeypatch.setattr(metrics_module, "_REGISTRY", metrics_module._REGISTRY.copy())
    assert get_metric("accuracy") is accuracy and get_metric("ACC") is accuracy
    assert get_metric("f1") is f1 and get_metric("rmse") is rmse and get_metric("r2") is r2
    within1 = get_metric("accuracy_within", tolerance=1.0)
    assert within1([5, 6], [6.0, 8.0]) == pytest.approx(0.5)
    assert within1.__name__ == "accuracy_within"
    custom = lambda y_true, y_pred: 0.0  # noqa: E731
    assert get_metric(custom) is custom
    with pytest.raises(ValueError, match=r"unknown metric 'acuracy'.*'accuracy'"):
        get_metric("acuracy")
    register_metric("always_one", lambda y_true, y_pred: 1.0)
    assert get_metric("always_one")([0], [1]) == 1.0
    assert "always_one" in available_metrics()


def test_labels_from_outputs_one_decision_for_every_kind_of_output():
    from neuralab.train.metrics import labels_from_outputs

    p = np.array([0.2, 0.5, 0.7, 0.99])
    logits = np.log(p / (1 - p))
    # the same decision whatever the outputs are: above probability 0.5 (0.5 itself is class 0)
    expected = [0, 0, 1, 1]
    np.testing.assert_array_equal(labels_from_outputs(p), expected)
    np.testing.assert_array_equal(labels_from_outputs(p[:, None]), expected)
    np.testing.assert_array_equal(labels_from_outputs(logits[:, None], "logits"), expected)
    np.testing.assert_array_equal(labels_from_outputs(np.log(p), "log_probabilities"), expected)
    scores = np.array([[0.1, 0.7, 0.2], [3.0, -1.0, 0.0]])
    np.testing.assert_array_equal(labels_from_outputs(scores, "logits"), [1, 0])
    multi = np.array([[0.9, 0.1], [0.4, 0.6]])
    np.testing.assert_array_equal(labels_from_outputs(multi, multilabel=True), [[1, 0], [0, 1]])
    with pytest.raises(ValueError, match="kind 'probabilities', 'logits'"):
        labels_from_outputs(p, kind="odds")

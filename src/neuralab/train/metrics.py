"""Metrics: plain functions ``metric(y_true, y_pred) -> float`` on NumPy arrays.

Classification metrics take labels or scores: ``y_true`` as class labels (N,) or one-hot rows
(N, K); ``y_pred`` as labels (N,), class scores (N, K) (probabilities or logits: the largest wins),
or one binary probability per sample ((N,) or (N, 1) floats, 1 above 0.5).  Regression
metrics take values of the same size ((N,) and (N, 1) are matched, never broadcast to (N, N)).
All are computed in float64 and returned as Python floats.

>>> get_metric("accuracy")(np.array([0, 1, 2]), np.array([[.9, .1, 0], [.2, .7, .1], [.6, .3, .1]]))
0.6666666666666666
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..registry import Registry

Metric = Callable[[Any, Any], Any]


def _array(x: Any) -> np.ndarray:
    return np.asarray(x.data if hasattr(x, "grad") and hasattr(x, "data") else x)


def _is_integral(a: np.ndarray) -> bool:
    return a.dtype.kind in "biu" or bool(np.all(a == np.round(a)))


# the decision threshold of one binary output, by what the output is
_THRESHOLDS = {"probabilities": 0.5, "logits": 0.0, "log_probabilities": math.log(0.5)}


def labels_from_outputs(
    outputs: Any, kind: str = "probabilities", multilabel: bool = False
) -> np.ndarray:
    """Class labels from a model's outputs: the argmax over K > 1 columns, or, for one output
    column ((N,) or (N, 1)), 1 where the output is above the threshold of its ``kind``
    (probability 0.5, logit 0, log-probability log 0.5: the same decision), shape (N,).

    ``multilabel=True`` (several independent sigmoid outputs) thresholds every element and keeps
    the shape (N, K).  The one place where outputs become labels: the trainer's
    ``predict_classes`` and the metrics use it.

    >>> labels_from_outputs(np.array([[0.2], [0.7]]))
    array([0, 1])
    >>> labels_from_outputs(np.array([[-1.0, 3.0], [2.0, 0.5]]), kind="logits")
    array([1, 0])
    """
    if kind not in _THRESHOLDS:
        raise ValueError(
            f"labels_from_outputs expected kind 'probabilities', 'logits' or 'log_probabilities', "
            f"got {kind!r}"
        )
    a = _array(outputs)
    single = a.ndim == 1 or (a.ndim == 2 and a.shape[-1] == 1)
    if multilabel or single:
        labels = (a > _THRESHOLDS[kind]).astype(np.int64)
        return labels.reshape(len(a)) if single else labels
    return a.argmax(axis=-1)


def _labels(y: Any, name: str) -> np.ndarray:
    """Class labels from labels, one-hot rows, class scores or binary probabilities."""
    a = _array(y)
    if a.ndim == 2 and a.shape[1] > 1:
        return a.argmax(axis=1)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise ValueError(f"{name} expected labels (N,), scores (N, K) or probabilities (N, 1), "
                         f"got shape {a.shape}")
    if a.dtype.kind == "f" and not _is_integral(a):
        return labels_from_outputs(a)  # binary probabilities
    if a.dtype.kind == "f":
        return a.astype(np.int64)
    return a


def _label_pair(y_true: Any, y_pred: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    t, p = _labels(y_true, name), _labels(y_pred, name)
    if t.shape != p.shape:
        raise ValueError(f"{name} expected as many predictions as targets, got {p.shape[0]} "
                         f"predictions for {t.shape[0]} targets")
    if t.size == 0:
        raise ValueError(f"{name} expected at least one sample, got none")
    return t, p


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of correct predictions, :math:`\\frac{1}{N}\\sum_i [\\hat y_i = y_i]`.

    Scores (N, K) are reduced with argmax and binary probabilities thresholded at 0.5 first.
    """
    t, p = _label_pair(y_true, y_pred, "accuracy")
    return float(np.mean(t == p))


def confusion_matrix(y_true: Any, y_pred: Any, labels: Any = None) -> np.ndarray:
    """Counts :math:`C_{jk}` of samples of true class :math:`j` predicted as class :math:`k`
    (rows: truth, columns: prediction, as scikit-learn).

    Classes are ``labels`` if given, else the sorted union of the labels in both arrays.
    Returns an int64 (K, K) array.
    """
    t, p = _label_pair(y_true, y_pred, "confusion_matrix")
    classes = np.union1d(t, p) if labels is None else np.asarray(labels)
    k = len(classes)
    if labels is not None:
        order = np.argsort(classes, kind="stable")
        sorted_classes = classes[order]
        ti = np.searchsorted(sorted_classes, t).clip(0, k - 1)
        pi = np.searchsorted(sorted_classes, p).clip(0, k - 1)
        known = (sorted_classes[ti] == t) & (sorted_classes[pi] == p)
        # pairs with a label outside `labels` are left out, as scikit-learn
        ti, pi = order[ti[known]], order[pi[known]]
    else:
        ti, pi = np.searchsorted(classes, t), np.searchsorted(classes, p)
    return np.bincount(ti * k + pi, minlength=k * k).reshape(k, k).astype(np.int64)


def _per_class(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True positives, predicted counts and actual counts (support) per class."""
    cm = confusion_matrix(y_true, y_pred).astype(np.float64)
    return np.diag(cm).copy(), cm.sum(axis=0), cm.sum(axis=1)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    # undefined ratios (no predicted / no actual member) count as 0, scikit-learn's
    # zero_division=0
    out = np.zeros_like(num)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _average(per_class: np.ndarray, support: np.ndarray, average: str | None,
             micro: float, name: str) -> Any:
    if average == "macro":
        return float(per_class.mean())
    if average == "weighted":
        return float(np.sum(per_class * support) / np.sum(support))
    if average == "micro":
        return micro
    if average is None:
        return per_class
    raise ValueError(f"{name} expected `average` in 'macro', 'weighted', 'micro' or None, got "
                     f"{average!r}")


def precision(y_true: Any, y_pred: Any, average: str | None = "macro") -> Any:
    """Precision :math:`P_k = TP_k / (TP_k + FP_k)`, macro-averaged over the classes present in
    either array by default (:math:`\\frac{1}{K}\\sum_k P_k`); ``average="weighted"`` weights by
    class support, ``"micro"`` pools the counts, ``None`` returns the per-class array.
    A class never predicted has precision 0.
    """
    tp, predicted, actual = _per_class(y_true, y_pred)
    micro = float(tp.sum() / predicted.sum())
    return _average(_ratio(tp, predicted), actual, average, micro, "precision")


def recall(y_true: Any, y_pred: Any, average: str | None = "macro") -> Any:
    """Recall :math:`R_k = TP_k / (TP_k + FN_k)`, macro-averaged by default (see
    :func:`precision` for ``average``).  A class absent from ``y_true`` has recall 0.
    """
    tp, _, actual = _per_class(y_true, y_pred)
    micro = float(tp.sum() / actual.sum())
    return _average(_ratio(tp, actual), actual, average, micro, "recall")


def f1(y_true: Any, y_pred: Any, average: str | None = "macro") -> Any:
    """F1 score :math:`F_k = 2 P_k R_k / (P_k + R_k) = 2 TP_k / (2 TP_k + FP_k + FN_k)`, the
    per-class scores macro-averaged by default (the mean of the per-class F1, not the F1 of the mean
    precision and recall, as scikit-learn).
    """
    tp, predicted, actual = _per_class(y_true, y_pred)
    per_class = _ratio(2.0 * tp, predicted + actual)
    micro = float(2.0 * tp.sum() / (predicted.sum() + actual.sum()))
    return _average(per_class, actual, average, micro, "f1")


def _value_pair(y_true: Any, y_pred: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Targets and predictions as float64 (N, M) arrays of the same shape."""
    t, p = _array(y_true), _array(y_pred)
    # (N,) against (N, 1) would broadcast to (N, N): compare both as (N, columns)
    t2 = t.reshape(len(t), -1) if t.ndim else t.reshape(1, 1)
    p2 = p.reshape(len(p), -1) if p.ndim else p.reshape(1, 1)
    if t2.shape != p2.shape or t2.size == 0:
        raise ValueError(f"{name} expected predictions matching the targets' shape, got "
                         f"predictions {p.shape} for targets {t.shape}")
    return t2.astype(np.float64), p2.astype(np.float64)


def mse(y_true: Any, y_pred: Any) -> float:
    """Mean squared error :math:`\\frac{1}{N}\\sum_i (y_i - \\hat y_i)^2` (averaged over output
    columns too)."""
    t, p = _value_pair(y_true, y_pred, "mse")
    return float(np.mean((t - p) ** 2))


def rmse(y_true: Any, y_pred: Any) -> float:
    """Root mean squared error :math:`\\sqrt{\\frac{1}{N}\\sum_i (y_i - \\hat y_i)^2}`, taken per
    output column and then averaged, as scikit-learn."""
    t, p = _value_pair(y_true, y_pred, "rmse")
    return float(np.mean(np.sqrt(np.mean((t - p) ** 2, axis=0))))


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error :math:`\\frac{1}{N}\\sum_i |y_i - \\hat y_i|` (Cortez et al.'s MAD)."""
    t, p = _value_pair(y_true, y_pred, "mae")
    return float(np.mean(np.abs(t - p)))


def r2(y_true: Any, y_pred: Any) -> float:
    """Coefficient of determination
    :math:`R^2 = 1 - \\frac{\\sum_i (y_i - \\hat y_i)^2}{\\sum_i (y_i - \\bar y)^2}`, per output
    column then averaged.  A constant target column scores 1 if predicted exactly, else 0
    (scikit-learn's finite convention)."""
    t, p = _value_pair(y_true, y_pred, "r2")
    ss_res = np.sum((t - p) ** 2, axis=0)
    ss_tot = np.sum((t - t.mean(axis=0)) ** 2, axis=0)
    score = np.where(ss_res == 0.0, 1.0, 0.0)
    np.subtract(1.0, ss_res / np.where(ss_tot > 0, ss_tot, 1.0), out=score, where=ss_tot > 0)
    return float(np.mean(score))


def accuracy_within(y_true: Any, y_pred: Any, tolerance: float = 0.5,
                    rounded: bool = False) -> float:
    """Accuracy at tolerance :math:`T` for graded targets (Cortez et al. 2009, wine quality):

    .. math:: \\frac{1}{N}\\sum_i [\\, |y_i - \\hat y_i| \\le T \\,]

    With :math:`T = 0.5` a regression output counts as correct when rounding it to the nearest
    grade gives the true grade; :math:`T = 1` accepts a neighbouring grade.  With
    ``rounded=True`` the prediction is first rounded to the nearest grade, so
    ``tolerance=0`` is the plain classification accuracy of the rounded output and
    ``tolerance=1`` accepts one grade off.
    """
    if tolerance < 0:
        raise ValueError(f"accuracy_within expected a non-negative `tolerance`, got {tolerance}")
    t, p = _value_pair(y_true, y_pred, "accuracy_within")
    if rounded:
        p = np.round(p)
    # a slack of 1e-6 absorbs float32 rounding of predictions such as 6.1
    return float(np.mean(np.abs(t - p) <= tolerance + 1e-6))


_REGISTRY: Registry[Metric] = Registry("metric", {
    "accuracy": accuracy, "precision": precision, "recall": recall, "f1": f1,
    "confusion_matrix": confusion_matrix, "mse": mse, "rmse": rmse, "mae": mae, "r2": r2,
    "accuracy_within": accuracy_within,
}, aliases={"acc": "accuracy", "f1_score": "f1", "mean_squared_error": "mse",
            "root_mean_squared_error": "rmse", "mean_absolute_error": "mae", "r2_score": "r2"})


# which direction is better, for every registered metric (the one table: monitors such as
# EarlyStopping and the hyperparameter search ask `better_direction`)
_DIRECTIONS: dict[Any, str] = {
    accuracy: "max", precision: "max", recall: "max", f1: "max", r2: "max",
    accuracy_within: "max", mse: "min", rmse: "min", mae: "min",
}


def register_metric(name: str, fn: Metric, greater_is_better: bool | None = None) -> None:
    """Make ``fn(y_true, y_pred)`` available as ``get_metric(name)``; ``greater_is_better``
    lets monitors (``EarlyStopping(mode="auto")``, ``ModelCheckpoint``, the search) know which
    direction is an improvement."""
    if not callable(fn):
        raise TypeError(f"register_metric expected a callable (y_true, y_pred), got {fn!r}")
    _REGISTRY.register(name, fn)
    if greater_is_better is not None:
        _DIRECTIONS[fn] = "max" if greater_is_better else "min"


def better_direction(name: str | Metric) -> str | None:
    """``"max"`` when larger values of the metric or history key are better, ``"min"`` when
    smaller ones are, ``None`` when the library cannot know.

    A ``val_`` prefix is ignored; ``loss`` is minimized; a registered metric answers with its
    declared direction (its aliases too: ``"acc"``, ``"mean_squared_error"``); a callable answers
    with its ``greater_is_better`` attribute, if it has one.

    >>> better_direction("val_accuracy"), better_direction("loss"), better_direction("rmse")
    ('max', 'min', 'min')
    """
    if callable(name):
        flag = getattr(name, "greater_is_better", None)
        if flag is not None:
            return "max" if flag else "min"
        return _DIRECTIONS.get(getattr(name, "func", name))  # a bound get_metric(..., **kw)
    base = name[4:] if name.startswith("val_") else name
    if base == "loss":
        return "min"
    try:
        fn = _REGISTRY.lookup(base)
    except (KeyError, ValueError):
        return None
    return _DIRECTIONS.get(fn)


def available_metrics() -> list[str]:
    return _REGISTRY.names()


def get_metric(name: str | Metric, **kwargs: Any) -> Metric:
    """Look a metric up by name (``"accuracy"``, ``"f1"``, ``"rmse"``, ``"accuracy_within"``...);
    keyword arguments are bound (``get_metric("accuracy_within", tolerance=1.0)``).  A callable
    is returned as is.
    """
    if callable(name) and not kwargs:
        return name
    fn = name if callable(name) else _REGISTRY.lookup(name)
    if not kwargs:
        return fn
    bound = functools.partial(fn, **kwargs)
    functools.update_wrapper(bound, fn)
    return bound


__all__ = [
    "accuracy", "accuracy_within", "available_metrics", "better_direction", "confusion_matrix",
    "f1", "get_metric",
    "labels_from_outputs", "mae", "mse", "precision", "r2", "recall", "register_metric", "rmse",
]

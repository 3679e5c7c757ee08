"""Train / validation / test splits and cross-validation.

The test set answers "how well does the final model generalize?" only if nothing was fitted on it:
not the weights, not the scaler statistics, not the hyperparameters.  These helpers shuffle with an
explicit ``rng`` (a Generator or an integer seed), keep class proportions when asked
(``stratify``), and hand out disjoint index sets.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from ..random import Seed, get_rng, seed as _seed_library


def _num_samples(arrays: tuple[Any, ...], caller: str) -> tuple[list[np.ndarray], int]:
    if not arrays:
        raise ValueError(f"{caller} expected at least one array, got none")
    converted = [np.asarray(a) for a in arrays]
    for position, a in enumerate(converted):
        if a.ndim == 0:
            raise ValueError(f"{caller} expected arrays with a first (sample) dimension, got a "
                             f"scalar at position {position}")
    lengths = {len(a) for a in converted}
    if len(lengths) != 1:
        shapes = ", ".join(str(a.shape) for a in converted)
        raise ValueError(f"{caller} expected arrays with the same first dimension, got shapes "
                         f"{shapes}")
    return converted, len(converted[0])


def _resolve_count(size: float | int, n: int, name: str, caller: str) -> int:
    """A fraction in (0, 1) (rounded up, as scikit-learn) or a count in [1, n - 1]."""
    if isinstance(size, bool):
        raise TypeError(f"{caller} expected a float in (0, 1) or an integer count for `{name}`, "
                        f"got {size!r}")
    if isinstance(size, (int, np.integer)):
        if not 1 <= size <= n - 1:
            raise ValueError(f"{caller} expected `{name}` as a count between 1 and {n - 1} for "
                             f"{n} samples, got {size}")
        return int(size)
    if isinstance(size, (float, np.floating)):
        if not 0.0 < size < 1.0:
            raise ValueError(f"{caller} expected `{name}` as a fraction strictly between 0 and 1, "
                             f"got {size}")
        count = math.ceil(size * n)
        if not 1 <= count <= n - 1:
            raise ValueError(f"{caller}: `{name}`={size} of {n} samples gives {count} samples; "
                             f"each side of the split needs at least one")
        return count
    raise TypeError(f"{caller} expected a float in (0, 1) or an integer count for `{name}`, "
                    f"got {type(size).__name__}")


def _encode_labels(y: Any, caller: str) -> tuple[np.ndarray, np.ndarray]:
    """Labels -> (classes, codes in 0..K-1).  2-D labels (one-hot rows) count as one label per
    distinct row."""
    y = np.asarray(y)
    if y.ndim == 1:
        return np.unique(y, return_inverse=True)
    if y.ndim == 2:
        classes, codes = np.unique(y, axis=0, return_inverse=True)
        return classes, codes.reshape(-1)
    raise ValueError(f"{caller} expected 1-D labels or 2-D one-hot rows to stratify on, got shape "
                     f"{y.shape}")


def _split_indices(n: int, n_test: int, stratify: Any, rng: np.random.Generator,
                   shuffle: bool, caller: str) -> tuple[np.ndarray, np.ndarray]:
    if stratify is None:
        order = rng.permutation(n) if shuffle else np.arange(n)
        return order[n_test:], order[:n_test]
    if not shuffle:
        raise ValueError(f"{caller}: stratified splitting needs shuffle=True")
    classes, codes = _encode_labels(stratify, caller)
    if len(codes) != n:
        raise ValueError(f"{caller} expected `stratify` with {n} labels (one per sample), got "
                         f"{len(codes)}")
    counts = np.bincount(codes, minlength=len(classes))
    if counts.min() < 2:
        bad = classes[int(np.argmin(counts))].tolist()
        raise ValueError(f"{caller}: class {bad!r} has only {int(counts.min())} member; "
                         f"stratifying needs at least 2 per class (one on each side)")
    n_train = n - n_test
    if n_test < len(classes) or n_train < len(classes):
        raise ValueError(f"{caller}: a stratified split of {len(classes)} classes needs at least "
                         f"{len(classes)} samples on each side, got {n_train} train and {n_test} "
                         f"test")
    # Largest-remainder apportionment: each class gets floor(share) test samples, and the leftover
    # slots go to the classes with the largest fractional parts, so every class count is within
    # one of its exact proportion and the total is exactly n_test.
    exact = counts * (n_test / n)
    test_counts = np.floor(exact).astype(np.int64)
    leftover = n_test - int(test_counts.sum())
    if leftover:
        fraction = exact - test_counts
        # random tie-breaking keeps small classes from being favoured by their position
        tie = rng.random(len(classes))
        by_fraction = np.lexsort((tie, -fraction))
        test_counts[by_fraction[:leftover]] += 1
    train_parts, test_parts = [], []
    for k in range(len(classes)):
        members = rng.permutation(np.flatnonzero(codes == k))
        test_parts.append(members[:test_counts[k]])
        train_parts.append(members[test_counts[k]:])
    train = rng.permutation(np.concatenate(train_parts))
    test = rng.permutation(np.concatenate(test_parts))
    return train, test


def train_test_split(*arrays: Any, test_size: float | int = 0.25, stratify: Any = None,
                     rng: Seed = None, shuffle: bool = True) -> list[np.ndarray]:
    """Shuffle, then split arrays into a training and a test part.

    Args:
        *arrays: arrays sharing their first dimension (inputs, targets, ...).
        test_size: fraction of the samples in (0, 1), rounded up, or an integer count.
        stratify: labels (usually ``y``) whose class proportions both parts keep: each class
            contributes ``round(test_size * n_class)`` test samples, within one of the exact share.
        rng: ``np.random.Generator`` or integer seed (``None``: the library generator).
        shuffle: set False to cut the arrays in order (the last samples become the test set).

    Returns:
        ``[a_train, a_test, b_train, b_test, ...]`` in scikit-learn's order, so
        ``X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, rng=0)``.
    """
    converted, n = _num_samples(arrays, "train_test_split")
    if n < 2:
        raise ValueError(f"train_test_split needs at least 2 samples, got {n}")
    n_test = _resolve_count(test_size, n, "test_size", "train_test_split")
    rng = get_rng(rng)
    if shuffle:
        train, test = _split_indices(n, n_test, stratify, rng, shuffle, "train_test_split")
    else:
        if stratify is not None:
            raise ValueError("train_test_split: stratified splitting needs shuffle=True")
        train, test = np.arange(n - n_test), np.arange(n - n_test, n)
    out: list[np.ndarray] = []
    for a in converted:
        out.extend((a[train], a[test]))
    return out


def train_val_test_split(*arrays: Any, val_size: float | int = 0.2, test_size: float | int = 0.2,
                         stratify: Any = None, rng: Seed = None) -> list[np.ndarray]:
    """Shuffle, then split arrays three ways: training, validation (for model and hyperparameter
    choices) and test (touched once, at the end).

    ``val_size`` and ``test_size`` are fractions of the *whole* data set (rounded up) or integer
    counts; the training part gets the rest.  With ``stratify`` all three parts keep the class
    proportions.

    Returns:
        ``[a_train, a_val, a_test, b_train, b_val, b_test, ...]``, e.g.
        ``X_tr, X_va, X_te, y_tr, y_va, y_te = train_val_test_split(X, y, rng=0)``.
    """
    caller = "train_val_test_split"
    converted, n = _num_samples(arrays, caller)
    if n < 3:
        raise ValueError(f"{caller} needs at least 3 samples, got {n}")
    n_test = _resolve_count(test_size, n, "test_size", caller)
    n_val = _resolve_count(val_size, n, "val_size", caller)
    if n_val + n_test >= n:
        raise ValueError(f"{caller}: val_size={val_size!r} and test_size={test_size!r} take "
                         f"{n_val} + {n_test} of {n} samples, leaving none for training")
    rng = get_rng(rng)
    rest, test = _split_indices(n, n_test, stratify, rng, True, caller)
    rest_labels = None if stratify is None else np.asarray(stratify)[rest]
    train_pos, val_pos = _split_indices(len(rest), n_val, rest_labels, rng, True, caller)
    train, val = rest[train_pos], rest[val_pos]
    out: list[np.ndarray] = []
    for a in converted:
        out.extend((a[train], a[val], a[test]))
    return out


class KFold:
    """K-fold cross-validation: split the samples into ``n_splits`` folds; each fold is the
    validation set once while the other ``n_splits - 1`` folds train.

    Fold sizes differ by at most one (the first ``N % n_splits`` folds get one extra sample).
    Without ``shuffle`` folds are consecutive blocks, as scikit-learn's ``KFold``.  With an integer
    ``rng`` every call to :meth:`split` gives the same folds.

    >>> for train_idx, val_idx in KFold(5, shuffle=True, rng=0).split(X):
    ...     model = fit(X[train_idx], y[train_idx]); score(model, X[val_idx], y[val_idx])
    """

    def __init__(self, n_splits: int = 5, shuffle: bool = False, rng: Seed = None) -> None:
        name = type(self).__name__
        if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) \
                or n_splits < 2:
            raise ValueError(f"{name} expected an integer `n_splits` of at least 2, "
                             f"got {n_splits!r}")
        if rng is not None and not shuffle:
            raise ValueError(f"{name}: `rng` only matters with shuffle=True; pass shuffle=True "
                             f"or drop the rng")
        self.n_splits = int(n_splits)
        self.shuffle = bool(shuffle)
        self.rng = rng

    def get_n_splits(self, X: Any = None, y: Any = None) -> int:
        return self.n_splits

    def _check_n(self, n: int) -> None:
        if self.n_splits > n:
            raise ValueError(f"{type(self).__name__}: cannot make n_splits={self.n_splits} folds "
                             f"from {n} samples; use n_splits <= {n}")

    def _fold_of_each_sample(self, n: int, y: Any) -> np.ndarray:
        sizes = np.full(self.n_splits, n // self.n_splits, dtype=np.int64)
        sizes[: n % self.n_splits] += 1
        folds = np.repeat(np.arange(self.n_splits), sizes)
        if self.shuffle:
            # permuting which sample sits where is the same as shuffling before cutting blocks
            folds = folds[get_rng(self.rng).permutation(n)]
        return folds

    def split(self, X: Any, y: Any = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train_idx, val_idx)`` integer arrays, ``n_splits`` times."""
        n = len(X)
        self._check_n(n)
        folds = self._fold_of_each_sample(n, y)
        for k in range(self.n_splits):
            in_fold = folds == k
            yield np.flatnonzero(~in_fold), np.flatnonzero(in_fold)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(n_splits={self.n_splits}, shuffle={self.shuffle}, "
                f"rng={self.rng!r})")


class StratifiedKFold(KFold):
    """K-fold cross-validation whose folds keep the class proportions of ``y``.

    Each class's samples are dealt out over the folds as evenly as possible (its per-fold counts
    differ by at most one) and fold sizes differ by at most one.  Without ``shuffle`` samples of a
    class keep their order (the first ones go to fold 0), as scikit-learn's ``StratifiedKFold``.
    A class with fewer than ``n_splits`` members is missing from some validation folds (warned).
    """

    def split(self, X: Any, y: Any = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        if y is None:
            raise ValueError("StratifiedKFold.split expected labels `y` to stratify on, got None")
        return super().split(X, y)

    def _fold_of_each_sample(self, n: int, y: Any) -> np.ndarray:
        classes, codes = _encode_labels(y, "StratifiedKFold")
        if len(codes) != n:
            raise ValueError(f"StratifiedKFold expected {n} labels (one per sample), got "
                             f"{len(codes)}")
        counts = np.bincount(codes, minlength=len(classes))
        if counts.max() < self.n_splits:
            raise ValueError(f"StratifiedKFold: n_splits={self.n_splits} is more than the "
                             f"{int(counts.max())} members of the largest class")
        if counts.min() < self.n_splits:
            small = classes[int(np.argmin(counts))].tolist()
            warnings.warn(f"StratifiedKFold: class {small!r} has only {int(counts.min())} "
                          f"members, fewer than n_splits={self.n_splits}; some validation folds "
                          f"will miss it", UserWarning, stacklevel=3)
        # Deal the samples, sorted by class, round-robin over the folds: per-class fold counts then
        # differ by at most one, and so do the fold totals.
        dealt = np.arange(n) % self.n_splits
        sorted_codes = np.sort(codes, kind="stable")
        n_classes = len(classes)
        cells = np.bincount(dealt * n_classes + sorted_codes, minlength=self.n_splits * n_classes)
        per_fold = cells.reshape(self.n_splits, n_classes)
        rng = get_rng(self.rng) if self.shuffle else None
        folds = np.empty(n, dtype=np.int64)
        for k in range(n_classes):
            fold_ids = np.repeat(np.arange(self.n_splits), per_fold[:, k])
            if rng is not None:
                fold_ids = rng.permutation(fold_ids)
            folds[codes == k] = fold_ids
        return folds


def make_splitter(cv: Any, *, stratify: bool = False, rng: Seed = None,
                  who: str = "cross_validate") -> Any:
    """The splitter for ``cv``: a number of folds gives a shuffled :class:`KFold`
    (:class:`StratifiedKFold` with ``stratify``) shuffled with ``rng``; an object with
    ``split(X, y)`` is used as it is."""
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        cls = StratifiedKFold if stratify else KFold
        return cls(int(cv), shuffle=True, rng=rng)
    if hasattr(cv, "split") and not isinstance(cv, str):
        return cv
    raise TypeError(f"{who} expected `cv` as a number of folds or a splitter with "
                    f"split(X, y), got {type(cv).__name__}")


def scale_fold(scaler: Callable[[], Any] | None, X_train: np.ndarray,
               X_val: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(X_train, X_val)`` through a fresh ``scaler()`` fitted on ``X_train`` only, so the
    held-out part never leaks into the statistics; unchanged without a scaler."""
    if scaler is None:
        return X_train, X_val
    fitted = scaler()
    return fitted.fit_transform(X_train), fitted.transform(X_val)


def fold_parts(X: np.ndarray, y: np.ndarray, splitter: Any,
               scaler: Callable[[], Any] | None = None
               ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """``(X_train, y_train, X_val, y_val)`` for every fold of ``splitter.split(X, y)``, each
    fold scaled on its own training part (:func:`scale_fold`): the fold loop of
    :func:`cross_validate` and of the hyperparameter search."""
    for train_idx, val_idx in splitter.split(X, y):
        X_tr, X_va = scale_fold(scaler, X[train_idx], X[val_idx])
        yield X_tr, y[train_idx], X_va, y[val_idx]


def _fold_task(shared: tuple[Any, list[tuple[np.ndarray, ...]]], item: tuple[int, Any]) -> Any:
    """One fold of :func:`cross_validate` as a backend task: ``item`` is (fold, seed)."""
    fn, parts = shared
    fold, fold_seed = item
    if fold_seed is not None:
        _seed_library(fold_seed)
    return fn(*parts[fold])


def cross_validate(
    build_and_score_fn: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
                                 Mapping[str, float] | float],
    X: Any,
    y: Any,
    cv: int | KFold = 5,
    *,
    scaler: Callable[[], Any] | None = None,
    rng: Seed = None,
    backend: Any = None,
) -> dict[str, Any]:
    """Cross-validate: for each fold, build and fit a fresh model on the training folds and score
    it on the held-out fold.

    Args:
        build_and_score_fn: ``fn(X_train, y_train, X_val, y_val) -> {"metric": value, ...}``
            (a bare number is recorded as ``"score"``).  Anything fitted from data (scalers,
            encoders, the model) must be fitted inside it on ``X_train`` only.
        X, y: the data to cross-validate on (normally everything except the test set).
        cv: a splitter with ``split(X, y)`` (:class:`KFold`, :class:`StratifiedKFold`) or a
            number of folds for a shuffled :class:`KFold`.
        scaler: optional factory (e.g. ``StandardScaler``); a fresh one is fitted on each fold's
            training part and applied to both parts before ``build_and_score_fn`` sees them, so
            the held-out fold never leaks into the statistics.
        rng: the random source (Generator or integer seed) of the shuffled :class:`KFold` when
            ``cv`` is an integer.  With ``backend``, it also seeds each fold's training on its
            own (the library generator, ``neuralab.seed``, before each fold), so the scores do
            not depend on where or in which order the folds run.
        backend: run the folds as tasks of a search backend, e.g.
            ``neuralab.train.RayBackend()`` (each fold a Ray task, the data put once in the
            object store); ``build_and_score_fn`` must then be picklable (a module-level
            function, or a closure Ray's cloudpickle can send).  None: one after another, here.

    Returns:
        ``{"folds": [scores of fold 0, ...], "mean": {metric: mean}, "std": {metric: std}}``,
        with the population standard deviation over folds (ddof = 0).
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"cross_validate expected X and y with the same number of samples, got "
                         f"{len(X)} and {len(y)}")
    splitter = make_splitter(cv, rng=rng)
    parts = fold_parts(X, y, splitter, scaler)
    if backend is None:
        results = (build_and_score_fn(*part) for part in parts)
    else:
        parts = list(parts)
        seeds = ([int(s) for s in get_rng(rng).integers(2**31 - 1, size=len(parts))]
                 if rng is not None else [None] * len(parts))
        done = dict(backend.map_unordered(_fold_task, (build_and_score_fn, parts),
                                          list(enumerate(seeds))))
        results = (done[i] for i in range(len(parts)))
    folds: list[dict[str, float]] = []
    for result in results:
        if isinstance(result, Mapping):
            scores = {str(k): float(v) for k, v in result.items()}
        else:
            scores = {"score": float(result)}
        if folds and set(scores) != set(folds[0]):
            raise ValueError(f"cross_validate: fold {len(folds)} returned metrics "
                             f"{sorted(scores)}, fold 0 returned {sorted(folds[0])}")
        folds.append(scores)
    names = list(folds[0])
    table = np.array([[f[name] for name in names] for f in folds], dtype=np.float64)
    return {
        "folds": folds,
        "mean": dict(zip(names, table.mean(axis=0).tolist())),
        "std": dict(zip(names, table.std(axis=0).tolist())),
    }

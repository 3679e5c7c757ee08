"""kfold-split: the folds partition the samples as neuralab.data.KFold's do, training and
validation never overlap, the split is shuffled by the given Generator, and the scaler is fitted
as neuralab.data.StandardScaler on the training rows only."""

from __future__ import annotations

import numpy as np

from ..data import KFold, StandardScaler
from .compare import as_array, expect_close, rng
from .core import Exercise, Fail, Student

exercise = Exercise("kfold-split", "k-fold splitting and scaling without leakage",
                    "교차 검증, 데이터 누수", 2, ("kfold_indices", "standardize_fold"))
N, K = 23, 5


def _folds(s: Student, seed: int = 130) -> list[tuple[np.ndarray, np.ndarray]]:
    got = s.call("kfold_indices", N, K, np.random.default_rng(seed))
    if not isinstance(got, (list, tuple)) or len(got) != K:
        raise Fail(f"kfold_indices({N}, {K}, rng) should return {K} pairs (train_idx, val_idx)")
    pairs = []
    for i, pair in enumerate(got):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise Fail(f"fold {i} should be a pair (train_idx, val_idx)")
        train, val = (as_array(a, f"fold {i}'s indices").astype(np.int64).ravel() for a in pair)
        pairs.append((train, val))
    return pairs


@exercise.check("folds-partition", "every sample is in exactly one validation fold; sizes as "
                "KFold's", "every sample is validated once: the k folds together are all n "
                "indices, and the remainder n % k is spread (sizes differ by at most 1)")
def _partition(s: Student) -> None:
    vals = [v for _, v in _folds(s)]
    if sorted(np.concatenate(vals).tolist()) != list(range(N)):
        raise Fail(f"the validation folds together are not the indices 0..{N - 1}, each once")
    sizes = sorted(len(v) for v in vals)
    expected = sorted(len(v) for _, v in KFold(K).split(np.zeros(N)))
    if sizes != expected:
        raise Fail(f"fold sizes {sizes} for n={N}, k={K}; expected {expected}")


@exercise.check("train-excludes-val", "in each fold, train and validation are disjoint and "
                "cover all samples", "leakage: the training indices of a fold must be all the "
                "samples except that fold's validation ones", requires=("folds-partition",))
def _disjoint(s: Student) -> None:
    for i, (train, val) in enumerate(_folds(s)):
        if np.intersect1d(train, val).size or \
                sorted(np.concatenate([train, val]).tolist()) != list(range(N)):
            raise Fail(f"fold {i}: {np.intersect1d(train, val).size} validation indices are "
                       f"also training indices, or some samples are in neither")


@exercise.check("shuffled-by-rng", "folds are shuffled, and the same seed gives the same folds",
                "shuffle the indices with rng.permutation before cutting: ordered data (all "
                "of one class first) would otherwise give folds of one class",
                requires=("folds-partition",))
def _shuffled(s: Student) -> None:
    a, b = _folds(s, 131), _folds(s, 131)
    if any(not np.array_equal(x[1], y[1]) for x, y in zip(a, b)):
        raise Fail("two calls with np.random.default_rng(131) gave different folds")
    if all(np.array_equal(np.sort(v), np.arange(v.min(), v.max() + 1)) for _, v in a):
        raise Fail("every validation fold is a block of consecutive indices: not shuffled")


@exercise.check("scaler-fit-on-train", "both parts are scaled with the training rows' "
                "statistics (StandardScaler fitted on X_train)",
                "the test fold leaks into the scaler: fit the mean and standard deviation on "
                "X_train alone, then apply them to X_val")
def _scaler(s: Student) -> None:
    r = rng(132)
    X_train = r.normal(loc=[0.0, 5.0, -3.0], scale=[1.0, 2.0, 0.5], size=(40, 3))
    X_val = r.normal(loc=[4.0, -2.0, 1.0], scale=[3.0, 1.0, 2.0], size=(10, 3))
    scaler = StandardScaler().fit(X_train)
    got = s.call("standardize_fold", X_train, X_val, returns=2)
    mean, scale = scaler.mean_, scaler.scale_
    expect_close(got[0], (X_train - mean) / scale, "X_train_scaled", atol=1e-9)
    expect_close(got[1], (X_val - mean) / scale, "X_val_scaled", atol=1e-9)

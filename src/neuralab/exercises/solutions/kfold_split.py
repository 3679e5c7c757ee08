"""K-fold cross-validation without leakage (교차 검증, 데이터 누수).

k-fold splitting shuffles the n sample indices once (with the Generator `rng`) and cuts them into
k folds whose sizes differ by at most one; each fold is the validation set once, and the other
k - 1 folds train.  Scaling must be fitted on the training rows only: the validation fold plays
unseen data, so its mean and standard deviation must not leak into the scaler.

Check it: neuralab exercise check FILE
"""

import numpy as np

EXERCISE = "kfold-split"


def kfold_indices(n, k, rng):
    """A list of k pairs (train_idx, val_idx) of integer index arrays."""
    order = rng.permutation(n)
    folds = np.array_split(order, k)
    return [(np.concatenate(folds[:i] + folds[i + 1:]), folds[i]) for i in range(k)]


def standardize_fold(X_train, X_val):
    """Standardize both parts with the mean and (population) standard deviation of each column
    of X_train; return (X_train_scaled, X_val_scaled)."""
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    return (X_train - mean) / std, (X_val - mean) / std

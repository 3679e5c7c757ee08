"""Input normalization and label encoding, fitted on training data only.

Every transformer follows scikit-learn's protocol: ``fit(X)`` learns statistics, ``transform(X)``
applies them, ``fit_transform`` does both, ``inverse_transform`` undoes them.  Fit on the training
part only and reuse the fitted object for validation and test data; otherwise the test set leaks
into training through the statistics.  A fitted transformer saves to a JSON-able dict with
``state_dict()`` (stored next to the model) and comes back with ``from_state_dict(state)``.

>>> scaler = StandardScaler().fit(X_train)
>>> X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
>>> json.dump(scaler.state_dict(), open("scaler.json", "w"))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

# Rows per chunk when accumulating statistics in float64: bounds the temporary to a few MB even for
# a 60000 x 784 image matrix.
_CHUNK_ROWS = 2048


class NotFittedError(RuntimeError):
    """A transformer was used before ``fit`` (or ``load_state_dict``)."""


def _as_2d_numeric(X: Any, caller: str) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 2:
        hint = "; use X.reshape(-1, 1) for a single feature" if X.ndim == 1 else ""
        raise ValueError(f"{caller} expected a 2-D array (samples, features), got shape "
                         f"{X.shape}{hint}")
    if X.dtype.kind not in "biuf":
        raise TypeError(f"{caller} expected numeric data, got dtype {X.dtype}; encode string "
                        f"columns with LabelEncoder or OneHotEncoder first")
    return X


class _Transformer:
    """Shared fit/transform bookkeeping and JSON state."""

    _fitted_fields: tuple[str, ...] = ()

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments as a JSON-able dict: ``type(self)(**get_config())`` is an
        unfitted copy."""
        return {}

    @property
    def is_fitted(self) -> bool:
        return getattr(self, self._fitted_fields[0], None) is not None

    def _check_fitted(self, method: str) -> None:
        if not self.is_fitted:
            name = type(self).__name__
            raise NotFittedError(f"{name}.{method} called before fit; call {name}.fit(X_train) "
                                 f"(or load_state_dict) first")

    def fit(self, X: Any) -> _Transformer:
        raise NotImplementedError

    def transform(self, X: Any) -> np.ndarray:
        raise NotImplementedError

    def fit_transform(self, X: Any) -> np.ndarray:
        return self.fit(X).transform(X)

    def state_dict(self) -> dict[str, Any]:
        """Configuration and fitted statistics as plain lists and numbers (``json.dumps``-able)."""
        self._check_fitted("state_dict")
        return {"type": type(self).__name__, "config": self.get_config(), **self._state()}

    def load_state_dict(self, state: dict[str, Any]) -> _Transformer:
        name = type(self).__name__
        if state.get("type") != name:
            raise ValueError(f"{name}.load_state_dict expected a state of type {name!r}, got "
                             f"{state.get('type')!r}")
        self._load_state(state)
        return self

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> _Transformer:
        """Rebuild a fitted transformer saved with :meth:`state_dict`."""
        return cls(**state.get("config", {})).load_state_dict(state)

    def _state(self) -> dict[str, Any]:
        raise NotImplementedError

    def _load_state(self, state: dict[str, Any]) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class _ColumnScaler(_Transformer):
    """Affine per-column maps ``z = x * scale + offset`` (and back), float32 output."""

    n_features_in_: int | None = None

    def _check_columns(self, X: Any, method: str) -> np.ndarray:
        self._check_fitted(method)
        X = _as_2d_numeric(X, f"{type(self).__name__}.{method}")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"{type(self).__name__}.{method} expected {self.n_features_in_} "
                             f"columns (as in fit), got {X.shape[1]}")
        return X

    @staticmethod
    def _affine(X: np.ndarray, shift: np.ndarray | None, scale: np.ndarray | None,
                offset: np.ndarray | float | None, divide: bool = False) -> np.ndarray:
        """float32 ``((X - shift) * scale) + offset`` (``/ scale`` with ``divide``)."""
        out = np.empty(X.shape, dtype=np.float32)
        if shift is None:
            out[...] = X
        else:
            # Subtracting first keeps precision where the spread is small next to the values
            # (wine density 0.994 +- 0.003); the subtraction runs in float64 and is rounded once
            # into the float32 output chunk by chunk inside the ufunc, with no full-size float64
            # temporary.
            np.subtract(X, shift, out=out, casting="same_kind")
        if scale is not None:
            if divide:
                out /= scale.astype(np.float32)
            else:
                out *= scale.astype(np.float32)
        if offset is not None:
            out += np.asarray(offset, dtype=np.float32)
        return out


def _column_mean_var(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and population variances, accumulated in float64 with two passes."""
    n = X.shape[0]
    mean = X.sum(axis=0, dtype=np.float64) / n
    sq = np.zeros(X.shape[1], dtype=np.float64)
    for start in range(0, n, _CHUNK_ROWS):
        d = X[start:start + _CHUNK_ROWS].astype(np.float64) - mean
        sq += np.einsum("ij,ij->j", d, d)
    return mean, sq / n


class StandardScaler(_ColumnScaler):
    """Standardize each column to zero mean and unit variance (z-score).

    .. math::
        z_{ij} = \\frac{x_{ij} - \\mu_j}{\\sigma_j},\\qquad
        \\mu_j = \\frac{1}{N}\\sum_i x_{ij},\\qquad
        \\sigma_j = \\sqrt{\\frac{1}{N}\\sum_i (x_{ij} - \\mu_j)^2}

    with the population standard deviation (ddof = 0, as scikit-learn).  A constant column
    (:math:`\\sigma_j = 0`) gets scale 1, so it maps to 0 instead of NaN.  Statistics are
    accumulated in float64; the output is float32.

    Attributes (after fit): ``mean_``, ``var_``, ``scale_`` (float64, shape (D,)),
    ``n_features_in_``, ``n_samples_seen_``.
    """

    _fitted_fields = ("mean_",)

    def __init__(self, with_mean: bool = True, with_std: bool = True) -> None:
        self.with_mean = bool(with_mean)
        self.with_std = bool(with_std)
        self.mean_: np.ndarray | None = None
        self.var_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None
        self.n_samples_seen_: int | None = None

    def get_config(self) -> dict[str, Any]:
        return {"with_mean": self.with_mean, "with_std": self.with_std}

    def fit(self, X: Any) -> StandardScaler:
        X = _as_2d_numeric(X, "StandardScaler.fit")
        if X.shape[0] == 0:
            raise ValueError("StandardScaler.fit expected at least one sample, got 0 rows")
        if X.dtype.kind == "f" and not np.isfinite(X).all():
            raise ValueError("StandardScaler.fit expected finite values, got NaN or infinity")
        mean, var = _column_mean_var(X)
        constant = X.max(axis=0) == X.min(axis=0)
        # exact value for constant columns, so they map to exactly 0
        mean[constant] = X[0, constant]
        var[constant] = 0.0
        self.mean_ = mean
        self.var_ = var
        self.scale_ = np.where(constant, 1.0, np.sqrt(var))
        self.n_features_in_ = int(X.shape[1])
        self.n_samples_seen_ = int(X.shape[0])
        return self

    def transform(self, X: Any) -> np.ndarray:
        """:math:`(x - \\mu) / \\sigma` as float32."""
        X = self._check_columns(X, "transform")
        return self._affine(X, self.mean_ if self.with_mean else None,
                            self.scale_ if self.with_std else None, None, divide=True)

    def inverse_transform(self, Z: Any) -> np.ndarray:
        """:math:`z \\sigma + \\mu` as float32."""
        Z = self._check_columns(Z, "inverse_transform")
        return self._affine(Z, None, self.scale_ if self.with_std else None,
                            self.mean_ if self.with_mean else None)

    def _state(self) -> dict[str, Any]:
        return {"mean": self.mean_.tolist(), "var": self.var_.tolist(),
                "scale": self.scale_.tolist(), "n_features_in": self.n_features_in_,
                "n_samples_seen": self.n_samples_seen_}

    def _load_state(self, state: dict[str, Any]) -> None:
        self.mean_ = np.asarray(state["mean"], dtype=np.float64)
        self.var_ = np.asarray(state["var"], dtype=np.float64)
        self.scale_ = np.asarray(state["scale"], dtype=np.float64)
        self.n_features_in_ = int(state["n_features_in"])
        self.n_samples_seen_ = int(state["n_samples_seen"])


class MinMaxScaler(_ColumnScaler):
    """Rescale each column linearly onto ``feature_range = (lo, hi)``.

    .. math::
        z_{ij} = lo + (x_{ij} - \\min_j)\\,\\frac{hi - lo}{\\max_j - \\min_j}
               = x_{ij}\\,s_j + m_j

    with ``scale_`` :math:`s_j` and ``min_`` :math:`m_j = lo - \\min_j s_j`.  A constant column
    (:math:`\\max_j = \\min_j`) uses a range of 1, so it maps to ``lo`` instead of NaN.  Values
    outside the training range map outside ``feature_range`` (no clipping).  Output is float32.

    Attributes (after fit): ``data_min_``, ``data_max_``, ``data_range_``, ``scale_``, ``min_``
    (float64, shape (D,)), ``n_features_in_``.
    """

    _fitted_fields = ("scale_",)

    def __init__(self, feature_range: Sequence[float] = (0.0, 1.0)) -> None:
        try:
            lo, hi = (float(v) for v in feature_range)
        except (TypeError, ValueError):
            raise ValueError(f"MinMaxScaler expected `feature_range` as (low, high), got "
                             f"{feature_range!r}") from None
        if not lo < hi:
            raise ValueError(f"MinMaxScaler expected `feature_range` with low < high, got "
                             f"{feature_range!r}")
        self.feature_range = (lo, hi)
        self.data_min_: np.ndarray | None = None
        self.data_max_: np.ndarray | None = None
        self.data_range_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None
        self.min_: np.ndarray | None = None

    def get_config(self) -> dict[str, Any]:
        return {"feature_range": list(self.feature_range)}

    def fit(self, X: Any) -> MinMaxScaler:
        X = _as_2d_numeric(X, "MinMaxScaler.fit")
        if X.shape[0] == 0:
            raise ValueError("MinMaxScaler.fit expected at least one sample, got 0 rows")
        if X.dtype.kind == "f" and not np.isfinite(X).all():
            raise ValueError("MinMaxScaler.fit expected finite values, got NaN or infinity")
        lo, hi = self.feature_range
        self.data_min_ = X.min(axis=0).astype(np.float64)
        self.data_max_ = X.max(axis=0).astype(np.float64)
        self.data_range_ = self.data_max_ - self.data_min_
        safe_range = np.where(self.data_range_ == 0.0, 1.0, self.data_range_)
        self.scale_ = (hi - lo) / safe_range
        self.min_ = lo - self.data_min_ * self.scale_
        self.n_features_in_ = int(X.shape[1])
        return self

    def transform(self, X: Any) -> np.ndarray:
        """:math:`lo + (x - \\min) s` as float32 (equal to :math:`x s + m`, computed with the
        subtraction first so a constant column maps to exactly ``lo``)."""
        X = self._check_columns(X, "transform")
        return self._affine(X, self.data_min_, self.scale_, self.feature_range[0])

    def inverse_transform(self, Z: Any) -> np.ndarray:
        """:math:`(z - lo) / s + \\min` as float32."""
        Z = self._check_columns(Z, "inverse_transform")
        return self._affine(Z, np.float64(self.feature_range[0]), self.scale_, self.data_min_,
                            divide=True)

    def _state(self) -> dict[str, Any]:
        return {"data_min": self.data_min_.tolist(), "data_max": self.data_max_.tolist(),
                "n_features_in": self.n_features_in_}

    def _load_state(self, state: dict[str, Any]) -> None:
        lo, hi = self.feature_range
        self.data_min_ = np.asarray(state["data_min"], dtype=np.float64)
        self.data_max_ = np.asarray(state["data_max"], dtype=np.float64)
        self.data_range_ = self.data_max_ - self.data_min_
        safe_range = np.where(self.data_range_ == 0.0, 1.0, self.data_range_)
        self.scale_ = (hi - lo) / safe_range
        self.min_ = lo - self.data_min_ * self.scale_
        self.n_features_in_ = int(state["n_features_in"])


def _as_labels(y: Any, caller: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.reshape(-1)
    if y.ndim != 1:
        raise ValueError(f"{caller} expected 1-D labels, got shape {y.shape}")
    return y


def _codes(values: np.ndarray, categories: np.ndarray, caller: str) -> np.ndarray:
    """Position of each value in the sorted ``categories``; error on values not among them."""
    try:
        pos = np.searchsorted(categories, values)
    except TypeError:
        raise TypeError(f"{caller}: labels of dtype {values.dtype} cannot be compared with the "
                        f"fitted classes of dtype {categories.dtype}") from None
    pos_clipped = np.minimum(pos, len(categories) - 1)
    unknown = categories[pos_clipped] != values
    if np.any(unknown):
        bad = np.unique(values[unknown])
        shown = ", ".join(repr(v) for v in bad[:5].tolist()) + (", ..." if len(bad) > 5 else "")
        known = ", ".join(repr(v) for v in categories[:20].tolist())
        raise ValueError(f"{caller}: unknown label(s) {shown}; fitted classes are [{known}"
                         f"{', ...' if len(categories) > 20 else ''}]")
    return pos_clipped.astype(np.int64)


def _to_json_list(values: np.ndarray) -> list[Any]:
    return values.tolist()


class LabelEncoder(_Transformer):
    """Map labels (strings or numbers) to integers ``0..K-1`` in sorted order, and back.

    >>> enc = LabelEncoder().fit(["setosa", "virginica", "setosa", "versicolor"])
    >>> enc.classes_
    array(['setosa', 'versicolor', 'virginica'], dtype='<U10')
    >>> enc.transform(["virginica"]), enc.inverse_transform([0])
    (array([2]), array(['setosa'], dtype='<U10'))

    Transforming a label not seen in fit raises a ``ValueError`` naming it.
    """

    _fitted_fields = ("classes_",)

    def __init__(self) -> None:
        self.classes_: np.ndarray | None = None

    def fit(self, y: Any) -> LabelEncoder:
        y = _as_labels(y, "LabelEncoder.fit")
        if len(y) == 0:
            raise ValueError("LabelEncoder.fit expected at least one label, got none")
        self.classes_ = np.unique(y)
        return self

    def transform(self, y: Any) -> np.ndarray:
        """Labels -> int64 codes (index into ``classes_``)."""
        self._check_fitted("transform")
        y = _as_labels(y, "LabelEncoder.transform")
        return _codes(y, self.classes_, "LabelEncoder.transform")

    def fit_transform(self, y: Any) -> np.ndarray:
        y = _as_labels(y, "LabelEncoder.fit")
        if len(y) == 0:
            raise ValueError("LabelEncoder.fit expected at least one label, got none")
        self.classes_, codes = np.unique(y, return_inverse=True)
        return codes.reshape(-1).astype(np.int64)

    def inverse_transform(self, codes: Any) -> np.ndarray:
        """Integer codes -> original labels."""
        self._check_fitted("inverse_transform")
        codes = _as_labels(codes, "LabelEncoder.inverse_transform")
        if codes.dtype.kind not in "iu" and len(codes):
            raise TypeError(f"LabelEncoder.inverse_transform expected integer codes, got dtype "
                            f"{codes.dtype}")
        if len(codes) and (codes.min() < 0 or codes.max() >= len(self.classes_)):
            raise ValueError(f"LabelEncoder.inverse_transform expected codes in "
                             f"[0, {len(self.classes_) - 1}], got values from {codes.min()} to "
                             f"{codes.max()}")
        return self.classes_[codes]

    def _state(self) -> dict[str, Any]:
        return {"classes": _to_json_list(self.classes_)}

    def _load_state(self, state: dict[str, Any]) -> None:
        self.classes_ = np.asarray(state["classes"])


class OneHotEncoder(_Transformer):
    """One-hot encode categorical labels (integers or strings) as float32 rows.

    .. math::
        \\text{onehot}(y)_k = [\\, y = c_k \\,],\\qquad k = 0..K-1

    1-D labels give an (N, K) matrix.  A 2-D input (N, M) encodes each column and concatenates the
    blocks, as scikit-learn.  ``categories_`` is a list with the sorted categories of each column
    (one entry for 1-D labels).  Pass ``categories`` (e.g. ``[range(10)]`` or ``range(10)`` for one
    column) to fix the columns in advance, so a batch missing a class still gets K columns.

    >>> OneHotEncoder().fit_transform(np.array([2, 0, 1]))
    array([[0., 0., 1.],
           [1., 0., 0.],
           [0., 1., 0.]], dtype=float32)
    """

    _fitted_fields = ("categories_",)

    def __init__(self, categories: str | Sequence[Any] = "auto") -> None:
        if isinstance(categories, str):
            if categories != "auto":
                raise ValueError(f"OneHotEncoder expected `categories` 'auto' or a list of "
                                 f"categories, got {categories!r}")
            self.categories: str | list[list[Any]] = "auto"
        else:
            cats = list(categories)
            if cats and all(np.ndim(c) == 0 for c in cats):
                cats = [cats]  # a flat list means the categories of a single column
            self.categories = [np.asarray(c).tolist() for c in cats]
        self.categories_: list[np.ndarray] | None = None
        self._one_dimensional = True

    def get_config(self) -> dict[str, Any]:
        return {"categories": self.categories}

    @staticmethod
    def _columns(y: Any, caller: str) -> tuple[np.ndarray, bool]:
        y = np.asarray(y)
        if y.ndim == 1:
            return y.reshape(-1, 1), True
        if y.ndim == 2:
            return y, False
        raise ValueError(f"{caller} expected 1-D labels or a 2-D (samples, columns) array, got "
                         f"shape {y.shape}")

    def fit(self, y: Any) -> OneHotEncoder:
        Y, one_dim = self._columns(y, "OneHotEncoder.fit")
        if self.categories == "auto":
            if len(Y) == 0:
                raise ValueError("OneHotEncoder.fit expected at least one label, got none")
            self.categories_ = [np.unique(Y[:, j]) for j in range(Y.shape[1])]
        else:
            if len(self.categories) != Y.shape[1]:
                raise ValueError(f"OneHotEncoder was given categories for "
                                 f"{len(self.categories)} column(s), got data with "
                                 f"{Y.shape[1]} column(s)")
            self.categories_ = [np.unique(np.asarray(c)) for c in self.categories]
            for j, cats in enumerate(self.categories_):
                _codes(Y[:, j], cats, "OneHotEncoder.fit")
        self._one_dimensional = one_dim
        return self

    @property
    def n_columns_out(self) -> int:
        self._check_fitted("n_columns_out")
        return sum(len(c) for c in self.categories_)

    def transform(self, y: Any) -> np.ndarray:
        """Labels -> float32 one-hot matrix of shape (N, sum of category counts)."""
        self._check_fitted("transform")
        Y, _ = self._columns(y, "OneHotEncoder.transform")
        if Y.shape[1] != len(self.categories_):
            raise ValueError(f"OneHotEncoder.transform expected {len(self.categories_)} "
                             f"column(s) (as in fit), got {Y.shape[1]}")
        n = len(Y)
        out = np.zeros((n, self.n_columns_out), dtype=np.float32)
        rows = np.arange(n)
        offset = 0
        for j, cats in enumerate(self.categories_):
            out[rows, offset + _codes(Y[:, j], cats, "OneHotEncoder.transform")] = 1.0
            offset += len(cats)
        return out

    def inverse_transform(self, onehot: Any) -> np.ndarray:
        """One-hot rows (or scores: the largest entry wins) -> labels; 1-D when fitted on 1-D."""
        self._check_fitted("inverse_transform")
        Z = np.asarray(onehot)
        if Z.ndim != 2 or Z.shape[1] != self.n_columns_out:
            raise ValueError(f"OneHotEncoder.inverse_transform expected shape (N, "
                             f"{self.n_columns_out}), got {Z.shape}")
        columns = []
        offset = 0
        for cats in self.categories_:
            block = Z[:, offset:offset + len(cats)]
            columns.append(cats[np.argmax(block, axis=1)])
            offset += len(cats)
        if self._one_dimensional and len(columns) == 1:
            return columns[0]
        return np.stack(columns, axis=1)

    def _state(self) -> dict[str, Any]:
        return {"categories_": [_to_json_list(c) for c in self.categories_],
                "one_dimensional": self._one_dimensional}

    def _load_state(self, state: dict[str, Any]) -> None:
        self.categories_ = [np.asarray(c) for c in state["categories_"]]
        self._one_dimensional = bool(state.get("one_dimensional", True))


_TRANSFORMERS = {cls.__name__: cls for cls in (StandardScaler, MinMaxScaler, LabelEncoder,
                                                OneHotEncoder)}


def from_state_dict(state: dict[str, Any]) -> _Transformer:
    """Rebuild any fitted transformer of this module from its ``state_dict()``."""
    name = state.get("type") if isinstance(state, dict) else None
    if name not in _TRANSFORMERS:
        raise ValueError(f"from_state_dict expected a state whose 'type' is one of "
                         f"{sorted(_TRANSFORMERS)}, got {name!r}")
    return _TRANSFORMERS[name].from_state_dict(state)

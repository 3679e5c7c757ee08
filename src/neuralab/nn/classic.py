"""The classic neurons, before backpropagation: plain NumPy, no autograd.

* :class:`MCPNeuron` (맥컬록-피츠 뉴런, McCulloch and Pitts, 1943): a threshold logic unit whose
  weights and threshold are set by hand.  With the right numbers it computes AND, OR and NOT.
* :class:`Perceptron` (퍼셉트론, Rosenblatt, 1957): the same unit with a bias, whose weights are
  *learned* by the perceptron rule  w <- w + eta (y - y_hat) x.  It converges on linearly
  separable data (AND, OR) and never on XOR, which no single straight line separates.

Both work in float64: they are tiny, and exact arithmetic keeps hand-computed truth tables and
weight updates reproducible.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..random import get_rng

__all__ = ["MCPNeuron", "Perceptron"]


def _as_float_matrix(X: Any, owner: str, what: str = "X") -> np.ndarray:
    arr = np.asarray(X)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{owner} expected numeric {what}, got an array of dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(
            f"{owner} expected {what} of shape (n_samples, n_features), got shape {arr.shape}"
        )
    arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{owner} got non-finite values (nan or inf) in {what}")
    return arr


class MCPNeuron:
    """McCulloch-Pitts neuron: fixed weights w and threshold theta,

        output = 1 if w . x >= theta else 0.

    Call it (or ``predict``) on one input vector of shape (n_inputs,) to get an int, or on a batch
    of shape (N, n_inputs) to get an int array of shape (N,).  Presets build the logic gates:
    ``AND`` (weights 1, threshold n), ``OR`` (weights 1, threshold 1), ``NOT`` (weight -1,
    threshold 0) and ``NAND`` (weights -1, threshold -(n - 1)).

    >>> gate = MCPNeuron.AND()
    >>> gate([[0, 0], [0, 1], [1, 0], [1, 1]])
    array([0, 0, 0, 1])
    >>> MCPNeuron([1, 1], threshold=1)([1, 0])           # OR by hand
    1
    """

    def __init__(self, weights: Any, threshold: float) -> None:
        w = np.asarray(weights)
        if w.dtype.kind not in "fiub" or w.ndim != 1 or w.size == 0:
            raise ValueError(
                "MCPNeuron expected a non-empty 1-d sequence of numbers for `weights`, "
                f"got {weights!r}"
            )
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.number)):
            raise TypeError(f"MCPNeuron expected a number for `threshold`, got {threshold!r}")
        self.weights = w.astype(np.float64)
        self.threshold = float(threshold)

    # ------------------------------------------------------------------ presets (logic gates)
    @classmethod
    def AND(cls, n_inputs: int = 2) -> "MCPNeuron":  # noqa: N802 - named after the gate
        """Fires only when all ``n_inputs`` inputs are 1: weights 1, threshold n."""
        n = _check_n_inputs(n_inputs)
        return cls(np.ones(n), threshold=n)

    @classmethod
    def OR(cls, n_inputs: int = 2) -> "MCPNeuron":  # noqa: N802
        """Fires when at least one input is 1: weights 1, threshold 1."""
        return cls(np.ones(_check_n_inputs(n_inputs)), threshold=1)

    @classmethod
    def NOT(cls) -> "MCPNeuron":  # noqa: N802
        """Inverts its single input: an inhibitory weight -1 and threshold 0."""
        return cls([-1.0], threshold=0)

    @classmethod
    def NAND(cls, n_inputs: int = 2) -> "MCPNeuron":  # noqa: N802
        """NOT AND: fires unless all inputs are 1: weights -1, threshold -(n - 1)."""
        n = _check_n_inputs(n_inputs)
        return cls(-np.ones(n), threshold=-(n - 1))

    # ------------------------------------------------------------------ evaluation
    @property
    def n_inputs(self) -> int:
        return int(self.weights.size)

    def net_input(self, x: Any) -> Any:
        """The weighted sum w . x (a float, or an array of shape (N,) for a batch)."""
        arr = np.asarray(x)
        if arr.dtype.kind not in "fiub" or arr.ndim not in (1, 2) or arr.shape[-1] != self.n_inputs:
            raise ValueError(
                f"MCPNeuron with {self.n_inputs} inputs expected x of shape ({self.n_inputs},) or "
                f"(N, {self.n_inputs}), got shape {arr.shape}"
            )
        z = arr.astype(np.float64, copy=False) @ self.weights
        return float(z) if arr.ndim == 1 else z

    def predict(self, x: Any) -> Any:
        """1 where w . x >= threshold, else 0 (an int for one input, an int array for a batch)."""
        z = self.net_input(x)
        if isinstance(z, float):
            return int(z >= self.threshold)
        return (z >= self.threshold).astype(np.int64)

    __call__ = predict

    def __repr__(self) -> str:
        return f"MCPNeuron(weights={self.weights.tolist()}, threshold={self.threshold:g})"


def _check_n_inputs(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"MCPNeuron expected a positive integer for `n_inputs`, got {n!r}")
    return int(n)


class Perceptron:
    """Rosenblatt's perceptron for labels 0/1, trained by the perceptron learning rule.

    Prediction is a threshold unit with a bias b (the weight w_0 of a constant input x_0 = 1):

        y_hat = 1 if w . x + b >= 0 else 0.

    ``fit`` visits the samples one at a time (in a shuffled order each epoch when ``shuffle``)
    and applies, for each sample,

        w <- w + eta (y - y_hat) x,      b <- b + eta (y - y_hat),

    which changes nothing when the sample is classified correctly.  The weights start at zero.
    ``errors_[k]`` is the number of misclassified samples (updates) in epoch k.  Training stops
    after the first epoch without errors (``converged_ = True``): every sample is then on the
    right side.  On data that no hyperplane separates (XOR) that epoch never comes;
    ``converged_`` stays False after ``epochs`` epochs.

    Parameters: ``lr`` (eta) > 0; ``epochs``, the maximum number of passes; ``rng`` (a
    Generator, seed or None for the library's generator; used for shuffling); ``shuffle``.
    Fitted attributes: ``weights_`` (n_features,), ``bias_``, ``errors_``, ``converged_``,
    ``n_iter_`` (epochs run).

    >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]]); y = np.array([0, 0, 0, 1])
    >>> p = Perceptron(lr=0.1, epochs=20, rng=0).fit(X, y)
    >>> p.converged_, p.predict(X)
    (True, array([0, 0, 0, 1]))
    """

    def __init__(
        self,
        lr: float = 0.1,
        epochs: int = 100,
        rng: np.random.Generator | int | None = None,
        shuffle: bool = True,
    ) -> None:
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
            raise ValueError(f"Perceptron expected a positive number for `lr`, got {lr!r}")
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise ValueError(f"Perceptron expected a positive integer for `epochs`, got {epochs!r}")
        self.lr = float(lr)
        self.epochs = int(epochs)
        self.rng = rng
        self.shuffle = bool(shuffle)
        self.weights_: np.ndarray | None = None
        self.bias_: float = 0.0
        self.errors_: list[int] = []
        self.converged_: bool = False
        self.n_iter_: int = 0

    def fit(self, X: Any, y: Any) -> "Perceptron":
        """Train on X (n_samples, n_features) and labels y in {0, 1} (n_samples,); returns self."""
        X = _as_float_matrix(X, "Perceptron.fit")
        labels = _binary_labels(y, X.shape[0])
        rng = get_rng(self.rng) if self.shuffle else None
        n, d = X.shape
        w = np.zeros(d)
        b = 0.0
        errors: list[int] = []
        converged = False
        # Python scalars and rows: the rule is inherently sequential, one sample at a time
        rows = list(X)
        targets = labels.tolist()
        for _ in range(self.epochs):
            order = rng.permutation(n) if rng is not None else range(n)
            mistakes = 0
            for i in order:
                x = rows[i]
                y_hat = 1 if float(x @ w) + b >= 0.0 else 0
                step = self.lr * (targets[i] - y_hat)
                if step != 0.0:
                    w += step * x
                    b += step
                    mistakes += 1
            errors.append(mistakes)
            if mistakes == 0:
                converged = True
                break
        self.weights_, self.bias_ = w, float(b)
        self.errors_, self.converged_, self.n_iter_ = errors, converged, len(errors)
        return self

    def _check_fitted(self, X: Any, method: str) -> np.ndarray:
        if self.weights_ is None:
            raise RuntimeError(
                f"Perceptron.{method}: this perceptron is not fitted yet; call fit(X, y) first"
            )
        arr = np.asarray(X)
        if arr.ndim == 1 and arr.size == self.weights_.size:
            arr = arr[None, :]  # a single sample
        X = _as_float_matrix(arr, f"Perceptron.{method}")
        if X.shape[1] != self.weights_.size:
            raise ValueError(
                f"Perceptron.{method}: X has {X.shape[1]} features but the perceptron was fitted "
                f"on {self.weights_.size}"
            )
        return X

    def net_input(self, X: Any) -> np.ndarray:
        """The weighted sums w . x + b, shape (n_samples,) (its sign is the decision)."""
        X = self._check_fitted(X, "net_input")
        return X @ self.weights_ + self.bias_

    decision_function = net_input

    def predict(self, X: Any) -> np.ndarray:
        """Labels 1 where w . x + b >= 0, else 0; an int array of shape (n_samples,)."""
        X = self._check_fitted(X, "predict")
        return (X @ self.weights_ + self.bias_ >= 0).astype(np.int64)

    def score(self, X: Any, y: Any) -> float:
        """Accuracy of ``predict(X)`` against labels y in {0, 1}."""
        pred = self.predict(X)
        return float(np.mean(pred == _binary_labels(y, pred.shape[0])))

    def __repr__(self) -> str:
        return f"Perceptron(lr={self.lr:g}, epochs={self.epochs}, shuffle={self.shuffle})"


def _binary_labels(y: Any, n: int) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]  # a column of labels
    if arr.ndim != 1:
        raise ValueError(
            f"Perceptron expected labels y of shape (n_samples,), got shape {arr.shape}"
        )
    if arr.shape[0] != n:
        raise ValueError(f"Perceptron: X has {n} samples but y has {arr.shape[0]} labels")
    if arr.dtype.kind not in "fiub":
        raise ValueError(f"Perceptron expected labels 0 or 1, got an array of dtype {arr.dtype}")
    bad = np.unique(arr[(arr != 0) & (arr != 1)])
    if bad.size:
        shown = ", ".join(repr(v.item()) for v in bad[:5])
        raise ValueError(f"Perceptron expected labels 0 or 1, got {shown}")
    return arr.astype(np.int64)

"""Loss functions (손실함수) as callable objects: ``loss = criterion(outputs, targets)``.

Each class is a thin, configured wrapper around a fused op in :mod:`neuralab.autograd.ops.loss`,
so the forward pass and its gradient are computed stably in one place.  Calling a loss returns a
scalar :class:`~neuralab.Tensor` (with ``reduction="none"``, one term per sample or element) whose
``backward()`` fills the gradients of everything upstream.  ``targets`` may be NumPy arrays or
tensors; they are cast to the outputs' floating dtype.

Which loss for which task (the lecture's table):

=========================  ===============================  =====================================
task                       output layer                     loss
=========================  ===============================  =====================================
regression                 identity                         :class:`MSELoss`, :class:`L1Loss`,
                                                            :class:`HuberLoss`
binary classification      identity (logit)                 :class:`BCEWithLogitsLoss`
binary classification      sigmoid (probability)            :class:`BCELoss`
multi-class                identity (logits)                :class:`CrossEntropyLoss`
multi-class                softmax (probabilities, Keras)   ``CrossEntropyLoss(from_logits=False)``
multi-class                log_softmax                      :class:`NLLLoss`
=========================  ===============================  =====================================

>>> criterion = nn.CrossEntropyLoss()
>>> loss = criterion(model(x), labels)      # labels: integers of shape (N,)
>>> loss.backward()
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..autograd import Tensor
from ..autograd.ops import loss as F
from ..registry import Registry
from .module import Module

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "HuberLoss",
    "L1Loss",
    "Loss",
    "MSELoss",
    "NLLLoss",
    "get_loss",
    "one_hot",
]


class Loss(Module):
    """Base of the loss classes: a parameter-free :class:`~neuralab.nn.Module` whose
    ``forward(outputs, targets)`` returns the loss, so ``criterion(outputs, targets)`` works.

    ``reduction`` is ``"mean"`` (average over the loss terms), ``"sum"``, or ``"none"`` (the
    unreduced terms).  ``get_config()`` returns the constructor arguments.

    Each loss declares what it is for, so that a trainer never decides by class name:

    * ``task``: ``"multiclass"``, ``"binary"``, ``"regression"`` or ``"unknown"`` (a custom
      loss that does not say); a classification task gets accuracy by default and its metrics
      receive class labels.
    * ``output_kind``: what the model's outputs are for a classification loss, ``"logits"``,
      ``"probabilities"`` or ``"log_probabilities"`` (it fixes the decision threshold and
      ``predict_proba``), ``None`` for regression.
    """

    task: str = "unknown"
    output_kind: str | None = None

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(
                f"{type(self).__name__} expected reduction 'mean', 'sum' or 'none', "
                f"got {reduction!r}"
            )
        self.reduction = reduction

    def forward(self, outputs: Any, targets: Any) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must define forward(outputs, targets)")

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, so that ``type(loss)(**loss.get_config())`` rebuilds it."""
        return {"reduction": self.reduction}


class MSELoss(Loss):
    """Mean squared error (평균 제곱 오차), for regression:

        loss = (1/n) sum_i (x_i - y_i)^2        (reduction="sum": without the 1/n)

    over all n elements.  Outputs and targets must have the same shape; (N,) targets for (N, 1)
    outputs are accepted.
    """

    capturable = True  # its forward is one op (nn.Module.capturable)

    task = "regression"

    def forward(self, outputs: Any, targets: Any) -> Tensor:
        return F.mse_loss(outputs, targets, reduction=self.reduction)


class L1Loss(Loss):
    """Mean absolute error (MAE):

        loss = (1/n) sum_i |x_i - y_i|

    Its gradient is sign(x_i - y_i) / n (0 where x_i = y_i, as torch).
    """

    task = "regression"

    def forward(self, outputs: Any, targets: Any) -> Tensor:
        return F.l1_loss(outputs, targets, reduction=self.reduction)


class HuberLoss(Loss):
    """Huber loss, quadratic near zero and linear beyond ``delta`` (as ``torch.nn.HuberLoss``):

        l_i = (x_i - y_i)^2 / 2                  if |x_i - y_i| < delta
        l_i = delta (|x_i - y_i| - delta / 2)    otherwise,      loss = (1/n) sum_i l_i

    Less sensitive to outliers than MSE: the gradient is capped at +/- delta.
    """

    task = "regression"

    def __init__(self, delta: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        if isinstance(delta, bool) or not isinstance(delta, (int, float)) or not delta > 0:
            raise ValueError(f"HuberLoss expected a positive number for `delta`, got {delta!r}")
        self.delta = float(delta)

    def forward(self, outputs: Any, targets: Any) -> Tensor:
        return F.huber_loss(outputs, targets, delta=self.delta, reduction=self.reduction)

    def get_config(self) -> dict[str, Any]:
        return {"delta": self.delta, "reduction": self.reduction}


class BCELoss(Loss):
    """Binary cross-entropy (이진 교차 엔트로피) on probabilities p in [0, 1] (a sigmoid output):

        l_i = -[y_i log p_i + (1 - y_i) log(1 - p_i)],     loss = (1/n) sum_i l_i

    Each log is clamped at -100 (as ``torch.nn.BCELoss``), so p = 0 or 1 gives a finite loss
    (at most 100 per element).  :class:`BCEWithLogitsLoss` on the pre-sigmoid logits is more
    stable and is preferred.
    """

    task = "binary"
    output_kind = "probabilities"

    def forward(self, outputs: Any, targets: Any) -> Tensor:
        return F.binary_cross_entropy(outputs, targets, reduction=self.reduction)


class BCEWithLogitsLoss(Loss):
    """Sigmoid and binary cross-entropy in one stable op, on logits x (raw scores):

        l_i = -[y_i log s(x_i) + (1 - y_i) log(1 - s(x_i))]
            = max(x_i, 0) - x_i y_i + log(1 + e^(-|x_i|)),      s(x) = 1 / (1 + e^-x)

    finite for any |x|; the gradient is (s(x_i) - y_i) / n.
    """

    task = "binary"
    output_kind = "logits"

    def forward(self, outputs: Any, targets: Any) -> Tensor:
        return F.binary_cross_entropy_with_logits(outputs, targets, reduction=self.reduction)


class CrossEntropyLoss(Loss):
    """Cross-entropy (교차 엔트로피) for multi-class classification.

    Outputs have shape (N, C).  Targets are class indices of shape (N,) (integers), one-hot rows
    or class probabilities of shape (N, C).  With the smoothed target
    y~ = (1 - label_smoothing) y + label_smoothing / C (y one-hot for class indices):

        loss = (1/N) sum_n l_n,     l_n = -sum_c y~_nc log p_nc

    * ``from_logits=True`` (default, as ``torch.nn.CrossEntropyLoss``): outputs are logits and
      log p = log_softmax(x), computed inside one fused op that is stable for logits of any
      size; the gradient is (p - y~) / N.
    * ``from_logits=False`` (Keras' ``categorical_crossentropy``): outputs are probabilities, e.g.
      from ``Dense(3, activation="softmax")``; each row is rescaled to sum to 1 and p is clipped
      to [eps, 1 - eps] before the log.

    >>> criterion = CrossEntropyLoss(label_smoothing=0.1)
    >>> criterion(logits, np.array([0, 2, 1]))           # class indices
    >>> CrossEntropyLoss(from_logits=False)(softmax_out, one_hot(labels, 3))
    """

    task = "multiclass"

    def __init__(
        self,
        label_smoothing: float = 0.0,
        from_logits: bool = True,
        reduction: str = "mean",
        eps: float = 1e-7,
    ) -> None:
        super().__init__(reduction)
        if isinstance(label_smoothing, bool) or not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(
                f"CrossEntropyLoss expected `label_smoothing` in [0, 1], got {label_smoothing!r}"
            )
        if not 0 < eps < 0.5:
            raise ValueError(f"CrossEntropyLoss expected `eps` in (0, 0.5), got {eps!r}")
        self.label_smoothing = float(label_smoothing)
        self.from_logits = bool(from_logits)
        self.eps = float(eps)

    @property
    def output_kind(self) -> str:  # type: ignore[override]
        return "logits" if self.from_logits else "probabilities"

    @property
    def capturable(self) -> bool:  # type: ignore[override]
        """From logits the forward is one op; a replay checks the labels with
        :meth:`check_targets` (nn.Module.capturable)."""
        return self.from_logits

    def check_targets(self, targets: Any, output_shape: tuple[int, ...],
                      output_dtype: np.dtype) -> None:
        """The checks that ``forward`` makes of the targets (class indices in range, whole
        numbers), for outputs of this shape and dtype, without computing the loss."""
        like = np.broadcast_to(np.zeros((), dtype=output_dtype), output_shape)
        F._class_targets(targets, like, "cross_entropy")

    def forward(self, outputs: Any, targets: Any) -> Tensor:
        if self.from_logits:
            return F.cross_entropy(
                outputs, targets, label_smoothing=self.label_smoothing, reduction=self.reduction
            )
        return F.cross_entropy_from_probs(
            outputs,
            targets,
            label_smoothing=self.label_smoothing,
            eps=self.eps,
            reduction=self.reduction,
        )

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "label_smoothing": self.label_smoothing,
            "from_logits": self.from_logits,
            "reduction": self.reduction,
        }
        if not self.from_logits:
            config["eps"] = self.eps
        return config


class NLLLoss(Loss):
    """Negative log-likelihood on log-probabilities z of shape (N, C) (e.g. ``log_softmax``
    outputs) and class indices t of shape (N,):

        loss = -(1/N) sum_n z_(n, t_n)

    ``NLLLoss()(log_softmax(x), t)`` equals ``CrossEntropyLoss()(x, t)``.
    """

    task = "multiclass"
    output_kind = "log_probabilities"

    def forward(self, outputs: Any, targets: Any) -> Tensor:
        return F.nll_loss(outputs, targets, reduction=self.reduction)


# ------------------------------------------------------------------------------ one-hot encoding
def one_hot(labels: Any, num_classes: int | None = None, dtype: Any = np.float32) -> np.ndarray:
    """One-hot encoding (원핫 인코딩): integer labels of any shape -> an array with one more axis of
    length ``num_classes``, 1 at the label's position and 0 elsewhere.

    ``num_classes`` defaults to ``max(labels) + 1``.  Floats that hold whole numbers (labels read
    from a CSV file) are accepted.

    >>> one_hot([0, 2, 1])
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 1., 0.]], dtype=float32)
    """
    arr = labels.data if isinstance(labels, Tensor) else np.asarray(labels)
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.array_equal(arr, np.round(arr)):
            raise ValueError("one_hot expected integer labels, got non-integer values")
    elif arr.dtype.kind not in "iub":
        raise TypeError(f"one_hot expected integer labels, got an array of dtype {arr.dtype}")
    arr = arr.astype(np.intp, copy=False)
    if num_classes is None:
        if arr.size == 0:
            raise ValueError("one_hot cannot infer num_classes from empty labels; pass num_classes")
        num_classes = int(arr.max()) + 1
    elif (
        isinstance(num_classes, bool)
        or not isinstance(num_classes, (int, np.integer))
        or (num_classes < 1)
    ):
        raise ValueError(
            f"one_hot expected a positive integer for `num_classes`, got {num_classes!r}"
        )
    if arr.size:
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi >= num_classes:
            raise ValueError(
                f"one_hot got label {lo if lo < 0 else hi}, outside 0..{num_classes - 1} "
                f"for num_classes={num_classes}"
            )
    out = np.zeros(arr.shape + (int(num_classes),), dtype=dtype)
    np.put_along_axis(out, arr[..., None], 1, axis=-1)
    return out


# ------------------------------------------------------------------------------ lookup by name
#: canonical name -> (class, constructor defaults); Keras' names take probabilities (a softmax or
#: sigmoid output), as Keras does by default
_REGISTRY: Registry[tuple[type[Loss], dict[str, Any]]] = Registry("loss", {
    "mse": (MSELoss, {}),
    "mae": (L1Loss, {}),
    "huber": (HuberLoss, {}),
    "bce": (BCELoss, {}),
    "bce_with_logits": (BCEWithLogitsLoss, {}),
    "cross_entropy": (CrossEntropyLoss, {}),
    "categorical_crossentropy": (CrossEntropyLoss, {"from_logits": False}),
    "sparse_categorical_crossentropy": (CrossEntropyLoss, {"from_logits": False}),
    "nll": (NLLLoss, {}),
}, aliases={
    "mean_squared_error": "mse", "l2": "mse", "MSELoss": "mse",
    "l1": "mae", "mean_absolute_error": "mae", "L1Loss": "mae",
    "HuberLoss": "huber",
    "binary_cross_entropy": "bce", "binary_crossentropy": "bce", "BCELoss": "bce",
    "binary_cross_entropy_with_logits": "bce_with_logits", "BCEWithLogitsLoss": "bce_with_logits",
    "ce": "cross_entropy", "CrossEntropyLoss": "cross_entropy",
    "nll_loss": "nll", "NLLLoss": "nll",
})


def get_loss(identifier: str | Loss | Callable[..., Any], **kwargs: Any) -> Any:
    """A loss by name (case-insensitive; ``-`` and spaces read as ``_``), or ``identifier`` itself
    when it already is a loss or another callable.  ``kwargs`` go to the constructor.

    Names: mse / mean_squared_error / l2, mae / l1 / mean_absolute_error, huber,
    bce / binary_cross_entropy / binary_crossentropy (probabilities), bce_with_logits,
    cross_entropy / ce (logits), categorical_crossentropy / sparse_categorical_crossentropy
    (probabilities, as Keras), nll.

    >>> get_loss("cross_entropy", label_smoothing=0.1)
    CrossEntropyLoss(label_smoothing=0.1, from_logits=True, reduction='mean')
    """
    if isinstance(identifier, Loss) or (callable(identifier) and not isinstance(identifier, str)):
        if kwargs:
            raise TypeError(
                f"get_loss: keyword arguments {sorted(kwargs)} only apply when the loss is given "
                "by name"
            )
        return identifier
    if not isinstance(identifier, str):
        raise TypeError(
            f"get_loss expected a loss name, a Loss or a callable, got {type(identifier).__name__}"
        )
    cls, defaults = _REGISTRY.lookup(identifier)
    return cls(**{**defaults, **kwargs})

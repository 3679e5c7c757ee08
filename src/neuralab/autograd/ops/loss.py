"""Loss functions as fused ops: each computes the loss and its gradient in one place, stably.

Fusing matters for two reasons.  Stability: log-softmax + negative log-likelihood in one op never
forms ``log(softmax(x))`` (which is ``log 0 = -inf`` for logits of -1000), and sigmoid + binary
cross-entropy in one op never forms ``log(sigmoid(x))``.  Speed and clarity: the backward pass of
cross-entropy from logits is the famous ``(p - y) / N``, one subtraction instead of a chain of six
ops.

Conventions shared by every op here (they follow ``torch.nn.functional``):

* ``reduction`` is ``"mean"`` (the average over all loss terms; for the classification losses, one
  term per sample), ``"sum"`` or ``"none"`` (the unreduced terms, one per sample or element).
* Targets follow the inputs' floating dtype (float64 targets never upcast float32 work).
* Targets that are tensors requiring a gradient receive one where the formula allows it
  (regression targets, probability targets); class indices never do.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from ..tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")
# torch.nn.BCELoss clamps each log term at -100 so that p = 0 or 1 gives a finite loss.
_BCE_LOG_FLOOR = -100.0
# torch's BCE backward divides by max(p (1 - p), 1e-12), finite at p = 0 and p = 1.
_BCE_GRAD_EPS = 1e-12


# ---------------------------------------------------------------------------------- helpers
def _check_reduction(reduction: str, name: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _check_label_smoothing(label_smoothing: float, name: str) -> float:
    value = float(label_smoothing)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be in [0, 1], got {label_smoothing!r}")
    return value


def _reduce(fn: Function, losses: np.ndarray, reduction: str) -> np.ndarray:
    """Reduce the per-term ``losses`` and remember what backward needs to undo the reduction."""
    fn.reduction, fn.count = reduction, losses.size
    if reduction == "mean":
        # sum / n rather than mean(): the same pairwise sum at a third of the call overhead
        n = losses.size
        return np.asarray(losses.sum() / n if n else np.nan, dtype=losses.dtype)
    if reduction == "sum":
        return np.asarray(losses.sum(dtype=losses.dtype))
    return losses


def _term_grad(fn: Function, grad: np.ndarray) -> Any:
    """d loss / d term for each loss term: g / N, g, or the per-term gradient for "none"."""
    if fn.reduction == "mean":
        return grad / fn.count if fn.count else grad
    return grad


def _float_inputs(x: Any, name: str) -> Any:
    """The predictions as a floating Tensor or array (integer arrays become float32)."""
    if isinstance(x, Tensor):
        if x.dtype.kind != "f":
            raise TypeError(
                f"{name}: expected floating-point inputs, got a tensor of dtype {x.dtype}"
            )
        return x
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiub":
        raise TypeError(
            f"{name}: expected numeric inputs, got {type(x).__name__} of dtype {arr.dtype}"
        )
    # an array outside the graph follows the library default, as `operand` does for every op
    return arr if arr.dtype == np.float32 else arr.astype(np.float32)


def _target_data(targets: Any, name: str) -> np.ndarray:
    arr = targets.data if isinstance(targets, Tensor) else np.asarray(targets)
    if arr.dtype.kind not in "fiub":
        raise TypeError(
            f"{name}: expected numeric targets, got {type(targets).__name__} of dtype {arr.dtype}"
        )
    return arr


def _float_targets(targets: Any, inputs: Any, name: str) -> Any:
    """Targets cast to the inputs' float dtype and shaped like them.

    A target tensor that requires a gradient stays in the graph; anything else becomes an array.
    A trailing axis of length 1 on either side is tolerated ((N,) targets for (N, 1) outputs and
    the reverse), any other shape difference is an error: silent broadcasting of (N,) against
    (N, 1) would compare every output with every target.
    """
    shape = inputs.shape
    dtype = inputs.dtype
    data = _target_data(targets, name)
    if data.shape != shape:
        if data.size == int(np.prod(shape)) and (
            data.shape + (1,) == shape or data.shape == shape + (1,)
        ):
            if isinstance(targets, Tensor) and targets.requires_grad:
                targets = targets.reshape(shape)
            else:
                data = data.reshape(shape)
        else:
            raise ValueError(
                f"{name}: targets have shape {data.shape} but the inputs have shape {shape}; "
                "they must match (reshape one of them)"
            )
    if isinstance(targets, Tensor) and targets.requires_grad:
        return targets if targets.dtype == dtype else targets.astype(dtype)
    return data if data.dtype == dtype else data.astype(dtype)


def _class_targets(targets: Any, logits: Any, name: str) -> tuple[Any, bool]:
    """Interpret classification targets for logits/probabilities of shape (N, C) or (C,).

    Returns ``(targets, is_index)``: integer class indices of shape (N,) (or ()), or class
    probabilities (one-hot rows included) cast to the inputs' dtype, of shape (N, C).
    """
    shape = logits.shape
    if len(shape) not in (1, 2):
        raise ValueError(
            f"{name}: expected inputs of shape (N, C) or (C,) with the classes on the last axis, "
            f"got shape {shape}"
        )
    data = _target_data(targets, name)
    n_classes = shape[-1]
    if data.shape == shape:
        if isinstance(targets, Tensor) and targets.requires_grad:
            return (
                targets if targets.dtype == logits.dtype else targets.astype(logits.dtype)
            ), False
        return (data if data.dtype == logits.dtype else data.astype(logits.dtype)), False
    if data.shape == shape[:-1] + (1,):
        # a column of labels, as scikit-learn and Keras allow (whole-number floats are checked
        # below, as for (N,) labels)
        data = data.reshape(shape[:-1])
    if data.shape != shape[:-1]:
        raise ValueError(
            f"{name}: targets of shape {data.shape} do not fit inputs of shape {shape}; expected "
            f"class indices of shape {shape[:-1]} or class probabilities of shape {shape}"
        )
    if data.dtype.kind == "f":
        if not np.all(np.isfinite(data)) or not np.array_equal(data, np.round(data)):
            raise ValueError(
                f"{name}: targets of shape {data.shape} are read as class indices, but they hold "
                "non-integer values; give integer labels or probabilities of the inputs' shape"
            )
    labels = data.astype(np.intp, copy=False)
    # one reduction checks both bounds: viewed as unsigned, a negative index is huge
    if labels.size and labels.view(np.uintp).max() >= n_classes:
        lo = int(labels.min())
        bad = lo if lo < 0 else int(labels.max())
        raise IndexError(
            f"{name}: class index {bad} is out of range for {n_classes} classes "
            f"(expected 0 <= index < {n_classes})"
        )
    return labels, True


def _as_batch(x: np.ndarray) -> np.ndarray:
    return x[None, :] if x.ndim == 1 else x


# ---------------------------------------------------------------------------------- regression
class MSE(Function):
    """Squared error:  l_i = (x_i - y_i)^2;   dl/dx_i = 2 (x_i - y_i),  dl/dy_i = -2 (x_i - y_i)."""

    def forward(self, inputs, targets, reduction="mean"):
        self.diff = inputs - targets
        return _reduce(self, self.diff * self.diff, reduction)

    def backward(self, grad):
        gx = self.diff * (2 * _term_grad(self, grad))
        return gx, (-gx if self.needs[1] else None)


class L1(Function):
    """Absolute error:  l_i = |x_i - y_i|;  dl/dx_i = sign(x_i - y_i) (0 at 0) = -dl/dy_i."""

    def forward(self, inputs, targets, reduction="mean"):
        self.diff = inputs - targets
        return _reduce(self, np.abs(self.diff), reduction)

    def backward(self, grad):
        gx = np.sign(self.diff) * _term_grad(self, grad)
        return gx, (-gx if self.needs[1] else None)


class Huber(Function):
    """Huber loss with threshold delta, d_i = x_i - y_i:

    l_i = d_i^2 / 2                   if |d_i| < delta
    l_i = delta (|d_i| - delta / 2)   otherwise;

    dl/dx_i = clip(d_i, -delta, delta),  dl/dy_i = -dl/dx_i.
    """

    def forward(self, inputs, targets, reduction="mean", delta=1.0):
        d = inputs - targets
        a = np.abs(d)
        self.diff, self.delta = d, delta
        losses = np.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta)).astype(
            d.dtype, copy=False
        )
        return _reduce(self, losses, reduction)

    def backward(self, grad):
        gx = np.clip(self.diff, -self.delta, self.delta) * _term_grad(self, grad)
        return gx, (-gx if self.needs[1] else None)


# ---------------------------------------------------------------------------------- binary
class BinaryCrossEntropy(Function):
    """Binary cross-entropy on probabilities p in [0, 1], each log clamped at -100 (as torch):

    l_i = -[y_i max(ln p_i, -100) + (1 - y_i) max(ln(1 - p_i), -100)];

    dl/dp_i = (p_i - y_i) / max(p_i (1 - p_i), 1e-12),
    dl/dy_i = max(ln(1 - p_i), -100) - max(ln p_i, -100).
    """

    def forward(self, probs, targets, reduction="mean"):
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(probs), _BCE_LOG_FLOOR)
            log_q = np.maximum(np.log1p(-probs), _BCE_LOG_FLOOR)
        self.probs, self.targets = probs, targets
        self.log_p, self.log_q = log_p, log_q
        losses = -(targets * log_p + (1 - targets) * log_q)
        return _reduce(self, losses, reduction)

    def backward(self, grad):
        p, y = self.probs, self.targets
        g = _term_grad(self, grad)
        gp = (p - y) / np.maximum(p * (1 - p), _BCE_GRAD_EPS) * g if self.needs[0] else None
        gy = (self.log_q - self.log_p) * g if self.needs[1] else None
        return gp, gy


class BinaryCrossEntropyWithLogits(Function):
    """Sigmoid and binary cross-entropy fused, for logits x (stable for any |x|):

    l_i = -[y_i ln s(x_i) + (1 - y_i) ln(1 - s(x_i))] = max(x_i, 0) - x_i y_i + ln(1 + e^-|x_i|);

    dl/dx_i = s(x_i) - y_i,  dl/dy_i = -x_i,  with s the logistic sigmoid.
    """

    def forward(self, logits, targets, reduction="mean"):
        self.logits, self.targets = logits, targets
        losses = np.maximum(logits, 0) - logits * targets + np.log1p(np.exp(-np.abs(logits)))
        return _reduce(self, losses, reduction)

    def backward(self, grad):
        x = self.logits
        g = _term_grad(self, grad)
        gx = None
        if self.needs[0]:
            e = np.exp(-np.abs(x))
            sig = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
            gx = (sig - self.targets) * g
        return gx, (-x * g if self.needs[1] else None)


# ---------------------------------------------------------------------------------- multi-class
def _row_grad(fn: Function, grad: np.ndarray) -> Any:
    """d loss / d row loss, shaped to broadcast over each row's classes ((N, 1) for "none")."""
    g = _term_grad(fn, grad)
    return np.reshape(g, (-1, 1)) if fn.reduction == "none" else g


def _soft_target_grad(fn: Function, log_p: np.ndarray, g: Any) -> np.ndarray | None:
    """dl/dy = -(1 - eps) log p for probability targets that require a gradient, else None."""
    if fn.index or len(fn.needs) < 2 or not fn.needs[1]:
        return None
    gy = log_p * (-(1 - fn.eps) * g)
    return gy.reshape(-1) if fn.unbatched else gy


class CrossEntropy(Function):
    """Log-softmax and cross-entropy fused, for logits x of shape (N, C) (one row per sample).

    With log p = x - logsumexp(x) over the classes and the smoothed target
    y~ = (1 - eps) y + eps / C (y one-hot for class indices, else the given probabilities):

    l_n = -sum_c y~_nc log p_nc;

    dl/dx_n = p_n sum_c y~_nc - y~_n  (= p_n - y~_n when the target row sums to 1),
    dl/dy_nc = -(1 - eps) log p_nc  (probability targets only).
    """

    def forward(self, logits, targets, reduction="mean", label_smoothing=0.0, index=True):
        x = _as_batch(logits)
        n, c = x.shape
        shifted = x - x.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        log_p = shifted
        log_p -= np.log(total)
        eps = label_smoothing
        if index:
            labels = targets.reshape(-1)
            losses = -log_p[np.arange(n), labels]
            if eps:
                losses *= 1 - eps
                losses -= (eps / c) * log_p.sum(axis=1)
            self.labels = labels
        else:
            y = _as_batch(targets)
            if eps:
                y = y * (1 - eps) + eps / c
            losses = -(y * log_p).sum(axis=1)
            self.soft = y
        self.exp, self.total, self.log_p = exp, total, log_p
        self.index, self.eps, self.unbatched = index, eps, logits.ndim == 1
        if self.unbatched:
            losses = losses.reshape(())
        return _reduce(self, losses, reduction)

    def backward(self, grad):
        g = _row_grad(self, grad)
        n, c = self.exp.shape
        gx = None
        if self.needs[0]:
            p = self.exp / self.total
            if self.index:
                p[np.arange(n), self.labels] -= 1 - self.eps
                if self.eps:
                    p -= self.eps / c
                gx = p
            else:
                gx = p * self.soft.sum(axis=1, keepdims=True) - self.soft
            gx *= g
            if self.unbatched:
                gx = gx.reshape(-1)
        return gx, _soft_target_grad(self, self.log_p, g)


class CrossEntropyFromProbs(Function):
    """Cross-entropy on probabilities (Keras' ``categorical_crossentropy`` with from_logits=False).

    Each row is rescaled to sum to 1 and clipped away from 0 and 1, q = clip(p / sum p, e, 1 - e)
    with e = 1e-7 by default; with the smoothed target y~ = (1 - eps) y + eps / C:

    l_n = -sum_c y~_nc log q_nc;

    with g_c = -y~_c / q_c where p_c / sum p lies inside [e, 1 - e] (else 0) and s = sum p:
    dl/dp_c = (g_c - sum_k g_k p_k / s) / s,   dl/dy_c = -(1 - eps) log q_c.
    """

    def forward(self, probs, targets, reduction="mean", label_smoothing=0.0, index=True, eps=1e-7):
        p = _as_batch(probs)
        n, c = p.shape
        total = p.sum(axis=1, keepdims=True)
        ratio = p / total
        lo, hi = p.dtype.type(eps), p.dtype.type(1 - eps)
        clipped = np.clip(ratio, lo, hi)
        if index:
            y = np.zeros_like(p)
            y[np.arange(n), targets.reshape(-1)] = 1
        else:
            y = _as_batch(targets)
        if label_smoothing:
            y = y * (1 - label_smoothing) + label_smoothing / c
        log_q = np.log(clipped)
        losses = -(y * log_q).sum(axis=1)
        self.ratio, self.clipped, self.total, self.log_q, self.soft = (
            ratio,
            clipped,
            total,
            log_q,
            y,
        )
        self.lo, self.hi = lo, hi
        self.index, self.eps, self.unbatched = index, label_smoothing, probs.ndim == 1
        if self.unbatched:
            losses = losses.reshape(())
        return _reduce(self, losses, reduction)

    def backward(self, grad):
        g = _row_grad(self, grad)
        gx = None
        if self.needs[0]:
            r = self.ratio
            inside = (r >= self.lo) & (r <= self.hi)
            gq = np.where(inside, -self.soft / self.clipped, 0).astype(r.dtype, copy=False)
            gx = (gq - (gq * r).sum(axis=1, keepdims=True)) / self.total * g
            if self.unbatched:
                gx = gx.reshape(-1)
        return gx, _soft_target_grad(self, self.log_q, g)


class NLL(Function):
    """Negative log-likelihood on log-probabilities z (N, C) and class indices t:

    l_n = -z_(n, t_n);   dl/dz_nc = -1 if c = t_n, else 0.
    """

    def forward(self, log_probs, labels, reduction="mean"):
        z = _as_batch(log_probs)
        n = z.shape[0]
        self.labels, self.shape, self.unbatched = labels.reshape(-1), z.shape, log_probs.ndim == 1
        losses = -z[np.arange(n), self.labels]
        if self.unbatched:
            losses = losses.reshape(())
        return _reduce(self, losses, reduction)

    def backward(self, grad):
        g = _term_grad(self, grad)
        out = np.zeros(self.shape, dtype=grad.dtype)
        out[np.arange(self.shape[0]), self.labels] = -np.reshape(g, -1)
        return (out.reshape(-1) if self.unbatched else out), None


# ---------------------------------------------------------------------------------- functions
def mse_loss(inputs: Any, targets: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error: mean_i (x_i - y_i)^2 (``reduction="sum"``: the sum)."""
    _check_reduction(reduction, "mse_loss")
    x = _float_inputs(inputs, "mse_loss")
    return MSE.apply(x, _float_targets(targets, x, "mse_loss"), reduction=reduction)


def l1_loss(inputs: Any, targets: Any, reduction: str = "mean") -> Tensor:
    """Mean absolute error: mean_i |x_i - y_i|."""
    _check_reduction(reduction, "l1_loss")
    x = _float_inputs(inputs, "l1_loss")
    return L1.apply(x, _float_targets(targets, x, "l1_loss"), reduction=reduction)


def huber_loss(inputs: Any, targets: Any, delta: float = 1.0, reduction: str = "mean") -> Tensor:
    """Huber loss: d^2 / 2 for |d| < delta, delta (|d| - delta / 2) beyond (d = x - y)."""
    _check_reduction(reduction, "huber_loss")
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be a positive number, got {delta!r}")
    x = _float_inputs(inputs, "huber_loss")
    y = _float_targets(targets, x, "huber_loss")
    return Huber.apply(x, y, reduction=reduction, delta=float(delta))


def binary_cross_entropy(probs: Any, targets: Any, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy on probabilities in [0, 1], logs clamped at -100 (as torch):
    -[y ln p + (1 - y) ln(1 - p)].  Prefer :func:`binary_cross_entropy_with_logits`."""
    _check_reduction(reduction, "binary_cross_entropy")
    p = _float_inputs(probs, "binary_cross_entropy")
    data = p.data if isinstance(p, Tensor) else p
    if data.size and not (data.min() >= 0 and data.max() <= 1):
        bad = data[~((data >= 0) & (data <= 1))].flat[0]
        raise ValueError(
            f"binary_cross_entropy: inputs must be probabilities in [0, 1], found {bad}; "
            "for raw scores use binary_cross_entropy_with_logits (BCEWithLogitsLoss)"
        )
    y = _float_targets(targets, p, "binary_cross_entropy")
    return BinaryCrossEntropy.apply(p, y, reduction=reduction)


def binary_cross_entropy_with_logits(logits: Any, targets: Any, reduction: str = "mean") -> Tensor:
    """Sigmoid + binary cross-entropy in one stable op:
    max(x, 0) - x y + ln(1 + e^-|x|) = -[y ln s(x) + (1 - y) ln(1 - s(x))]."""
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    x = _float_inputs(logits, "binary_cross_entropy_with_logits")
    y = _float_targets(targets, x, "binary_cross_entropy_with_logits")
    return BinaryCrossEntropyWithLogits.apply(x, y, reduction=reduction)


def cross_entropy(
    logits: Any, targets: Any, label_smoothing: float = 0.0, reduction: str = "mean"
) -> Tensor:
    """Cross-entropy from logits (log-softmax + negative log-likelihood in one stable op).

    ``logits`` has shape (N, C) (or (C,) for one sample).  ``targets`` are class indices of shape
    (N,) (integers, or integral floats) or class probabilities of shape (N, C), one-hot rows
    included.  With log p = log_softmax(x) and y~ = (1 - eps) y + eps / C:

        loss_n = -sum_c y~_nc log p_nc,    mean over n by default.

    ``label_smoothing`` (eps) mixes the target with the uniform distribution, as
    ``torch.nn.functional.cross_entropy``.  The gradient is (p - y~) / N.
    """
    _check_reduction(reduction, "cross_entropy")
    eps = _check_label_smoothing(label_smoothing, "cross_entropy")
    x = _float_inputs(logits, "cross_entropy")
    y, index = _class_targets(targets, x, "cross_entropy")
    return CrossEntropy.apply(x, y, reduction=reduction, label_smoothing=eps, index=index)


def cross_entropy_from_probs(
    probs: Any,
    targets: Any,
    label_smoothing: float = 0.0,
    eps: float = 1e-7,
    reduction: str = "mean",
) -> Tensor:
    """Cross-entropy from probabilities (e.g. a softmax output), as Keras'
    ``categorical_crossentropy``: rows rescaled to sum to 1, clipped to [eps, 1 - eps], then

        loss_n = -sum_c y~_nc log q_nc,    y~ = (1 - label_smoothing) y + label_smoothing / C.

    Targets as in :func:`cross_entropy`.  Less stable than :func:`cross_entropy` on logits:
    probabilities below ``eps`` are clipped and pass no gradient.
    """
    _check_reduction(reduction, "cross_entropy_from_probs")
    smoothing = _check_label_smoothing(label_smoothing, "cross_entropy_from_probs")
    if not 0 < eps < 0.5:
        raise ValueError(f"cross_entropy_from_probs: eps must be in (0, 0.5), got {eps!r}")
    p = _float_inputs(probs, "cross_entropy_from_probs")
    y, index = _class_targets(targets, p, "cross_entropy_from_probs")
    return CrossEntropyFromProbs.apply(
        p, y, reduction=reduction, label_smoothing=smoothing, index=index, eps=float(eps)
    )


def nll_loss(log_probs: Any, targets: Any, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood: -log_probs[n, t_n], for log-probabilities (e.g. log_softmax) of
    shape (N, C) and class indices t of shape (N,)."""
    _check_reduction(reduction, "nll_loss")
    z = _float_inputs(log_probs, "nll_loss")
    labels, index = _class_targets(targets, z, "nll_loss")
    if not index:
        raise ValueError(
            f"nll_loss: expected class indices of shape {z.shape[:-1]}, got targets of shape "
            f"{z.shape}; for probability targets use cross_entropy"
        )
    return NLL.apply(z, labels, reduction=reduction)

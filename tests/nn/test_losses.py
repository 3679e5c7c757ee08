"""Losses against PyTorch (forward and gradients), hand formulas, gradcheck, and one_hot."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import neuralab as nl
from neuralab.nn.losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    Loss,
    MSELoss,
    NLLLoss,
    get_loss,
    one_hot,
)

DTYPES = [np.float32, np.float64]
TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}
REDUCTIONS = ["mean", "sum", "none"]


def tol(dtype):
    return dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# Each case: name -> (our loss factory, torch function, make(rng) -> (inputs, targets)).
# Targets that are float arrays are compared as tensors; integer targets stay labels.
def _regression(rng):
    return rng.standard_normal((5, 3)) * 2, rng.standard_normal((5, 3))


def _probs_and_soft_targets(rng):
    return rng.uniform(0.02, 0.98, (4, 3)), rng.uniform(0, 1, (4, 3))


def _probs_and_binary_targets(rng):
    return rng.uniform(0.02, 0.98, (7,)), rng.integers(0, 2, 7).astype(np.float64)


def _logits_and_soft_targets(rng):
    return rng.standard_normal((4, 3)) * 3, rng.uniform(0, 1, (4, 3))


def _logits_and_labels(rng):
    return rng.standard_normal((6, 4)) * 2, rng.integers(0, 4, 6)


def _logits_and_probs(rng):
    return rng.standard_normal((6, 4)) * 2, _softmax(rng.standard_normal((6, 4)))


def _logits_and_onehot(rng):
    return rng.standard_normal((6, 4)) * 2, np.eye(4)[rng.integers(0, 4, 6)]


def _log_probs_and_labels(rng):
    z = rng.standard_normal((6, 4))
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True)), rng.integers(0, 4, 6)


CASES = {
    "mse": (
        lambda r: MSELoss(reduction=r),
        lambda x, y, r: TF.mse_loss(x, y, reduction=r),
        _regression,
    ),
    "l1": (
        lambda r: L1Loss(reduction=r),
        lambda x, y, r: TF.l1_loss(x, y, reduction=r),
        _regression,
    ),
    "huber_1": (
        lambda r: HuberLoss(reduction=r),
        lambda x, y, r: TF.huber_loss(x, y, reduction=r, delta=1.0),
        _regression,
    ),
    "huber_0.5": (
        lambda r: HuberLoss(delta=0.5, reduction=r),
        lambda x, y, r: TF.huber_loss(x, y, reduction=r, delta=0.5),
        _regression,
    ),
    "huber_3": (
        lambda r: HuberLoss(delta=3, reduction=r),
        lambda x, y, r: TF.huber_loss(x, y, reduction=r, delta=3.0),
        _regression,
    ),
    "bce_soft": (
        lambda r: BCELoss(reduction=r),
        lambda x, y, r: TF.binary_cross_entropy(x, y, reduction=r),
        _probs_and_soft_targets,
    ),
    "bce_binary": (
        lambda r: BCELoss(reduction=r),
        lambda x, y, r: TF.binary_cross_entropy(x, y, reduction=r),
        _probs_and_binary_targets,
    ),
    "bce_logits": (
        lambda r: BCEWithLogitsLoss(reduction=r),
        lambda x, y, r: TF.binary_cross_entropy_with_logits(x, y, reduction=r),
        _logits_and_soft_targets,
    ),
    "ce_labels": (
        lambda r: CrossEntropyLoss(reduction=r),
        lambda x, y, r: TF.cross_entropy(x, y, reduction=r),
        _logits_and_labels,
    ),
    "ce_probs": (
        lambda r: CrossEntropyLoss(reduction=r),
        lambda x, y, r: TF.cross_entropy(x, y, reduction=r),
        _logits_and_probs,
    ),
    "ce_onehot": (
        lambda r: CrossEntropyLoss(reduction=r),
        lambda x, y, r: TF.cross_entropy(x, y, reduction=r),
        _logits_and_onehot,
    ),
    "ce_unnormalized_targets": (  # rows not summing to 1: the gradient is p sum(y) - y
        lambda r: CrossEntropyLoss(label_smoothing=0.1, reduction=r),
        lambda x, y, r: TF.cross_entropy(x, y, reduction=r, label_smoothing=0.1),
        _logits_and_soft_targets,
    ),
    "ce_labels_smooth": (
        lambda r: CrossEntropyLoss(label_smoothing=0.2, reduction=r),
        lambda x, y, r: TF.cross_entropy(x, y, reduction=r, label_smoothing=0.2),
        _logits_and_labels,
    ),
    "ce_probs_smooth": (
        lambda r: CrossEntropyLoss(label_smoothing=0.3, reduction=r),
        lambda x, y, r: TF.cross_entropy(x, y, reduction=r, label_smoothing=0.3),
        _logits_and_probs,
    ),
    "ce_labels_full_smooth": (
        lambda r: CrossEntropyLoss(label_smoothing=1.0, reduction=r),
        lambda x, y, r: TF.cross_entropy(x, y, reduction=r, label_smoothing=1.0),
        _logits_and_labels,
    ),
    "nll": (
        lambda r: NLLLoss(reduction=r),
        lambda x, y, r: TF.nll_loss(x, y, reduction=r),
        _log_probs_and_labels,
    ),
}


def ours(criterion, x, y, dtype, cotangent=None, target_grad=False):
    xt = nl.tensor(x, requires_grad=True, dtype=dtype)
    if target_grad:
        y = nl.tensor(y, requires_grad=True, dtype=dtype)
    out = criterion(xt, y)
    if cotangent is None:
        out.backward()
    else:
        out.backward(cotangent.astype(dtype))
    return out, xt.grad, (y.grad if target_grad else None)


def theirs(fn, x, y, dtype, reduction, cotangent=None, target_grad=False):
    xt = torch.tensor(x, dtype=TORCH_DTYPE[dtype], requires_grad=True)
    if np.asarray(y).dtype.kind in "iu":
        yt = torch.tensor(y, dtype=torch.long)
    else:
        yt = torch.tensor(y, dtype=TORCH_DTYPE[dtype], requires_grad=target_grad)
    out = fn(xt, yt, reduction)
    if cotangent is None:
        out.backward()
    else:
        out.backward(torch.tensor(cotangent, dtype=TORCH_DTYPE[dtype]))
    return (
        out.detach().numpy(),
        xt.grad.numpy(),
        (yt.grad.numpy() if target_grad else None),
    )


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", list(CASES))
def test_loss_matches_torch(case, reduction, dtype):
    make_ours, torch_fn, make = CASES[case]
    rng = np.random.default_rng(zlib.crc32(case.encode()))  # hash() is salted per process
    x, y = make(rng)
    cot = None
    if reduction == "none":
        cot = rng.standard_normal(x.shape[:-1] if case.startswith(("ce", "nll")) else x.shape)
    out, gx, _ = ours(make_ours(reduction), x, y, dtype, cot)
    t_out, t_gx, _ = theirs(torch_fn, x, y, dtype, reduction, cot)
    assert out.dtype == dtype and gx.dtype == dtype
    assert out.shape == t_out.shape
    np.testing.assert_allclose(out.data, t_out, **tol(dtype))
    np.testing.assert_allclose(gx, t_gx, **tol(dtype))


TARGET_GRAD_CASES = [
    "mse",
    "l1",
    "huber_1",
    "huber_0.5",
    "bce_soft",
    "bce_logits",
    "ce_probs",
    "ce_probs_smooth",
    "ce_unnormalized_targets",
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", TARGET_GRAD_CASES)
def test_gradient_wrt_targets_matches_torch(case, dtype):
    make_ours, torch_fn, make = CASES[case]
    x, y = make(np.random.default_rng(7))
    _, gx, gy = ours(make_ours("mean"), x, y, dtype, target_grad=True)
    _, t_gx, t_gy = theirs(torch_fn, x, y, dtype, "mean", target_grad=True)
    np.testing.assert_allclose(gx, t_gx, **tol(dtype))
    np.testing.assert_allclose(gy, t_gy, **tol(dtype))


# ------------------------------------------------------------------------ numerical stability
EXTREME = np.array(
    [
        [1000.0, -1000.0, 0.0],
        [-1000.0, -1000.0, 1000.0],
        [1000.0, 1000.0, -1000.0],
        [0.5, -1000.0, 1000.0],
    ]
)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("kind", ["labels", "probs"])
def test_cross_entropy_extreme_logits(kind, smoothing, dtype):
    labels = np.array([1, 2, 2, 0])  # includes confidently wrong samples: losses near 2000
    y = (
        labels
        if kind == "labels"
        else np.array([[0.2, 0.8, 0.0], [0.0, 0.0, 1.0], [0.5, 0.0, 0.5], [1.0, 0.0, 0.0]])
    )
    criterion = CrossEntropyLoss(label_smoothing=smoothing)
    out, gx, _ = ours(criterion, EXTREME, y, dtype)
    t_out, t_gx, _ = theirs(
        lambda a, b, r: TF.cross_entropy(a, b, reduction=r, label_smoothing=smoothing),
        EXTREME,
        y,
        dtype,
        "mean",
    )
    assert np.isfinite(out.data) and np.all(np.isfinite(gx))
    assert out.item() > 100  # the wrong, confident samples really cost ~1000-2000 each
    np.testing.assert_allclose(out.data, t_out, rtol=1e-6)
    np.testing.assert_allclose(gx, t_gx, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_bce_with_logits_extreme_logits(dtype):
    x = np.array([1000.0, -1000.0, 1000.0, -1000.0, 0.0])
    y = np.array([1.0, 0.0, 0.0, 1.0, 0.5])
    out, gx, _ = ours(BCEWithLogitsLoss(reduction="none"), x, y, dtype, np.ones(5))
    t_out, t_gx, _ = theirs(
        lambda a, b, r: TF.binary_cross_entropy_with_logits(a, b, reduction=r),
        x,
        y,
        dtype,
        "none",
        np.ones(5),
    )
    assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(gx))
    np.testing.assert_allclose(out.data, [0.0, 0.0, 1000.0, 1000.0, np.log(2)], rtol=1e-6)
    np.testing.assert_allclose(out.data, t_out, rtol=1e-6)
    np.testing.assert_allclose(gx, t_gx, rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_bce_probabilities_zero_and_one(dtype):
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.3])
    y = np.array([0.0, 1.0, 1.0, 0.0, 0.5, 0.25, 1.0])
    out, gp, _ = ours(BCELoss(reduction="none"), p, y, dtype, np.ones(7))
    t_out, t_gp, _ = theirs(
        lambda a, b, r: TF.binary_cross_entropy(a, b, reduction=r), p, y, dtype, "none", np.ones(7)
    )
    # log clamped at -100: a confidently wrong prediction costs exactly 100, never inf or nan
    np.testing.assert_allclose(out.data[:6], [0, 0, 100, 100, 50, 75], atol=1e-5)
    np.testing.assert_allclose(out.data, t_out, **tol(dtype))
    assert np.all(np.isfinite(gp))
    np.testing.assert_allclose(gp, t_gp, rtol=1e-6)
    mean = BCELoss()(nl.tensor(p, dtype=dtype), y)
    assert np.isfinite(mean.item())


# ------------------------------------------------------------------------ Keras-style CE on probs
def _keras_cce(p, y, eps=1e-7, smoothing=0.0):
    """Keras' categorical_crossentropy by hand: rescale rows, clip, -sum y log."""
    q = np.clip(p / p.sum(axis=-1, keepdims=True), eps, 1 - eps)
    y = y * (1 - smoothing) + smoothing / p.shape[-1]
    return -(y * np.log(q)).sum(axis=-1)


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("target_kind", ["labels", "onehot", "probs"])
def test_cross_entropy_from_probs_matches_hand_formula(target_kind, smoothing):
    rng = np.random.default_rng(3)
    p = _softmax(rng.standard_normal((8, 3)) * 3)
    p[0] = [1.0, 0.0, 0.0]  # exercises the clip at eps and 1 - eps
    labels = rng.integers(0, 3, 8)
    labels[0] = 1  # log(clip(0)) = log(1e-7)
    y = {
        "labels": labels,
        "onehot": np.eye(3)[labels],
        "probs": _softmax(rng.standard_normal((8, 3))),
    }[target_kind]
    dense = np.eye(3)[labels] if target_kind == "labels" else y
    expected = _keras_cce(p, dense, smoothing=smoothing)
    criterion = CrossEntropyLoss(from_logits=False, label_smoothing=smoothing, reduction="none")
    out = criterion(nl.tensor(p, dtype=np.float64), y)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    assert expected[0] > 10  # -log 1e-7 = 16.1 dominates: the clip really was applied
    mean = CrossEntropyLoss(from_logits=False, label_smoothing=smoothing)(nl.tensor(p), y)
    assert mean.dtype == np.float32
    np.testing.assert_allclose(mean.item(), expected.mean(), rtol=1e-5)

    # gradient: the same formula differentiated by torch's autograd (clamp passes inside [lo, hi])
    pt = torch.tensor(p, requires_grad=True)
    q = torch.clamp(pt / pt.sum(dim=-1, keepdim=True), 1e-7, 1 - 1e-7)
    yt = torch.tensor(dense) * (1 - smoothing) + smoothing / 3
    (-(yt * torch.log(q)).sum(dim=-1)).mean().backward()
    x = nl.tensor(p, requires_grad=True, dtype=np.float64)
    CrossEntropyLoss(from_logits=False, label_smoothing=smoothing)(x, y).backward()
    np.testing.assert_allclose(x.grad, pt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_cross_entropy_from_probs_after_softmax_equals_logits_version():
    rng = np.random.default_rng(4)
    logits = rng.standard_normal((10, 3))
    labels = rng.integers(0, 3, 10)
    a = nl.tensor(logits, requires_grad=True, dtype=np.float64)
    b = nl.tensor(logits, requires_grad=True, dtype=np.float64)
    la = CrossEntropyLoss(from_logits=False)(nl.softmax(a), labels)
    lb = CrossEntropyLoss()(b, labels)
    la.backward()
    lb.backward()
    np.testing.assert_allclose(la.item(), lb.item(), rtol=1e-12)
    np.testing.assert_allclose(a.grad, b.grad, rtol=1e-9, atol=1e-12)


def test_unbatched_cross_entropy_and_nll_match_torch():
    rng = np.random.default_rng(5)
    z = rng.standard_normal(4)
    for criterion, fn, target in [
        (
            CrossEntropyLoss(label_smoothing=0.1),
            lambda a, b: TF.cross_entropy(a, b, label_smoothing=0.1),
            2,
        ),
        (NLLLoss(), TF.nll_loss, 3),
        (CrossEntropyLoss(), TF.cross_entropy, _softmax(rng.standard_normal(4))),
    ]:
        x = nl.tensor(z, requires_grad=True, dtype=np.float64)
        out = criterion(x, target)
        out.backward()
        xt = torch.tensor(z, requires_grad=True)
        yt = torch.tensor(target) if np.ndim(target) else torch.tensor(target, dtype=torch.long)
        t_out = fn(xt, yt)
        t_out.backward()
        assert out.shape == ()
        np.testing.assert_allclose(out.item(), t_out.item(), rtol=1e-12)
        np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------------ gradcheck of the ops
GRADCHECK = {
    "mse_loss": lambda x, y: nl.mse_loss(x, y),
    "l1_loss": lambda x, y: nl.l1_loss(x, y, reduction="sum"),
    "huber_loss": lambda x, y: nl.huber_loss(x, y, delta=0.7, reduction="none"),
    "binary_cross_entropy": lambda x, y: nl.binary_cross_entropy(nl.sigmoid(x), nl.sigmoid(y)),
    "binary_cross_entropy_with_logits": lambda x, y: nl.binary_cross_entropy_with_logits(
        x, nl.sigmoid(y), reduction="none"
    ),
    "cross_entropy_probs": lambda x, y: nl.cross_entropy(x, nl.softmax(y), label_smoothing=0.1),
    "cross_entropy_from_probs": lambda x, y: nl.cross_entropy_from_probs(
        nl.softmax(x), nl.softmax(y), label_smoothing=0.1, reduction="none"
    ),
}


@pytest.mark.parametrize("name", list(GRADCHECK))
def test_gradcheck_fused_ops_inputs_and_targets(name):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((3, 4))
    y = rng.standard_normal((3, 4))
    if name == "l1_loss":
        y = x + np.where(rng.random((3, 4)) < 0.5, -1, 1) * rng.uniform(0.1, 1, (3, 4))  # no kinks
    if name == "huber_loss":
        y = x + rng.choice([-1.5, -0.3, 0.3, 1.5], (3, 4))  # both branches, away from |d| = delta
    report = nl.gradcheck(GRADCHECK[name], x, y)
    assert report.ok, str(report)


@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_class_index_ops(reduction, smoothing):
    rng = np.random.default_rng(12)
    x = rng.standard_normal((5, 3))
    labels = rng.integers(0, 3, 5)
    for fn in (
        lambda a: nl.cross_entropy(a, labels, label_smoothing=smoothing, reduction=reduction),
        lambda a: nl.cross_entropy_from_probs(
            nl.softmax(a), labels, label_smoothing=smoothing, reduction=reduction
        ),
        lambda a: nl.nll_loss(nl.log_softmax(a), labels, reduction=reduction),
    ):
        report = nl.gradcheck(fn, x)
        assert report.ok, str(report)


def test_fused_ops_are_exported_at_top_level():
    for name in [
        "cross_entropy",
        "cross_entropy_from_probs",
        "binary_cross_entropy",
        "binary_cross_entropy_with_logits",
        "mse_loss",
        "l1_loss",
        "huber_loss",
        "nll_loss",
    ]:
        assert callable(getattr(nl, name)) and name in nl.__all__


# ------------------------------------------------------------------------ targets and dtypes
def test_float64_targets_do_not_upcast_float32_outputs():
    x = nl.tensor(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True)
    for criterion, y in [
        (MSELoss(), np.ones((4, 3))),
        (CrossEntropyLoss(), _softmax(np.ones((4, 3)))),
        (BCEWithLogitsLoss(), np.zeros((4, 3))),
    ]:
        x.grad = None
        out = criterion(x, y)
        out.backward()
        assert out.dtype == np.float32 and x.grad.dtype == np.float32


def test_targets_may_be_tensors_lists_or_columns():
    x = nl.tensor([[0.5], [1.5], [-1.0]], requires_grad=True)
    expected = np.mean((np.array([0.5, 1.5, -1.0]) - np.array([1.0, 1.0, 0.0])) ** 2)
    for y in (
        [1.0, 1.0, 0.0],
        np.array([[1.0], [1.0], [0.0]]),
        nl.tensor([1.0, 1.0, 0.0]),
        [1, 1, 0],
    ):
        np.testing.assert_allclose(MSELoss()(x, y).item(), expected, rtol=1e-6)
    with pytest.raises(
        ValueError, match=r"targets have shape \(3, 2\) but the inputs have shape \(3, 1\)"
    ):
        MSELoss()(x, np.zeros((3, 2)))
    logits = nl.tensor(np.zeros((3, 4)))
    a = CrossEntropyLoss()(logits, np.array([[0], [3], [2]]))  # a column of labels
    b = CrossEntropyLoss()(logits, nl.tensor([0, 3, 2]))
    c = CrossEntropyLoss()(logits, np.array([0.0, 3.0, 2.0]))  # whole-number floats from a CSV
    np.testing.assert_allclose([a.item(), b.item(), c.item()], np.log(4), rtol=1e-6)


def test_loss_on_plain_arrays_has_no_graph():
    out = MSELoss()(np.array([1.0, 2.0]), np.array([0.0, 0.0]))
    assert isinstance(out, nl.Tensor) and not out.requires_grad
    np.testing.assert_allclose(out.item(), 2.5)


def test_clear_errors():
    logits = nl.tensor(np.zeros((3, 4)))
    with pytest.raises(IndexError, match="class index 4 is out of range for 4 classes"):
        CrossEntropyLoss()(logits, [0, 4, 1])
    with pytest.raises(IndexError, match="class index -1"):
        NLLLoss()(logits, [0, -1, 1])
    with pytest.raises(ValueError, match="non-integer values"):
        CrossEntropyLoss()(logits, [0.5, 1.0, 2.0])
    with pytest.raises(
        ValueError, match=r"expected class indices of shape \(3,\) or class probabilities"
    ):
        CrossEntropyLoss()(logits, np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"shape \(N, C\) or \(C,\)"):
        CrossEntropyLoss()(nl.tensor(np.zeros((2, 3, 4))), np.zeros((2, 3), dtype=int))
    with pytest.raises(ValueError, match="probabilities in \\[0, 1\\], found 1.5"):
        BCELoss()(nl.tensor([0.5, 1.5]), [0.0, 1.0])
    with pytest.raises(ValueError, match="nll_loss: expected class indices"):
        NLLLoss()(logits, np.zeros((3, 4)))
    with pytest.raises(ValueError, match="reduction 'mean', 'sum' or 'none', got 'avg'"):
        MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing` in \\[0, 1\\], got 1.5"):
        CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(ValueError, match="positive number for `delta`, got -1"):
        HuberLoss(delta=-1)
    with pytest.raises(ValueError, match="reduction must be"):
        nl.mse_loss(np.zeros(2), np.zeros(2), reduction="mea")
    with pytest.raises(TypeError, match="floating-point inputs"):
        MSELoss()(nl.tensor([1, 2]), [1, 2])


# ------------------------------------------------------------------------ modules, names, one_hot
def test_get_loss_by_name():
    assert isinstance(get_loss("mse"), MSELoss)
    assert isinstance(get_loss("MAE"), L1Loss)
    assert isinstance(get_loss("mean-squared-error"), MSELoss)
    assert isinstance(get_loss("bce"), BCELoss)
    assert isinstance(get_loss("binary_crossentropy"), BCELoss)
    assert isinstance(get_loss("BCEWithLogitsLoss"), BCEWithLogitsLoss)
    assert isinstance(get_loss("nll"), NLLLoss)
    huber = get_loss("huber", delta=2.0)
    assert isinstance(huber, HuberLoss) and huber.delta == 2.0
    ce = get_loss("cross_entropy", label_smoothing=0.1)
    assert isinstance(ce, CrossEntropyLoss) and ce.from_logits and ce.label_smoothing == 0.1
    keras = get_loss("categorical_crossentropy")
    assert isinstance(keras, CrossEntropyLoss) and not keras.from_logits
    assert get_loss("CrossEntropyLoss").from_logits
    criterion = MSELoss(reduction="sum")
    assert get_loss(criterion) is criterion
    custom = lambda outputs, targets: outputs  # noqa: E731
    assert get_loss(custom) is custom
    with pytest.raises(ValueError, match="unknown loss 'msee' \\(did you mean 'mse'\\?\\)"):
        get_loss("msee")
    with pytest.raises(TypeError, match="expected a loss name"):
        get_loss(3)


def test_repr_and_config_roundtrip():
    for criterion in [
        MSELoss(reduction="sum"),
        HuberLoss(0.5),
        CrossEntropyLoss(0.1, from_logits=False),
    ]:
        clone = type(criterion)(**criterion.get_config())
        assert repr(clone) == repr(criterion)
        assert isinstance(criterion, Loss)
    assert repr(HuberLoss(0.5)) == "HuberLoss(delta=0.5, reduction='mean')"


def test_one_hot_matches_torch():
    labels = np.array([[0, 2], [1, 3]])
    expected = TF.one_hot(torch.tensor(labels), 5).numpy()
    out = one_hot(labels, 5)
    assert out.dtype == np.float32 and out.shape == (2, 2, 5)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(one_hot([0, 2, 1]), np.eye(3)[[0, 2, 1]])  # inferred classes
    np.testing.assert_array_equal(one_hot(nl.tensor([1, 0]), 2), [[0, 1], [1, 0]])
    np.testing.assert_array_equal(one_hot(np.array([2.0, 0.0])), [[0, 0, 1], [1, 0, 0]])
    assert one_hot([1], 3, dtype=np.int64).dtype == np.int64
    with pytest.raises(ValueError, match="label 3, outside 0..2"):
        one_hot([0, 3], 3)
    with pytest.raises(ValueError, match="label -1"):
        one_hot([0, -1])
    with pytest.raises(ValueError, match="non-integer"):
        one_hot([0.5])
    with pytest.raises(ValueError, match="positive integer for `num_classes`, got 0"):
        one_hot([0], 0)


# ------------------------------------------------------------------------ XOR is learnable
def test_two_layer_network_learns_xor_with_fused_loss_and_plain_gradient_descent():
    """A 2-8-1 tanh network, raw ops + BCEWithLogitsLoss + hand-written full-batch descent.

    (With 4 hidden units some initializations stall in XOR's well-known local minimum; 8 units
    converged for every seed tried.)"""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([[0], [1], [1], [0]], dtype=np.float32)
    rng = np.random.default_rng(0)
    params = [
        nl.tensor(rng.normal(0, 1, (2, 8)), requires_grad=True),
        nl.tensor(np.zeros(8), requires_grad=True),
        nl.tensor(rng.normal(0, 1, (8, 1)), requires_grad=True),
        nl.tensor(np.zeros(1), requires_grad=True),
    ]
    w1, b1, w2, b2 = params
    criterion = BCEWithLogitsLoss()
    losses = []
    for _ in range(1500):
        logits = nl.linear(nl.tanh(nl.linear(X, w1, b1)), w2, b2)
        loss = criterion(logits, y)
        for p in params:
            p.grad = None
        loss.backward()
        with nl.no_grad():
            for p in params:
                p.data -= 0.5 * p.grad
        losses.append(loss.item())
    with nl.no_grad():
        probs = nl.sigmoid(nl.linear(nl.tanh(nl.linear(X, w1, b1)), w2, b2)).data
    np.testing.assert_array_equal((probs > 0.5).astype(int), y.astype(int))
    assert losses[-1] < 0.05 < losses[0]


def test_a_column_of_whole_number_float_labels_is_accepted():
    # labels read from a CSV file come back as a float (N, 1) column: docs/losses.md accepts both
    # whole-number floats and a column, so their combination must work too
    rng = np.random.default_rng(5)
    logits = rng.normal(size=(4, 3)).astype(np.float32)
    labels = np.array([0, 2, 1, 2])
    expected = TF.cross_entropy(torch.from_numpy(logits), torch.from_numpy(labels))
    column = labels.reshape(-1, 1).astype(np.float64)
    loss = CrossEntropyLoss()(logits, column)
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-6)
    log_p = nl.log_softmax(nl.tensor(logits), axis=1)
    np.testing.assert_allclose(NLLLoss()(log_p, column).item(), expected.item(), rtol=1e-6)
    with pytest.raises(ValueError, match="non-integer values"):
        CrossEntropyLoss()(logits, column + 0.5)

"""Conv2D, MaxPool2D, AvgPool2D, GlobalAvgPool2D and BatchNorm2D against torch.nn (weights copied
across; Conv2D's weight has torch's (out, in, kh, kw) layout), a whole CNN with Flatten and Dense
against the same network in torch, training and evaluation modes, save/load, summary(), errors."""

import re

import numpy as np
import pytest
import torch

import neuralab as nl
from neuralab import nn

# torch's remark that it copies the input for an even kernel with padding="same" (so do we)
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")


def _close(ours, theirs, what, rtol=1e-5):
    """Element-wise within rtol, with an absolute floor of rtol times the tensor's largest value
    (as tests/autograd/test_torch_parity.py: sums of many terms cancel to tiny numbers)."""
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    assert ours.shape == theirs.shape, what
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * np.abs(theirs).max(),
                               err_msg=what)


def torch_conv_from(layer: nn.Conv2D) -> torch.nn.Conv2d:
    padding = layer.padding if isinstance(layer.padding, str) else tuple(layer.padding)
    conv = torch.nn.Conv2d(layer.in_channels, layer.filters, layer.kernel_size,
                           stride=layer.stride, padding=padding, dilation=layer.dilation,
                           bias=layer.use_bias)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(layer.weight.data))
        if layer.use_bias:
            conv.bias.copy_(torch.from_numpy(layer.bias.data))
    return conv


def _forward_backward(ours, theirs, x_np, seed=0):
    """Run both on x_np, backpropagate the same random cotangent; return both outputs and the
    inputs' gradients."""
    x = nl.tensor(x_np, requires_grad=True)
    y = ours(x)
    g = np.random.default_rng(seed).standard_normal(y.shape).astype(np.float32)
    y.backward(g)
    xt = torch.tensor(x_np, requires_grad=True)
    yt = theirs(xt)
    yt.backward(torch.from_numpy(g))
    return y.data, yt, x.grad, xt.grad


CONV_CONFIGS = [
    pytest.param({}, id="3x3"),
    pytest.param({"padding": "same", "use_bias": False}, id="same, no bias"),
    pytest.param({"stride": 2, "padding": 1}, id="stride 2, padding 1"),
    pytest.param({"kernel_size": (3, 2), "stride": (1, 2), "dilation": (2, 1)},
                 id="non-square, dilation"),
    pytest.param({"kernel_size": 2, "stride": 3, "padding": (2, 0)},
                 id="stride > kernel, padding 2"),
]


@pytest.mark.parametrize("config", CONV_CONFIGS)
def test_conv2d_matches_torch_conv2d(config):
    config = {"kernel_size": 3, **config}
    layer = nn.Conv2D(4, in_channels=3, rng=1, **config)
    conv = torch_conv_from(layer)
    x_np = np.random.default_rng(0).standard_normal((2, 3, 9, 8)).astype(np.float32)
    y, yt, gx, gxt = _forward_backward(layer, conv, x_np)
    _close(y, yt, "output")
    _close(gx, gxt, "dL/dx")
    _close(layer.weight.grad, conv.weight.grad, "dL/dW")
    if layer.use_bias:
        _close(layer.bias.grad, conv.bias.grad, "dL/db")
    else:
        assert layer.bias is None and layer.parameters() == [layer.weight]


@pytest.mark.parametrize("make, make_torch", [
    (lambda: nn.MaxPool2D(2), lambda: torch.nn.MaxPool2d(2)),
    (lambda: nn.MaxPool2D(3, stride=2, padding=1), lambda: torch.nn.MaxPool2d(3, 2, 1)),
    (lambda: nn.AvgPool2D(2), lambda: torch.nn.AvgPool2d(2)),
    (lambda: nn.AvgPool2D((3, 2), stride=1, padding=(1, 0)),
     lambda: torch.nn.AvgPool2d((3, 2), 1, (1, 0))),
    (lambda: nn.GlobalAvgPool2D(),
     lambda: torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())),
    (lambda: nn.GlobalAvgPool2D(keepdims=True), lambda: torch.nn.AdaptiveAvgPool2d(1)),
], ids=["max 2", "max 3/2/1", "avg 2", "avg (3, 2)/1/(1, 0)", "global avg", "global keepdims"])
def test_pooling_layers_match_torch(make, make_torch):
    x_np = np.random.default_rng(0).standard_normal((2, 3, 7, 6)).astype(np.float32)
    y, yt, gx, gxt = _forward_backward(make(), make_torch(), x_np)
    _close(y, yt, "output")
    _close(gx, gxt, "dL/dx")


@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm2d_matches_torch_in_training_and_eval(affine):
    rng = np.random.default_rng(0)
    ours = nn.BatchNorm2D(3, momentum=0.2, affine=affine)
    theirs = torch.nn.BatchNorm2d(3, momentum=0.2, affine=affine)
    with torch.no_grad():
        for name, value in theirs.named_parameters():
            if name == "weight":
                value.uniform_(0.5, 1.5)
            else:
                value.normal_()
    # the state names are torch's (weight, bias, running_mean, running_var)
    ours.load_state_dict({name: value.numpy() for name, value in theirs.state_dict().items()
                          if name != "num_batches_tracked"})
    scale = np.array([1.0, 3.0, 0.2], dtype=np.float32)[:, None, None]
    shift = np.array([0.0, -2.0, 5.0], dtype=np.float32)[:, None, None]
    for step, n in enumerate((4, 2, 5)):  # different m = N H W: the unbiased-variance factor
        for mode in ("train", "eval") if step == 2 else ("train",):
            getattr(ours, mode)()
            getattr(theirs, mode)()
            x_np = (rng.standard_normal((n, 3, 4, 5)).astype(np.float32) * scale + shift)
            # a cotangent from another stream than x (g proportional to x_hat would cancel)
            y, yt, gx, gxt = _forward_backward(ours, theirs, x_np, seed=100 + step)
            _close(y, yt, f"output ({mode})")
            _close(gx, gxt, f"dL/dx ({mode})")
            if affine:
                _close(ours.weight.grad, theirs.weight.grad, f"dL/dgamma ({mode})")
                _close(ours.bias.grad, theirs.bias.grad, f"dL/dbeta ({mode})")
                ours.zero_grad()
                theirs.zero_grad()
            _close(ours.running_mean, theirs.running_mean, "running_mean")
            _close(ours.running_var, theirs.running_var, "running_var")
    assert ours.running_mean.dtype == np.float32 and ours.running_mean.shape == (3,)


def test_batchnorm2d_statistics_are_over_batch_and_pixels():
    x = np.random.default_rng(0).standard_normal((3, 2, 4, 4)).astype(np.float32) * 5 + 2
    y = nn.BatchNorm2D()(x).data
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, atol=1e-3)
    # a batch of one image is fine (m = H W values per channel), a single value is not
    nn.BatchNorm2D()(np.ones((1, 2, 2, 2)) + np.arange(8).reshape(1, 2, 2, 2))
    with pytest.raises(ValueError, match="more than one value per channel"):
        nn.BatchNorm2D()(np.ones((1, 2, 1, 1)))


def cnn():
    return nn.Sequential([
        nn.Conv2D(4, 3, padding=1, activation="relu", rng=0),
        nn.MaxPool2D(2),
        nn.Conv2D(6, (3, 2), stride=1, padding="same", rng=1),
        nn.BatchNorm2D(),
        nn.ReLU(),
        nn.AvgPool2D(2),
        nn.Flatten(),
        nn.Dense(5, rng=2),
    ])


def torch_cnn_from(model):
    dense = model[7]
    lin = torch.nn.Linear(dense.in_features, dense.units)
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(dense.weight.data.T.copy()))
        lin.bias.copy_(torch.from_numpy(dense.bias.data))
    return torch.nn.Sequential(
        torch_conv_from(model[0]), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch_conv_from(model[2]), torch.nn.BatchNorm2d(6), torch.nn.ReLU(),
        torch.nn.AvgPool2d(2), torch.nn.Flatten(), lin)


def test_a_cnn_with_flatten_and_dense_matches_torch_in_training_and_eval():
    model = cnn()
    x_np = np.random.default_rng(0).standard_normal((3, 2, 8, 8)).astype(np.float32)
    model(x_np[:2])  # builds the lazy layers (and moves the BatchNorm2D statistics once)
    theirs = torch_cnn_from(model)
    with torch.no_grad():
        theirs[4].running_mean.copy_(torch.from_numpy(model[3].running_mean))
        theirs[4].running_var.copy_(torch.from_numpy(model[3].running_var))
    for mode in ("train", "eval"):
        getattr(model, mode)()
        getattr(theirs, mode)()
        model.zero_grad()
        theirs.zero_grad()
        y, yt, gx, gxt = _forward_backward(model, theirs, x_np)
        _close(y, yt, f"output ({mode})")
        _close(gx, gxt, f"dL/dx ({mode})")
        tparams = dict(theirs.named_parameters())
        for ours_name, torch_name in (("0.weight", "0.weight"), ("0.bias", "0.bias"),
                                      ("2.weight", "3.weight"), ("3.weight", "4.weight"),
                                      ("7.bias", "8.bias")):
            ours_grad = dict(model.named_parameters())[ours_name].grad
            _close(ours_grad, tparams[torch_name].grad, f"{ours_name} ({mode})")
        _close(model[7].weight.grad, tparams["8.weight"].grad.T, f"7.weight ({mode})")


def test_save_and_load_round_trip_a_cnn(tmp_path):
    model = cnn()
    x = np.random.default_rng(0).standard_normal((4, 2, 8, 8)).astype(np.float32)
    model(x)  # builds, and moves the BatchNorm2D statistics away from 0 and 1
    loaded = nl.load(nl.save(model, tmp_path / "cnn.safetensors"))
    assert nn.serialize(loaded) == nn.serialize(model)
    original, restored = model.state_dict(), loaded.state_dict()
    assert list(original) == list(restored)
    for name in original:
        assert original[name].tobytes() == restored[name].tobytes(), name
    model.eval()
    loaded.eval()
    np.testing.assert_array_equal(loaded(x).data, model(x).data)
    # an unbuilt model loads unbuilt and builds on its first call
    lazy = nl.load(nl.save(cnn(), tmp_path / "lazy.safetensors"))
    assert not lazy[0].built and lazy(x).shape == (4, 5)


CNN_SUMMARY = '''\
Model: "sequential"
________________________________________________________________
 Layer (type)                Output Shape                Param #
================================================================
 conv2d (Conv2D)             (None, 4, 8, 8)                  76
 max_pool2d (MaxPool2D)      (None, 4, 4, 4)                   0
 conv2d_1 (Conv2D)           (None, 6, 4, 4)                 150
 batch_norm2d (BatchNorm2D)  (None, 6, 4, 4)                  24
 relu (ReLU)                 (None, 6, 4, 4)                   0
 avg_pool2d (AvgPool2D)      (None, 6, 2, 2)                   0
 flatten (Flatten)           (None, 24)                        0
 dense (Dense)               (None, 5)                       125
================================================================
Total params: 375 (1.46 KB)
Trainable params: 363 (1.42 KB)
Non-trainable params: 12 (48.00 B)
________________________________________________________________'''


def test_summary_shows_output_shapes_and_parameter_counts(capsys):
    # 2 * 9 * 4 + 4 = 76; 4 * 6 * (3 * 2) + 6 = 150; BatchNorm2D(6): 12 trained, 12 statistics;
    # Flatten: 6 * 2 * 2 = 24 features; 24 * 5 + 5 = 125
    model = cnn()
    with pytest.raises(ValueError, match="input_shape"):
        model.summary()
    model.summary(input_shape=(2, 8, 8))
    assert capsys.readouterr().out.rstrip("\n") == CNN_SUMMARY
    s = nn.summarize(model, (2, 8, 8))
    assert [r.params for r in s.rows] == [76, 0, 150, 24, 0, 0, 0, 125]
    assert s.non_trainable_params == 12 and all(m.training for m in model.modules())
    np.testing.assert_array_equal(model[3].running_mean, np.zeros(6))  # summary updated nothing
    # a first layer that knows its channels still needs H and W
    with pytest.raises(ValueError, match="input_shape"):
        nn.Sequential([nn.Conv2D(2, 3), nn.BatchNorm2D(2)]).summary()


def test_layers_are_named_built_and_configured_like_dense():
    conv = nn.Conv2D(8, 3)
    assert conv.name == "conv2d" and not conv.built and conv.parameters() == []
    assert conv(np.zeros((2, 3, 5, 5))).shape == (2, 8, 3, 3)
    assert conv.built and conv.in_channels == 3 and conv.weight.shape == (8, 3, 3, 3)
    assert [nn.MaxPool2D().name, nn.AvgPool2D().name, nn.GlobalAvgPool2D().name,
            nn.BatchNorm2D().name] == ["max_pool2d", "avg_pool2d", "global_avg_pool2d",
                                       "batch_norm2d"]
    assert nn.Conv2D(2, (3, 1), stride=(2, 1), padding=(1, 0), dilation=2).get_config() == {
        "filters": 2, "kernel_size": [3, 1], "stride": [2, 1], "padding": [1, 0], "dilation": 2,
        "activation": None, "in_channels": None, "kernel_initializer": "xavier_uniform",
        "bias_initializer": "zeros", "kernel_regularizer": None, "use_bias": True}
    assert nn.MaxPool2D(2).stride == (2, 2) and nn.MaxPool2D(3, stride=1).stride == (1, 1)
    assert repr(nn.Conv2D(16, 3, padding="same", activation="relu")) == (
        "Conv2D(16, kernel_size=3, padding='same', activation='relu')")
    # the same seed gives the same weights; the default is Glorot uniform with conv fans
    a, b = (nn.Conv2D(16, (3, 5), in_channels=4, rng=7).weight.data for _ in range(2))
    np.testing.assert_array_equal(a, b)
    limit = np.sqrt(6 / (4 * 15 + 16 * 15))
    assert np.abs(a).max() <= limit and np.abs(a).max() > 0.95 * limit
    he = nn.Conv2D(64, 3, in_channels=32, kernel_initializer="he_normal", rng=0).weight.data
    assert abs(he.std() - np.sqrt(2 / (32 * 9))) < 0.02 * np.sqrt(2 / (32 * 9))


def test_forward_steps_trace_and_regularizer():
    model = nn.Sequential([nn.Conv2D(2, 3, activation="tanh", rng=0,
                                     kernel_regularizer=nn.regularizers.L2(0.1)),
                           nn.GlobalAvgPool2D()])
    x = np.random.default_rng(0).standard_normal((2, 1, 4, 4)).astype(np.float32)
    steps = model.trace(x)
    np.testing.assert_allclose(steps[0].output.data, np.tanh(steps[0].pre_activation.data))
    assert steps[1].output.shape == (2, 2)
    reg = float(model.regularization_loss().data)
    assert np.isclose(reg, 0.1 * np.sum(model[0].weight.data.astype(np.float64) ** 2), rtol=1e-5)


def test_inputs_of_other_dtypes_are_computed_in_float32():
    for layer in (nn.Conv2D(2, 3), nn.MaxPool2D(), nn.AvgPool2D(), nn.GlobalAvgPool2D(),
                  nn.BatchNorm2D()):
        for x in (np.ones((2, 1, 4, 4), dtype=np.int64), nl.tensor(np.ones((2, 1, 4, 4)),
                                                                  dtype=np.float64)):
            assert layer(x).dtype == np.float32, type(layer).__name__


@pytest.mark.parametrize("call, message", [
    (lambda: nn.Conv2D(4, 3)(np.ones((1, 28, 28))),
     r"Conv2D expected input of shape \(N, C, H, W\), got shape \(1, 28, 28\); for one image "
     r"pass x\[None\]"),
    (lambda: nn.Conv2D(4, 3, in_channels=3)(np.ones((2, 1, 8, 8))),
     r"Conv2D was built for 3 input channels, got input of shape \(2, 1, 8, 8\)"),
    (lambda: nn.Conv2D(4, 5)(np.ones((2, 1, 4, 8))),
     r"conv2d: the kernel \(5 x 5\) is larger than the padded input \(4 x 8"),
    (lambda: nn.Conv2D(4, 3, stride=2, padding="same"),
     r"Conv2D: padding='same' needs stride 1"),
    (lambda: nn.Conv2D(0, 3), r"Conv2D expected a positive integer for `filters`, got 0"),
    (lambda: nn.Conv2D(4, (3, 3, 3)), r"Conv2D: expected an int or a pair of ints"),
    (lambda: nn.Conv2D(4, 3, padding="full"), r"Conv2D: `padding` must be an int"),
    (lambda: nn.MaxPool2D(2, padding=2), r"MaxPool2D: padding \(2, 2\) is more than half"),
    (lambda: nn.AvgPool2D(2)(np.ones((8, 8))), r"AvgPool2D expected input of shape \(N, C, H, W\)"),
    (lambda: nn.GlobalAvgPool2D()(np.ones((2, 8))), r"GlobalAvgPool2D expected input of shape"),
    (lambda: nn.BatchNorm2D()(np.ones((4, 3))),
     r"BatchNorm2D expected input of shape \(N, C, H, W\), got shape \(4, 3\); use nn.BatchNorm"),
    (lambda: nn.BatchNorm()(np.ones((4, 3, 2, 2))),
     r"BatchNorm expected input of shape \(batch, features\), got shape \(4, 3, 2, 2\); use "
     r"nn.BatchNorm2D"),
    (lambda: nn.BatchNorm2D(3)(np.ones((4, 2, 2, 2))),
     r"BatchNorm2D was built for 3 channels, got input of shape \(4, 2, 2, 2\)"),
])
def test_errors_name_the_problem_and_the_fix(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert re.match(message, str(info.value)), str(info.value)

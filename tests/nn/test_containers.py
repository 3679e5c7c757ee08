"""Sequential (indexing, naming, forward vs torch, trace, summary, weight listing) and Residual."""

import numpy as np
import pytest
import torch

import neuralab as nl
from neuralab import nn

IRIS_SUMMARY = '''\
Model: "sequential"
________________________________________________________________
 Layer (type)                Output Shape                Param #
================================================================
 dense (Dense)               (None, 64)                      320
 dense_1 (Dense)             (None, 3)                       195
================================================================
Total params: 515 (2.01 KB)
Trainable params: 515 (2.01 KB)
Non-trainable params: 0 (0.00 B)
________________________________________________________________'''


def iris_model():
    return nn.Sequential([nn.Dense(64, activation="relu"), nn.Dense(3, activation="softmax")])


def test_iris_summary_counts_515_parameters(capsys):
    # 4 inputs: 4 * 64 + 64 = 320, 64 * 3 + 3 = 195, 515 in all, 515 * 4 bytes = 2.01 KB
    model = iris_model()
    model.summary(input_shape=(4,))
    assert capsys.readouterr().out.rstrip("\n") == IRIS_SUMMARY
    s = nn.summarize(model)  # built now: the first layer knows its input size
    assert (s.total_params, s.trainable_params, s.non_trainable_params) == (515, 515, 0)
    assert [r.params for r in s.rows] == [320, 195]
    assert [r.output_shape for r in s.rows] == [(None, 64), (None, 3)]
    assert str(s) == IRIS_SUMMARY


def test_summary_counts_batchnorm_statistics_as_non_trainable():
    model = nn.Sequential([nn.Dense(8, input_dim=4), nn.BatchNorm(), nn.Dropout(0.5), nn.Dense(3)])
    s = nn.summarize(model)
    # BatchNorm(8): gamma, beta trainable (16); running mean and variance not (16), as in Keras
    assert [r.params for r in s.rows] == [40, 32, 0, 27]
    assert (s.total_params, s.trainable_params, s.non_trainable_params) == (99, 83, 16)
    assert "Non-trainable params: 16 (64.00 B)" in s.text
    assert [r.name for r in s.rows] == ["dense", "batch_norm", "dropout", "dense_1"]


def test_summary_leaves_modes_and_statistics_alone_and_needs_a_shape_when_unbuilt():
    model = nn.Sequential([nn.Dense(3), nn.BatchNorm(), nn.Dropout(0.5)])
    with pytest.raises(ValueError, match="input_shape"):
        model.summary()
    nn.summarize(model, input_shape=(5,))
    assert all(m.training for m in model.modules())
    np.testing.assert_array_equal(model[1].running_mean, np.zeros(3))
    s = nn.summarize(nn.Sequential([nn.Flatten(), nn.Dense(2)]), input_shape=(2, 3))
    assert [r.output_shape for r in s.rows] == [(None, 6), (None, 2)]


def test_sequential_is_a_list_of_layers():
    a, b = nn.Dense(4, input_dim=2), nn.ReLU()
    model = nn.Sequential(a, b)
    assert len(model) == 2 and model[0] is a and model[-1] is b and list(model) == [a, b]
    model.add(nn.Dense(1))
    assert [layer.name for layer in model.layers] == ["dense", "relu", "dense_1"]
    assert isinstance(model[1:], nn.Sequential) and model[1:][0] is b
    # the input size is known, so the added layer was built at once (as in Keras)
    assert model[2].weight.shape == (4, 1)
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert nn.Sequential([nn.Dense(2), nn.Dense(1)])[1].weight is None  # unknown: stays lazy
    with pytest.raises(TypeError, match="expected a layer"):
        model.add("relu")
    with pytest.raises(TypeError, match="list of layers"):
        nn.Sequential("dense")


def test_sequential_matches_torch_forward_and_gradients():
    rng = np.random.default_rng(0)
    model = nn.Sequential([nn.Dense(6, input_dim=4, activation="tanh", rng=0),
                           nn.Dense(5, activation="relu", rng=1), nn.Dense(3, rng=2)])
    model(np.zeros((1, 4)))
    layers = []
    for layer, act in zip(model, [torch.nn.Tanh(), torch.nn.ReLU(), None]):
        lin = torch.nn.Linear(layer.in_features, layer.units)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(layer.weight.data.T.copy()))
            lin.bias.copy_(torch.from_numpy(layer.bias.data))
        layers += [lin] + ([act] if act is not None else [])
    ref = torch.nn.Sequential(*layers)
    x_np = rng.normal(size=(10, 4)).astype(np.float32)
    out = model(x_np)
    out.sum().backward()
    out_t = ref(torch.from_numpy(x_np))
    out_t.sum().backward()
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), rtol=1e-5, atol=1e-6)
    torch_linears = [m for m in ref if isinstance(m, torch.nn.Linear)]
    for layer, lin in zip(model, torch_linears):
        np.testing.assert_allclose(layer.weight.grad, lin.weight.grad.numpy().T, rtol=1e-4,
                                   atol=1e-5)
        np.testing.assert_allclose(layer.bias.grad, lin.bias.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_trace_shows_every_layer_output():
    model = nn.Sequential([nn.Dense(5, input_dim=3, activation="relu"), nn.Dropout(0.5),
                           nn.Dense(2, activation="softmax")]).eval()
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    steps = model.trace(x)
    assert [s.name for s in steps] == ["dense", "dropout", "dense_1"]
    w, b = model[0].weight.data, model[0].bias.data
    np.testing.assert_allclose(steps[0].pre_activation.data, x @ w + b, rtol=1e-6)
    np.testing.assert_allclose(steps[0].output.data, np.maximum(x @ w + b, 0), rtol=1e-6)
    assert steps[1].pre_activation is None
    np.testing.assert_array_equal(steps[-1].output.data, model(x).data)


def test_print_weights_lists_each_layer_like_the_lecture(capsys):
    # the lecture: model.add(Dense(8, input_dim=4, activation='relu')); model.add(Dense(3, ...))
    # then layer.get_weights() for every layer, before any training
    model = nn.Sequential()
    model.add(nn.Dense(8, input_dim=4, activation="relu"))
    model.add(nn.ReLU())
    model.add(nn.Dense(3, activation="softmax"))
    weights, biases = model.layers[2].get_weights()
    assert weights.shape == (8, 3) and biases.shape == (3,)
    model.print_weights()
    out = capsys.readouterr().out
    assert "Layer 1: dense (Dense)\nweight (shape: (4, 8)):\n[[" in out
    assert "bias (shape: (8,)):" in out
    assert "Layer 2: relu (ReLU)\n  no weights" in out
    assert "Layer 3: dense_1 (Dense)\nweight (shape: (8, 3)):" in out
    assert str(model[0].weight.data) in out
    lazy = nn.Sequential([nn.Dense(3)])
    assert "Layer 1: dense (Dense)\n  not built yet" in lazy.weights_text()


@pytest.mark.parametrize("inner_builder", [
    lambda: nn.Dense(5, input_dim=5, rng=3),
    lambda: nn.Sequential([nn.Dense(5, input_dim=5, activation="relu", rng=4),
                           nn.Dense(5, rng=5)]),
])
def test_residual_matches_torch(inner_builder):
    rng = np.random.default_rng(0)
    inner = inner_builder()
    block = nn.Residual(inner)
    x_np = rng.normal(size=(7, 5)).astype(np.float32)
    block(x_np)
    dense_layers = [inner] if isinstance(inner, nn.Dense) else list(inner)
    torch_layers = []
    for layer in dense_layers:
        lin = torch.nn.Linear(5, 5)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(layer.weight.data.T.copy()))
            lin.bias.copy_(torch.from_numpy(layer.bias.data))
        torch_layers.append(lin)
        if layer.activation is not None:
            torch_layers.append(torch.nn.ReLU())
    f = torch.nn.Sequential(*torch_layers)

    x = nl.tensor(x_np, requires_grad=True)
    g = rng.normal(size=(7, 5)).astype(np.float32)
    block(x).backward(g)
    xt = torch.tensor(x_np, requires_grad=True)
    yt = xt + f(xt)
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(block(x_np).data, yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(dense_layers[0].weight.grad, torch_layers[0].weight.grad.numpy().T,
                               rtol=1e-4, atol=1e-5)
    assert [n for n, _ in block.named_parameters()][0] in ("module.weight", "module.0.weight")


def test_residual_refuses_shape_changes():
    with pytest.raises(ValueError, match=r"changed the shape from \(2, 4\) to \(2, 3\)"):
        nn.Residual(nn.Dense(3))(np.ones((2, 4)))
    with pytest.raises(TypeError, match="Module"):
        nn.Residual("dense")


def test_trace_opens_nested_sequentials_with_module_paths():
    inner = nn.Sequential([nn.Dense(4, activation="tanh"), nn.Dropout(0.5)])
    model = nn.Sequential([nn.Dense(5, input_dim=3, activation="relu"), inner,
                           nn.Dense(2)]).eval()
    x = np.random.default_rng(1).normal(size=(6, 3)).astype(np.float32)
    steps = model.trace(x)
    assert [(s.index, s.path) for s in steps] == [(0, "0"), (1, "1.0"), (2, "1.1"), (3, "2")]
    # the paths are the parameters' prefixes
    params = dict(model.named_parameters())
    assert steps[1].layer.weight is params["1.0.weight"]
    h = np.tanh(np.maximum(x @ model[0].weight.data + model[0].bias.data, 0)
                @ inner[0].weight.data + inner[0].bias.data)
    np.testing.assert_allclose(steps[2].output.data, h, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(steps[-1].output.data, model(x).data)


def test_collect_activations_leaves_out_layers_that_pass_values_through():
    from neuralab.train import collect_activations

    model = nn.Sequential([nn.Flatten(), nn.Dense(4, input_dim=6, activation="relu"),
                           nn.Dropout(0.3), nn.Identity(), nn.Dense(2)])
    x = np.random.default_rng(2).normal(size=(5, 2, 3)).astype(np.float32)
    acts = collect_activations(model, x)
    assert list(acts) == ["dense", "dense_1"]
    assert model.training  # restored after the evaluation-mode pass
    np.testing.assert_allclose(acts["dense_1"], model.eval()(x).data, rtol=1e-6)

"""Module system: parameter discovery and names, modes, gradients, state dicts, registry."""

import numpy as np
import pytest

import neuralab as nl
from neuralab import nn


class Block(nn.Module):
    def __init__(self):
        self.scale = nn.Parameter(np.ones(3))
        self.layers = [nn.Dense(3, input_dim=3), nn.Dense(3, input_dim=3)]
        self.heads = {"a": nn.Dense(2, input_dim=3), "b": nn.Dense(1, input_dim=3, use_bias=False)}
        self.note = "not a parameter"

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.heads["a"](x * self.scale)


def test_parameter_is_a_float32_leaf_that_copies():
    src = np.arange(6.0).reshape(2, 3)
    p = nn.Parameter(src)
    assert p.dtype == np.float32 and p.requires_grad and p.is_leaf
    src[0, 0] = 100
    assert p.data[0, 0] == 0
    assert repr(p).startswith("Parameter(")
    with pytest.raises(TypeError, match="floating"):
        nn.Parameter(np.arange(3), dtype=np.int64)


def test_named_parameters_walk_attributes_lists_and_dicts_in_order():
    names = [n for n, _ in Block().named_parameters()]
    assert names == [
        "scale",
        "layers.0.weight", "layers.0.bias",
        "layers.1.weight", "layers.1.bias",
        "heads.a.weight", "heads.a.bias",
        "heads.b.weight",
    ]


def test_shared_parameters_and_modules_are_listed_once_and_cycles_end():
    shared = nn.Dense(2, input_dim=2)
    model = nn.Sequential([shared, shared])
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    block = Block()
    block.parent = block  # a cycle must not recurse forever
    assert len(list(block.modules())) == 1 + 2 + 2


def test_named_modules_and_children():
    block = Block()
    names = [n for n, _ in block.named_modules()]
    assert names == ["", "layers.0", "layers.1", "heads.a", "heads.b"]
    assert [n for n, _ in block.named_children()] == ["layers.0", "layers.1", "heads.a", "heads.b"]


def test_train_eval_propagate_and_zero_grad_clears():
    model = nn.Sequential([nn.Dense(4, input_dim=3), nn.Dropout(0.5), nn.Dense(1)])
    assert model.eval() is model
    assert all(not m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    model(np.ones((2, 3))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_state_dict_is_a_copy_and_round_trips():
    a = nn.Sequential([nn.Dense(4, input_dim=3), nn.BatchNorm(4)])
    state = a.state_dict()
    assert list(state) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                           "1.running_var"]
    state["0.weight"][...] = 7.0
    assert not np.any(a[0].weight.data == 7.0)
    b = nn.Sequential([nn.Dense(4, input_dim=3), nn.BatchNorm(4)])
    weight_before = b[0].weight
    b.load_state_dict(state)
    assert b[0].weight is weight_before  # loaded in place: optimizers keep their parameters
    np.testing.assert_array_equal(b[0].weight.data, np.full((3, 4), 7.0, np.float32))


def test_load_state_dict_errors_name_the_parameter():
    model = nn.Sequential([nn.Dense(4, input_dim=3)])
    state = model.state_dict()
    with pytest.raises(ValueError, match=r"shape mismatch for '0\.weight'.*\(3, 4\).*\(5, 4\)"):
        model.load_state_dict({**state, "0.weight": np.zeros((5, 4))})
    with pytest.raises(ValueError, match=r"missing from the state_dict: 0\.bias"):
        model.load_state_dict({"0.weight": state["0.weight"]})
    with pytest.raises(ValueError, match=r"not in the model: 0\.gamma"):
        model.load_state_dict({**state, "0.gamma": np.zeros(4)})
    result = model.load_state_dict({"0.weight": state["0.weight"], "x": np.zeros(1)}, strict=False)
    assert result.missing_keys == ["0.bias"] and result.unexpected_keys == ["x"]


def test_failed_load_leaves_the_model_unchanged():
    model = nn.Sequential([nn.Dense(4, input_dim=3), nn.Dense(2, input_dim=4)])
    before = model.state_dict()
    bad = {k: np.full(v.shape, 9.0) for k, v in before.items()}
    bad["1.weight"] = np.zeros((3, 3))
    with pytest.raises(ValueError, match="1.weight"):
        model.load_state_dict(bad)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_load_state_dict_builds_lazy_layers():
    source = nn.Sequential([nn.Dense(5, input_dim=3), nn.BatchNorm(), nn.LayerNorm(), nn.Dense(2)])
    source(np.ones((4, 3)))
    target = nn.Sequential([nn.Dense(5), nn.BatchNorm(), nn.LayerNorm(), nn.Dense(2)])
    target.load_state_dict(source.state_dict())
    x = np.random.default_rng(0).normal(size=(4, 3))
    np.testing.assert_array_equal(target(x).data, source(x).data)


def test_get_and_set_weights_like_keras():
    layer = nn.Dense(3, input_dim=2)
    w, b = layer.get_weights()
    assert w.shape == (2, 3) and b.shape == (3,)
    layer.set_weights([np.ones((2, 3)), np.arange(3.0)])
    np.testing.assert_array_equal(layer.bias.data, [0, 1, 2])
    with pytest.raises(ValueError, match="has 2 arrays"):
        layer.set_weights([np.ones((2, 3))])


def test_regularization_loss_sums_the_layers_penalties():
    model = nn.Sequential([
        nn.Dense(4, input_dim=3, kernel_regularizer=nn.regularizers.L2(0.1)),
        nn.Dense(2, kernel_regularizer=nn.regularizers.L1(0.01)),
        nn.Dense(1),
    ])
    zero = nn.Sequential([nn.Dense(2, input_dim=2)]).regularization_loss()
    assert isinstance(zero, nl.Tensor) and zero.item() == 0.0
    model(np.ones((1, 3)))
    w0, w1 = model[0].weight.data.astype(np.float64), model[1].weight.data.astype(np.float64)
    expected = 0.1 * np.sum(w0**2) + 0.01 * np.sum(np.abs(w1))
    reg = model.regularization_loss()
    assert reg.dtype == np.float32
    np.testing.assert_allclose(reg.item(), expected, rtol=1e-6)
    reg.backward()
    np.testing.assert_allclose(model[0].weight.grad, 2 * 0.1 * w0, rtol=1e-6)
    np.testing.assert_allclose(model[1].weight.grad, 0.01 * np.sign(w1), rtol=1e-6)
    assert model[2].weight.grad is None and model[0].bias.grad is None


def test_registry_serialize_and_deserialize():
    @nn.register
    class Scale(nn.Module):
        def __init__(self, factor=2.0):
            self.factor = factor

        def forward(self, x):
            return x * self.factor

        def get_config(self):
            return {"factor": self.factor}

    spec = nn.serialize(nn.Sequential([nn.Dense(3, input_dim=2), Scale(3.0)]))
    rebuilt = nn.deserialize(spec)
    assert isinstance(rebuilt[1], Scale) and rebuilt[1].factor == 3.0
    assert rebuilt[0].in_features == 2 and rebuilt[1].name == "scale"

    class Unregistered(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(TypeError, match="not registered"):
        nn.serialize(Unregistered())
    with pytest.raises(ValueError, match="unknown layer class 'Nope'"):
        nn.deserialize({"class": "Nope", "config": {}})
    with pytest.raises(ValueError, match="could not rebuild Dense"):
        nn.deserialize({"class": "Dense", "config": {"unitz": 3}})


def test_modules_without_get_config_say_how_to_fix_it():
    class Custom(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(NotImplementedError, match="get_config"):
        Custom().get_config()
    assert repr(Custom()) == "Custom()"

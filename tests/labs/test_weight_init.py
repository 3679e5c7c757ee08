import numpy as np
import pytest

from neuralab import labs
from neuralab.labs import weight_init


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("weight-init")
    result, files = labs.run("weight-init", quick=True, out_dir=out)
    return result, files, out


def test_quick_run_shows_the_claim_and_writes_the_figures(quick):
    result, files, out = quick
    assert result.claim_holds, result.summary()
    names = {f.name for f in files}
    expected = {"histograms_sigmoid.png", "histograms_tanh.png", "histograms_relu.png",
                "activation_std.png", "symmetry.png"}
    assert expected | {"result.json", "summary.md"} == names
    for name in expected:
        assert (out / name).stat().st_size > 10_000


def test_equal_initial_weights_keep_the_units_identical(quick):
    result = quick[0]
    constant, random = result.sym_names
    # identical up to float32 rounding (measured ~1e-7), against O(1) for random weights
    assert max(result.sym_spread[constant]) < 1e-4
    assert min(result.sym_spread[random]) > 0.1
    w = np.asarray(result.sym_first_weights[constant])
    assert np.abs(w - w[:, :1]).max() <= 1e-4 * np.abs(w).max() + 1e-7  # every column alike
    assert np.abs(w).max() > 0  # ... but not untrained: the shared value moved away from 0
    assert result.sym_test_accuracy[random] > result.sym_test_accuracy[constant] + 0.2
    # every seed: measured on seeds 0-2 under the SkylakeX, Haswell and Sandybridge kernels,
    # constant spread 0 to 7e-7, random 5.2-6.0, accuracy difference 0.64-0.71
    assert result.seeds == list(weight_init.Config.quick().seeds) and len(result.seeds) >= 3
    for r in result.per_seed:
        assert r["constant init: largest spread"] < 1e-4, r
        assert r["random init: smallest spread"] > 1.0, r
        assert r["test accuracy random - constant"] > 0.3, r


def test_activation_scales_follow_the_variance_formulas(quick):
    std = quick[0].layer_std
    # tanh is the identity near 0: with N(0, 0.01^2) weights and 100 inputs every layer
    # multiplies the std by 0.01 * sqrt(100) = 0.1
    np.testing.assert_allclose(std["tanh"]["std=0.01"], 0.1 ** np.arange(1, 6), rtol=0.1)
    # ReLU halves the second moment: with N(0, 1) weights each layer multiplies the std by
    # about sqrt(100 / 2) ~ 7.1, with Xavier (var 1/100) by sqrt(1/2), with He (var 2/100) by 1
    for name, factor in [("std=1", np.sqrt(50)), ("xavier", np.sqrt(0.5)), ("he", 1.0)]:
        ratios = np.asarray(std["relu"][name][1:]) / np.asarray(std["relu"][name][:-1])
        np.testing.assert_allclose(ratios, factor, rtol=0.3, err_msg=name)


def test_sigmoid_saturates_or_collapses_with_the_wrong_scale(quick):
    result = quick[0]
    sat = result.saturated_fraction["sigmoid"]
    assert min(sat["std=1"]) > 0.3 and max(sat["xavier"]) < 0.05
    # std 0.01: every unit outputs about sigmoid(0) = 0.5, where sigmoid' = 1/4
    assert abs(result.layer_mean["sigmoid"]["std=0.01"][-1] - 0.5) < 0.01
    assert result.layer_std["sigmoid"]["std=0.01"][-1] < 0.03
    np.testing.assert_allclose(result.mean_derivative["sigmoid"]["std=0.01"], 0.25, atol=1e-3)
    # saturated units pass almost no gradient
    assert max(result.mean_derivative["sigmoid"]["std=1"]) < 0.1
    # the histograms count every activation (1000 samples x 100 units) for bounded activations
    for name in result.inits:
        for counts in result.hist_counts["sigmoid"][name]:
            assert sum(counts) == 1000 * 100


def test_same_config_same_numbers():
    config = weight_init.Config(activations=("tanh",), sym_epochs=2, sym_units=8, samples=100,
                                seeds=(0, 1))
    a, b = weight_init.run(config), weight_init.run(config)
    assert a.layer_std == b.layer_std and a.sym_loss == b.sym_loss
    assert a.per_seed == b.per_seed
    key = "tanh xavier: layer-5 std"
    assert a.per_seed[0][key] != a.per_seed[1][key]  # another seed, other numbers


def test_bad_settings_are_clear_errors():
    with pytest.raises(ValueError, match="unknown activation"):
        weight_init.run(weight_init.Config(activations=("swish",)))
    with pytest.raises(ValueError, match="sym_activation"):
        weight_init.run(weight_init.Config(sym_activation="gelu"))
    with pytest.raises(ValueError, match="seeds"):
        weight_init.run(weight_init.Config(seeds=()))

import os

import pytest

from neuralab import labs
from neuralab.labs import _overfit, regularization


def _require_fashion_mnist():
    if not _overfit.fashion_mnist_available():
        if os.environ.get("CI"):
            pytest.fail("CI is set but Fashion-MNIST is missing (dataset-fashion-mnist)")
        pytest.skip("the regularization lab needs Fashion-MNIST (sudo apt-get install "
                    "dataset-fashion-mnist); this test fails instead of skipping when CI is set")


def test_quick_run_shows_the_claim_and_writes_the_figures(tmp_path):
    _require_fashion_mnist()
    result, files = labs.run("regularization", quick=True, out_dir=tmp_path)
    assert result.claim_holds, result.summary()
    f = result.final
    # without a penalty the 300 images are memorized (measured train 0.96-1.0, gap 0.22-0.24)
    assert f["none"]["train_accuracy"] > 0.95 and f["none"]["gap"] > 0.15
    # both penalties narrow the gap (measured by 0.06-0.09), mostly by lowering training accuracy
    for name in ("l2", "l1"):
        assert f[name]["gap"] < f["none"]["gap"] - 0.03, name
        assert f[name]["train_accuracy"] < f["none"]["train_accuracy"]
    # L2 shrinks the weights; L1 zeroes many of them (measured 37-43 % below 1e-3, vs ~1-3 %)
    assert result.mean_abs_weight["l2"] < 0.6 * result.mean_abs_weight["none"]
    assert result.zero_fraction["l1"] > 0.25
    assert result.zero_fraction["none"] < 0.05 and result.zero_fraction["l2"] < 0.05
    names = {f.name for f in files}
    assert {"regularization_curves.png", "regularization_summary.png"} <= names
    for name in ("regularization_curves.png", "regularization_summary.png"):
        assert (tmp_path / name).stat().st_size > 10_000


def test_every_setting_runs_and_counts_every_weight():
    # a few epochs on the digits: the code path of each setting, not the claim
    config = regularization.Config(dataset="digits", n_train=50, n_test=100, epochs=2,
                                   batch_size=25, hidden_layers=2, units=16)
    result = regularization.run(config)
    assert result.settings == list(regularization.SETTINGS)
    weights = 64 * 16 + 16 * 16 + 16 * 10  # the three weight matrices; biases are not counted
    for name in result.settings:
        assert sum(result.weight_hist_counts[name]) == weights
        assert len(result.train_accuracy[name]) == 2
    # the same config gives the same numbers
    again = regularization.run(config)
    assert again.train_accuracy == result.train_accuracy
    assert again.mean_abs_weight == result.mean_abs_weight


def test_unknown_setting_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown setting"):
        regularization.run(regularization.Config(settings=("dropout",)))

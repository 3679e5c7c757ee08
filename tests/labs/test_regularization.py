import os

import pytest

from neuralab import labs
from neuralab.labs import common, regularization


def _require_fashion_mnist():
    if not common.fashion_mnist_available():
        if os.environ.get("CI"):
            pytest.fail("CI is set but Fashion-MNIST is missing (dataset-fashion-mnist)")
        pytest.skip("the regularization lab needs Fashion-MNIST (sudo apt-get install "
                    "dataset-fashion-mnist); this test fails instead of skipping when CI is set")


def test_quick_run_shows_the_claim_and_writes_the_figures(tmp_path):
    _require_fashion_mnist()
    result, files = labs.run("regularization", quick=True, out_dir=tmp_path)
    assert result.claim_holds, result.summary()
    assert result.seeds == list(regularization.Config.quick().seeds) and len(result.seeds) >= 3
    f = result.final  # medians over the seeds
    # Measured on the quick config (seeds 0-4 under SkylakeX, seeds 0-2 under Haswell and
    # Sandybridge): without a penalty the 300 images are nearly memorized (train 0.90-0.95, gap
    # 0.18-0.22 per seed)
    assert f["none"]["train_accuracy"] > 0.85 and f["none"]["gap"] > 0.12
    # both penalties narrow the gap on every seed (per seed by 0.065-0.11 for L2, 0.038-0.096
    # for L1; medians 0.08-0.10 and 0.06), mostly by lowering the training accuracy
    for name in ("l2", "l1"):
        narrowing = result.narrowing(name)
        assert min(narrowing) > 0 and sorted(narrowing)[len(narrowing) // 2] >= 0.03, name
        assert f[name]["train_accuracy"] < f["none"]["train_accuracy"]
    # L2 shrinks the weights (measured ratio 0.41-0.42); L1 zeroes many of them (measured
    # 38-44 % below 1e-3, against 1-3 % for none and l2)
    assert result.mean_abs_weight["l2"] < 0.6 * result.mean_abs_weight["none"]
    assert result.zero_fraction["l1"] > 0.25
    assert result.zero_fraction["none"] < 0.05 and result.zero_fraction["l2"] < 0.05
    text = result.summary()
    assert "median" in text and all(f"seed {s}" in text for s in result.seeds)
    names = {f.name for f in files}
    assert {"regularization_curves.png", "regularization_summary.png"} <= names
    for name in ("regularization_curves.png", "regularization_summary.png"):
        assert (tmp_path / name).stat().st_size > 10_000


def test_every_setting_runs_and_counts_every_weight():
    # a few epochs on the digits: the code path of each setting, not the claim
    config = regularization.Config(dataset="digits", n_train=50, n_test=100, epochs=2,
                                   batch_size=25, hidden_layers=2, units=16, seeds=(0, 1))
    result = regularization.run(config)
    assert result.settings == list(regularization.SETTINGS)
    weights = 64 * 16 + 16 * 16 + 16 * 10  # the three weight matrices; biases are not counted
    for name in result.settings:
        assert sum(result.weight_hist_counts[name]) == weights
        assert len(result.train_accuracy[name]) == 2
        assert len(result.final_by_seed[name]) == 2
    # the same config gives the same numbers
    again = regularization.run(config)
    assert again.train_accuracy == result.train_accuracy
    assert again.mean_abs_weight_by_seed == result.mean_abs_weight_by_seed
    # another seed is another run
    assert result.final_by_seed["none"][0] != result.final_by_seed["none"][1]


def test_unknown_setting_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown setting"):
        regularization.run(regularization.Config(settings=("dropout",)))
    with pytest.raises(ValueError, match="seeds"):
        regularization.run(regularization.Config(seeds=()))

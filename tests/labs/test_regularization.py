import os

import numpy as np
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
    # On the true labels the test accuracy does not rise: measured gain of l2 over none
    # -0.034 to -0.063, of l1 -0.034 to -0.075 per seed (paired SE 0.007-0.011)
    assert max(result.clean_gain["l2"]) < 0 and max(result.clean_gain["l1"]) < 0
    # With 40 % wrong training labels (2 x 256 network, L2 0.02) the penalty raises it: measured
    # gains 0.073, 0.080, 0.117 (SkylakeX) and 0.072, 0.080, 0.120 (Haswell), paired SE 0.010-0.011, so 7-11 SE per seed
    noisy = result.noisy
    assert noisy.names == ["none", "l2"] and noisy.flipped > 0.3 * 300
    assert noisy.beats_baseline("l2", regularization.Z)
    assert min(noisy.gain["l2"]) > 0.04
    assert all(0 < se < 0.03 for se in noisy.gain_se["l2"])
    names = {f.name for f in files}
    assert {"regularization_curves.png", "regularization_summary.png",
            "regularization_noisy_labels.png"} <= names
    for name in ("regularization_curves.png", "regularization_summary.png",
                 "regularization_noisy_labels.png"):
        assert (tmp_path / name).stat().st_size > 10_000


def test_every_setting_runs_and_counts_every_weight():
    # a few epochs on the digits: the code path of each setting, not the claim
    config = regularization.Config(dataset="digits", n_train=50, n_test=100, epochs=2,
                                   batch_size=25, hidden_layers=2, units=16, seeds=(0, 1),
                                   noisy_units=16, noisy_epochs=2)
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
    assert again.noisy.gain == result.noisy.gain and again.clean_gain == result.clean_gain
    # another seed is another run
    assert result.final_by_seed["none"][0] != result.final_by_seed["none"][1]


def test_unknown_setting_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown setting"):
        regularization.run(regularization.Config(settings=("dropout",)))
    with pytest.raises(ValueError, match="seeds"):
        regularization.run(regularization.Config(seeds=()))


def test_paired_gain_and_noisy_labels_by_hand():
    # d = [1, 0, 1, -1, 0.5]: mean 0.3; squared deviations 0.49, 0.09, 0.49, 1.69, 0.04 sum to
    # 2.8, so sd^2 (ddof 1) = 2.8 / 4 = 0.7 and SE = sqrt(0.7 / 5)
    gain, se = common.paired_gain(np.array([1, 1, 1, 0, 1.0]), np.array([0, 1, 0, 1, 0.5]))
    assert gain == pytest.approx(0.3) and se == pytest.approx((0.7 / 5) ** 0.5)
    labels = np.arange(10_000) % 10
    noisy, wrong = common.noisy_labels(labels, 10, 0.4, seed=3)
    changed = noisy != labels
    assert wrong == changed.sum() and abs(wrong / 10_000 - 0.4) < 0.02  # binomial SE 0.005
    assert noisy.min() >= 0 and noisy.max() <= 9 and np.all(labels == np.arange(10_000) % 10)
    # a wrong label is any *other* class, each about equally often
    counts = np.bincount((noisy[changed] - labels[changed]) % 10, minlength=10)
    assert counts[0] == 0 and counts[1:].min() > 0.8 * wrong / 9

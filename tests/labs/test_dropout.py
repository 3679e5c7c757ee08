import os

import pytest

from neuralab import labs
from neuralab.labs import common, dropout


def test_quick_run_shows_the_claim_and_writes_the_figure(tmp_path):
    if not common.fashion_mnist_available():
        if os.environ.get("CI"):
            pytest.fail("CI is set but Fashion-MNIST is missing (dataset-fashion-mnist)")
        pytest.skip("the dropout lab needs Fashion-MNIST (sudo apt-get install "
                    "dataset-fashion-mnist); this test fails instead of skipping when CI is set")
    result, files = labs.run("dropout", quick=True, out_dir=tmp_path)
    assert result.claim_holds, result.summary()
    assert result.seeds == list(dropout.Config.quick().seeds) and len(result.seeds) >= 3
    plain, dropped = result.final["0"], result.final["0.2"]  # medians over the seeds
    # Measured on the quick config, seeds 0-2 under SkylakeX, Haswell and Sandybridge (and
    # seeds 0-4 under SkylakeX): without dropout train 0.89-0.95, gap 0.17-0.22 per seed; with
    # p = 0.2 train 0.71-0.77, gap 0.05-0.08; narrowing 0.11-0.14 per seed; test accuracy
    # 0.72-0.74 without and 0.65-0.69 with dropout
    assert plain["train_accuracy"] > 0.85 and plain["gap"] > 0.12
    narrowing = result.narrowing("0.2")
    assert min(narrowing) > 0.06, narrowing
    # dropout is off when accuracy is measured, yet the network no longer memorizes the data
    assert dropped["train_accuracy"] < plain["train_accuracy"] - 0.08
    assert dropped["test_accuracy"] > plain["test_accuracy"] - dropout.KEEP
    text = result.summary()
    assert "median" in text and all(f"seed {s}" in text for s in result.seeds)
    # On the true labels the test accuracy does not rise: measured gain of p = 0.2 over p = 0
    # -0.056 to -0.066 per seed (paired SE 0.012-0.015)
    assert max(result.clean_gain["0.2"]) < 0
    # With 40 % wrong training labels (2 x 256 network, p = 0.5) dropout raises it: measured
    # gains 0.115, 0.127, 0.186 (SkylakeX) and 0.105, 0.123, 0.189 (Haswell), paired SE
    # 0.012-0.014, so 8-13 SE per seed; without dropout the noisy labels are memorized
    noisy = result.noisy
    assert noisy.names == ["none", "p=0.5"] and noisy.flipped > 0.3 * 300
    assert noisy.beats_baseline("p=0.5", dropout.Z)
    assert min(noisy.gain["p=0.5"]) > 0.05
    assert all(0 < se < 0.03 for se in noisy.gain_se["p=0.5"])
    assert min(noisy.final_train["none"]) > max(noisy.final_train["p=0.5"])
    assert {f.name for f in files} == {"dropout.png", "dropout_noisy_labels.png", "result.json",
                                       "summary.md"}
    assert (tmp_path / "dropout.png").stat().st_size > 10_000
    assert (tmp_path / "dropout_noisy_labels.png").stat().st_size > 10_000


def test_small_digits_run_is_reproducible():
    config = dropout.Config(dataset="digits", n_train=50, n_test=100, epochs=3, batch_size=25,
                            hidden_layers=2, units=16, ratios=(0.0, 0.5), seeds=(0, 1),
                            noisy_units=16, noisy_epochs=2, noisy_ratios=(0.0, 0.5))
    a, b = dropout.run(config), dropout.run(config)
    assert a.train_accuracy == b.train_accuracy and a.test_accuracy == b.test_accuracy
    assert a.final_by_seed == b.final_by_seed
    assert a.noisy.gain == b.noisy.gain and a.clean_gain == b.clean_gain
    # different masks give a different run, and so does another seed
    assert a.train_accuracy["0"] != a.train_accuracy["0.5"]
    assert a.final_by_seed["0.5"][0] != a.final_by_seed["0.5"][1]


def test_bad_ratios_are_clear_errors():
    with pytest.raises(ValueError, match=r"in \[0, 1\)"):
        dropout.run(dropout.Config(ratios=(0.0, 1.0)))
    with pytest.raises(ValueError, match="must include 0"):
        dropout.run(dropout.Config(ratios=(0.2, 0.5)))
    with pytest.raises(ValueError, match="noisy_ratios"):
        dropout.run(dropout.Config(noisy_ratios=(0.5,)))
    with pytest.raises(ValueError, match="noise"):
        dropout.run(dropout.Config(noise=0.0))
    with pytest.raises(ValueError, match="seeds"):
        dropout.run(dropout.Config(seeds=()))

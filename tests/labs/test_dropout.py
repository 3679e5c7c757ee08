import os

import pytest

from neuralab import labs
from neuralab.labs import _overfit, dropout


def test_quick_run_shows_the_claim_and_writes_the_figure(tmp_path):
    if not _overfit.fashion_mnist_available():
        if os.environ.get("CI"):
            pytest.fail("CI is set but Fashion-MNIST is missing (dataset-fashion-mnist)")
        pytest.skip("the dropout lab needs Fashion-MNIST (sudo apt-get install "
                    "dataset-fashion-mnist); this test fails instead of skipping when CI is set")
    result, files = labs.run("dropout", quick=True, out_dir=tmp_path)
    assert result.claim_holds, result.summary()
    plain, dropped = result.final["0"], result.final["0.2"]
    # measured on seeds 0-4: gap 0.22-0.24 without dropout, 0.14-0.18 with p = 0.2
    assert plain["train_accuracy"] > 0.95 and plain["gap"] > 0.15
    assert dropped["gap"] < plain["gap"] - 0.03
    # dropout is off when accuracy is measured, yet the network no longer memorizes the data
    assert dropped["train_accuracy"] < plain["train_accuracy"] - 0.05
    assert {f.name for f in files} == {"dropout.png", "result.json", "summary.md"}
    assert (tmp_path / "dropout.png").stat().st_size > 10_000


def test_small_digits_run_is_reproducible():
    config = dropout.Config(dataset="digits", n_train=50, n_test=100, epochs=3, batch_size=25,
                            hidden_layers=2, units=16, ratios=(0.0, 0.5))
    a, b = dropout.run(config), dropout.run(config)
    assert a.train_accuracy == b.train_accuracy and a.test_accuracy == b.test_accuracy
    # different masks give a different run
    assert a.train_accuracy["0"] != a.train_accuracy["0.5"]


def test_bad_ratios_are_clear_errors():
    with pytest.raises(ValueError, match=r"in \[0, 1\)"):
        dropout.run(dropout.Config(ratios=(0.0, 1.0)))
    with pytest.raises(ValueError, match="must include 0"):
        dropout.run(dropout.Config(ratios=(0.2, 0.5)))

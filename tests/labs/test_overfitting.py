import numpy as np
import pytest

from neuralab import labs
from neuralab.labs import common, overfitting


def test_quick_run_shows_the_claim_and_writes_the_figure(tmp_path):
    result, files = labs.run("overfitting", quick=True, out_dir=tmp_path)
    assert result.claim_holds, result.summary()
    config = overfitting.Config.quick()
    assert len(result.gap) == config.epochs
    assert [r["seed"] for r in result.per_seed] == config.seeds and len(config.seeds) >= 3
    # measured on seeds 0-2 under the SkylakeX, Haswell and Sandybridge OpenBLAS kernels:
    # train 1.000, test 0.84-0.88, gap 0.12-0.16 (epoch 1: -0.02 to 0.03); with 1,000 digits
    # test 0.97-0.98, gap 0.02-0.03
    for r in result.per_seed:
        assert r["train"] >= 0.98 and r["gap"] >= 0.08, r
        # before training has done much, train and test accuracy are alike
        assert abs(r["gap_epoch1"]) < 0.06, r
        # ten times the data: the gap shrinks to a fraction, the test accuracy rises
        assert r["large_gap"] < 0.5 * r["gap"], r
        assert r["large_test"] > r["test"] + 0.04, r
    # the first seed's row is the one of the stored curves
    assert result.per_seed[0]["gap"] == pytest.approx(result.final["gap"])
    # the summary numbers are the means of the last 10 epochs of the curves
    assert result.final["test_accuracy"] == pytest.approx(np.mean(result.test_accuracy[-10:]))
    assert {f.name for f in files} == {"overfitting.png", "result.json", "summary.md"}
    assert (tmp_path / "overfitting.png").stat().st_size > 10_000


def test_digits_test_set_does_not_depend_on_the_training_size():
    small = common.load_data("digits", 100, 797, seed=0)
    large = common.load_data("digits", 1000, 797, seed=0)
    np.testing.assert_array_equal(small.x_test, large.x_test)
    assert len(small.x_train) == 100 and len(large.x_train) == 1000
    # stratified: 10 of each digit; and no test image is in the training part
    np.testing.assert_array_equal(np.bincount(small.y_train), np.full(10, 10))
    train_rows = {row.tobytes() for row in large.x_train}
    assert sum(row.tobytes() in train_rows for row in large.x_test) <= 10  # duplicates exist
    assert small.x_train.dtype == np.float32 and small.x_train.max() <= 1.0


def test_fashion_mnist_subset_is_the_first_images():
    # no skip: the full configuration needs it, and CI installs it
    assert common.fashion_mnist_available(), (
        "Fashion-MNIST not installed (sudo apt-get install dataset-fashion-mnist)")
    from neuralab.data import load_fashion_mnist

    (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
    data = common.load_data("fashion-mnist", 300, 500)
    np.testing.assert_array_equal(data.x_train, x_train[:300])
    np.testing.assert_array_equal(data.y_train, y_train[:300])
    np.testing.assert_array_equal(data.x_test, x_test[:500])
    assert data.x_train.dtype == np.float32


def test_same_config_same_numbers():
    config = overfitting.Config(dataset="digits", n_train=50, n_test=797, n_train_large=0,
                                epochs=10, hidden_layers=2, units=16, n_seeds=2)
    a, b = overfitting.run(config), overfitting.run(config)
    assert a.per_seed == b.per_seed and a.test_accuracy == b.test_accuracy
    assert a.per_seed[0]["test"] != a.per_seed[1]["test"]  # another seed, other numbers


def test_bad_settings_are_clear_errors():
    with pytest.raises(ValueError, match="unknown dataset"):
        overfitting.run(overfitting.Config(dataset="mnist"))
    with pytest.raises(ValueError, match="n_seeds"):
        overfitting.run(overfitting.Config(n_seeds=0))
    with pytest.raises(ValueError, match="do not fit"):
        common.load_data("digits", 1500, 797)


def test_missing_fashion_mnist_says_what_to_do(tmp_path, monkeypatch):
    from neuralab.data.datasets import fashion_mnist

    monkeypatch.setattr(fashion_mnist, "FASHION_MNIST_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match=r"(?s)dataset-fashion-mnist.*dataset=digits"):
        common.load_data("fashion-mnist", 300, 1000)

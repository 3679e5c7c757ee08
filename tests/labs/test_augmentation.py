import numpy as np
import pytest

from neuralab import labs
from neuralab.labs import augmentation


def test_quick_run_shows_the_claim_and_writes_the_figures(tmp_path):
    result, files = labs.run("augmentation", quick=True, out_dir=tmp_path)
    assert result.claim_holds, result.summary()
    assert result.seeds == [0, 1, 2] and result.n_train == 300 and result.n_test == 1097
    plain = np.array(result.test_accuracy["plain"])
    augmented = np.array(result.test_accuracy["augmented"])
    # Measured (seeds 0-2 under SkylakeX, Haswell and Sandybridge): gain +0.304 to +0.314,
    # 17.6-18.4 paired standard errors (SE 0.017); train - test gap 0.48-0.50 plain, 0.05-0.07
    # augmented.  Better on every seed, by a clear margin:
    assert np.all(augmented - plain > 0.1), (plain, augmented)
    assert np.all(augmented - plain > 2 * augmentation.Z * np.array(result.gain_se))
    # the SE of a difference of two accuracies on 1,097 images is at most 1 / sqrt(1097) = 0.030
    assert all(0.005 < se < 0.03 for se in result.gain_se)
    # the plain network memorizes its 300 images; the augmented one cannot, and overfits less
    assert min(result.train_accuracy["plain"]) > 0.99
    gap_plain = np.mean(result.train_accuracy["plain"]) - plain.mean()
    gap_aug = np.mean(result.train_accuracy["augmented"]) - augmented.mean()
    assert gap_aug < gap_plain - 0.3
    assert len(result.val_curves["augmented"]) == augmentation.Config.quick().epochs
    names = {f.name for f in files}
    assert {"augmentation_examples.png", "augmentation_accuracy.png"} <= names
    for name in ("augmentation_examples.png", "augmentation_accuracy.png"):
        assert (tmp_path / name).stat().st_size > 10_000


def test_same_config_same_numbers():
    config = augmentation.Config.quick()
    config.seeds, config.epochs = (0,), 3
    a, b = augmentation.run(config), augmentation.run(config)
    assert a.test_accuracy == b.test_accuracy and a.val_curves == b.val_curves
    assert a.gain_se == b.gain_se


def test_gain_and_its_standard_error_are_those_of_the_test_images(monkeypatch):
    # two fixed prediction vectors stand in for the two trained networks
    plain = np.array([1, 1, 0, 0, 1, 0, 0, 0, 1, 0], dtype=bool)
    augmented = np.array([1, 1, 1, 1, 1, 0, 1, 0, 1, 0], dtype=bool)
    calls = []

    def fake_train(config, seed, data, augment):
        calls.append(augment is None)
        return (plain if augment is None else augmented), 1.0, [0.5], [0.5]

    monkeypatch.setattr(augmentation, "_train", fake_train)
    config = augmentation.Config.quick()
    config.seeds = (0,)
    result = augmentation.run(config)
    assert calls == [True, False]
    assert result.test_accuracy == {"plain": [0.4], "augmented": [0.7]}
    # d = [0, 0, 1, 1, 0, 0, 1, 0, 0, 0]: mean 0.3, sample sd sqrt(0.7 * 0.3 * 10 / 9)
    assert result.gain_se[0] == pytest.approx(np.sqrt(0.21 * 10 / 9) / np.sqrt(10))


def test_bad_settings_are_clear_errors():
    with pytest.raises(ValueError, match="unknown dataset"):
        augmentation.run(augmentation.Config(dataset="cifar"))
    config = augmentation.Config.quick()
    config.aug_shift, config.aug_flip = 0, False
    with pytest.raises(ValueError, match="augmentation is empty"):
        augmentation.run(config)
    with pytest.raises(ValueError, match="distinct `seeds`"):
        augmentation.run(augmentation.Config(seeds=(2, 2)))

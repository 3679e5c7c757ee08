import numpy as np
import pytest

from neuralab import labs
from neuralab.labs import augmentation


def test_quick_run_shows_the_claim_and_writes_the_figures(tmp_path):
    result, files = labs.run("augmentation", quick=True, out_dir=tmp_path)
    assert result.claim_holds
    assert len(result.seeds) == 3
    plain = np.array(result.test_accuracy["plain"])
    augmented = np.array(result.test_accuracy["augmented"])
    # better on every seed, by a clear margin (measured: +0.28 to +0.33 on seeds 0-2)
    assert np.all(augmented - plain > 0.1), (plain, augmented)
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
    config.repeats, config.epochs = 1, 3
    a, b = augmentation.run(config), augmentation.run(config)
    assert a.test_accuracy == b.test_accuracy and a.val_curves == b.val_curves


def test_bad_settings_are_clear_errors():
    with pytest.raises(ValueError, match="unknown dataset"):
        augmentation.run(augmentation.Config(dataset="cifar"))
    config = augmentation.Config.quick()
    config.aug_shift, config.aug_flip = 0, False
    with pytest.raises(ValueError, match="augmentation is empty"):
        augmentation.run(config)

import numpy as np
import pytest

from neuralab import labs, nn
from neuralab.labs import cnn_fashion_mnist as lab


def test_quick_run_cnn_beats_the_same_budget_mlp_and_writes_the_figures(tmp_path,
                                                                       fashion_mnist):
    result, files = labs.run("cnn-fashion-mnist", quick=True, out_dir=tmp_path)
    assert result.claim_holds, result.summary()
    assert result.seeds == [0, 1, 2] and result.n_train == 1500 and result.n_test == 4000
    # the MLP has the CNN's parameter budget, to within one hidden unit (795 parameters)
    assert abs(result.parameters["mlp"] - result.parameters["cnn"]) <= 795 // 2 + 1
    cnn, mlp = (np.array(result.test_accuracy[k]) for k in ("cnn", "mlp"))
    # Measured (seeds 0-2, 6 epochs on 1,500 images, under SkylakeX and Haswell): CNN 0.809-0.827,
    # MLP 0.770-0.787, gain +0.027 to +0.049 = 4.8-8.7 paired standard errors (SE 0.0055-0.0058).
    # Better on every seed by more than Z = 3 standard errors (the claim), and by 1.5 points:
    assert np.all(cnn - mlp > lab.Z * np.array(result.gain_se)), result.summary()
    assert np.all(cnn - mlp > 0.015) and cnn.min() > result.target
    # the SE of a difference of two accuracies on 4,000 images is at most 1 / sqrt(4000) = 0.016
    assert all(0.002 < se < 0.016 for se in result.gain_se)
    assert all(len(c) == result.epochs for c in result.test_curves["cnn"])
    # the figure's data: 8 first-layer 3 x 3 filters, one 28 x 28 image, a map per filter
    assert np.shape(result.filters) == (8, 3, 3)
    assert np.shape(result.image) == (28, 28) and result.image_label == 9
    assert [np.shape(m) for m in result.feature_maps] == [(8, 28, 28), (16, 14, 14)]
    assert {f.name for f in files} == {"cnn_accuracy.png", "cnn_filters.png", "result.json",
                                       "summary.md"}
    for name in ("cnn_accuracy.png", "cnn_filters.png"):
        assert (tmp_path / name).stat().st_size > 10_000


def test_the_claim_needs_the_target_on_every_seed_and_a_margin(monkeypatch, fashion_mnist):
    # fixed prediction vectors stand in for the trained networks: 20 test images
    def fake_train(model, config, seed, data, name=""):
        is_cnn = any(isinstance(layer, nn.Conv2D) for layer in model)
        correct = np.zeros(len(data[3]), dtype=bool)
        correct[:(18 if is_cnn else 6) + (seed if is_cnn else 0)] = True
        return correct, [0.5] * config.epochs, [0.5] * config.epochs, 1.0

    monkeypatch.setattr(lab, "_train", fake_train)
    config = lab.Config.quick()
    config.n_test, config.target = 20, 0.88
    config.seeds = (0, 1)          # CNN 0.90 and 0.95, MLP 0.30: far apart
    result = lab.run(config)
    assert result.test_accuracy == {"cnn": [0.9, 0.95], "mlp": [0.3, 0.3]}
    # every seed reaches 0.88, but mean - 2 sd = 0.925 - 2 * 0.0354 < 0.88: not decided
    assert result.cnn_margin() == pytest.approx(0.925 - 2 * np.std([0.9, 0.95], ddof=1))
    assert not result.claim_holds
    config.target = 0.85
    assert lab.run(config).claim_holds
    config.seeds = (0,)            # one seed gives no spread: the claim cannot hold
    assert not lab.run(config).claim_holds


def test_the_mlp_budget_and_the_network():
    assert lab.mlp_hidden_units(795 * 34 + 10) == 34
    model = lab.build_cnn(lab.Config(channels=(4, 8), hidden=16))
    model(np.zeros((2, 1, 28, 28), dtype=np.float32))
    # conv 4*9 + BN 8, conv 8*4*9 + BN 16, dense 392*16 + 16, dense 16*10 + 10
    assert lab.n_parameters(model) == 36 + 8 + 288 + 16 + 392 * 16 + 16 + 170
    maps = lab.feature_maps(model, np.zeros((1, 28, 28), dtype=np.float32))
    assert [m.shape for m in maps] == [(4, 28, 28), (8, 14, 14)]


def test_bad_settings_are_clear_errors(fashion_mnist):
    with pytest.raises(ValueError, match="distinct `seeds`"):
        lab.run(lab.Config(seeds=(1, 1)))
    with pytest.raises(ValueError, match="`target` in"):
        lab.run(lab.Config(target=93))
    with pytest.raises(ValueError, match="positive filter counts"):
        lab.build_cnn(lab.Config(channels=()))
    with pytest.raises(ValueError, match="at most 4 blocks"):
        lab.build_cnn(lab.Config(channels=(8,) * 5))
    with pytest.raises(ValueError, match="at least 100 training images"):
        lab.run(lab.Config(n_train=10))


def test_long_runs_report_each_epoch(caplog, fashion_mnist):
    config = lab.Config(n_train=200, n_test=100, channels=(4,), hidden=8, dropout=0.0, epochs=2,
                        batch_size=50, seeds=(3,))
    data = lab._load(config)
    model = lab._built(lab.build_cnn(config), data[0])
    with caplog.at_level("INFO", logger="neuralab.labs"):
        _, curve, _, _ = lab._train(model, config, 3, data, "CNN")
    lines = [r.getMessage() for r in caplog.records if r.name == lab.__name__]
    assert [line.split(", test")[0] for line in lines] == [
        "seed 3, CNN: epoch 1 of 2", "seed 3, CNN: epoch 2 of 2"]
    assert lines[-1].startswith(f"seed 3, CNN: epoch 2 of 2, test accuracy {curve[-1]:.4f}")


def test_lab_run_shows_the_progress_on_stderr(tmp_path, capsys, fashion_mnist):
    from neuralab import cli

    cli.main(["lab", "run", "cnn-fashion-mnist", "--quick", "--out", str(tmp_path / "run"),
              "--set", "n_train=200", "--set", "n_test=100", "--set", "epochs=1",
              "--set", "seeds=0,1", "--set", "curve_images=100"])
    err = capsys.readouterr().err
    for line in ("seed 0, CNN: epoch 1 of 1", "seed 0, MLP: epoch 1 of 1",
                 "seed 1, CNN: epoch 1 of 1"):
        assert line in err

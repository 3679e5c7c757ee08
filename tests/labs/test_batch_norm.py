import numpy as np
import pytest

from neuralab import labs
from neuralab.labs import batch_norm


def test_quick_run_shows_the_claim_and_writes_the_figures(tmp_path):
    result, files = labs.run("batch-norm", quick=True, out_dir=tmp_path)
    assert result.claim_holds, result.summary()
    config = batch_norm.Config.quick()
    np.testing.assert_allclose(result.scales, np.geomspace(1.0, 1e-4, config.n_scales))
    plain, bn = np.asarray(result.plain_final), np.asarray(result.bn_final)
    # batch norm learns at every scale but the smallest (measured on seeds 0-5: 0.54-0.59 at
    # std 1, still rising, and 0.6-1.0 below; at 1e-4 the pre-activation variance is far below
    # eps = 1e-5 and even batch norm cannot rescale it)
    assert bn[0] > 0.4 and np.all(bn[1:-1] >= batch_norm.LEARNED), bn
    # without it only the scale next to He's sqrt(2 / fan_in) ~ 0.14-0.18 learns ...
    learned = np.asarray(result.scales)[plain >= batch_norm.LEARNED]
    assert len(learned) >= 1 and np.all((learned > 0.05) & (learned < 0.5)), learned
    # ... the largest overflows and the small ones stay at chance (10 classes)
    assert result.plain_diverged[0]
    assert np.all(plain[2:] < 0.2)
    # a 21-layer plain ReLU stack with Xavier weights does not train, the residual one does
    r = result.residual_accuracy
    assert r["residual"][-1] > 0.9 and r["plain"][-1] < 0.3
    assert result.residual_grad_ratio["plain"] < 0.1 < result.residual_grad_ratio["residual"]
    names = {f.name for f in files}
    assert {"batch_norm_scales.png", "batch_norm_summary.png"} <= names
    for name in ("batch_norm_scales.png", "batch_norm_summary.png"):
        assert (tmp_path / name).stat().st_size > 10_000


def test_same_config_same_numbers():
    config = batch_norm.Config(dataset="digits", n_train=200, n_scales=2, epochs=2,
                               hidden_layers=2, residual_blocks=1)
    a, b = batch_norm.run(config), batch_norm.run(config)
    assert a.bn_accuracy == b.bn_accuracy and a.residual_accuracy == b.residual_accuracy


def test_bad_scales_are_a_clear_error():
    with pytest.raises(ValueError, match="n_scales"):
        batch_norm.run(batch_norm.Config(scale_min=2.0))

import numpy as np
import pytest

from neuralab import labs
from neuralab.labs import batch_norm


def test_quick_run_shows_the_claim_and_writes_the_figures(tmp_path):
    result, files = labs.run("batch-norm", quick=True, out_dir=tmp_path)
    assert result.claim_holds, result.summary()
    config = batch_norm.Config.quick()
    assert result.seeds == list(config.seeds) and len(result.seeds) >= 3
    np.testing.assert_allclose(result.scales, np.geomspace(1.0, 1e-4, config.n_scales))
    plain, bn = np.asarray(result.plain_final), np.asarray(result.bn_final)  # medians of seeds
    # Measured (seeds 0-2 under the SkylakeX, Haswell and Sandybridge kernels, and seeds 0-4
    # under SkylakeX): batch norm learns at every scale but the extremes (medians 0.78-0.99, per
    # seed 0.63-1.0); at std 1 it reaches 0.41-0.44 and is still rising; at 1e-4 the
    # pre-activation variance is far below eps = 1e-5 and even batch norm cannot rescale it.
    assert np.all(bn[1:-1] >= batch_norm.LEARNED + 0.15), bn
    assert bn[0] > plain[0] + 0.2, (bn, plain)
    # without it only the scale next to He's sqrt(2 / fan_in) ~ 0.18 learns (0.77-0.88) ...
    learned = np.asarray(result.scales)[plain >= batch_norm.LEARNED]
    assert len(learned) >= 1 and np.all((learned > 0.05) & (learned < 0.5)), learned
    # ... the largest overflows and the small ones stay near chance (measured at most 0.14)
    assert result.plain_diverged[0]
    assert np.all(plain[2:] < 0.25)
    # a 21-layer plain ReLU stack with Xavier weights does not train (measured 0.10-0.17), the
    # residual one does (0.93-0.97); gradient ratio plain 3e-3 to 1.1e-2, residual 1.06-1.28
    r = result.residual_final
    assert r["residual"] > 0.85 and r["plain"] < 0.3
    assert result.residual_grad_ratio["plain"] < 0.1 < result.residual_grad_ratio["residual"]
    names = {f.name for f in files}
    assert {"batch_norm_scales.png", "batch_norm_summary.png"} <= names
    for name in ("batch_norm_scales.png", "batch_norm_summary.png"):
        assert (tmp_path / name).stat().st_size > 10_000
    # the table prints every seed and the spread
    text = result.summary()
    assert "median" in text and all(f"seed {s}:" in text for s in result.seeds)


def test_same_config_same_numbers():
    config = batch_norm.Config(dataset="digits", n_train=200, n_scales=2, epochs=2,
                               hidden_layers=2, residual_blocks=1, seeds=(0, 1))
    a, b = batch_norm.run(config), batch_norm.run(config)
    assert a.bn_final_by_seed == b.bn_final_by_seed
    assert a.residual_final_by_seed == b.residual_final_by_seed
    # another seed is another run
    assert a.bn_final_by_seed[0] != a.bn_final_by_seed[1]


def test_bad_settings_are_clear_errors():
    with pytest.raises(ValueError, match="n_scales"):
        batch_norm.run(batch_norm.Config(scale_min=2.0))
    with pytest.raises(ValueError, match="seeds"):
        batch_norm.run(batch_norm.Config(seeds=()))

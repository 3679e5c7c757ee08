import os
from pathlib import Path

import pytest

from neuralab import labs
from neuralab.labs import wine_quality

CSV = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "winequality-white.csv"


@pytest.fixture
def csv():
    if not CSV.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"the wine-quality CSV is missing at {CSV}")
        pytest.skip(f"the wine-quality CSV is not at {CSV} (UCI 'Wine Quality', white)")
    return str(CSV)


def test_quick_run_shows_the_claim_and_writes_the_figures(tmp_path, csv):
    result, files = labs.run("wine-quality", quick=True, out_dir=tmp_path,
                             overrides={"csv": csv})
    assert result.claim_holds
    assert result.n_samples == 1500 and result.n_features == 11 and result.folds == 3
    mlp, linear = result.mean["mlp"], result.mean["linear"]
    # measured on seeds 0-4: the MLP is 0.015-0.032 better in MAE and 0.04-0.07 in R^2
    assert mlp["mae"] < linear["mae"] - 0.005
    assert mlp["r2"] > linear["r2"] + 0.02
    # every model is far better than predicting the mean grade (R^2 = 0) and sensible in
    # Cortez's terms (MAD 0.45-0.6 in their study)
    for model, m in result.mean.items():
        assert 0.45 < m["mae"] < 0.65 and m["r2"] > 0.1, model
        assert 0.45 < m["acc_t05"] < m["acc_t10"] < 0.95, model
    assert set(result.predictions) == set(wine_quality.MODELS)
    assert "ranking by MAE" in result.summary()
    for name in ("wine_quality_metrics.png", "wine_quality_predictions.png"):
        assert (tmp_path / name).stat().st_size > 10_000


def test_metrics_are_the_library_metrics_of_the_out_of_fold_predictions(csv):
    import numpy as np
    from sklearn.metrics import mean_absolute_error, r2_score

    config = wine_quality.Config(csv=csv, folds=3, subset=300, models=("linear",), seed=1)
    result = wine_quality.run(config)
    y, pred = np.asarray(result.y_true), np.asarray(result.predictions["linear"])
    # each fold has 100 samples, so the mean of fold MAEs is the MAE of all predictions
    assert result.mean["linear"]["mae"] == pytest.approx(mean_absolute_error(y, pred), abs=1e-4)
    assert result.mean["linear"]["r2"] == pytest.approx(
        np.mean([r2_score(y[f], pred[f]) for f in _folds(config, len(y))]), abs=1e-4)


def _folds(config, n):
    from neuralab.data import KFold

    return [va for _, va in KFold(config.folds, shuffle=True, seed=config.seed).split(range(n))]


def test_missing_csv_is_a_clear_error(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="--set csv=PATH"):
        wine_quality.run(wine_quality.Config(csv=str(tmp_path / "nope.csv")))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(wine_quality, "__file__", str(tmp_path / "a" / "b" / "c" / "d.py"))
    with pytest.raises(FileNotFoundError, match="--set csv=PATH"):
        wine_quality.find_csv("")


def test_default_location_is_found_from_the_repository(csv, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)          # not found relative to the current directory
    assert wine_quality.find_csv("") == CSV.resolve()
